# customer-audit-service: see docs/services.md.
add_executable(customer-audit-service ${CMAKE_SOURCE_DIR}/src/services/customer-audit-service/main.c)
target_link_libraries(customer-audit-service PRIVATE rs_service_common dapr m)

# customer-order-service: see docs/services.md.
add_executable(customer-order-service ${CMAKE_SOURCE_DIR}/src/services/customer-order-service/main.c)
target_link_libraries(customer-order-service PRIVATE rs_service_common dapr m)

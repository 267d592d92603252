# customer-loyalty-job: see docs/services.md.
add_executable(customer-loyalty-job ${CMAKE_SOURCE_DIR}/src/services/customer-loyalty-job/main.c)
target_link_libraries(customer-loyalty-job PRIVATE rs_service_common dapr m)

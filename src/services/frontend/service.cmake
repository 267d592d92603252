# frontend: see docs/services.md.
add_executable(frontend ${CMAKE_SOURCE_DIR}/src/services/frontend/main.c)
target_link_libraries(frontend PRIVATE rs_service_common dapr m)

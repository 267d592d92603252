# The `ripstop` command: one file per subcommand (run, demo, chaos, load, verify ...),
# dispatched from main.c. It links no sidecar code: YAML helpers are in rs_core.
file(GLOB RS_CLI_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/tools/ripstop/*.c)
add_executable(ripstop ${RS_CLI_SOURCES})
target_link_libraries(ripstop PRIVATE rs_http rs_core m)
target_link_libraries(ripstop PRIVATE PkgConfig::HIREDIS PkgConfig::RDKAFKA) # verify reads Redis and Kafka itself

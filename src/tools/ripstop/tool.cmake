# The `ripstop` command: one file per subcommand (run, demo, chaos, load, verify ...),
# dispatched from main.c. It links no sidecar code: YAML helpers are in rs_core.
file(GLOB RS_CLI_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/tools/ripstop/*.c)
# The parts without a process or loop of their own (verdict, run file, scenario, the trace collector and its
# waterfalls, the chaos proxy and its thread, the lock-store watch) form a library that tests/unit/tools/ripstop
# links too.
set(RS_CLI_PURE_SOURCES ${CMAKE_SOURCE_DIR}/src/tools/ripstop/verdict.c ${CMAKE_SOURCE_DIR}/src/tools/ripstop/runfile.c
    ${CMAKE_SOURCE_DIR}/src/tools/ripstop/scenario.c ${CMAKE_SOURCE_DIR}/src/tools/ripstop/scenario_check.c
    ${CMAKE_SOURCE_DIR}/src/tools/ripstop/trace_collector.c ${CMAKE_SOURCE_DIR}/src/tools/ripstop/trace_view.c
    ${CMAKE_SOURCE_DIR}/src/tools/ripstop/chaos_proxy.c ${CMAKE_SOURCE_DIR}/src/tools/ripstop/chaos_thread.c
    ${CMAKE_SOURCE_DIR}/src/tools/ripstop/lock_watch.c)
list(REMOVE_ITEM RS_CLI_SOURCES ${RS_CLI_PURE_SOURCES})
add_library(rs_ripstop_lib STATIC ${RS_CLI_PURE_SOURCES})
target_link_libraries(rs_ripstop_lib PUBLIC rs_http rs_core PkgConfig::JANSSON PkgConfig::FYAML PkgConfig::HIREDIS
                      Threads::Threads m)
add_executable(ripstop ${RS_CLI_SOURCES})
target_link_libraries(ripstop PRIVATE rs_http rs_core m)
target_link_libraries(ripstop PRIVATE PkgConfig::HIREDIS PkgConfig::RDKAFKA) # verify reads Redis and Kafka itself
target_link_libraries(ripstop PRIVATE rs_ripstop_lib)

# bench_invoke: added latency (p50/p99 at a fixed rate) and saturation throughput of a small request sent
# through two ripstopd sidecars versus directly to the app, with two TCP byte relays (relay.c) as the
# floor of any two-hop path. Run: build/bench/bench_invoke [--rate R] [--seconds S] [--concurrency C]
# [--rounds N] [--ripstopd PATH]
add_executable(bench_invoke ${CMAKE_SOURCE_DIR}/bench/invoke/bench_invoke.c ${CMAKE_SOURCE_DIR}/bench/common/relay.c
               ${CMAKE_SOURCE_DIR}/bench/common/ping_app.c ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c)
target_include_directories(bench_invoke PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_invoke PRIVATE rs_core PkgConfig::LIBEVENT Threads::Threads)
target_compile_definitions(bench_invoke PRIVATE RIPSTOPD_PATH="${CMAKE_BINARY_DIR}/ripstopd")
set_target_properties(bench_invoke PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_invoke ripstopd)

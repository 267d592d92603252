# bench_state: state save/get requests per second through ripstopd vs redis-benchmark on the same Redis.
# Run: build/bench/bench_state [--requests N] [--concurrency C] [--rounds R]; redis-benchmark through a TCP byte
# relay (bench/common/relay.c) in front of the same Redis is the ceiling. Uses bench/common/bench_util (process + HTTP helpers).
add_executable(bench_state ${CMAKE_SOURCE_DIR}/bench/state/bench_state.c ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c
                           ${CMAKE_SOURCE_DIR}/bench/common/relay.c)
target_include_directories(bench_state PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_state PRIVATE rs_core Threads::Threads)
set_target_properties(bench_state PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_state ripstopd)

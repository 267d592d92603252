# bench_callgrind: ripstopd's instructions per request (valgrind callgrind) on the hot paths — state save/get over
# HTTP and gRPC, each hop of an invocation, and a publish and its delivery through two sidecars — with redis-server's own count as the baseline of the state paths.
# Run: build/bench/bench_callgrind [--requests N] [--warmup W] [--only state|grpc|invoke|pubsub]
add_executable(bench_callgrind ${CMAKE_SOURCE_DIR}/bench/profile/bench_callgrind.c
               ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c ${CMAKE_SOURCE_DIR}/bench/common/grpc_client.c
               ${CMAKE_SOURCE_DIR}/bench/common/ping_app.c)
target_include_directories(bench_callgrind PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_callgrind PRIVATE rs_core rs_proto PkgConfig::NGHTTP2 PkgConfig::LIBEVENT Threads::Threads)
set_target_properties(bench_callgrind PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_callgrind ripstopd kafka-mock)

# bench_grpc: state SaveState/GetState over gRPC vs POST/GET over HTTP through one ripstopd vs redis-benchmark.
# Run: build/bench/bench_grpc [--requests N] [--concurrency C] [--rounds R] [--sdk-headers 0|1]. Both protocols are driven
# by h2load (Debian's nghttp2-client) in two shapes: a connection per request in flight for both, and gRPC multiplexed on
# one connection as the SDKs connect; the nghttp2 client of bench/common checks one call of each kind first.
add_executable(bench_grpc ${CMAKE_SOURCE_DIR}/bench/grpc/bench_grpc.c ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c
               ${CMAKE_SOURCE_DIR}/bench/common/grpc_client.c)
target_include_directories(bench_grpc PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_grpc PRIVATE rs_core rs_proto PkgConfig::NGHTTP2 Threads::Threads)
set_target_properties(bench_grpc PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_grpc ripstopd)

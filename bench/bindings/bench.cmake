# bench_bindings: blob create/get per second through ripstopd's output binding API vs a direct client
# (libcurl + the same Shared Key signer) against the same Azurite, started here.
# Run: build/bench/bench_bindings [--requests N] [--concurrency C] [--size BYTES]
add_executable(bench_bindings ${CMAKE_SOURCE_DIR}/bench/bindings/bench_bindings.c ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c)
target_include_directories(bench_bindings PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_bindings PRIVATE rs_sidecar_lib PkgConfig::CURL Threads::Threads)
target_compile_definitions(bench_bindings PRIVATE RIPSTOP_SRC_DIR="${CMAKE_SOURCE_DIR}")
set_target_properties(bench_bindings PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_bindings ripstopd)

# bench/system: Python benchmarks of whole processes (bench_memory.py, bench_startup.py, bench_drain.py,
# bench_load.py). bench_listener is bench_startup.py's baseline: a C program that only listens and answers 204.
add_executable(bench_listener ${CMAKE_SOURCE_DIR}/bench/system/listener.c)
set_target_properties(bench_listener PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

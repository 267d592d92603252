# Benchmarks: each folder under bench/ has a bench.cmake adding its target(s);
# binaries land in ${CMAKE_BINARY_DIR}/bench and print ratios against a baseline.
file(GLOB RS_BENCH_CMAKES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/*/bench.cmake)
foreach(f ${RS_BENCH_CMAKES})
  include(${f})
endforeach()

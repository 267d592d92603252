# Fuzz targets (tests/fuzz/fuzz_<name>.c, see docs/testing.md). Each is built one of two ways:
#   -DRIPSTOP_FUZZ=ON (clang; `make fuzz` in build-fuzz/): fuzz_<name>, a libFuzzer binary;
#   otherwise: fuzz_replay_<name>, the same code with replay_main.c, which ctest runs as fuzz/<name> over the
#   committed corpus tests/fuzz/corpus/<name>/ (labels unit and fuzz: seconds, no fuzzer runtime needed).
file(GLOB RS_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
# The sidecar runtime with in-memory components that the socket-driven targets share (fake_sidecar.h).
add_library(rs_fuzz_harness STATIC ${CMAKE_SOURCE_DIR}/tests/fuzz/fake_sidecar.c)
target_link_libraries(rs_fuzz_harness PUBLIC rs_sidecar_lib)
if(RIPSTOP_FUZZ)
  add_custom_target(fuzz_all)
endif()
foreach(src ${RS_FUZZ_TARGETS})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${stem})
  if(RIPSTOP_FUZZ)
    set(exe fuzz_${name})
    add_executable(${exe} ${src})
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzz_all ${exe})
  else()
    set(exe fuzz_replay_${name})
    add_executable(${exe} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
    add_test(NAME fuzz/${name} COMMAND ${exe} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(fuzz/${name} PROPERTIES LABELS "unit;fuzz" TIMEOUT 120)
  endif()
  target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz)
  target_link_libraries(${exe} PRIVATE rs_fuzz_harness rs_sidecar_lib)
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endforeach()

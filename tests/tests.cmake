# Tests, in tiers (see docs/testing.md):
#   unit         tests/unit/**/test_*.c     one C executable each, linked with the real code
#   integration  tests/integration/test_*.py  real redis-server / Azurite / kafka-mock on free loopback ports
#   e2e          tests/e2e/test_*.py          the whole system, chaos
#   browser      tests/browser/test_*.py      headless Chromium via playwright-core
#   k8s          tests/k8s/test_*.py          deploy/k8s offline: kustomize, schemas, consistency, ripstopd loads it
#   fuzz         tests/fuzz/fuzz_*.c          libFuzzer targets; ctest replays their corpora (also labelled unit)
# Python tests use only the standard library and tests/lib/ripstop_testlib.py.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

file(GLOB_RECURSE RS_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${RS_UNIT_TESTS})
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR}/tests/unit ${src})
  string(REPLACE "/" "_" name ${rel})
  string(REPLACE ".c" "" name ${name})
  add_executable(unit_${name} ${src})
  target_include_directories(unit_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  target_link_libraries(unit_${name} PRIVATE rs_sidecar_lib)
  set_target_properties(unit_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME unit/${name} COMMAND unit_${name})
  set_tests_properties(unit/${name} PROPERTIES LABELS unit)
endforeach()

# The tools' unit tests also link their tool's library of pure parts (src/tools/<tool>/tool.cmake).
file(GLOB RS_RIPSTOP_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/tools/ripstop/test_*.c)
foreach(src ${RS_RIPSTOP_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(unit_tools_ripstop_${name} PRIVATE rs_ripstop_lib)
endforeach()

# C tests that start a real server process (kafka-mock) are integration tests, whatever folder they are in:
# `ctest -L unit` stays quick and needs nothing running.
foreach(t unit/sidecar_components_pubsub_test_kafka_component)
  set_tests_properties(${t} PROPERTIES LABELS integration)
endforeach()

foreach(tier integration e2e browser k8s)
  file(GLOB RS_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${tier}/test_*.py)
  foreach(py ${RS_PY_TESTS})
    get_filename_component(name ${py} NAME_WE)
    add_test(NAME ${tier}/${name} COMMAND ${Python3_EXECUTABLE} ${py})
    set_tests_properties(${tier}/${name} PROPERTIES
      LABELS ${tier}
      ENVIRONMENT "RIPSTOP_BUILD=${CMAKE_BINARY_DIR};RIPSTOP_SRC=${CMAKE_SOURCE_DIR};PYTHONPATH=${CMAKE_SOURCE_DIR}/tests/lib;PYTHONUNBUFFERED=1"
      TIMEOUT 600)
  endforeach()
endforeach()

# The layering rules of src/ (no include cycle between modules; core, http, sdk, services and tools stay
# below the sidecar; components see only their host): scripts/include-graph.py prints the graph and fails
# on a broken rule.
add_test(NAME unit/layering COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/include-graph.py
         --root ${CMAKE_SOURCE_DIR})
set_tests_properties(unit/layering PROPERTIES LABELS unit)

include(tests/fuzz/fuzz.cmake)

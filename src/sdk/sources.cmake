# libdapr: the C SDK for apps (client calls + app-side server). It stands alone:
# libcurl, jansson, libevent and pthreads only, never the sidecar's code.
file(GLOB RS_SDK_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/sdk/*.c)
if(RS_SDK_SOURCES)
  add_library(dapr STATIC ${RS_SDK_SOURCES})
  target_include_directories(dapr PUBLIC ${CMAKE_SOURCE_DIR}/src/sdk/include)
  target_link_libraries(dapr PUBLIC PkgConfig::CURL PkgConfig::JANSSON PkgConfig::LIBEVENT Threads::Threads)

  # sdk-probe: a small command-line driver of every client call, used by
  # tests/integration/test_sdk_*.py against a real ripstopd (prints JSON).
  add_executable(sdk-probe ${CMAKE_SOURCE_DIR}/tests/integration/sdk/sdk_probe.c)
  target_link_libraries(sdk-probe PRIVATE dapr)

  # tests/tests.cmake creates unit_sdk_<name> for tests/unit/sdk/test_<name>.c after
  # this file is read; link them with libdapr once every target exists.
  function(rs_sdk_link_unit_tests)
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/sdk/test_*.c)
    foreach(t ${tests})
      get_filename_component(n ${t} NAME_WE)
      if(TARGET unit_sdk_${n})
        target_link_libraries(unit_sdk_${n} PRIVATE dapr)
      endif()
    endforeach()
  endfunction()
  cmake_language(DEFER CALL rs_sdk_link_unit_tests)
endif()

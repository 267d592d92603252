# libdapr: the C SDK for apps (client calls + app-side server).
file(GLOB RS_SDK_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/sdk/*.c)
if(RS_SDK_SOURCES)
  add_library(dapr STATIC ${RS_SDK_SOURCES})
  target_include_directories(dapr PUBLIC ${CMAKE_SOURCE_DIR}/src/sdk/include)
  target_link_libraries(dapr PUBLIC PkgConfig::CURL PkgConfig::JANSSON PkgConfig::LIBEVENT Threads::Threads)
endif()

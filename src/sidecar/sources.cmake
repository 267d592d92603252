# ripstopd. Everything but main.c goes into rs_sidecar_lib so unit tests can
# link the real code. Files are picked up by folder: one concept per file.
file(GLOB_RECURSE RS_SIDECAR_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/sidecar/*.c)
list(REMOVE_ITEM RS_SIDECAR_SOURCES ${CMAKE_SOURCE_DIR}/src/sidecar/main.c)
add_library(rs_sidecar_lib STATIC ${RS_SIDECAR_SOURCES})
target_link_libraries(rs_sidecar_lib PUBLIC rs_http rs_core rs_proto PkgConfig::NGHTTP2
  PkgConfig::HIREDIS PkgConfig::FYAML PkgConfig::EXPAT PkgConfig::SQLITE
  PkgConfig::CRYPTO PkgConfig::NETTLE Threads::Threads m ${CMAKE_DL_LIBS})
# librdkafka's headers only: pubsub/kafka_lib.c opens librdkafka.so.1 on the first Kafka component (dlopen), see
# kafka_lib.h why.
target_include_directories(rs_sidecar_lib PUBLIC ${RDKAFKA_INCLUDE_DIRS})
target_compile_definitions(rs_sidecar_lib PUBLIC RIPSTOP_VERSION="${PROJECT_VERSION}")

add_executable(ripstopd src/sidecar/main.c)
target_link_libraries(ripstopd PRIVATE rs_sidecar_lib)

# kafka-mock: librdkafka's mock cluster with a loopback control API (docs/kafka-mock.md).
file(GLOB RS_KAFKA_MOCK_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/tools/kafka-mock/*.c)
add_executable(kafka-mock ${RS_KAFKA_MOCK_SOURCES})
target_link_libraries(kafka-mock PRIVATE rs_http rs_core PkgConfig::RDKAFKA PkgConfig::LIBEVENT)

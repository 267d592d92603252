# bench_pubsub: publish rate/p99 through ripstopd vs direct librdkafka, and end-to-end delivery rate,
# against kafka-mock. Run: build/bench/bench_pubsub [--messages N] [--concurrency C].
add_executable(bench_pubsub ${CMAKE_SOURCE_DIR}/bench/pubsub/bench_pubsub.c ${CMAKE_SOURCE_DIR}/bench/common/bench_util.c)
target_include_directories(bench_pubsub PRIVATE ${CMAKE_SOURCE_DIR}/bench/common)
target_link_libraries(bench_pubsub PRIVATE rs_http rs_core PkgConfig::RDKAFKA PkgConfig::LIBEVENT Threads::Threads)
set_target_properties(bench_pubsub PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_pubsub kafka-mock ripstopd)

# The pubsub.kafka unit test spawns kafka-mock from the build dir; bench/ is included after tests/, so the
# dependency is declared here (the test target does not exist yet when src/tools is read).
if(TARGET unit_kafka_test_kafka_component)
  add_dependencies(unit_kafka_test_kafka_component kafka-mock)
endif()

/* SPDX-License-Identifier: MIT */
/* librdkafka for the sidecar, opened with dlopen by the first Kafka component instead of linked: linking it maps
 * librdkafka and its tree (libssl, libcrypto, libsasl2, zstd, lz4) into every sidecar and makes the dynamic
 * loader relocate them at every start, about half of a start's instructions for a sidecar without Kafka
 * (docs/performance.md, "Where start-up time goes"). The sidecar calls librdkafka only through rs_rk. */
#ifndef RS_SIDECAR_KAFKA_LIB_H
#define RS_SIDECAR_KAFKA_LIB_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* The librdkafka functions the sidecar uses, without their rd_kafka_ prefix. */
#define RS_RDKAFKA_FUNCTIONS(X) \
    X(conf_new) \
    X(assign) \
    X(conf_destroy) \
    X(conf_set) \
    X(conf_set_dr_msg_cb) \
    X(conf_set_error_cb) \
    X(conf_set_log_cb) \
    X(conf_set_opaque) \
    X(conf_set_rebalance_cb) \
    X(consumer_close_queue) \
    X(consumer_closed) \
    X(consumer_poll) \
    X(destroy) \
    X(destroy_flags) \
    X(err2name) \
    X(err2str) \
    X(error_destroy) \
    X(error_string) \
    X(event_destroy) \
    X(event_error) \
    X(event_topic_partition_list) \
    X(event_type) \
    X(flush) \
    X(header_add) \
    X(header_get_all) \
    X(headers_destroy) \
    X(headers_new) \
    X(message_destroy) \
    X(message_errstr) \
    X(message_headers) \
    X(message_timestamp) \
    X(name) \
    X(new) \
    X(offsets_store) \
    X(pause_partitions) \
    X(poll) \
    X(poll_set_consumer) \
    X(producev) \
    X(purge) \
    X(queue_destroy) \
    X(queue_get_consumer) \
    X(queue_get_main) \
    X(queue_io_event_enable) \
    X(queue_new) \
    X(queue_poll) \
    X(resume_partitions) \
    X(set_log_queue) \
    X(subscribe) \
    X(topic_name) \
    X(topic_partition_list_add) \
    X(topic_partition_list_destroy) \
    X(topic_partition_list_new)

/* rs_rk.new(...) calls rd_kafka_new(...): a pointer of the function's own type for each. */
typedef struct {
#define RS_RDKAFKA_SLOT(f) __typeof__(rd_kafka_##f) *f;
    RS_RDKAFKA_FUNCTIONS(RS_RDKAFKA_SLOT)
#undef RS_RDKAFKA_SLOT
} rs_rdkafka_t;

extern rs_rdkafka_t rs_rk;

/** Opens librdkafka.so.1 and finds every function, once (later calls answer the first one's result): 0, or -1 with
 *  why in err. Nothing of rs_rk may be called before it succeeded. */
int rs_rdkafka_load(char *err, size_t errlen);

#endif

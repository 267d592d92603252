/* SPDX-License-Identifier: MIT */
/* The pubsub.kafka consumer group, run on the sidecar's event loop.
 *
 * Guarantees (what makes delivery at-least-once and ordered):
 *  - per partition, one message is with the handler at a time; the next is
 *    handed over only after the previous one was acked (sarama's consumer
 *    group behaves the same way);
 *  - an offset is stored for commit only when its message was acked with
 *    success, and — because of the previous rule — every earlier message of the
 *    partition was acked before; librdkafka auto-commits stored offsets every
 *    second and on rebalance/close;
 *  - a message acked with success = 0 is redelivered after the component's
 *    back-off (consumeRetryEnabled, default forever every 5s, blocking its
 *    partition as in Dapr); with retries disabled or exhausted it is skipped
 *    without storing its offset (a later success commits past it, as in Dapr).
 * Private to the pubsub.kafka component. */
#ifndef RS_SIDECAR_PUBSUB_KAFKA_CONSUMER_H
#define RS_SIDECAR_PUBSUB_KAFKA_CONSUMER_H

#include <event2/event.h>

#include "sidecar/components/pubsub/kafka_config.h"
#include "sidecar/components/pubsub/pubsub.h"

typedef struct rs_kafka_consumer rs_kafka_consumer_t;

/** Creates the consumer (it joins the group on the first subscribe). cfg must outlive it.
 *  `scope` names the component in logs. Returns NULL with a reason. */
rs_kafka_consumer_t *rs_kafka_consumer_new(struct event_base *base, const rs_kafka_config_t *cfg, const char *scope,
                                           char *err, size_t errlen);
/** Adds `topic` to the subscription (re-subscribing triggers a rebalance); a second call for the same topic
 *  replaces its handler. Returns 0 or -1 with a reason. */
int rs_kafka_consumer_subscribe(rs_kafka_consumer_t *k, const char *topic, rs_pubsub_handler_fn handler, void *ctx,
                                char *err, size_t errlen);
/** Leaves the group (commits stored offsets; this waits for the broker, at most 2 s, so call it at shutdown
 *  only) and frees the consumer. Messages still with the handler stay valid; their late acks are ignored. */
void rs_kafka_consumer_free(rs_kafka_consumer_t *k);

#endif

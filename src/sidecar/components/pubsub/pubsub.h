/* SPDX-License-Identifier: MIT */
/* The pub/sub component kind (pubsub.kafka, pubsub.redis).
 *
 * Publish is asynchronous: the component calls `done` once the broker has
 * accepted the message (or failed). It is never cancelled; a caller that gave
 * up (resiliency timeout) ignores the late callback.
 *
 * Subscribe registers a handler for a topic. For each received message the
 * component builds an rs_pubsub_msg_t and calls the handler; the runtime
 * (delivery to the app, retries, dead letter) later calls rs_pubsub_msg_ack
 * exactly once. Only then may the component acknowledge the message to the
 * broker (Kafka: commit the offset once it and every earlier message of the
 * partition are acked; Redis Streams: XACK) — this is what makes delivery
 * at-least-once. */
#ifndef RS_SIDECAR_PUBSUB_H
#define RS_SIDECAR_PUBSUB_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/components/component.h"

typedef struct rs_pubsub_msg rs_pubsub_msg_t;

struct rs_pubsub_msg {
    char *topic;
    char *data;              /* payload bytes as stored in the broker (NUL-terminated) */
    size_t len;
    rs_kvlist_t metadata;    /* delivered as HTTP headers: Kafka __key/__topic/__partition/__offset/__timestamp + record headers */
    /* private to the component: */
    void (*ack_)(rs_pubsub_msg_t *m, int success);
    void *impl_;
};

/** Publish completion: ok = 1 on success; otherwise err says why. */
typedef void (*rs_pubsub_publish_cb)(void *arg, int ok, const char *err);
/** Receives one message; must eventually call rs_pubsub_msg_ack(m, success). */
typedef void (*rs_pubsub_handler_fn)(void *ctx, rs_pubsub_msg_t *m);

typedef struct rs_pubsub_ops {
    /** Sends data to topic. metadata entries become Kafka record headers / the Redis `metadata` field;
     *  `partitionKey`/`__key` set the Kafka key. */
    void (*publish)(rs_component_t *c, const char *topic, const void *data, size_t len, const rs_kvlist_t *metadata,
                    rs_pubsub_publish_cb done, void *arg);
    /** Starts consuming `topic`. Returns 0, or -1 with a reason. Called after the app is ready. */
    int (*subscribe)(rs_component_t *c, const char *topic, rs_pubsub_handler_fn handler, void *ctx, char *err,
                     size_t errlen);
} rs_pubsub_ops_t;

/** Finishes a message: success = 1 acknowledges it to the broker (eventually); 0 leaves it for redelivery
 *  according to the component's semantics. Frees m. */
static inline void rs_pubsub_msg_ack(rs_pubsub_msg_t *m, int success) { m->ack_(m, success); }

#endif

/* SPDX-License-Identifier: MIT */
/* The publish operations (Dapr's publish API, single and bulk): Dapr's
 * target checks, the message bytes (the payload itself with rawPayload, else
 * its CloudEvent envelope), the component's topic scopes, and the send under
 * the component's outbound resiliency policy (messaging/publisher.c; each
 * bulk entry is its own run). The contract every operation follows is in
 * ops/ops.h; cancelling stops publishing (a message the broker already has
 * stays there). */
#ifndef RS_SIDECAR_OPS_PUBLISH_H
#define RS_SIDECAR_OPS_PUBLISH_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/ops/ops.h"

/** Where to publish, and what every message carries. */
typedef struct {
    const char *pubsub;
    const char *topic;
    const rs_kvlist_t *metadata; /**< request metadata (rawPayload, ttlInSeconds, ...); may be NULL */
    const char *traceparent;     /**< trace context for the CloudEvent; may be NULL */
    const char *tracestate;
} rs_publish_target_t;

/** One message: the payload bytes and their content type (NULL: none given). */
typedef struct {
    const char *entry_id;        /**< bulk only */
    const char *data;
    size_t len;
    const char *content_type;
    const rs_kvlist_t *metadata; /**< bulk: the entry's own metadata, over the request's; may be NULL */
} rs_publish_message_t;

/** One bulk entry that failed. */
typedef struct {
    const char *entry_id;
    const char *error;
} rs_publish_failed_t;

/** The bulk result: the entries that failed (none: all were published). */
typedef struct {
    const rs_publish_failed_t *failed;
    size_t nfailed;
} rs_publish_reply_t;

/** Exactly one of reply and err is non-NULL (single publish: reply has no failed entries). */
typedef void (*rs_publish_done_fn)(void *arg, const rs_publish_reply_t *reply, const rs_dapr_error_t *err);

/** Dapr's checks before the body is read, in its order: PUBSUB_NOT_CONFIGURED, PUBSUB_EMPTY, PUBSUB_NOT_FOUND,
 *  TOPIC_NAME_EMPTY, PUBSUB_REQUEST_METADATA (rawPayload not a boolean). 0, or -1 with *err. */
int rs_ops_publish_check(struct rs_sidecar *sc, const rs_publish_target_t *t, rs_dapr_error_t *err);
/** The PUBSUB_EVENTS_SER error of a bulk request whose entries cannot be read (`why`), with daprd's details. */
void rs_ops_publish_bulk_body_error(struct rs_sidecar *sc, const rs_publish_target_t *t, const char *why,
                                    rs_dapr_error_t *err);

/** Publishes one message. Errors: the checks, PUBSUB_CLOUD_EVENTS_SER, PUBSUB_FORBIDDEN, PUBSUB_PUBLISH_MESSAGE. */
rs_op_t *rs_ops_publish(struct rs_sidecar *sc, const rs_publish_target_t *t, const rs_publish_message_t *msg,
                        rs_publish_done_fn done, void *arg);
/** Publishes every entry (all are built first: one that cannot be gives PUBSUB_CLOUD_EVENTS_SER and nothing is
 *  sent). Per-entry failures come back in the reply; errors as rs_ops_publish otherwise. */
rs_op_t *rs_ops_publish_bulk(struct rs_sidecar *sc, const rs_publish_target_t *t, const rs_publish_message_t *msgs,
                             size_t n, rs_publish_done_fn done, void *arg);

#endif

/* SPDX-License-Identifier: MIT */
/* Bulk subscribe over HTTP (spec §2.3 "Bulk"): messages of a subscription
 * with bulkSubscribe.enabled are collected until maxMessagesCount are waiting
 * or maxAwaitDurationMs passed, routed one by one, and sent per route as one
 *
 *   POST /<route>  Content-Type: application/json
 *   {"id","type":"com.dapr.event.sent.bulk","topic","pubsubname","metadata",
 *    "entries":[{"entryId","event","metadata","contentType"}]}
 *
 * The app answers {"statuses":[{"entryId","status"}]}: SUCCESS acks, DROP drops
 * (dead letter if set), RETRY or a missing/empty status retries that entry;
 * 404 drops every entry; any other status retries every entry. Retries run
 * under the pubsub component's inbound policy and resend only the entries that
 * still need it. When the policy gives up, those go to the dead-letter topic
 * or stay unacknowledged. */
#ifndef RS_SIDECAR_BULK_DELIVERY_H
#define RS_SIDECAR_BULK_DELIVERY_H

#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/messaging/subscriptions.h"
#include "sidecar/runtime/sidecar.h"

typedef struct rs_bulk_batcher rs_bulk_batcher_t;

/** Creates the batcher of subscription s (which must outlive it). */
rs_bulk_batcher_t *rs_bulk_batcher_new(rs_sidecar_t *sc, rs_subscription_t *s);
/** Takes m: it joins the current batch and is acked exactly once later. */
void rs_bulk_batcher_add(rs_bulk_batcher_t *b, rs_pubsub_msg_t *m);
/** Stops everything: waiting and in-flight messages are left unacknowledged. */
void rs_bulk_batcher_free(rs_bulk_batcher_t *b);

#endif

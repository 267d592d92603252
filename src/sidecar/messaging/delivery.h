/* SPDX-License-Identifier: MIT */
/* Delivering one pub/sub message to the app (spec §2.3).
 *
 * POST /<route> through the app channel, with Content-Type application/cloudevents+json, the stored
 * CloudEvent bytes as body, every message-metadata entry as a header, plus
 * pubsubName, traceparent/tracestate and dapr-api-token. The app's answer is
 * classified per the spec's table; retriable answers go through the pubsub
 * component's inbound resiliency policy (per-attempt timeout, retries,
 * breaker). When the policy gives up, the original bytes go to the dead-letter
 * topic (then the message is acked) or the message is left unacknowledged so
 * the component redelivers it. The message is acknowledged only after the app
 * accepted it (or it was deliberately dropped): at-least-once. */
#ifndef RS_SIDECAR_DELIVERY_H
#define RS_SIDECAR_DELIVERY_H

#include <stddef.h>

#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/messaging/subscriptions.h"
#include "sidecar/runtime/sidecar.h"

typedef enum {
    RS_APP_SUCCESS = 0, /* ack */
    RS_APP_RETRY,       /* retriable error */
    RS_APP_DROP,        /* ack (after the dead-letter topic, if any) */
} rs_app_verdict_t;

/** Classifies the app's answer: 2xx with an empty/non-JSON body, {}, status ""/SUCCESS -> SUCCESS; 2xx with RETRY or
 *  an unknown status -> RETRY; 2xx with DROP -> DROP; 404 -> DROP; any other status -> RETRY. Status strings are
 *  compared case-insensitively, as Dapr upper-cases them. */
rs_app_verdict_t rs_delivery_classify(int status, const char *body, size_t len);

/** 1 if message metadata entry k: v may become a request header: a token name, a value without control
 *  characters but HTAB, and not one of the headers the sidecar sets itself (Content-Type, traceparent,
 *  dapr-api-token, hop-by-hop ...). */
int rs_delivery_header_safe(const char *k, const char *v);

typedef struct rs_delivery rs_delivery_t;

/** The deliveries in flight for one sidecar, so shutdown can stop them. */
typedef struct rs_delivery_set {
    rs_delivery_t *head;
    size_t count;
} rs_delivery_set_t;

/** Starts delivering m for subscription s (the subscription's settings are copied). Takes m: it is acked exactly
 *  once, possibly before this returns (e.g. no matching route). */
void rs_delivery_start(rs_sidecar_t *sc, rs_delivery_set_t *set, const rs_subscription_t *s, rs_pubsub_msg_t *m);

/** Stops every delivery in flight; their messages are left unacknowledged (redelivered later). */
void rs_delivery_cancel_all(rs_delivery_set_t *set);

#endif

/* SPDX-License-Identifier: MIT */
/* libdapr publish API (Dapr POST /v1.0/publish/<pubsub>/<topic>).
 * Subscribing is on the app side: see app.h (dapr_app_subscribe). */
#ifndef DAPR_PUBSUB_H
#define DAPR_PUBSUB_H

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Publishes `data` (len bytes) on pubsub/topic. content_type decides how Dapr
 * wraps it in a CloudEvent: "application/json" → the event's `data` is the parsed
 * JSON; "application/cloudevents+json" → data is your own CloudEvent;
 * "application/octet-stream" → data_base64; anything else (NULL means
 * "text/plain") → data is the string. metadata entries are sent as
 * `metadata.<key>=<value>` query parameters (e.g. {"rawPayload","true"},
 * {"partitionKey","k"}); may be NULL. Returns 0 when the sidecar answered 204.
 */
int dapr_publish(dapr_client_t *c, const char *pubsub, const char *topic, const void *data, size_t len,
                 const char *content_type, const dapr_kv_t *metadata, size_t nmetadata, dapr_error_t *err);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/* The pub/sub runtime of one sidecar: once the app is reachable it asks the
 * app for its subscriptions (GET /dapr/subscribe), merges them with the
 * declarative ones, subscribes on the components and hands every received
 * message to a delivery. On shutdown it stops deliveries in flight (their
 * messages stay unacknowledged) and ignores late messages. */
#ifndef RS_SIDECAR_MESSAGING_H
#define RS_SIDECAR_MESSAGING_H

#include <jansson.h>

#include "sidecar/runtime/sidecar.h"

typedef struct rs_messaging rs_messaging_t;

/** Returns sc->messaging, creating it (and registering its app-ready and shutdown hooks) on first use.
 *  Must first be called before rs_sidecar_start probes the app (the publish API's registration does it).
 *  Returns NULL after shutdown. */
rs_messaging_t *rs_messaging_get(rs_sidecar_t *sc);

/** The `subscriptions` array of GET /v1.0/metadata (new reference), or NULL when there are none, since Dapr omits
 *  empty fields (json_object_set_new ignores a NULL value). */
json_t *rs_subscriptions_metadata_json(rs_sidecar_t *sc);

/** Number of deliveries in flight (for tests and metrics). */
size_t rs_messaging_inflight(rs_sidecar_t *sc);

#endif

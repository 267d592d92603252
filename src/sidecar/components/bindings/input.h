/* SPDX-License-Identifier: MIT */
/* Delivering input-binding events to the app (spec §2.4, "Input bindings"):
 *
 *   - the start-up probe: OPTIONS /<route> with a 3 s timeout; 2xx or 405
 *     means the app subscribed;
 *   - each event: POST /<route>, Content-Type application/json, the event's
 *     metadata as headers (plus dapr-api-token when APP_API_TOKEN is set),
 *     under the component's inbound resiliency policy. An attempt whose answer
 *     is not exactly 200 counts as failed (so 204 is retried); once the policy
 *     gives up, any 2xx is still a success and anything else an error. */
#ifndef RS_BINDINGS_INPUT_H
#define RS_BINDINGS_INPUT_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/sidecar.h"

typedef struct rs_binding_delivery rs_binding_delivery_t;

/** Probe result: subscribed = 1 if the app answered 2xx or 405; why describes anything else. */
typedef void (*rs_binding_probe_fn)(void *arg, int subscribed, const char *why);
/** Delivery result: ok = 1 on success; status is the app's last HTTP status (0 if none); err says why not. */
typedef void (*rs_binding_delivered_fn)(void *arg, int ok, int status, const char *err);

/** Sends the OPTIONS probe for `route` (leading '/' optional). cb runs once, later, from the loop. Returns 0,
 *  or -1 if the request could not be started (cb does not run then). */
int rs_binding_probe(rs_sidecar_t *sc, const char *route, rs_binding_probe_fn cb, void *arg);

/** Delivers one event of component c. data/metadata are copied. Returns a handle, or NULL if the delivery could
 *  not start (cb does not run then). cb runs exactly once unless the delivery is cancelled. */
rs_binding_delivery_t *rs_binding_deliver(rs_component_t *c, const char *route, const char *data, size_t len,
                                          const rs_kvlist_t *metadata, rs_binding_delivered_fn cb, void *arg);
/** Stops a delivery in flight; its callback will not run. */
void rs_binding_delivery_cancel(rs_binding_delivery_t *d);

#endif

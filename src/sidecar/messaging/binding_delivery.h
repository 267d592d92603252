/* SPDX-License-Identifier: MIT */
/* Input-binding delivery (spec §2.4, "Input bindings"), the runtime side of
 * an input binding, beside pub/sub delivery:
 *
 *   - gating: once the app is reachable, each binding that implements start
 *     is probed with OPTIONS /<route> (3 s timeout; 2xx or 405 means the app
 *     subscribed) — skipped when metadata `direction` names input — and then
 *     started with this module's handler;
 *   - route: metadata `route`, else the component name;
 *   - each event: POST /<route> through the app channel, Content-Type
 *     application/json, the event's metadata as headers, under the
 *     component's inbound resiliency policy. An attempt whose answer is not
 *     exactly 200 counts as failed (so 204 is retried); once the policy gives
 *     up, any 2xx is still a success and anything else an error. The outcome
 *     goes back to the binding through the event's done callback and into
 *     dapr_component_input_binding_count / _latencies.
 *
 * On shutdown it stops probes and deliveries in flight (their done callbacks
 * do not run) and refuses new events. */
#ifndef RS_SIDECAR_BINDING_DELIVERY_H
#define RS_SIDECAR_BINDING_DELIVERY_H

#include "sidecar/runtime/sidecar.h"

/** Registers the app-ready hook that probes and starts the input bindings, and the shutdown hook. Call once,
 *  before rs_sidecar_start probes the app. */
void rs_input_bindings_attach(rs_sidecar_t *sc);

#endif

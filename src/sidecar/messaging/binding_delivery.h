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
 *     dapr_component_input_binding_count / _latencies;
 *   - a gRPC app's reply may name output bindings (BindingEventResponse.to):
 *     as daprd's onAppResponse, the reply's data (decoded as JSON and encoded
 *     as Go does, null when it is not JSON) goes to each as a `create` through
 *     the output binding operation (the sender boot passes in: ops sits above
 *     messaging), one after the other (stopping at the
 *     first failure, the event acknowledged after the last) or, with
 *     concurrency PARALLEL, all at once (the event acknowledged at once).
 *     Failures are logged; the event still succeeded. The reply's store_name
 *     and states are not acted on, as in daprd; nor is an HTTP app's body.
 *
 * On shutdown it stops probes, deliveries and forwards in flight (their done
 * callbacks do not run) and refuses new events. */
#ifndef RS_SIDECAR_BINDING_DELIVERY_H
#define RS_SIDECAR_BINDING_DELIVERY_H

#include "sidecar/runtime/sidecar.h"

#include <stddef.h>

/** How delivery sends a reply's data on to an output binding: ops/bindings.h's rs_ops_binding_sender. */
typedef void (*rs_binding_sent_fn)(void *arg, const char *err); /* err: NULL, or the error's message */
typedef struct {
    /** Starts a `create` of data on output binding `name`; sent runs exactly once unless cancel runs first.
     *  Returns a handle for cancel, or NULL when sent has already run. */
    void *(*send)(rs_sidecar_t *sc, const char *name, const char *data, size_t len, rs_binding_sent_fn sent,
                  void *arg);
    void (*cancel)(void *handle);
} rs_binding_sender_t;

/** Registers the app-ready hook that probes and starts the input bindings, and the shutdown hook. Call once,
 *  before rs_sidecar_start probes the app. sender (static) forwards the replies that name output bindings. */
void rs_input_bindings_attach(rs_sidecar_t *sc, const rs_binding_sender_t *sender);

#endif

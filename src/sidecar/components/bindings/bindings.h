/* SPDX-License-Identifier: MIT */
/* The binding component kind (bindings.azure.blobstorage, bindings.localstorage,
 * bindings.cron).
 *
 * Output bindings implement `invoke`: the Dapr output binding API
 * (POST /v1.0/bindings/{name}) hands them an operation, the request data
 * (already re-marshalled to JSON the way Dapr does it, spec §2.4) and the
 * request metadata. The component answers through `done` exactly once:
 *   - ok with a response: 200 with resp->data and Metadata.<k> headers;
 *   - ok without a response (resp == NULL): 204;
 *   - not ok: 500 ERR_INVOKE_OUTPUT_BINDING with the error text.
 * `done` may run before invoke returns (purely local backends such as
 * localstorage). When it has not run yet, invoke returns a handle that the
 * caller may pass to `cancel` (e.g. the resiliency timeout fired); after
 * cancel, done never runs for that call.
 *
 * Input bindings (cron) implement `start`, the way pub/sub components
 * implement subscribe: the runtime (messaging/binding_delivery.c) calls it
 * once the app is reachable and has subscribed (the OPTIONS probe, unless
 * metadata `direction` says input), passing a handler. The binding hands
 * every event it produces to that handler; the runtime delivers it to the app
 * (route, headers, inbound resiliency policy, metrics) and reports the app's
 * outcome back through the event's done callback. An input binding therefore
 * never calls the app, nor anything of the runtime but its host. */
#ifndef RS_SIDECAR_BINDINGS_H
#define RS_SIDECAR_BINDINGS_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/components/component.h"

/** A successful output-binding answer. Owned by the component; valid only during the done callback. */
typedef struct rs_binding_resp {
    const char *data;       /* response body (may be binary); may be NULL when len == 0 */
    size_t len;
    rs_kvlist_t metadata;   /* becomes Metadata.<k> response headers */
} rs_binding_resp_t;

/** Invoke completion. ok = 1: resp (NULL for "no data", i.e. 204). ok = 0: err says why (never NULL). */
typedef void (*rs_binding_done_fn)(void *arg, int ok, const rs_binding_resp_t *resp, const char *err);

/** An invoke in flight (opaque to the caller). */
typedef struct rs_binding_call rs_binding_call_t;

/** The outcome of one input-binding event: ok = 1 when the app accepted it; status is the app's last HTTP status
 *  (0 if it never answered); err says why not (NULL when ok). */
typedef void (*rs_binding_event_done_fn)(void *arg, int ok, int status, const char *err);

/** One event of an input binding. Borrowed by the handler for the duration of the call (it copies what it keeps). */
typedef struct rs_binding_event {
    const char *data;              /* body for the app (may be binary; "" for none) */
    size_t len;
    const rs_kvlist_t *metadata;   /* sent as request headers; may be NULL */
} rs_binding_event_t;

/** The runtime's delivery handler, given to start. Delivers ev of binding c and calls done(done_arg, ...) exactly
 *  once, possibly before returning (e.g. while the runtime stops) — except that deliveries still in flight when
 *  the runtime shuts down are dropped without calling done (the binding is closed right after). */
typedef void (*rs_binding_handler_fn)(void *ctx, rs_component_t *c, const rs_binding_event_t *ev,
                                      rs_binding_event_done_fn done, void *done_arg);

typedef struct rs_binding_ops {
    /** Operations the output binding supports, NULL-terminated, in the order Dapr lists them.
     *  NULL for input-only bindings. */
    const char *const *operations;
    /** Runs `operation` (one of `operations`) with data (len bytes, NUL-terminated) and request metadata.
     *  Calls done exactly once, possibly before returning. Returns NULL if done already ran, else a handle
     *  for cancel. metadata and data are only borrowed for the duration of the call. */
    rs_binding_call_t *(*invoke)(rs_component_t *c, const char *operation, const char *data, size_t len,
                                 const rs_kvlist_t *metadata, rs_binding_done_fn done, void *arg);
    /** Abandons a pending call: its done callback will not run. */
    void (*cancel)(rs_component_t *c, rs_binding_call_t *call);
    /** Input bindings: starts producing events, each handed to handler(ctx, c, ...). Called at most once, by the
     *  runtime, after the app is ready and subscribed. Returns 0, or -1 with a reason. NULL for output-only
     *  bindings. */
    int (*start)(rs_component_t *c, rs_binding_handler_fn handler, void *ctx, char *err, size_t errlen);
} rs_binding_ops_t;

/** The ops table of a binding component, or NULL if c is not a binding. */
static inline const rs_binding_ops_t *rs_binding_ops(const rs_component_t *c) {
    return (c && c->type && c->type->kind == RS_KIND_BINDING) ? (const rs_binding_ops_t *)c->type->ops : NULL;
}

/** 1 if metadata `direction` (comma-separated, case-insensitive, spaces trimmed) names `dir`
 *  ("input" or "output"), as Dapr's isBindingOfExplicitDirection does. */
int rs_binding_has_direction(const rs_component_t *c, const char *dir);

/** 1 if c can serve the output binding API: it has invoke, and `direction`, when set, includes "output". */
int rs_binding_is_output(const rs_component_t *c);

#endif

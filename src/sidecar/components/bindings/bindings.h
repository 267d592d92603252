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
 * Input bindings (cron) have no invoke. They start delivering to the app on
 * their own: their init registers an rs_sidecar_on_app_ready hook, which runs
 * the OPTIONS probe (unless metadata `direction` says input) and then starts
 * the trigger. Deliveries use rs_binding_deliver (input.c), which applies the
 * component's inbound resiliency policy. */
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

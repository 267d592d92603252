/* SPDX-License-Identifier: MIT */
/* The operation layer: what each Dapr API group does, without its front door.
 *
 * One file pair per group (ops/state.h, lock.h, secrets.h, metadata.h,
 * bindings.h, publish.h). An operation takes a parsed, typed request (plain C
 * strings, values, an rs_kvlist_t of metadata; payloads as bytes), looks up
 * the component, applies scopes, runs the component call under the
 * component's resiliency policy, records metrics, and reports exactly one of
 * a typed result or a table error (sidecar/errors/errors.h) through its callback.
 * It knows nothing about HTTP: the HTTP adapters in api/ parse requests into
 * these structs and render the results, and a gRPC adapter can call the same
 * functions.
 *
 * Every asynchronous operation follows one contract:
 *   - it returns a handle while the operation is in flight, or NULL when the
 *     callback has already run (a bad request, an unknown store: the error is
 *     reported before the function returns);
 *   - otherwise the callback runs later on the event loop, exactly once;
 *   - rs_op_cancel(handle) (the client went away) aborts the component call
 *     in flight; the callback then never runs;
 *   - the request struct and its strings are only read during the call: the
 *     operation copies what it keeps;
 *   - the result and error passed to the callback are valid only during it. */
#ifndef RS_SIDECAR_OPS_H
#define RS_SIDECAR_OPS_H

#include "sidecar/errors/errors.h"

struct rs_sidecar;

/** An operation in flight. */
typedef struct rs_op rs_op_t;

/** Stops an operation in flight: aborts its component call, frees it; its callback will not run. */
void rs_op_cancel(rs_op_t *op);

#endif

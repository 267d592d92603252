/* SPDX-License-Identifier: MIT */
/* Service invocation (spec §2.1), without its front door: a typed request in
 * (target app id, method, verb, headers, query, body), the app's answer
 * (status, headers, body) or a table error out. The HTTP adapter is
 * api/invoke.c; a gRPC adapter calls the same operation.
 *
 * A call to our own app id goes to the app through the app channel. A call to
 * another app id is resolved to a peer ripstopd (name resolution) and sent to
 * the peer's ordinary invoke route with the `ripstop-hop` header, which tells
 * the peer to deliver to its app as the callee. The header's value is the hop
 * key of the name-resolution table (nameres.h), which API clients cannot
 * read: a request with the header but without the key is refused
 * (PERMISSION_DENIED), so no client can pose as a peer sidecar and choose the
 * dapr-caller-app-id the app receives along with its APP_API_TOKEN. The caller's sidecar applies
 * the target app's resiliency policy; every attempt resolves again, so a retry
 * can land on another replica; the callee side of a hop delivers once.
 * Metrics, daprd's: dapr_runtime_service_invocation_req_sent_total,
 * _res_recv_total, _res_recv_latency_ms on the caller's side; _req_recv_total,
 * _res_sent_total on the callee's (hop) side. Labels as daprd's: dst_app_id /
 * src_app_id, method, status.
 *
 * The contract is ops/ops.h's, with one difference made for speed (this runs
 * on every call and is allocation-counted, docs/performance.md): the request's
 * strings, headers and body are borrowed until the callback runs or the
 * operation is cancelled, not copied — an adapter passes its own request's
 * buffers, which live that long anyway, and every attempt replays them. */
#ifndef RS_SIDECAR_OPS_INVOKE_H
#define RS_SIDECAR_OPS_INVOKE_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/ops/ops.h"

/** One invocation. Borrowed until the callback runs or rs_op_cancel. */
typedef struct {
    const char *app_id;          /**< target app id, "id" or "id.namespace"; "" when the caller named none */
    const char *method;          /**< as received, still percent-encoded, without a leading '/' */
    const char *verb;            /**< HTTP method for the app: "GET", "POST", ... */
    const char *query;           /**< raw query without '?', or NULL */
    const rs_kvlist_t *headers;  /**< the caller's request headers (forwarded minus hop-by-hop and Dapr's own) */
    const char *caller_address;  /**< the caller's address, for X-Forwarded-For / Forwarded on a hop */
    const void *body;            /**< may be NULL */
    size_t body_len;
    int grpc_status;             /**< the caller passes a gRPC app's status on (the gRPC API): the answer keeps the
                                      RS_APP_GRPC_* headers (app_channel.h), which are dropped for other callers */
} rs_invoke_request_t;

/** The app's answer, passed through. Valid only during the callback. */
typedef struct {
    int status;                  /**< the app's HTTP status (also a non-2xx one: it is an answer, not an error) */
    rs_kvlist_t *headers;        /**< the app's headers minus hop-by-hop, Content-Length and Date (the front door
                                      writes its own); the callback may change the list */
    const char *body;
    size_t body_len;
} rs_invoke_reply_t;

/** Exactly one of reply and err is non-NULL. */
typedef void (*rs_invoke_done_fn)(void *arg, rs_invoke_reply_t *reply, const rs_dapr_error_t *err);

/** Prepares invocation for sc (its in-flight list and shutdown hook). Idempotent; each front door calls it when it
 *  registers. */
void rs_ops_invoke_attach(struct rs_sidecar *sc);

/** 1 if the invocation rs_ops_invoke started is the callee side of a sidecar-to-sidecar hop (its headers held
 *  the hop key; decided once, when rs_ops_invoke checked it), for a front door's route label. */
int rs_ops_invoke_op_is_hop(const rs_op_t *op);

/** Invokes req->method on req->app_id. Errors: DIRECT_INVOKE_NO_APP_ID (no app id), DIRECT_INVOKE_INVALID (an app id or method that is not valid),
 *  DIRECT_INVOKE (shutting down, wrong sidecar for a hop, no peer, the policy gave up without an answer),
 *  PERMISSION_DENIED (a hop header without the hop key). An answer
 *  of the app — any status — is a reply. */
rs_op_t *rs_ops_invoke(struct rs_sidecar *sc, const rs_invoke_request_t *req, rs_invoke_done_fn done, void *arg);

#endif

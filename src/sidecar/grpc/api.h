/* SPDX-License-Identifier: MIT */
/* The gRPC front door of ripstopd: Dapr's service dapr.proto.runtime.v1.Dapr
 * on --dapr-grpc-port. One adapter file per API group (state.c, publish.c,
 * bindings.c, secrets.c, lock.c, metadata.c, invoke.c) turns the decoded request into
 * the operation layer's typed request (sidecar/ops/), calls it, and encodes
 * the result; dapr_service.c checks the API token, logs, finds the method and
 * decodes the request. Nothing here re-implements an operation: scopes,
 * resiliency and metrics are the operation layer's, as for the HTTP API. */
#ifndef RS_SIDECAR_GRPC_API_H
#define RS_SIDECAR_GRPC_API_H

#include "core/str.h"
#include "sidecar/grpc/server.h"
#include "sidecar/ops/ops.h"
#include "sidecar/runtime/sidecar.h"

/** A method's handler: req is the decoded request, freed when the handler returns (the operation layer copies
 *  what it keeps). It finishes the call, at once or from the operation's callback (rs_grpc_track_op). */
typedef void (*rs_grpc_method_fn)(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *req);

/** One method of the Dapr service. */
typedef struct {
    const char *name;                       /**< e.g. "GetState" */
    const ProtobufCMessageDescriptor *input; /**< the request message type */
    rs_grpc_method_fn fn;
} rs_grpc_method_t;

/** Each group's methods, ended by a row with name NULL. */
extern const rs_grpc_method_t rs_grpc_state_methods[];
extern const rs_grpc_method_t rs_grpc_publish_methods[];
extern const rs_grpc_method_t rs_grpc_bindings_methods[];
extern const rs_grpc_method_t rs_grpc_secrets_methods[];
extern const rs_grpc_method_t rs_grpc_lock_methods[];
extern const rs_grpc_method_t rs_grpc_metadata_methods[];
extern const rs_grpc_method_t rs_grpc_invoke_methods[];

/** Starts the gRPC API on every --dapr-listen-addresses address at --dapr-grpc-port (nothing if the port is
 *  negative). Returns 0, or -1 with the reason in err. */
int rs_grpc_api_start(rs_sidecar_t *sc, char *err, size_t errlen);
/** Stops it (cancelling calls in flight). */
void rs_grpc_api_stop(rs_sidecar_t *sc);

/** Finishes the call with the table error's gRPC status and message, and for a row with a reason daprd's rich
 *  details (errors.h) in grpc-status-details-bin. */
void rs_grpc_reply_dapr_error(rs_grpc_call_t *call, const rs_dapr_error_t *err);
struct rs_span;
/** Starts observing a call of method m (grpc/observe.c): its metrics and, when tracing, its span (returned, or
 *  NULL), whose traceparent replaces the call's traceparent metadata. Both are recorded when the call finishes. */
struct rs_span *rs_grpc_observe_start(rs_sidecar_t *sc, rs_grpc_call_t *call, const rs_grpc_method_t *m);
/** Adds the decoded request's attributes to span and makes it the current span while the handler runs. */
void rs_grpc_observe_dispatch(rs_sidecar_t *sc, struct rs_span *span, rs_grpc_call_t *call,
                              const ProtobufCMessage *req);
/** The handler returned: no current span any more. */
void rs_grpc_observe_dispatched(rs_sidecar_t *sc);
/** With tracing on, daprd's baggage rule: the call's `baggage` metadata values, joined with ",", must parse (else
 *  the call fails INVALID_ARGUMENT "invalid baggage header: ...", and this returns -1); valid baggage is echoed in
 *  the reply's `baggage` header. Returns 0 when the call goes on. */
int rs_grpc_observe_baggage(rs_sidecar_t *sc, rs_grpc_call_t *call);
/** The call's baggage metadata, joined and checked (tracing/baggage.h): 0 with *out the value (NULL when none; the
 *  caller frees it), or -1 when it is malformed: the call has then failed INVALID_ARGUMENT. */
int rs_grpc_baggage(rs_grpc_call_t *call, char **out);
/** The call's baggage metadata values joined with "," (unchecked), or NULL (rs_baggage_join). */
char *rs_grpc_baggage_join(rs_grpc_call_t *call, int *too_long);

/** Finishes the call with code, message and a grpc-status-details-bin of google.rpc.Status {code, message,
 *  details[0..n) each packed in a google.protobuf.Any under type.googleapis.com/<message type>}. */
void rs_grpc_call_fail_details(rs_grpc_call_t *call, rs_grpc_code_t code, const char *message,
                               const ProtobufCMessage *const *details, size_t n);
/** Finishes the call with a table row and a printf-formatted message. */
void rs_grpc_reply_err(rs_grpc_call_t *call, rs_dapr_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Finishes the call with OK and an empty message (google.protobuf.Empty). */
void rs_grpc_reply_empty(rs_grpc_call_t *call);
/** When op is in flight, makes the call's cancellation (client reset, gone, deadline) cancel it. */
void rs_grpc_track_op(rs_grpc_call_t *call, rs_op_t *op);
/** Copies a decoded protobuf map<string,string> (any generated ...Entry type: base, key, value) into out. */
#define rs_grpc_map_to_kvlist(entries, n, out) rs_grpc_map_copy((void *const *)(entries), (n), (out))
void rs_grpc_map_copy(void *const *entries, size_t n, rs_kvlist_t *out);
/** A protobuf map<string,string> to encode: an array of l->len entries of the generated type entry_type
 *  (its descriptor), with strings borrowed from l. Free it with free(). */
void *rs_grpc_map_build(const rs_kvlist_t *l, const ProtobufCMessageDescriptor *entry_type);

#endif

/* SPDX-License-Identifier: MIT */
/* gRPC adapter of the output binding API: InvokeBinding. The data bytes go to
 * the component as sent (the HTTP API re-marshals its JSON "data" instead);
 * trace context travels in the metadata, as in daprd. The invoke is
 * ops/bindings.c. */
#include <stdlib.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/bindings.h"

static void on_done(void *arg, const rs_binding_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    Dapr__Proto__Runtime__V1__InvokeBindingResponse r = DAPR__PROTO__RUNTIME__V1__INVOKE_BINDING_RESPONSE__INIT;
    if (reply->has_data) r.data = (ProtobufCBinaryData){reply->len, (uint8_t *)reply->data};
    void *md = rs_grpc_map_build(reply->metadata,
                                 &dapr__proto__runtime__v1__invoke_binding_response__metadata_entry__descriptor);
    r.n_metadata = reply->metadata ? reply->metadata->len : 0;
    r.metadata = md;
    rs_grpc_call_reply(arg, &r.base);
    free(md);
}

static void invoke_binding(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__InvokeBindingRequest *in = (const void *)m;
    rs_kvlist_t md = {0};
    rs_grpc_map_to_kvlist(in->metadata, in->n_metadata, &md);
    const char *tp = rs_grpc_call_metadata(call, "traceparent"), *ts = rs_grpc_call_metadata(call, "tracestate");
    if (tp && *tp) rs_kvlist_set(&md, "traceparent", tp);
    if (ts && *ts) rs_kvlist_set(&md, "tracestate", ts);
    /* and W3C baggage (already checked when tracing is on; daprd refuses a malformed one here too) */
    char *bag;
    if (rs_grpc_baggage(call, &bag) != 0) {
        rs_kvlist_free(&md);
        return;
    }
    if (bag && *bag) rs_kvlist_set(&md, "baggage", bag);
    free(bag);
    rs_binding_request_t req = {.name = in->name, .operation = in->operation, .data = (const char *)in->data.data,
                                .len = in->data.len, .metadata = &md};
    rs_grpc_track_op(call, rs_ops_binding_invoke(sc, &req, on_done, call));
    rs_kvlist_free(&md);
}

const rs_grpc_method_t rs_grpc_bindings_methods[] = {
    {"InvokeBinding", &dapr__proto__runtime__v1__invoke_binding_request__descriptor, invoke_binding},
    {NULL, NULL, NULL},
};

/* SPDX-License-Identifier: MIT */
/* What every gRPC adapter shares: table errors as gRPC statuses (with
 * daprd's rich details in grpc-status-details-bin), the empty reply,
 * cancellation of the operation in flight, and map<string,string>. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/grpc/api.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/rpc/status.pb-c.h"

#define TYPE_URL_PREFIX "type.googleapis.com/"

void rs_grpc_call_fail_details(rs_grpc_call_t *call, rs_grpc_code_t code, const char *message,
                               const ProtobufCMessage *const *details, size_t n) {
    Google__Protobuf__Any *anys = rs_xcalloc(n + 1, sizeof *anys);
    Google__Protobuf__Any **ptrs = rs_xcalloc(n + 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        google__protobuf__any__init(&anys[i]);
        const char *name = details[i]->descriptor->name; /* e.g. "google.rpc.ErrorInfo" */
        anys[i].type_url = rs_xmalloc(sizeof TYPE_URL_PREFIX + strlen(name));
        strcpy(anys[i].type_url, TYPE_URL_PREFIX);
        strcat(anys[i].type_url, name);
        anys[i].value.len = protobuf_c_message_get_packed_size(details[i]);
        anys[i].value.data = rs_xmalloc(anys[i].value.len + 1);
        protobuf_c_message_pack(details[i], anys[i].value.data);
        ptrs[i] = &anys[i];
    }
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = (int32_t)code;
    st.message = (char *)message;
    st.n_details = n;
    st.details = ptrs;
    size_t len = google__rpc__status__get_packed_size(&st);
    uint8_t *packed = rs_xmalloc(len + 1);
    google__rpc__status__pack(&st, packed);
    rs_grpc_call_fail(call, code, message, packed, len);
    free(packed);
    for (size_t i = 0; i < n; i++) {
        free(anys[i].type_url);
        free(anys[i].value.data);
    }
    free(ptrs);
    free(anys);
}

/* A table error with a reason as daprd's kit errors give it: [BadRequest | Help,] [ResourceInfo,] ErrorInfo.
 * The strings are the error's own (well-formed UTF-8, see rs_dapr_error_resource and friends). */
static void fail_with_details(rs_grpc_call_t *call, const rs_dapr_error_t *err) {
    const ProtobufCMessage *details[3];
    size_t n = 0;
    Google__Rpc__BadRequest__FieldViolation fv = GOOGLE__RPC__BAD_REQUEST__FIELD_VIOLATION__INIT;
    Google__Rpc__BadRequest__FieldViolation *fvs[1] = {&fv};
    Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
    Google__Rpc__Help__Link link = GOOGLE__RPC__HELP__LINK__INIT;
    Google__Rpc__Help__Link *links[1] = {&link};
    Google__Rpc__Help help = GOOGLE__RPC__HELP__INIT;
    const char *url, *desc;
    if (err->field[0]) {
        fv.field = (char *)err->field;
        fv.description = (char *)err->message;
        br.n_field_violations = 1;
        br.field_violations = fvs;
        details[n++] = &br.base;
    } else if (rs_dapr_err_help(err->code, &url, &desc)) {
        link.url = (char *)url;
        link.description = (char *)desc;
        help.n_links = 1;
        help.links = links;
        details[n++] = &help.base;
    }
    Google__Rpc__ResourceInfo ri = GOOGLE__RPC__RESOURCE_INFO__INIT;
    const char *rtype = rs_dapr_err_resource_type(err->code);
    if (rtype) {
        ri.resource_type = (char *)rtype;
        ri.resource_name = (char *)err->resource;
        /* daprd describes a pub/sub resource with the error's message, a state store with nothing */
        if (strcmp(rtype, "pubsub") == 0) ri.description = (char *)err->message;
        details[n++] = &ri.base;
    }
    rs_kvlist_t md = {0};
    for (size_t i = 0; i < err->n_meta; i++) rs_kvlist_add(&md, err->meta[i].key, err->meta[i].value);
    Google__Rpc__ErrorInfo info = GOOGLE__RPC__ERROR_INFO__INIT;
    info.reason = (char *)rs_dapr_err_reason(err->code);
    info.domain = RS_DAPR_ERROR_DOMAIN;
    info.n_metadata = md.len;
    info.metadata = rs_grpc_map_build(&md, &google__rpc__error_info__metadata_entry__descriptor);
    details[n++] = &info.base;
    rs_grpc_call_fail_details(call, rs_dapr_err_grpc(err->code), err->message, details, n);
    free(info.metadata);
    rs_kvlist_free(&md);
}

void rs_grpc_reply_dapr_error(rs_grpc_call_t *call, const rs_dapr_error_t *err) {
    if (rs_dapr_err_reason(err->code)) fail_with_details(call, err);
    else rs_grpc_call_fail(call, rs_dapr_err_grpc(err->code), err->message, NULL, 0);
}

void rs_grpc_reply_err(rs_grpc_call_t *call, rs_dapr_err_t code, const char *fmt, ...) {
    char msg[RS_DAPR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs_dapr_error_t err;
    rs_dapr_error_set(&err, code, "%s", msg);
    rs_grpc_reply_dapr_error(call, &err);
}

void rs_grpc_reply_empty(rs_grpc_call_t *call) {
    Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
    rs_grpc_call_reply(call, &e.base);
}

static void cancel_op(void *op) { rs_op_cancel(op); }

void rs_grpc_track_op(rs_grpc_call_t *call, rs_op_t *op) {
    if (op) rs_grpc_call_on_cancel(call, cancel_op, op);
}

/* Every generated map<string,string> entry has this layout. */
typedef struct {
    ProtobufCMessage base;
    char *key;
    char *value;
} map_entry_t;

void rs_grpc_map_copy(void *const *entries, size_t n, rs_kvlist_t *out) {
    for (size_t i = 0; i < n; i++) {
        const map_entry_t *e = entries[i];
        rs_kvlist_set(out, e->key ? e->key : "", e->value ? e->value : "");
    }
}

void *rs_grpc_map_build(const rs_kvlist_t *l, const ProtobufCMessageDescriptor *entry_type) {
    /* one block: the pointer array, then the entries */
    size_t n = l ? l->len : 0;
    void **ptrs = rs_xcalloc(1, n * (sizeof(void *) + sizeof(map_entry_t)) + 1);
    map_entry_t *es = (map_entry_t *)(ptrs + n);
    for (size_t i = 0; i < n; i++) {
        protobuf_c_message_init(entry_type, &es[i]);
        es[i].key = l->items[i].key;
        es[i].value = l->items[i].value;
        ptrs[i] = &es[i];
    }
    return ptrs;
}

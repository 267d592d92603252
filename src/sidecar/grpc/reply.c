/* SPDX-License-Identifier: MIT */
/* What every gRPC adapter shares: table errors as gRPC statuses, the empty
 * reply, cancellation of the operation in flight, and map<string,string>. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sidecar/grpc/api.h"
#include "google/protobuf/empty.pb-c.h"

void rs_grpc_reply_dapr_error(rs_grpc_call_t *call, const rs_dapr_error_t *err) {
    rs_grpc_call_fail(call, rs_dapr_err_grpc(err->code), err->message, NULL, 0);
}

void rs_grpc_reply_err(rs_grpc_call_t *call, rs_dapr_err_t code, const char *fmt, ...) {
    rs_dapr_error_t err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
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

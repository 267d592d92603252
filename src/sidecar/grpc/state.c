/* SPDX-License-Identifier: MIT */
/* gRPC adapter of the state API: GetState, GetBulkState, SaveState,
 * DeleteState, DeleteBulkState, ExecuteStateTransaction. Values travel as the
 * bytes the client sent (no JSON re-encoding, unlike the HTTP API's JSON
 * bodies), as in daprd. The operations are ops/state.c. */
#include <stdlib.h>
#include <string.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/state.h"

typedef Dapr__Proto__Common__V1__StateItem pb_item_t;
typedef Dapr__Proto__Common__V1__StateOptions pb_options_t;

/* ---- replies (the callbacks' argument is the call: alive until it is finished or cancelled) ---- */

static void on_written(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    (void)reply;
    if (err) rs_grpc_reply_dapr_error(arg, err);
    else rs_grpc_reply_empty(arg);
}

static void on_get(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    const rs_state_value_t *v = &reply->values[0];
    Dapr__Proto__Runtime__V1__GetStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__INIT;
    if (v->found) {
        r.data = (ProtobufCBinaryData){v->len, (uint8_t *)v->data};
        if (v->etag) r.etag = (char *)v->etag;
    }
    rs_grpc_call_reply(arg, &r.base);
}

static void on_bulk(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    Dapr__Proto__Runtime__V1__BulkStateItem *items = rs_xcalloc(reply->n + 1, sizeof *items);
    Dapr__Proto__Runtime__V1__BulkStateItem **ptrs = rs_xcalloc(reply->n + 1, sizeof *ptrs);
    for (size_t i = 0; i < reply->n; i++) {
        const rs_state_value_t *v = &reply->values[i];
        dapr__proto__runtime__v1__bulk_state_item__init(&items[i]);
        items[i].key = (char *)v->key;
        if (v->error) items[i].error = (char *)v->error;
        else if (v->found) {
            items[i].data = (ProtobufCBinaryData){v->len, (uint8_t *)v->data};
            if (v->etag) items[i].etag = (char *)v->etag;
        }
        ptrs[i] = &items[i];
    }
    Dapr__Proto__Runtime__V1__GetBulkStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_BULK_STATE_RESPONSE__INIT;
    r.n_items = reply->n;
    r.items = ptrs;
    rs_grpc_call_reply(arg, &r.base);
    free(ptrs);
    free(items);
}

/* ---- requests ---- */

/* Dapr's consistency and concurrency options; every value of the enums is valid. */
static void apply_options(rs_state_item_t *it, const pb_options_t *o) {
    if (!o) return;
    if (o->concurrency == DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_FIRST_WRITE)
        it->concurrency = RS_CONCURRENCY_FIRST_WRITE;
    else if (o->concurrency == DAPR__PROTO__COMMON__V1__STATE_OPTIONS__STATE_CONCURRENCY__CONCURRENCY_LAST_WRITE)
        it->concurrency = RS_CONCURRENCY_LAST_WRITE;
}

/* A StateItem as an operation item (strings borrowed from the message). -1 with *err for a bad ttlInSeconds. */
static int item_from_pb(rs_state_item_t *it, const pb_item_t *p, int is_delete, rs_dapr_error_t *err) {
    *it = (rs_state_item_t){.key = p->key, .is_delete = is_delete};
    if (p->etag && p->etag->value && *p->etag->value) it->etag = p->etag->value;
    if (!is_delete) {
        it->value = (const char *)p->value.data;
        it->len = p->value.len;
    }
    apply_options(it, p->options);
    for (size_t i = 0; i < p->n_metadata; i++) {
        if (strcmp(p->metadata[i]->key, "ttlInSeconds") != 0 || !*p->metadata[i]->value) continue;
        if (rs_parse_int64(p->metadata[i]->value, &it->ttl_seconds) != 0) {
            rs_dapr_error_set(err, RS_ERR_MALFORMED_REQUEST, "ttlInSeconds of key %s is not an integer: %s", p->key,
                              p->metadata[i]->value);
            return -1;
        }
        it->has_ttl = 1;
    }
    return 0;
}

static void get_state(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__GetStateRequest *in = (const void *)m;
    rs_state_item_t it = {.key = in->key};
    rs_state_request_t req = {.store = in->store_name, .items = &it, .n = 1};
    rs_grpc_track_op(call, rs_ops_state_get(sc, &req, on_get, call));
}

static void get_bulk_state(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__GetBulkStateRequest *in = (const void *)m;
    rs_state_item_t *items = rs_xcalloc(in->n_keys + 1, sizeof *items);
    for (size_t i = 0; i < in->n_keys; i++) items[i].key = in->keys[i];
    rs_state_request_t req = {.store = in->store_name, .items = items, .n = in->n_keys, .parallelism = in->parallelism};
    rs_grpc_track_op(call, rs_ops_state_bulk_get(sc, &req, on_bulk, call));
    free(items);
}

/* Runs a write of n StateItems (save: upserts; transaction items come through `txn`). */
static void write_items(rs_sidecar_t *sc, rs_grpc_call_t *call, const char *store, pb_item_t *const *pbs, size_t n) {
    rs_state_item_t *items = rs_xcalloc(n + 1, sizeof *items);
    rs_dapr_error_t err;
    size_t i = 0;
    while (i < n && item_from_pb(&items[i], pbs[i], 0, &err) == 0) i++;
    if (i < n) {
        rs_grpc_reply_dapr_error(call, &err);
    } else {
        rs_state_request_t req = {.store = store, .items = items, .n = n};
        rs_grpc_track_op(call, rs_ops_state_save(sc, &req, on_written, call));
    }
    free(items);
}

static void save_state(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__SaveStateRequest *in = (const void *)m;
    write_items(sc, call, in->store_name, in->states, in->n_states);
}

static void delete_state(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__DeleteStateRequest *in = (const void *)m;
    rs_state_item_t it = {.key = in->key, .is_delete = 1};
    if (in->etag && in->etag->value && *in->etag->value) it.etag = in->etag->value;
    apply_options(&it, in->options);
    rs_state_request_t req = {.store = in->store_name, .items = &it, .n = 1};
    rs_grpc_track_op(call, rs_ops_state_delete(sc, &req, on_written, call));
}

/* ---- DeleteBulkState: one delete operation per item, all at once; the first failure (in request order)
 * is the answer, as daprd's BulkDelete stops at an error. ---- */

struct bulk_delete;

struct bulk_slot {
    struct bulk_delete *bd;
    rs_op_t *op;         /* in flight, or NULL once done */
    int failed;
    rs_dapr_error_t err;
};

struct bulk_delete {
    rs_grpc_call_t *call;
    size_t n, pending;   /* pending counts the starting loop too, so a delete done at once cannot end it early */
    struct bulk_slot slots[];
};

static void bulk_delete_step(struct bulk_delete *bd) {
    if (--bd->pending) return;
    size_t i = 0;
    while (i < bd->n && !bd->slots[i].failed) i++;
    if (i < bd->n) rs_grpc_reply_dapr_error(bd->call, &bd->slots[i].err);
    else rs_grpc_reply_empty(bd->call);
    free(bd);
}

static void on_one_deleted(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    (void)reply;
    struct bulk_slot *slot = arg;
    slot->op = NULL;
    if (err) {
        slot->err = *err;
        slot->failed = 1;
    }
    bulk_delete_step(slot->bd);
}

static void cancel_bulk_delete(void *arg) {
    struct bulk_delete *bd = arg;
    for (size_t i = 0; i < bd->n; i++) rs_op_cancel(bd->slots[i].op);
    free(bd);
}

static void delete_bulk_state(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__DeleteBulkStateRequest *in = (const void *)m;
    size_t n = in->n_states;
    rs_dapr_error_t err;
    if (rs_ops_state_check_store(sc, in->store_name, 0, &err) != 0) {
        rs_grpc_reply_dapr_error(call, &err);
        return;
    }
    rs_state_item_t *items = rs_xcalloc(n + 1, sizeof *items);
    size_t i = 0;
    while (i < n && item_from_pb(&items[i], in->states[i], 1, &err) == 0 &&
           rs_ops_state_check_key(in->store_name, items[i].key, &err) == 0)
        i++;
    if (i < n) {
        rs_grpc_reply_dapr_error(call, &err);
        free(items);
        return;
    }
    struct bulk_delete *bd = rs_xcalloc(1, sizeof *bd + n * sizeof bd->slots[0]);
    bd->call = call;
    bd->n = n;
    bd->pending = n + 1;
    rs_grpc_call_on_cancel(call, cancel_bulk_delete, bd);
    for (i = 0; i < n; i++) {
        bd->slots[i].bd = bd;
        rs_state_request_t req = {.store = in->store_name, .items = &items[i], .n = 1};
        bd->slots[i].op = rs_ops_state_delete(sc, &req, on_one_deleted, &bd->slots[i]);
    }
    free(items);
    bulk_delete_step(bd);
}

static void execute_state_transaction(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__ExecuteStateTransactionRequest *in = (const void *)m;
    rs_dapr_error_t err;
    if (rs_ops_state_check_store(sc, in->storename, 1, &err) != 0) {
        rs_grpc_reply_dapr_error(call, &err);
        return;
    }
    size_t n = in->n_operations;
    rs_state_item_t *items = rs_xcalloc(n + 1, sizeof *items);
    size_t i = 0;
    for (; i < n; i++) {
        const Dapr__Proto__Runtime__V1__TransactionalStateOperation *op = in->operations[i];
        int is_delete = strcmp(op->operationtype, "delete") == 0;
        if (!is_delete && strcmp(op->operationtype, "upsert") != 0) {
            rs_dapr_error_set(&err, RS_ERR_NOT_SUPPORTED_STATE_OPERATION, "operation type %s not supported",
                              op->operationtype);
            break;
        }
        if (!op->request) {
            rs_dapr_error_set(&err, RS_ERR_MALFORMED_REQUEST, "operation %zu has no request", i);
            break;
        }
        if (item_from_pb(&items[i], op->request, is_delete, &err) != 0) break;
    }
    if (i < n) {
        rs_grpc_reply_dapr_error(call, &err);
    } else {
        rs_state_request_t req = {.store = in->storename, .items = items, .n = n};
        rs_grpc_track_op(call, rs_ops_state_transact(sc, &req, on_written, call));
    }
    free(items);
}

const rs_grpc_method_t rs_grpc_state_methods[] = {
    {"GetState", &dapr__proto__runtime__v1__get_state_request__descriptor, get_state},
    {"GetBulkState", &dapr__proto__runtime__v1__get_bulk_state_request__descriptor, get_bulk_state},
    {"SaveState", &dapr__proto__runtime__v1__save_state_request__descriptor, save_state},
    {"DeleteState", &dapr__proto__runtime__v1__delete_state_request__descriptor, delete_state},
    {"DeleteBulkState", &dapr__proto__runtime__v1__delete_bulk_state_request__descriptor, delete_bulk_state},
    {"ExecuteStateTransaction", &dapr__proto__runtime__v1__execute_state_transaction_request__descriptor,
     execute_state_transaction},
    {NULL, NULL, NULL},
};

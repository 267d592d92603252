/* SPDX-License-Identifier: MIT */
/* gRPC adapter of the secrets API: GetSecret, GetBulkSecret (ops/secrets.c). */
#include <stdlib.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/secrets.h"

/* A JSON object of strings as a kvlist (borrowed strings). */
static void object_to_kvlist(json_t *o, rs_kvlist_t *out) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) if (json_is_string(v)) rs_kvlist_add(out, k, json_string_value(v));
}

static void on_secret(void *arg, json_t *secrets, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    rs_kvlist_t kv = {0};
    object_to_kvlist(secrets, &kv);
    Dapr__Proto__Runtime__V1__GetSecretResponse r = DAPR__PROTO__RUNTIME__V1__GET_SECRET_RESPONSE__INIT;
    void *data = rs_grpc_map_build(&kv, &dapr__proto__runtime__v1__get_secret_response__data_entry__descriptor);
    r.n_data = kv.len;
    r.data = data;
    rs_grpc_call_reply(arg, &r.base);
    free(data);
    rs_kvlist_free(&kv);
}

static void on_bulk(void *arg, json_t *secrets, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    size_t n = json_object_size(secrets);
    Dapr__Proto__Runtime__V1__GetBulkSecretResponse__DataEntry *es = rs_xcalloc(n + 1, sizeof *es);
    Dapr__Proto__Runtime__V1__GetBulkSecretResponse__DataEntry **ptrs = rs_xcalloc(n + 1, sizeof *ptrs);
    Dapr__Proto__Runtime__V1__SecretResponse *vals = rs_xcalloc(n + 1, sizeof *vals);
    rs_kvlist_t *kvs = rs_xcalloc(n + 1, sizeof *kvs);
    size_t i = 0;
    const char *name;
    json_t *one;
    json_object_foreach(secrets, name, one) {
        object_to_kvlist(one, &kvs[i]);
        dapr__proto__runtime__v1__secret_response__init(&vals[i]);
        vals[i].n_secrets = kvs[i].len;
        vals[i].secrets = rs_grpc_map_build(&kvs[i], &dapr__proto__runtime__v1__secret_response__secrets_entry__descriptor);
        dapr__proto__runtime__v1__get_bulk_secret_response__data_entry__init(&es[i]);
        es[i].key = (char *)name;
        es[i].value = &vals[i];
        ptrs[i] = &es[i];
        i++;
    }
    Dapr__Proto__Runtime__V1__GetBulkSecretResponse r = DAPR__PROTO__RUNTIME__V1__GET_BULK_SECRET_RESPONSE__INIT;
    r.n_data = n;
    r.data = ptrs;
    rs_grpc_call_reply(arg, &r.base);
    for (i = 0; i < n; i++) {
        free(vals[i].secrets);
        rs_kvlist_free(&kvs[i]);
    }
    free(kvs);
    free(vals);
    free(ptrs);
    free(es);
}

static void get_secret(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__GetSecretRequest *in = (const void *)m;
    rs_secrets_request_t req = {.store = in->store_name, .key = in->key};
    rs_grpc_track_op(call, rs_ops_secrets_get(sc, &req, on_secret, call));
}

static void get_bulk_secret(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__GetBulkSecretRequest *in = (const void *)m;
    rs_secrets_request_t req = {.store = in->store_name};
    rs_grpc_track_op(call, rs_ops_secrets_get(sc, &req, on_bulk, call));
}

const rs_grpc_method_t rs_grpc_secrets_methods[] = {
    {"GetSecret", &dapr__proto__runtime__v1__get_secret_request__descriptor, get_secret},
    {"GetBulkSecret", &dapr__proto__runtime__v1__get_bulk_secret_request__descriptor, get_bulk_secret},
    {NULL, NULL, NULL},
};

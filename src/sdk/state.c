/* SPDX-License-Identifier: MIT */
/* State API: get (with ETag), save (with options), delete, bulk get, transaction. */
#include <stdlib.h>
#include <string.h>

#include "dapr/state.h"
#include "internal.h"

static const char *concurrency_name(dapr_concurrency_t c) {
    return c == DAPR_CONCURRENCY_FIRST_WRITE ? "first-write" : c == DAPR_CONCURRENCY_LAST_WRITE ? "last-write" : NULL;
}

static const char *consistency_name(dapr_consistency_t c) {
    return c == DAPR_CONSISTENCY_STRONG ? "strong" : c == DAPR_CONSISTENCY_EVENTUAL ? "eventual" : NULL;
}

/* One request item as the API wants it: {"key","value","etag","metadata","options"}. */
static json_t *item_json(const dapr_state_item_t *it, int with_value) {
    json_t *o = json_object();
    json_object_set_new(o, "key", json_string(it->key ? it->key : ""));
    if (with_value) json_object_set_new(o, "value", dapri_json_value(it->value));
    if (it->etag) json_object_set_new(o, "etag", json_string(it->etag));
    if (it->nmetadata) json_object_set_new(o, "metadata", dapri_kv_object(it->metadata, it->nmetadata));
    const char *conc = concurrency_name(it->concurrency), *cons = consistency_name(it->consistency);
    if (conc || cons) {
        json_t *opt = json_object();
        if (conc) json_object_set_new(opt, "concurrency", json_string(conc));
        if (cons) json_object_set_new(opt, "consistency", json_string(cons));
        json_object_set_new(o, "options", opt);
    }
    return o;
}

static char *store_path(const char *store, const char *suffix) {
    char *s = dapr_url_escape(store);
    char *p = dapri_sprintf("/v1.0/state/%s%s", s, suffix);
    free(s);
    return p;
}

void dapr_state_free(dapr_state_t *s) {
    if (!s) return;
    free(s->key);
    free(s->value);
    free(s->etag);
    free(s->error);
    memset(s, 0, sizeof *s);
}

void dapr_state_free_array(dapr_state_t *arr, size_t n) {
    for (size_t i = 0; arr && i < n; i++) dapr_state_free(&arr[i]);
    free(arr);
}

int dapr_state_get(dapr_client_t *c, const char *store, const char *key, dapr_consistency_t consistency,
                   dapr_state_t *out, dapr_error_t *err) {
    memset(out, 0, sizeof *out);
    char *k = dapr_url_escape(key);
    char *suffix = dapri_sprintf("/%s%s%s", k, consistency_name(consistency) ? "?consistency=" : "",
                                 consistency_name(consistency) ? consistency_name(consistency) : "");
    char *path = store_path(store, suffix);
    dapr_response_t r = {0};
    int rc = dapr_client_request(c, "GET", path, NULL, 0, NULL, 0, &r, err);
    if (rc == 0 && r.status == 200) {
        out->found = 1;
        out->value = r.body;
        out->value_len = r.body_len;
        r.body = NULL;
        const char *etag = dapr_response_header(&r, "ETag");
        if (etag) out->etag = dapri_xstrdup(etag);
    }
    dapr_response_free(&r);
    free(path);
    free(suffix);
    free(k);
    return rc;
}

int dapr_state_save(dapr_client_t *c, const char *store, const dapr_state_item_t *items, size_t n,
                    dapr_error_t *err) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, item_json(&items[i], 1));
    char *path = store_path(store, "");
    int rc = dapri_send_json(c, "POST", path, arr, NULL, err);
    free(path);
    return rc;
}

int dapr_state_save_one(dapr_client_t *c, const char *store, const char *key, const char *value_json,
                        dapr_error_t *err) {
    dapr_state_item_t it = {.key = key, .value = value_json};
    return dapr_state_save(c, store, &it, 1, err);
}

int dapr_state_delete(dapr_client_t *c, const char *store, const char *key, const char *etag,
                      dapr_concurrency_t concurrency, dapr_error_t *err) {
    char *k = dapr_url_escape(key);
    const char *conc = concurrency_name(concurrency);
    char *suffix = dapri_sprintf("/%s%s%s", k, conc ? "?concurrency=" : "", conc ? conc : "");
    char *path = store_path(store, suffix);
    dapr_kv_t h = {"If-Match", etag};
    int rc = dapr_client_request(c, "DELETE", path, etag ? &h : NULL, etag ? 1 : 0, NULL, 0, NULL, err);
    free(path);
    free(suffix);
    free(k);
    return rc;
}

int dapr_state_get_bulk(dapr_client_t *c, const char *store, const char *const *keys, size_t n, int parallelism,
                        dapr_state_t **out, size_t *nout, dapr_error_t *err) {
    *out = NULL;
    *nout = 0;
    json_t *req = json_object(), *jk = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(jk, json_string(keys[i]));
    json_object_set_new(req, "keys", jk);
    if (parallelism > 0) json_object_set_new(req, "parallelism", json_integer(parallelism));
    char *path = store_path(store, "/bulk");
    dapr_response_t r = {0};
    int rc = dapri_send_json(c, "POST", path, req, &r, err);
    free(path);
    if (rc != 0) {
        dapr_response_free(&r);
        return rc;
    }
    json_t *arr = json_loadb(r.body, r.body_len, 0, NULL);
    dapr_response_free(&r);
    if (!json_is_array(arr)) {
        json_decref(arr);
        dapr_error_set(err, 200, DAPR_ERR_CLIENT, "bulk get: the answer is not a JSON array");
        return -1;
    }
    size_t m = json_array_size(arr);
    dapr_state_t *res = dapri_xcalloc(m ? m : 1, sizeof *res);
    for (size_t i = 0; i < m; i++) {
        json_t *e = json_array_get(arr, i);
        const char *k = json_string_value(json_object_get(e, "key"));
        const char *etag = json_string_value(json_object_get(e, "etag"));
        const char *error = json_string_value(json_object_get(e, "error"));
        json_t *data = json_object_get(e, "data");
        res[i].key = dapri_xstrdup(k ? k : "");
        if (etag) res[i].etag = dapri_xstrdup(etag);
        if (error) res[i].error = dapri_xstrdup(error);
        if (data) {
            res[i].found = 1;
            res[i].value = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!res[i].value) res[i].value = dapri_xstrdup("null");
            res[i].value_len = strlen(res[i].value);
        }
    }
    json_decref(arr);
    *out = res;
    *nout = m;
    return 0;
}

int dapr_state_transaction(dapr_client_t *c, const char *store, const dapr_state_op_t *ops, size_t n,
                           dapr_error_t *err) {
    json_t *jops = json_array();
    for (size_t i = 0; i < n; i++) {
        int del = ops[i].kind == DAPR_STATE_DELETE;
        json_t *op = json_object();
        json_object_set_new(op, "operation", json_string(del ? "delete" : "upsert"));
        json_object_set_new(op, "request", item_json(&ops[i].item, !del));
        json_array_append_new(jops, op);
    }
    json_t *req = json_object();
    json_object_set_new(req, "operations", jops);
    char *path = store_path(store, "/transaction");
    int rc = dapri_send_json(c, "POST", path, req, NULL, err);
    free(path);
    return rc;
}

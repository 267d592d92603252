/* SPDX-License-Identifier: MIT */
/* HTTP adapter of the state API (spec §2.5): get, save, delete, bulk get,
 * transaction. The operations (units, resiliency, error mapping) are
 * ops/state.c.
 *
 * A request is parsed and validated completely before the operation starts,
 * so bad input always gets its 4xx and never a partial write; the store and
 * each key are checked at the point Dapr checks them, so the first error is
 * Dapr's. If the client hangs up, the operation is cancelled. */
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_util.h"
#include "core/str.h"
#include "sidecar/api/api.h"
#include "sidecar/ops/state.h"

/* Dapr stores the value re-encoded (floats to 6 decimals); 15 significant digits prints 1.1 as 1.1. */
#define VALUE_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* ---- replies (the callbacks' argument is the HTTP request: alive until the reply or the hang-up) ---- */

static void on_hangup(rs_http_req_t *r, void *arg) {
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
}

/* Replies with err and returns 1, or returns 0 when there is none. */
static int replied_error(rs_http_req_t *r, const rs_dapr_error_t *err) {
    rs_http_req_on_close(r, NULL, NULL);
    if (!err) return 0;
    rs_api_reply_dapr_error(r, err);
    return 1;
}

static void on_written(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    (void)reply;
    rs_http_req_t *r = arg;
    if (!replied_error(r, err)) rs_http_reply_empty(r, 204);
}

static void on_get(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    if (replied_error(r, err)) return;
    const rs_state_value_t *v = &reply->values[0];
    if (!v->found) {
        rs_http_reply_empty(r, 204);
        return;
    }
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    if (v->etag) rs_kvlist_add(&h, "ETag", v->etag);
    rs_http_reply(r, 200, &h, v->data, v->len);
    rs_kvlist_free(&h);
}

/* Stored JSON is spliced in as the raw bytes (Dapr returns it as a json.RawMessage), so numbers come back
 * exactly as stored; data that is not JSON is returned as a JSON string. */
static void on_bulk(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    if (replied_error(r, err)) return;
    rs_buf_t b;
    rs_buf_init(&b, (size_t)-1);
    rs_buf_puts(&b, "[");
    for (size_t i = 0; i < reply->n; i++) {
        const rs_state_value_t *v = &reply->values[i];
        json_t *o = json_pack("{s:s}", "key", v->key);
        json_t *data = NULL;
        if (v->error) {
            json_object_set_new(o, "error", json_string(v->error));
        } else if (v->found) {
            data = rs_json_parse(v->data, v->len, NULL, 0);
            if (!data) json_object_set_new(o, "data", json_stringn(v->data, v->len));
            if (v->etag) json_object_set_new(o, "etag", json_string(v->etag));
        }
        char *head = rs_json_dump(o);
        json_decref(o);
        size_t hl = strlen(head);
        if (i) rs_buf_puts(&b, ",");
        if (data) { /* {"key":..,"data":<raw>,...} */
            rs_buf_append(&b, head, hl - 1);
            rs_buf_puts(&b, ",\"data\":");
            rs_buf_append(&b, v->data, v->len);
            rs_buf_puts(&b, "}");
            json_decref(data);
        } else {
            rs_buf_append(&b, head, hl);
        }
        free(head);
    }
    rs_buf_puts(&b, "]");
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    rs_http_reply(r, 200, &h, b.data, b.len);
    rs_kvlist_free(&h);
    rs_buf_free(&b);
}

/* Starts the operation; the hang-up cancels it while it runs. */
static void run(rs_op_t *op, rs_http_req_t *r) {
    if (op) rs_http_req_on_close(r, on_hangup, op);
}

/* ---- parsing ---- */

/* A parsed request: items, and the encoded values they point into. */
struct parsed {
    rs_state_item_t *items;
    char **values;
    size_t n;
};

static void parsed_init(struct parsed *p, size_t n) {
    p->n = n;
    p->items = rs_xcalloc(n ? n : 1, sizeof *p->items);
    p->values = rs_xcalloc(n ? n : 1, sizeof *p->values);
}

static void parsed_free(struct parsed *p) {
    for (size_t i = 0; i < p->n; i++) free(p->values[i]);
    free(p->values);
    free(p->items);
}

/* Checks a key of `store` where Dapr does; replies 400 and returns -1 on a bad one. */
static int check_key(rs_http_req_t *r, const char *store, const char *key) {
    rs_dapr_error_t err;
    if (rs_ops_state_check_key(store, key, &err) == 0) return 0;
    rs_api_reply_dapr_error(r, &err);
    return -1;
}

static int parse_concurrency(const char *s, rs_state_concurrency_t *out) {
    if (!s || !*s) *out = RS_CONCURRENCY_UNSET;
    else if (strcmp(s, "first-write") == 0) *out = RS_CONCURRENCY_FIRST_WRITE;
    else if (strcmp(s, "last-write") == 0) *out = RS_CONCURRENCY_LAST_WRITE;
    else return -1;
    return 0;
}

static int valid_consistency(const char *s) { return !s || !*s || !strcmp(s, "eventual") || !strcmp(s, "strong"); }

/* Parses one save item (or a transaction's request) into it; *value gets the encoded value (caller frees).
 * Strings point into `item`. On bad input replies 400 and returns -1. */
static int parse_item(rs_http_req_t *r, const char *store, rs_state_item_t *it, char **value, json_t *item,
                      int is_delete) {
    if (!json_is_object(item)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "each state item must be a JSON object");
        return -1;
    }
    json_t *key = json_object_get(item, "key");
    if (!json_is_string(key) || !json_string_length(key)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "a state item needs a non-empty string \"key\"");
        return -1;
    }
    it->key = json_string_value(key);
    if (check_key(r, store, it->key) != 0) return -1;
    json_t *etag = json_object_get(item, "etag");
    if (etag && !json_is_null(etag)) {
        if (!json_is_string(etag)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "etag of key %s must be a JSON string", it->key);
            return -1;
        }
        it->etag = json_string_value(etag);
    }
    json_t *md = json_object_get(item, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "metadata of key %s must be an object", it->key);
            return -1;
        }
        const char *mk;
        json_t *mv;
        json_object_foreach(md, mk, mv) {
            if (!json_is_string(mv)) {
                rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "metadata %s of key %s must be a string", mk, it->key);
                return -1;
            }
        }
        const char *ttl = rs_json_str(md, "ttlInSeconds");
        if (ttl && *ttl) {
            if (rs_parse_int64(ttl, &it->ttl_seconds) != 0) {
                rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "ttlInSeconds of key %s is not an integer: %s", it->key,
                                 ttl);
                return -1;
            }
            it->has_ttl = 1;
        }
    }
    json_t *opts = json_object_get(item, "options");
    if (opts && !json_is_null(opts)) {
        if (!json_is_object(opts)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "options of key %s must be an object", it->key);
            return -1;
        }
        json_t *conc = json_object_get(opts, "concurrency"), *cons = json_object_get(opts, "consistency");
        if ((conc && !json_is_string(conc) && !json_is_null(conc)) || (cons && !json_is_string(cons) && !json_is_null(cons))) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "options of key %s must be strings", it->key);
            return -1;
        }
        const char *cs = rs_json_str(opts, "concurrency");
        if (parse_concurrency(cs, &it->concurrency) != 0) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized concurrency model '%s'", cs);
            return -1;
        }
        const char *cy = rs_json_str(opts, "consistency");
        if (!valid_consistency(cy)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized consistency model '%s'", cy);
            return -1;
        }
    }
    it->is_delete = is_delete;
    if (!is_delete) {
        json_t *v = json_object_get(item, "value");
        *value = json_dumps(v ? v : json_null(), VALUE_DUMP_FLAGS);
        if (!*value) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "cannot encode the value of key %s", it->key);
            return -1;
        }
        it->value = *value;
        it->len = strlen(*value);
    }
    return 0;
}

/* ---- routes ---- */

static void handle_get(rs_sidecar_t *sc, rs_http_req_t *r, const char *store, const char *key) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/{key}");
    const char *cy = rs_kvlist_get(&r->query_args, "consistency");
    if (!valid_consistency(cy)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized consistency model '%s'", cy);
        return;
    }
    if (check_key(r, store, key) != 0) return;
    rs_state_item_t it = {.key = key};
    rs_state_request_t req = {.store = store, .items = &it, .n = 1};
    run(rs_ops_state_get(sc, &req, on_get, r), r);
}

static void handle_delete(rs_sidecar_t *sc, rs_http_req_t *r, const char *store, const char *key) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/{key}");
    if (check_key(r, store, key) != 0) return;
    rs_state_item_t it = {.key = key, .is_delete = 1};
    const char *conc = rs_kvlist_get(&r->query_args, "concurrency");
    const char *cy = rs_kvlist_get(&r->query_args, "consistency");
    if (parse_concurrency(conc, &it.concurrency) != 0 || !valid_consistency(cy)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized concurrency or consistency option");
        return;
    }
    const char *etag = rs_http_req_header(r, "If-Match");
    if (etag && *etag) it.etag = etag;
    rs_state_request_t req = {.store = store, .items = &it, .n = 1};
    run(rs_ops_state_delete(sc, &req, on_written, r), r);
}

static void handle_save(rs_sidecar_t *sc, rs_http_req_t *r, const char *store) {
    rs_http_req_set_route(r, "/v1.0/state/{store}");
    json_t *body = rs_api_body_json(r);
    if (!body) return;
    if (!json_is_array(body)) {
        json_decref(body);
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "the body must be a JSON array of state items");
        return;
    }
    struct parsed p;
    parsed_init(&p, json_array_size(body));
    size_t i = 0;
    while (i < p.n && parse_item(r, store, &p.items[i], &p.values[i], json_array_get(body, i), 0) == 0) i++;
    if (i == p.n) {
        rs_state_request_t req = {.store = store, .items = p.items, .n = p.n};
        run(rs_ops_state_save(sc, &req, on_written, r), r);
    }
    parsed_free(&p);
    json_decref(body);
}

static void handle_bulk(rs_sidecar_t *sc, rs_http_req_t *r, const char *store) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/bulk");
    json_t *body = rs_api_body_json(r);
    if (!body) return;
    json_t *keys = json_is_object(body) ? json_object_get(body, "keys") : NULL;
    json_t *par = json_is_object(body) ? json_object_get(body, "parallelism") : NULL;
    if (!json_is_object(body) || (keys && !json_is_array(keys) && !json_is_null(keys)) ||
        (par && !json_is_integer(par) && !json_is_null(par))) {
        json_decref(body);
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "expected {\"keys\":[...],\"parallelism\":N}");
        return;
    }
    struct parsed p;
    parsed_init(&p, json_is_array(keys) ? json_array_size(keys) : 0);
    size_t i = 0;
    for (; i < p.n; i++) {
        json_t *k = json_array_get(keys, i);
        if (!json_is_string(k)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "keys must be strings");
            break;
        }
        p.items[i].key = json_string_value(k);
        if (check_key(r, store, p.items[i].key) != 0) break;
    }
    if (i == p.n) {
        rs_state_request_t req = {.store = store, .items = p.items, .n = p.n,
                                  .parallelism = json_is_integer(par) ? json_integer_value(par) : 0};
        run(rs_ops_state_bulk_get(sc, &req, on_bulk, r), r);
    }
    parsed_free(&p);
    json_decref(body);
}

static void handle_txn(rs_sidecar_t *sc, rs_http_req_t *r, const char *store) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/transaction");
    rs_dapr_error_t err;
    if (rs_ops_state_check_store(sc, store, 1, &err) != 0) {
        rs_api_reply_dapr_error(r, &err);
        return;
    }
    json_t *body = rs_api_body_json(r);
    if (!body) return;
    json_t *ops_json = json_is_object(body) ? json_object_get(body, "operations") : NULL;
    if (!json_is_object(body) || (ops_json && !json_is_array(ops_json) && !json_is_null(ops_json))) {
        json_decref(body);
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "expected {\"operations\":[...]}");
        return;
    }
    struct parsed p;
    parsed_init(&p, json_is_array(ops_json) ? json_array_size(ops_json) : 0);
    size_t i = 0;
    for (; i < p.n; i++) {
        json_t *op = json_array_get(ops_json, i);
        const char *kind = json_is_object(op) ? rs_json_str(op, "operation") : NULL;
        int is_delete = kind && strcmp(kind, "delete") == 0;
        if (!kind || (!is_delete && strcmp(kind, "upsert") != 0)) {
            rs_api_reply_err(r, RS_ERR_NOT_SUPPORTED_STATE_OPERATION, "operation type %s not supported",
                             kind ? kind : "(missing)");
            break;
        }
        if (parse_item(r, store, &p.items[i], &p.values[i], json_object_get(op, "request"), is_delete) != 0) break;
    }
    if (i == p.n) {
        rs_state_request_t req = {.store = store, .items = p.items, .n = p.n};
        run(rs_ops_state_transact(sc, &req, on_written, r), r);
    }
    parsed_free(&p);
    json_decref(body);
}

/* Decodes one percent-encoded path segment; the caller frees it. */
static char *decode(const char *s, size_t n) {
    char *raw = strndup(s, n);
    if (!raw) abort();
    char *d = evhttp_uridecode(raw, 0, NULL);
    free(raw);
    return d;
}

static int handle_state(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    static const char prefix[] = "/v1.0/state/";
    if (strncmp(r->raw_path, prefix, sizeof prefix - 1) != 0) return 0;
    const char *rest = r->raw_path + sizeof prefix - 1;
    const char *slash = strchr(rest, '/');
    const char *m = r->method;
    int is_post = !strcmp(m, "POST") || !strcmp(m, "PUT");
    int is_get = !strcmp(m, "GET"), is_del = !strcmp(m, "DELETE");
    const char *tail = slash ? slash + 1 : NULL;
    int save = !tail && is_post;
    int bulk = tail && !strcmp(tail, "bulk") && is_post;
    int txn = tail && !strcmp(tail, "transaction") && is_post;
    int keyed = tail && *tail && (is_get || is_del);
    if (!save && !bulk && !txn && !keyed) return 0; /* not a state route: leave it to others (invocation) */

    char *store = decode(rest, slash ? (size_t)(slash - rest) : strlen(rest));
    if (!store) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "bad percent-encoding in the path");
        return 1;
    }
    rs_dapr_error_t err;
    if (rs_ops_state_check_store(sc, store, 0, &err) != 0) {
        /* daprd's HTTP API names the app in the lookup error's ErrorInfo (its gRPC API does not) */
        if (sc->cfg.app_id && *sc->cfg.app_id) rs_dapr_error_meta(&err, "appID", sc->cfg.app_id);
        rs_api_reply_dapr_error(r, &err);
    } else if (keyed) {
        char *key = decode(tail, strlen(tail));
        if (!key) rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "bad percent-encoding in the key");
        else if (is_get) handle_get(sc, r, store, key);
        else handle_delete(sc, r, store, key);
        free(key);
    } else if (save) {
        handle_save(sc, r, store);
    } else if (bulk) {
        handle_bulk(sc, r, store);
    } else {
        handle_txn(sc, r, store);
    }
    free(store);
    return 1;
}

void rs_api_state_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_state, sc); }

/* SPDX-License-Identifier: MIT */
/* The state API (spec §2.5): get, save, delete, bulk get, transaction.
 *
 * A request is parsed and validated completely before anything is sent to
 * the store, so bad input always gets its 4xx and never a partial write.
 * Each store operation ("unit": one key, or the whole transaction) then runs
 * under the component's outbound resiliency policy; bulk get runs its keys
 * with at most `parallelism` units in flight. If the client hangs up, every
 * run still in flight is cancelled and late store replies are dropped. */
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_util.h"
#include "core/log.h"
#include "core/str.h"
#include "sidecar/api/api.h"
#include "sidecar/components/state/state.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

#define BULK_DEFAULT_PARALLELISM 100
#define BULK_MAX_PARALLELISM 1000
/* Dapr stores the value re-encoded (floats to 6 decimals); 15 significant digits prints 1.1 as 1.1. */
#define VALUE_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

typedef enum { K_GET, K_SAVE, K_DELETE, K_BULK, K_TXN } req_kind_t;

struct st_req;

/* One store operation and its result. */
struct unit {
    struct st_req *q;
    char *user_key;
    char *skey;
    char *value;
    char *etag;
    rs_state_write_t w;
    /* run */
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_state_call_t *call;
    /* result */
    int finished;
    rs_state_code_t code;
    int runner_failed; /* timeout / breaker: the store never answered */
    char error[RS_ERR_MAX];
    int found;
    char *data;
    size_t dlen;
    char *res_etag;
};

struct st_req {
    rs_sidecar_t *sc;
    rs_http_req_t *r;
    rs_component_t *c;
    const rs_state_ops_t *ops;
    req_kind_t kind;
    struct unit *units;
    size_t n;           /* units parsed */
    size_t nrun;        /* units that run: n, or 1 for a transaction */
    size_t next, running, finished;
    size_t parallelism;
    rs_policy_t *policy;
    rs_state_write_t *txn;
};

/* ---- lifetime ---- */

static void free_req(struct st_req *q) {
    for (size_t i = 0; i < q->n; i++) {
        struct unit *u = &q->units[i];
        free(u->user_key);
        free(u->skey);
        free(u->value);
        free(u->etag);
        free(u->data);
        free(u->res_etag);
    }
    free(q->units);
    free(q->txn);
    rs_policy_release(q->policy);
    free(q);
}

static void on_hangup(rs_http_req_t *r, void *arg) {
    struct st_req *q = arg;
    for (size_t i = 0; i < q->nrun; i++)
        if (q->units[i].run) rs_run_cancel(q->units[i].run);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
    free_req(q);
}

/* ---- replies ---- */

static void reply_get(struct st_req *q) {
    struct unit *u = &q->units[0];
    if (u->code != RS_STATE_OK) {
        rs_api_reply_err(q->r, RS_ERR_STATE_GET, "fail to get %s from state store %s: %s", u->user_key, q->c->name,
                            u->error);
        return;
    }
    if (!u->found) {
        rs_http_reply_empty(q->r, 204);
        return;
    }
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    if (u->res_etag) rs_kvlist_add(&h, "ETag", u->res_etag);
    rs_http_reply(q->r, 200, &h, u->data, u->dlen);
    rs_kvlist_free(&h);
}

static void reply_save(struct st_req *q) {
    /* Like errors.As over Dapr's joined errors: the first etag error decides, else any failure is a 500. */
    struct unit *bad = NULL;
    for (size_t i = 0; i < q->n && !bad; i++)
        if (q->units[i].code == RS_STATE_ETAG_MISMATCH || q->units[i].code == RS_STATE_ETAG_INVALID) bad = &q->units[i];
    for (size_t i = 0; i < q->n && !bad; i++)
        if (q->units[i].code != RS_STATE_OK) bad = &q->units[i];
    if (!bad) {
        rs_http_reply_empty(q->r, 204);
    } else if (bad->code == RS_STATE_ETAG_MISMATCH) {
        rs_api_reply_err(q->r, RS_ERR_STATE_SAVE_ETAG_MISMATCH,
                            "failed saving state in state store %s: possible etag mismatch. error from state store: %s",
                            q->c->name, bad->error);
    } else if (bad->code == RS_STATE_ETAG_INVALID) {
        rs_api_reply_err(q->r, RS_ERR_STATE_SAVE_ETAG_INVALID, "failed saving state in state store %s: invalid etag: %s",
                            q->c->name, bad->error);
    } else {
        rs_api_reply_err(q->r, RS_ERR_STATE_SAVE, "failed saving state in state store %s: %s", q->c->name,
                            bad->error);
    }
}

static void reply_delete(struct st_req *q) {
    struct unit *u = &q->units[0];
    if (u->code == RS_STATE_OK) {
        rs_http_reply_empty(q->r, 204);
    } else if (u->runner_failed) {
        rs_api_reply_err(q->r, RS_ERR_STATE_DELETE, "failed deleting state with key %s: %s", u->user_key,
                            u->error);
    } else {
        /* Dapr's Redis store reports every delete error as an etag mismatch, connection errors included. */
        rs_api_reply_err(q->r, RS_ERR_STATE_DELETE_ETAG_MISMATCH,
                            "failed deleting state with key %s: possible etag mismatch. error from state store: %s",
                            u->user_key, u->error);
    }
}

/* Stored JSON is spliced in as the raw bytes (Dapr returns it as a json.RawMessage), so numbers come back
 * exactly as stored; data that is not JSON is returned as a JSON string. */
static void reply_bulk(struct st_req *q) {
    rs_buf_t b;
    rs_buf_init(&b, (size_t)-1);
    rs_buf_puts(&b, "[");
    for (size_t i = 0; i < q->n; i++) {
        struct unit *u = &q->units[i];
        json_t *o = json_pack("{s:s}", "key", u->user_key);
        json_t *data = NULL;
        if (u->code != RS_STATE_OK) {
            json_object_set_new(o, "error", json_string(u->error));
        } else if (u->found) {
            data = rs_json_parse(u->data, u->dlen, NULL, 0);
            if (!data) json_object_set_new(o, "data", json_stringn(u->data, u->dlen));
            if (u->res_etag) json_object_set_new(o, "etag", json_string(u->res_etag));
        }
        char *head = rs_json_dump(o);
        json_decref(o);
        size_t hl = strlen(head);
        if (i) rs_buf_puts(&b, ",");
        if (data) { /* {"key":..,"data":<raw>,...} */
            rs_buf_append(&b, head, hl - 1);
            rs_buf_puts(&b, ",\"data\":");
            rs_buf_append(&b, u->data, u->dlen);
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
    rs_http_reply(q->r, 200, &h, b.data, b.len);
    rs_kvlist_free(&h);
    rs_buf_free(&b);
}

static void reply_txn(struct st_req *q) {
    struct unit *u = &q->units[0];
    if (u->code == RS_STATE_OK) rs_http_reply_empty(q->r, 204);
    else rs_api_reply_err(q->r, RS_ERR_STATE_TRANSACTION, "error while executing state transaction: %s", u->error);
}

static void reply_and_free(struct st_req *q) {
    rs_http_req_on_close(q->r, NULL, NULL);
    switch (q->kind) {
    case K_GET: reply_get(q); break;
    case K_SAVE: reply_save(q); break;
    case K_DELETE: reply_delete(q); break;
    case K_BULK: reply_bulk(q); break;
    case K_TXN: reply_txn(q); break;
    }
    free_req(q);
}

/* ---- running units under the resiliency policy ---- */

static void unit_cb(void *arg, const rs_state_result_t *res) {
    struct unit *u = arg;
    u->call = NULL;
    u->code = res->code;
    snprintf(u->error, sizeof u->error, "%s", res->error);
    u->found = res->found;
    RS_SAFEFREE(u->data);
    RS_SAFEFREE(u->res_etag);
    u->dlen = 0;
    if (res->found) {
        u->data = rs_xmalloc(res->len + 1);
        memcpy(u->data, res->data ? res->data : "", res->len);
        u->data[res->len] = '\0';
        u->dlen = res->len;
        u->res_etag = rs_strdup(res->etag);
    }
    rs_outcome_t o;
    if (res->code == RS_STATE_OK) rs_outcome_ok(&o);
    else rs_outcome_error(&o, 0, res->code != RS_STATE_FAILED, "%s", res->error); /* etag errors never retry */
    rs_attempt_done(u->attempt, &o);
}

static void unit_start(rs_attempt_t *a, void *arg) {
    struct unit *u = arg;
    struct st_req *q = u->q;
    u->attempt = a;
    u->call = NULL;
    rs_state_call_t *h = NULL;
    switch (q->kind) {
    case K_GET:
    case K_BULK: h = q->ops->get(q->c, u->skey, unit_cb, u); break;
    case K_SAVE:
    case K_DELETE: h = q->ops->write(q->c, &u->w, unit_cb, u); break;
    case K_TXN: h = q->ops->transact(q->c, q->txn, q->n, unit_cb, u); break;
    }
    /* NULL means unit_cb already ran (and may have started the next attempt): leave u->call alone. */
    if (h) u->call = h;
}

static void unit_abort(rs_attempt_t *a, void *arg) {
    struct unit *u = arg;
    if (u->call) u->q->ops->cancel(u->call);
    u->call = NULL;
}

static void launch(struct st_req *q);

static void unit_done(void *arg, const rs_outcome_t *final) {
    struct unit *u = arg;
    struct st_req *q = u->q;
    u->run = NULL;
    u->finished = 1;
    if (final->kind != RS_OUTCOME_OK && final->kind != RS_OUTCOME_ERROR) {
        u->code = RS_STATE_FAILED;
        u->runner_failed = 1;
        snprintf(u->error, sizeof u->error, "%s", final->error);
    } else if (final->kind == RS_OUTCOME_ERROR && u->code == RS_STATE_OK) {
        u->code = RS_STATE_FAILED; /* defensive: an error outcome always fails the unit */
        snprintf(u->error, sizeof u->error, "%s", final->error);
    }
    q->running--;
    q->finished++;
    if (q->finished == q->nrun) {
        reply_and_free(q);
        return;
    }
    launch(q);
}

static void launch(struct st_req *q) {
    while (q->next < q->nrun && q->running < q->parallelism) {
        struct unit *u = &q->units[q->next++];
        q->running++;
        u->run = rs_run_start(q->sc->base, q->policy, unit_start, unit_abort, unit_done, u);
        if (!u->run) {
            /* out of memory in the runner: fail this unit without a callback */
            rs_outcome_t o;
            rs_outcome_error(&o, 0, 1, "cannot start operation");
            u->code = RS_STATE_FAILED;
            snprintf(u->error, sizeof u->error, "cannot start operation");
            unit_done(u, &o);
            return; /* unit_done relaunches (or replied and freed q) */
        }
    }
}

static void start_units(struct st_req *q) {
    q->policy = rs_resiliency_component_policy(q->sc->resiliency, q->c, RS_DIR_OUTBOUND);
    if (q->nrun == 0) {
        reply_and_free(q);
        return;
    }
    rs_http_req_on_close(q->r, on_hangup, q);
    launch(q);
}

/* ---- parsing ---- */

static struct st_req *new_req(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c, req_kind_t kind, size_t n) {
    struct st_req *q = rs_xcalloc(1, sizeof *q);
    q->sc = sc;
    q->r = r;
    q->c = c;
    q->ops = c->type->ops;
    q->kind = kind;
    q->n = n;
    q->nrun = n;
    q->parallelism = n ? n : 1;
    q->units = rs_xcalloc(n ? n : 1, sizeof *q->units);
    for (size_t i = 0; i < n; i++) q->units[i].q = q;
    return q;
}

/* Fills u->skey from the user key. Replies 400 and returns -1 on a bad key. */
static int set_key(struct st_req *q, struct unit *u, const char *key) {
    char why[RS_ERR_MAX];
    u->user_key = rs_strdup(key);
    u->skey = rs_state_storage_key(q->c, q->sc->cfg.app_id, key, why, sizeof why);
    if (!u->skey) {
        rs_api_reply_err(q->r, RS_ERR_MALFORMED_REQUEST, "%s", why);
        return -1;
    }
    u->w.key = u->skey;
    return 0;
}

static int parse_concurrency(const char *s, rs_state_concurrency_t *out) {
    if (!s || !*s) *out = RS_CONCURRENCY_UNSET;
    else if (strcmp(s, "first-write") == 0) *out = RS_CONCURRENCY_FIRST_WRITE;
    else if (strcmp(s, "last-write") == 0) *out = RS_CONCURRENCY_LAST_WRITE;
    else return -1;
    return 0;
}

static int valid_consistency(const char *s) { return !s || !*s || !strcmp(s, "eventual") || !strcmp(s, "strong"); }

/* Parses one save item (or a transaction's request) into u. On bad input replies 400 and returns -1. */
static int parse_item(struct st_req *q, struct unit *u, json_t *item, int is_delete) {
    rs_http_req_t *r = q->r;
    if (!json_is_object(item)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "each state item must be a JSON object");
        return -1;
    }
    json_t *key = json_object_get(item, "key");
    if (!json_is_string(key) || !json_string_length(key)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "a state item needs a non-empty string \"key\"");
        return -1;
    }
    if (set_key(q, u, json_string_value(key)) != 0) return -1;
    json_t *etag = json_object_get(item, "etag");
    if (etag && !json_is_null(etag)) {
        if (!json_is_string(etag)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "etag of key %s must be a JSON string", u->user_key);
            return -1;
        }
        u->etag = rs_strdup(json_string_value(etag));
        u->w.etag = u->etag;
    }
    json_t *md = json_object_get(item, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "metadata of key %s must be an object", u->user_key);
            return -1;
        }
        const char *mk;
        json_t *mv;
        json_object_foreach(md, mk, mv) {
            if (!json_is_string(mv)) {
                rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "metadata %s of key %s must be a string", mk,
                                    u->user_key);
                return -1;
            }
        }
        const char *ttl = rs_json_str(md, "ttlInSeconds");
        if (ttl && *ttl) {
            if (rs_parse_int64(ttl, &u->w.ttl_seconds) != 0) {
                rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "ttlInSeconds of key %s is not an integer: %s",
                                    u->user_key, ttl);
                return -1;
            }
            u->w.has_ttl = 1;
        }
    }
    json_t *opts = json_object_get(item, "options");
    if (opts && !json_is_null(opts)) {
        if (!json_is_object(opts)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "options of key %s must be an object", u->user_key);
            return -1;
        }
        json_t *conc = json_object_get(opts, "concurrency"), *cons = json_object_get(opts, "consistency");
        if ((conc && !json_is_string(conc) && !json_is_null(conc)) || (cons && !json_is_string(cons) && !json_is_null(cons))) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "options of key %s must be strings", u->user_key);
            return -1;
        }
        const char *cs = rs_json_str(opts, "concurrency");
        if (parse_concurrency(cs, &u->w.concurrency) != 0) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized concurrency model '%s'", cs);
            return -1;
        }
        const char *cy = rs_json_str(opts, "consistency");
        if (!valid_consistency(cy)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized consistency model '%s'", cy);
            return -1;
        }
    }
    u->w.is_delete = is_delete;
    if (!is_delete) {
        json_t *value = json_object_get(item, "value");
        u->value = json_dumps(value ? value : json_null(), VALUE_DUMP_FLAGS);
        if (!u->value) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "cannot encode the value of key %s", u->user_key);
            return -1;
        }
        u->w.value = u->value;
        u->w.len = strlen(u->value);
    }
    return 0;
}

/* ---- routes ---- */

static void handle_get(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c, const char *key) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/{key}");
    const char *cy = rs_kvlist_get(&r->query_args, "consistency");
    if (!valid_consistency(cy)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized consistency model '%s'", cy);
        return;
    }
    struct st_req *q = new_req(sc, r, c, K_GET, 1);
    if (set_key(q, &q->units[0], key) != 0) {
        free_req(q);
        return;
    }
    start_units(q);
}

static void handle_delete(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c, const char *key) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/{key}");
    struct st_req *q = new_req(sc, r, c, K_DELETE, 1);
    struct unit *u = &q->units[0];
    if (set_key(q, u, key) != 0) {
        free_req(q);
        return;
    }
    const char *conc = rs_kvlist_get(&r->query_args, "concurrency");
    const char *cy = rs_kvlist_get(&r->query_args, "consistency");
    if (parse_concurrency(conc, &u->w.concurrency) != 0 || !valid_consistency(cy)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "unrecognized concurrency or consistency option");
        free_req(q);
        return;
    }
    const char *etag = rs_http_req_header(r, "If-Match");
    if (etag && *etag) {
        u->etag = rs_strdup(etag);
        u->w.etag = u->etag;
    }
    u->w.is_delete = 1;
    start_units(q);
}

static void handle_save(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c) {
    rs_http_req_set_route(r, "/v1.0/state/{store}");
    json_t *body = rs_api_body_json(r);
    if (!body) return;
    if (!json_is_array(body)) {
        json_decref(body);
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "the body must be a JSON array of state items");
        return;
    }
    struct st_req *q = new_req(sc, r, c, K_SAVE, json_array_size(body));
    for (size_t i = 0; i < q->n; i++) {
        if (parse_item(q, &q->units[i], json_array_get(body, i), 0) != 0) {
            json_decref(body);
            free_req(q);
            return;
        }
    }
    json_decref(body);
    start_units(q);
}

static void handle_bulk(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c) {
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
    size_t n = json_is_array(keys) ? json_array_size(keys) : 0;
    struct st_req *q = new_req(sc, r, c, K_BULK, n);
    long long p = json_is_integer(par) ? json_integer_value(par) : 0;
    q->parallelism = p > 0 ? (size_t)(p > BULK_MAX_PARALLELISM ? BULK_MAX_PARALLELISM : p) : BULK_DEFAULT_PARALLELISM;
    for (size_t i = 0; i < n; i++) {
        json_t *k = json_array_get(keys, i);
        if (!json_is_string(k)) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "keys must be strings");
            json_decref(body);
            free_req(q);
            return;
        }
        if (set_key(q, &q->units[i], json_string_value(k)) != 0) {
            json_decref(body);
            free_req(q);
            return;
        }
    }
    json_decref(body);
    start_units(q);
}

static void handle_txn(rs_sidecar_t *sc, rs_http_req_t *r, rs_component_t *c) {
    rs_http_req_set_route(r, "/v1.0/state/{store}/transaction");
    const rs_state_ops_t *ops = c->type->ops;
    if (!ops->transact) {
        rs_api_reply_err(r, RS_ERR_STATE_STORE_NOT_SUPPORTED, "state store %s doesn't support transaction",
                            c->name);
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
    size_t n = json_is_array(ops_json) ? json_array_size(ops_json) : 0;
    struct st_req *q = new_req(sc, r, c, K_TXN, n);
    for (size_t i = 0; i < n; i++) {
        json_t *op = json_array_get(ops_json, i);
        const char *kind = json_is_object(op) ? rs_json_str(op, "operation") : NULL;
        int is_delete = kind && strcmp(kind, "delete") == 0;
        if (!kind || (!is_delete && strcmp(kind, "upsert") != 0)) {
            rs_api_reply_err(r, RS_ERR_NOT_SUPPORTED_STATE_OPERATION, "operation type %s not supported",
                                kind ? kind : "(missing)");
            json_decref(body);
            free_req(q);
            return;
        }
        if (parse_item(q, &q->units[i], json_object_get(op, "request"), is_delete) != 0) {
            json_decref(body);
            free_req(q);
            return;
        }
    }
    json_decref(body);
    q->txn = rs_xcalloc(n ? n : 1, sizeof *q->txn);
    for (size_t i = 0; i < n; i++) q->txn[i] = q->units[i].w;
    q->nrun = n ? 1 : 0; /* one unit runs the whole transaction; its result lands in units[0] */
    q->parallelism = 1;
    start_units(q);
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
    rs_component_t *c = NULL;
    if (rs_sidecar_count(sc, RS_KIND_STATE) == 0) {
        rs_api_reply_err(r, RS_ERR_STATE_STORE_NOT_CONFIGURED, "state store is not configured");
    } else if (!(c = rs_sidecar_component(sc, RS_KIND_STATE, store))) {
        rs_api_reply_err(r, RS_ERR_STATE_STORE_NOT_FOUND, "state store %s is not found", store);
    } else if (keyed) {
        char *key = decode(tail, strlen(tail));
        if (!key) rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "bad percent-encoding in the key");
        else if (is_get) handle_get(sc, r, c, key);
        else handle_delete(sc, r, c, key);
        free(key);
    } else if (save) {
        handle_save(sc, r, c);
    } else if (bulk) {
        handle_bulk(sc, r, c);
    } else {
        handle_txn(sc, r, c);
    }
    free(store);
    return 1;
}

void rs_api_state_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_state, sc); }

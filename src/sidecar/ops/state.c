/* SPDX-License-Identifier: MIT */
/* State operations: a request becomes units (one per key, or one for the
 * whole transaction), each run under the store's outbound policy; bulk get
 * keeps at most `parallelism` in flight. When the last unit ends the result
 * or the table error goes to the callback. Cancelling cancels every run still
 * in flight; late store replies are then dropped. */
#include "sidecar/ops/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/runtime/sidecar.h"

#define BULK_DEFAULT_PARALLELISM 100
#define BULK_MAX_PARALLELISM 1000

typedef enum { K_GET, K_SAVE, K_DELETE, K_BULK, K_TXN } op_kind_t;

struct st_op;

/* One store operation and its result. */
struct unit {
    struct st_op *q;
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
    rs_state_code_t code;
    int runner_failed; /* timeout / breaker: the store never answered */
    char error[RS_ERR_MAX];
    int found;
    char *data;
    size_t dlen;
    char *res_etag;
};

struct st_op {
    rs_op_t op;
    rs_sidecar_t *sc;
    rs_component_t *c;
    const rs_state_ops_t *ops;
    op_kind_t kind;
    struct unit *units;
    size_t n;           /* units made */
    size_t nrun;        /* units that run: n, or 1 for a transaction */
    size_t next, running, finished;
    size_t parallelism;
    size_t held;         /* bulk get: bytes of the values kept for the reply so far */
    int over;            /* bulk get: they passed RS_STATE_BULK_MAX_BYTES; no more units start */
    rs_policy_t *policy; /* looked up once: every unit runs under it */
    rs_state_write_t *txn;
    int64_t start_us;
    rs_state_done_fn done;
    void *arg;
    char trace_parent[56]; /* the inbound span at the start ("" = not traced): units may start later */
};

/* ---- lifetime ---- */

static void free_op(struct st_op *q) {
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

static void cancel_units(rs_op_t *op) {
    struct st_op *q = (struct st_op *)op;
    for (size_t i = 0; i < q->nrun; i++)
        if (q->units[i].run) rs_run_cancel(q->units[i].run);
}

static void free_any(rs_op_t *op) { free_op((struct st_op *)op); }

/* ---- results ---- */

static void report_values(struct st_op *q) {
    rs_state_value_t one, *vals = q->n > 1 ? rs_xcalloc(q->n, sizeof *vals) : &one;
    for (size_t i = 0; i < q->n; i++) {
        struct unit *u = &q->units[i];
        vals[i] = (rs_state_value_t){.key = u->user_key, .error = u->code != RS_STATE_OK ? u->error : NULL,
                                     .found = u->found, .data = u->data, .len = u->dlen, .etag = u->res_etag};
    }
    rs_state_reply_t reply = {.values = vals, .n = q->n};
    q->done(q->arg, &reply, NULL);
    if (vals != &one) free(vals);
}

static void report_get(struct st_op *q) {
    struct unit *u = &q->units[0];
    if (u->code != RS_STATE_OK)
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_GET, "fail to get %s from state store %s: %s", u->user_key,
                   q->c->name, u->error);
    else report_values(q);
}

static void report_ok(struct st_op *q) {
    rs_state_reply_t reply = {0};
    q->done(q->arg, &reply, NULL);
}

static void report_save(struct st_op *q) {
    /* Like errors.As over Dapr's joined errors: the first etag error decides, else any failure is a 500. */
    struct unit *bad = NULL;
    for (size_t i = 0; i < q->n && !bad; i++)
        if (q->units[i].code == RS_STATE_ETAG_MISMATCH || q->units[i].code == RS_STATE_ETAG_INVALID) bad = &q->units[i];
    for (size_t i = 0; i < q->n && !bad; i++)
        if (q->units[i].code != RS_STATE_OK) bad = &q->units[i];
    if (!bad)
        report_ok(q);
    else if (bad->code == RS_STATE_ETAG_MISMATCH)
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_SAVE_ETAG_MISMATCH,
                   "failed saving state in state store %s: possible etag mismatch. error from state store: %s",
                   q->c->name, bad->error);
    else if (bad->code == RS_STATE_ETAG_INVALID)
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_SAVE_ETAG_INVALID,
                   "failed saving state in state store %s: invalid etag: %s", q->c->name, bad->error);
    else
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_SAVE, "failed saving state in state store %s: %s", q->c->name,
                   bad->error);
}

static void report_delete(struct st_op *q) {
    struct unit *u = &q->units[0];
    if (u->code == RS_STATE_OK)
        report_ok(q);
    else if (u->runner_failed)
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_DELETE, "failed deleting state with key %s: %s", u->user_key,
                   u->error);
    else /* Dapr's Redis store reports every delete error as an etag mismatch, connection errors included. */
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_DELETE_ETAG_MISMATCH,
                   "failed deleting state with key %s: possible etag mismatch. error from state store: %s",
                   u->user_key, u->error);
}

static void report_txn(struct st_op *q) {
    if (q->nrun == 0 || q->units[0].code == RS_STATE_OK) report_ok(q);
    else
        RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_TRANSACTION, "error while executing state transaction: %s",
                   q->units[0].error);
}

/* daprd's dapr_component_state_count / _latencies: one per API call, success when every unit succeeded
 * (a missing key is a success). Operation names are daprd's (pkg/diagnostics). */
static void count_call(struct st_op *q) {
    static const char *const names[] = {[K_GET] = "get", [K_SAVE] = "set", [K_DELETE] = "delete",
                                        [K_BULK] = "bulk_get", [K_TXN] = "transaction"};
    int ok = 1;
    for (size_t i = 0; i < q->nrun && ok; i++) ok = q->units[i].code == RS_STATE_OK;
    const char *labels[] = {"component", q->c->name, "operation", names[q->kind], "success", ok ? "true" : "false",
                            NULL};
    rs_metrics_count_observe(q->sc->metrics, "dapr_component_state_count",
                             "The number of operations performed on the state component.",
                             "dapr_component_state_latencies", "The latency of the response from the state component.",
                             labels, (double)(rs_now_us() - q->start_us) / 1000.0);
}

static void report_and_free(struct st_op *q) {
    count_call(q); /* before the report, whose reply wakes the caller */
    switch (q->kind) {
    case K_GET: report_get(q); break;
    case K_SAVE: report_save(q); break;
    case K_DELETE: report_delete(q); break;
    case K_BULK: report_values(q); break;
    case K_TXN: report_txn(q); break;
    }
    free_op(q);
}

/* ---- running units under the resiliency policy ---- */

static void unit_cb(void *arg, const rs_state_result_t *res) {
    struct unit *u = arg;
    u->call = NULL;
    u->code = res->code;
    if (res->error[0]) snprintf(u->error, sizeof u->error, "%s", res->error);
    else u->error[0] = '\0';
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
    struct st_op *q = u->q;
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
    (void)a;
    struct unit *u = arg;
    if (u->call) u->q->ops->cancel(u->call);
    u->call = NULL;
}

static void launch(struct st_op *q);

static void unit_done(void *arg, const rs_outcome_t *final) {
    struct unit *u = arg;
    struct st_op *q = u->q;
    u->run = NULL;
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
    if (q->kind == K_BULK && !q->over) {
        q->held += u->dlen + strlen(u->user_key) + (u->res_etag ? strlen(u->res_etag) : 0);
        q->over = q->held > RS_STATE_BULK_MAX_BYTES;
    }
    if (q->over) { /* drop what the reply will not carry, let the units in flight end, then fail */
        RS_SAFEFREE(u->data);
        u->dlen = 0;
        if (q->running == 0) {
            count_call(q);
            RS_OP_FAIL(q->done, q->arg, RS_ERR_STATE_GET,
                       "bulk get from state store %s: the values exceed the reply bound of %d MiB; ask for fewer "
                       "keys", q->c->name, RS_STATE_BULK_MAX_BYTES >> 20);
            free_op(q);
        }
        return;
    }
    if (q->finished == q->nrun) {
        report_and_free(q);
        return;
    }
    launch(q);
}

static void launch(struct st_op *q) {
    while (q->next < q->nrun && q->running < q->parallelism) {
        struct unit *u = &q->units[q->next++];
        q->running++;
        rs_op_trace_t tb;
        static const char *const what[] = {"get", "save", "delete", "bulkget", "transaction"};
        const rs_run_trace_t *tr = q->trace_parent[0] ? rs_op_trace(&tb, q->sc, q->c, what[q->kind], q->trace_parent)
                                                      : NULL;
        u->run = rs_run_start_traced(q->sc->base, q->policy, tr, unit_start, unit_abort, unit_done, u);
        if (tr) rs_op_trace_done(&tb);
        if (!u->run) {
            /* the runner could not start: fail this unit without a callback */
            rs_outcome_t o;
            rs_outcome_error(&o, 0, 1, "cannot start operation");
            u->code = RS_STATE_FAILED;
            snprintf(u->error, sizeof u->error, "cannot start operation");
            unit_done(u, &o);
            return; /* unit_done relaunches (or reported and freed q) */
        }
    }
}

/* ---- requests ---- */

int rs_ops_state_check_store(rs_sidecar_t *sc, const char *store, int transactional, rs_dapr_error_t *err) {
    rs_component_t *c = NULL;
    if (rs_sidecar_count(sc, RS_KIND_STATE) == 0)
        rs_dapr_error_set(err, RS_ERR_STATE_STORE_NOT_CONFIGURED, "state store is not configured");
    else if (!(c = rs_sidecar_component(sc, RS_KIND_STATE, store)))
        rs_dapr_error_set(err, RS_ERR_STATE_STORE_NOT_FOUND, "state store %s is not found", store);
    else if (transactional && !((const rs_state_ops_t *)c->type->ops)->transact)
        rs_dapr_error_set(err, RS_ERR_STATE_STORE_NOT_SUPPORTED, "state store %s doesn't support transaction", c->name);
    else
        return 0;
    rs_dapr_error_resource(err, store);
    return -1;
}

int rs_ops_state_check_key(const char *store, const char *key, rs_dapr_error_t *err) {
    if (!strstr(key, "||")) return 0;
    /* the message rs_state_storage_key gives */
    rs_dapr_error_set(err, RS_ERR_STATE_ILLEGAL_KEY, "input key/keyPrefix '%s' can't contain '||'", key);
    rs_dapr_error_resource(err, store);
    rs_dapr_error_field(err, key);
    return -1;
}

/* Checks the request and makes its units; NULL once the error was reported. */
static struct st_op *new_op(rs_sidecar_t *sc, const rs_state_request_t *req, op_kind_t kind, rs_state_done_fn done,
                            void *arg) {
    rs_dapr_error_t err;
    if (rs_ops_state_check_store(sc, req->store, kind == K_TXN, &err) != 0) {
        done(arg, NULL, &err);
        return NULL;
    }
    if (req->n > RS_STATE_MAX_ITEMS) { /* every item costs a unit of a few hundred bytes: bound them */
        rs_dapr_error_set(&err, RS_ERR_MALFORMED_REQUEST, "too many keys in one request: %zu (at most %d)", req->n,
                          RS_STATE_MAX_ITEMS);
        done(arg, NULL, &err);
        return NULL;
    }
    for (size_t i = 0; i < req->n; i++) {
        if (rs_ops_state_check_key(req->store, req->items[i].key, &err) != 0) {
            done(arg, NULL, &err);
            return NULL;
        }
    }
    struct st_op *q = rs_xcalloc(1, sizeof *q);
    q->op.cancel = cancel_units;
    q->op.free = free_any;
    q->sc = sc;
    q->c = rs_sidecar_component(sc, RS_KIND_STATE, req->store);
    q->ops = q->c->type->ops;
    q->kind = kind;
    q->start_us = rs_now_us();
    q->done = done;
    q->arg = arg;
    q->n = q->nrun = req->n;
    q->parallelism = req->n ? req->n : 1;
    q->units = rs_xcalloc(req->n ? req->n : 1, sizeof *q->units);
    char why[RS_ERR_MAX];
    for (size_t i = 0; i < req->n; i++) {
        const rs_state_item_t *it = &req->items[i];
        struct unit *u = &q->units[i];
        u->q = q;
        u->user_key = rs_strdup(it->key);
        u->skey = rs_state_storage_key(q->c, sc->cfg.app_id, it->key, why, sizeof why); /* the key was checked */
        u->etag = it->etag ? rs_strdup(it->etag) : NULL;
        if (it->value) {
            u->value = rs_xmalloc(it->len + 1);
            memcpy(u->value, it->value, it->len);
            u->value[it->len] = '\0';
        }
        u->w = (rs_state_write_t){.key = u->skey, .value = u->value, .len = it->len, .etag = u->etag,
                                  .is_delete = kind == K_DELETE || it->is_delete, .concurrency = it->concurrency,
                                  .has_ttl = it->has_ttl, .ttl_seconds = it->ttl_seconds};
    }
    return q;
}

/* Runs the units; NULL if q is NULL (new_op reported an error) or everything already finished. */
static rs_op_t *start(struct st_op *q) {
    if (!q) return NULL;
    if (q->nrun == 0) {
        report_and_free(q);
        return NULL;
    }
    rs_op_t *op = &q->op;
    q->policy = rs_resiliency_component_policy(q->sc->resiliency, q->c, RS_DIR_OUTBOUND);
    rs_op_trace_parent(q->sc, q->trace_parent);
    launch(q); /* runs never end inside rs_run_start, so q is alive here */
    return op;
}

rs_op_t *rs_ops_state_get(rs_sidecar_t *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg) {
    return start(new_op(sc, req, K_GET, done, arg));
}

rs_op_t *rs_ops_state_bulk_get(rs_sidecar_t *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg) {
    struct st_op *q = new_op(sc, req, K_BULK, done, arg);
    if (!q) return NULL;
    long long p = req->parallelism;
    q->parallelism = p > 0 ? (size_t)(p > BULK_MAX_PARALLELISM ? BULK_MAX_PARALLELISM : p) : BULK_DEFAULT_PARALLELISM;
    return start(q);
}

rs_op_t *rs_ops_state_save(rs_sidecar_t *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg) {
    return start(new_op(sc, req, K_SAVE, done, arg));
}

rs_op_t *rs_ops_state_delete(rs_sidecar_t *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg) {
    return start(new_op(sc, req, K_DELETE, done, arg));
}

rs_op_t *rs_ops_state_transact(rs_sidecar_t *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg) {
    struct st_op *q = new_op(sc, req, K_TXN, done, arg);
    if (!q) return NULL;
    q->txn = rs_xcalloc(q->n ? q->n : 1, sizeof *q->txn);
    for (size_t i = 0; i < q->n; i++) q->txn[i] = q->units[i].w;
    q->nrun = q->n ? 1 : 0; /* one unit runs the whole transaction; its result lands in units[0] */
    q->parallelism = 1;
    return start(q);
}

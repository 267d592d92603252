/* SPDX-License-Identifier: MIT */
/* Try-lock and unlock: validation in Dapr's order, then one store call per
 * attempt under the store's outbound policy. */
#include "sidecar/ops/lock.h"

#include <stdlib.h>

#include "core/str.h"
#include "sidecar/components/lock/lock.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/runtime/sidecar.h"

struct lock_op {
    rs_op_t op;
    rs_component_t *c;
    const rs_lock_ops_t *ops;
    int is_unlock;
    char *key;
    char *owner;
    long long expiry;
    rs_attempt_t *attempt;
    rs_lock_call_t *call;
    rs_lock_result_t res;
    rs_lock_done_fn done;
    void *arg;
};

static void free_op(rs_op_t *op) {
    struct lock_op *q = (struct lock_op *)op;
    free(q->key);
    free(q->owner);
    free(q);
}

static void lock_cb(void *arg, const rs_lock_result_t *res) {
    struct lock_op *q = arg;
    q->call = NULL;
    q->res = *res;
    rs_outcome_t o;
    if (res->failed) rs_outcome_error(&o, 0, 0, "%s", res->error);
    else rs_outcome_ok(&o);
    rs_attempt_done(q->attempt, &o);
}

static void lock_start(rs_attempt_t *a, void *arg) {
    struct lock_op *q = arg;
    q->attempt = a;
    q->call = NULL;
    rs_lock_call_t *h = q->is_unlock ? q->ops->unlock(q->c, q->key, q->owner, lock_cb, q)
                                     : q->ops->try_lock(q->c, q->key, q->owner, q->expiry, lock_cb, q);
    if (h) q->call = h; /* NULL: lock_cb already ran */
}

static void lock_abort(rs_attempt_t *a, void *arg) {
    (void)a;
    struct lock_op *q = arg;
    if (q->call) q->ops->cancel(q->call);
    q->call = NULL;
}

static void fail(struct lock_op *q, const char *why) {
    if (q->is_unlock) RS_OP_FAIL(q->done, q->arg, RS_ERR_UNLOCK, "failed to release lock: %s", why);
    else RS_OP_FAIL(q->done, q->arg, RS_ERR_TRY_LOCK, "failed to try acquiring lock: %s", why);
}

static void lock_done(void *arg, const rs_outcome_t *final) {
    struct lock_op *q = arg;
    q->op.run = NULL;
    if (final->kind != RS_OUTCOME_OK) {
        /* the store's own reason when it answered; the runner's (timeout, breaker) otherwise */
        fail(q, final->kind == RS_OUTCOME_ERROR && q->res.failed ? q->res.error : final->error);
    } else {
        rs_lock_reply_t reply = {.acquired = q->res.acquired, .status = (int)q->res.status};
        q->done(q->arg, &reply, NULL);
    }
    free_op(&q->op);
}

static rs_op_t *start(rs_sidecar_t *sc, const rs_lock_request_t *req, int is_unlock, rs_lock_done_fn done,
                      void *arg) {
    const char *store = req->store, *resource = req->resource_id ? req->resource_id : "";
    const char *owner = req->lock_owner ? req->lock_owner : "";
    rs_component_t *c = NULL;
    if (rs_sidecar_count(sc, RS_KIND_LOCK) == 0) {
        RS_OP_FAIL(done, arg, RS_ERR_LOCK_STORE_NOT_CONFIGURED, "lock store is not configured");
    } else if (!is_unlock && req->expiry_seconds <= 0) { /* Dapr checks the expiry before anything else */
        RS_OP_FAIL(done, arg, RS_ERR_MALFORMED_REQUEST, "ExpiryInSeconds is not positive in lock store %s", store);
    } else if (!*resource) {
        RS_OP_FAIL(done, arg, RS_ERR_MALFORMED_REQUEST, "ResourceId is empty in lock store %s", store);
    } else if (!*owner) {
        RS_OP_FAIL(done, arg, RS_ERR_MALFORMED_REQUEST, "LockOwner is empty in lock store %s", store);
    } else if (!(c = rs_sidecar_component(sc, RS_KIND_LOCK, store))) {
        /* daprd's words (ErrLockStoreNotFound) */
        RS_OP_FAIL(done, arg, RS_ERR_LOCK_STORE_NOT_FOUND, "lock store %s not found", store);
    } else {
        char why[RS_ERR_MAX];
        char *key = rs_lock_storage_key(c, sc->cfg.app_id, resource, why, sizeof why);
        if (!key) {
            RS_OP_FAIL(done, arg, RS_ERR_MALFORMED_REQUEST, "%s", why);
            return NULL;
        }
        struct lock_op *q = rs_xcalloc(1, sizeof *q);
        q->op.free = free_op;
        q->c = c;
        q->ops = c->type->ops;
        q->is_unlock = is_unlock;
        q->key = key;
        q->owner = rs_strdup(owner);
        q->expiry = req->expiry_seconds;
        q->done = done;
        q->arg = arg;
        if (rs_op_run_start(&q->op, sc, c, lock_start, lock_abort, lock_done) == 0) return &q->op;
        RS_OP_FAIL(done, arg, is_unlock ? RS_ERR_UNLOCK : RS_ERR_TRY_LOCK, "cannot start operation");
        free_op(&q->op);
    }
    return NULL;
}

rs_op_t *rs_ops_lock_try(rs_sidecar_t *sc, const rs_lock_request_t *req, rs_lock_done_fn done, void *arg) {
    return start(sc, req, 0, done, arg);
}

rs_op_t *rs_ops_lock_unlock(rs_sidecar_t *sc, const rs_lock_request_t *req, rs_lock_done_fn done, void *arg) {
    return start(sc, req, 1, done, arg);
}

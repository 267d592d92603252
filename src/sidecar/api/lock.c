/* SPDX-License-Identifier: MIT */
/* The distributed lock API, v1.0-alpha1 (spec §2.6):
 *   POST /v1.0-alpha1/lock/{store}    {"resourceId","lockOwner","expiryInSeconds"} -> {"success":bool}
 *   POST /v1.0-alpha1/unlock/{store}  {"resourceId","lockOwner"}                   -> {"status":0..3}
 * The store call runs under the lock component's outbound resiliency policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/api/api.h"
#include "sidecar/components/lock/lock.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

struct lk_req {
    rs_sidecar_t *sc;
    rs_http_req_t *r;
    rs_component_t *c;
    const rs_lock_ops_t *ops;
    int is_unlock;
    char *key;
    char *owner;
    long long expiry;
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_lock_call_t *call;
    rs_lock_result_t res;
};

static void free_req(struct lk_req *q) {
    free(q->key);
    free(q->owner);
    free(q);
}

static void on_hangup(rs_http_req_t *r, void *arg) {
    struct lk_req *q = arg;
    if (q->run) rs_run_cancel(q->run);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
    free_req(q);
}

static void lock_cb(void *arg, const rs_lock_result_t *res) {
    struct lk_req *q = arg;
    q->call = NULL;
    q->res = *res;
    rs_outcome_t o;
    if (res->failed) rs_outcome_error(&o, 0, 0, "%s", res->error);
    else rs_outcome_ok(&o);
    rs_attempt_done(q->attempt, &o);
}

static void lock_start(rs_attempt_t *a, void *arg) {
    struct lk_req *q = arg;
    q->attempt = a;
    q->call = NULL;
    rs_lock_call_t *h = q->is_unlock ? q->ops->unlock(q->c, q->key, q->owner, lock_cb, q)
                                     : q->ops->try_lock(q->c, q->key, q->owner, q->expiry, lock_cb, q);
    if (h) q->call = h; /* NULL: lock_cb already ran */
}

static void lock_abort(rs_attempt_t *a, void *arg) {
    struct lk_req *q = arg;
    if (q->call) q->ops->cancel(q->call);
    q->call = NULL;
}

static void lock_done(void *arg, const rs_outcome_t *final) {
    struct lk_req *q = arg;
    q->run = NULL;
    rs_http_req_on_close(q->r, NULL, NULL);
    if (final->kind != RS_OUTCOME_OK) {
        const char *why = q->res.failed ? q->res.error : final->error;
        if (final->kind != RS_OUTCOME_ERROR) why = final->error;
        if (q->is_unlock)
            rs_api_reply_err(q->r, RS_ERR_UNLOCK, "failed to release lock: %s", why);
        else
            rs_api_reply_err(q->r, RS_ERR_TRY_LOCK, "failed to try acquiring lock: %s", why);
    } else if (q->is_unlock) {
        rs_http_reply_json(q->r, 200, json_pack("{s:i}", "status", (int)q->res.status));
    } else {
        rs_http_reply_json(q->r, 200, json_pack("{s:b}", "success", q->res.acquired));
    }
    free_req(q);
}

/* expiryInSeconds as protojson reads an int32: a JSON integer or a decimal string. Returns 0 or -1. */
static int parse_expiry(json_t *v, long long *out) {
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) *out = json_integer_value(v);
    else if (json_is_string(v)) {
        if (rs_parse_int64(json_string_value(v), out) != 0) return -1;
    } else return -1;
    return *out > 2147483647LL || *out < -2147483648LL ? -1 : 0;
}

static void handle(rs_sidecar_t *sc, rs_http_req_t *r, const char *store, int is_unlock) {
    rs_http_req_set_route(r, is_unlock ? "/v1.0-alpha1/unlock/{store}" : "/v1.0-alpha1/lock/{store}");
    json_t *body = rs_api_body_json(r);
    if (!body) return;
    if (!json_is_object(body)) {
        json_decref(body);
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "the body must be a JSON object");
        return;
    }
    json_t *rid = json_object_get(body, "resourceId"), *own = json_object_get(body, "lockOwner");
    long long expiry = 0;
    int bad_types = (rid && !json_is_string(rid) && !json_is_null(rid)) || (own && !json_is_string(own) && !json_is_null(own)) ||
                    (!is_unlock && parse_expiry(json_object_get(body, "expiryInSeconds"), &expiry) != 0);
    const char *resource = json_is_string(rid) ? json_string_value(rid) : "";
    const char *owner = json_is_string(own) ? json_string_value(own) : "";
    rs_component_t *c = NULL;
    if (bad_types) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "failed deserializing HTTP body: wrong field types");
    } else if (rs_sidecar_count(sc, RS_KIND_LOCK) == 0) {
        rs_api_reply_err(r, RS_ERR_LOCK_STORE_NOT_CONFIGURED, "lock store is not configured");
    } else if (!is_unlock && expiry <= 0) { /* Dapr checks the expiry before anything else in the request */
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "ExpiryInSeconds is not positive in lock store %s", store);
    } else if (!*resource) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "ResourceId is empty in lock store %s", store);
    } else if (!*owner) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "LockOwner is empty in lock store %s", store);
    } else if (!(c = rs_sidecar_component(sc, RS_KIND_LOCK, store))) {
        rs_api_reply_err(r, RS_ERR_LOCK_STORE_NOT_FOUND, "lock store %s is not found", store);
    } else {
        char why[RS_ERR_MAX];
        char *key = rs_lock_storage_key(c, sc->cfg.app_id, resource, why, sizeof why);
        if (!key) {
            rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "%s", why);
        } else {
            struct lk_req *q = rs_xcalloc(1, sizeof *q);
            q->sc = sc;
            q->r = r;
            q->c = c;
            q->ops = c->type->ops;
            q->is_unlock = is_unlock;
            q->key = key;
            q->owner = rs_strdup(owner);
            q->expiry = expiry;
            rs_policy_t *p = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
            rs_http_req_on_close(r, on_hangup, q);
            q->run = rs_run_start(sc->base, p, lock_start, lock_abort, lock_done, q);
            rs_policy_release(p);
            if (!q->run) {
                rs_http_req_on_close(r, NULL, NULL);
                rs_api_reply_err(r, is_unlock ? RS_ERR_UNLOCK : RS_ERR_TRY_LOCK, "cannot start operation");
                free_req(q);
            }
        }
    }
    json_decref(body);
}

static int handle_lock(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PUT") != 0) return 0;
    const char *store = rs_api_match(r, "/v1.0-alpha1/lock/");
    int is_unlock = 0;
    if (!store) {
        store = rs_api_match(r, "/v1.0-alpha1/unlock/");
        is_unlock = 1;
    }
    if (!store || !*store || strchr(store, '/')) return 0;
    handle(sc, r, store, is_unlock);
    return 1;
}

void rs_api_lock_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_lock, sc); }

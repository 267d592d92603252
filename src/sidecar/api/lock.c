/* SPDX-License-Identifier: MIT */
/* HTTP adapter of the distributed lock API, v1.0-alpha1 (spec §2.6):
 *   POST /v1.0-alpha1/lock/{store}    {"resourceId","lockOwner","expiryInSeconds"} -> {"success":bool}
 *   POST /v1.0-alpha1/unlock/{store}  {"resourceId","lockOwner"}                   -> {"status":0..3}
 * The operation itself (validation, store call under the policy) is ops/lock.c. */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/api/api.h"
#include "sidecar/ops/lock.h"

static void on_hangup(rs_http_req_t *r, void *arg) {
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
}

/* The callbacks' argument is the HTTP request itself: it stays alive until the reply (or the hang-up). */
static void on_lock_done(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) rs_api_reply_dapr_error(r, err);
    else rs_http_reply_json(r, 200, json_pack("{s:b}", "success", reply->acquired));
}

static void on_unlock_done(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) rs_api_reply_dapr_error(r, err);
    else rs_http_reply_json(r, 200, json_pack("{s:i}", "status", reply->status));
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
    rs_lock_request_t req = {.store = store};
    int bad_types = (rid && !json_is_string(rid) && !json_is_null(rid)) || (own && !json_is_string(own) && !json_is_null(own)) ||
                    (!is_unlock && parse_expiry(json_object_get(body, "expiryInSeconds"), &req.expiry_seconds) != 0);
    req.resource_id = json_is_string(rid) ? json_string_value(rid) : "";
    req.lock_owner = json_is_string(own) ? json_string_value(own) : "";
    if (bad_types) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "failed deserializing HTTP body: wrong field types");
    } else {
        rs_op_t *op = is_unlock ? rs_ops_lock_unlock(sc, &req, on_unlock_done, r) : rs_ops_lock_try(sc, &req, on_lock_done, r);
        if (op) rs_http_req_on_close(r, on_hangup, op);
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

/* SPDX-License-Identifier: MIT */
/* HTTP adapter of the secrets API (spec §2.7):
 *   GET /v1.0/secrets/{store}/{key}  -> {"k":"v",...}
 *   GET /v1.0/secrets/{store}/bulk   -> {"name":{"k":"v"},...}
 * Scopes, the store call and its policy are ops/secrets.c. */
#include <string.h>

#include "sidecar/api/api.h"
#include "sidecar/ops/secrets.h"

/* The callback's argument is the HTTP request: it stays alive until the reply (or the hang-up). */
static void on_done(void *arg, json_t *secrets, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) rs_api_reply_dapr_error(r, err);
    else rs_http_reply_json(r, 200, json_incref(secrets));
}

/* The client left (e.g. while a retry back-off was pending): stop the operation. */
static void on_hangup(rs_http_req_t *r, void *arg) {
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
}

static int handle_secrets(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    if (strcmp(r->method, "GET") != 0) return 0;
    const char *rest = rs_api_match(r, "/v1.0/secrets/");
    if (!rest) return 0;
    char store[256];
    const char *key = rs_api_next_segment(rest, store, sizeof store);
    if (!*store || !*key) return 0;
    int bulk = strcmp(key, "bulk") == 0;
    rs_http_req_set_route(r, bulk ? "/v1.0/secrets/{store}/bulk" : "/v1.0/secrets/{store}/{key}");
    rs_secrets_request_t req = {.store = store, .key = bulk ? NULL : key};
    rs_op_t *op = rs_ops_secrets_get(sc, &req, on_done, r);
    if (op) rs_http_req_on_close(r, on_hangup, op);
    return 1;
}

void rs_api_secrets_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_secrets, sc); }

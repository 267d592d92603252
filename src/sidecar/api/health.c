/* SPDX-License-Identifier: MIT */
/* GET /v1.0/healthz and /v1.0/healthz/outbound (spec §2.7). */
#include <string.h>

#include "sidecar/api/api.h"

static int handle_health(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *rest = rs_api_match(r, "/v1.0/healthz");
    if (!rest || (*rest && strcmp(rest, "/outbound") != 0)) return 0;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) return 0;
    int outbound = *rest != '\0';
    rs_http_req_set_route(r, outbound ? "/v1.0/healthz/outbound" : "/v1.0/healthz");
    const char *appid = rs_kvlist_get(&r->query_args, "appid");
    if (appid && strcmp(appid, sc->cfg.app_id) != 0) {
        rs_api_reply_err(r, RS_ERR_HEALTH_APPID_NOT_MATCH, "dapr app-id does not match");
        return 1;
    }
    /* Fully ready means the app channel too, once there is an app port. */
    int ready = sc->outbound_ready && (outbound || !sc->cfg.app_port || sc->app_ready);
    if (ready) rs_http_reply_empty(r, 204);
    else rs_api_reply_err(r, RS_ERR_HEALTH_NOT_READY, "dapr is not ready");
    return 1;
}

void rs_api_health_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_health, sc); }

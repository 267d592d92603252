/* SPDX-License-Identifier: MIT */
/* POST /v1.0/shutdown: answer 204, then stop gracefully (spec §2.7). */
#include <string.h>

#include "sidecar/api/api.h"

static void shutdown_later(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    rs_sidecar_shutdown(arg);
}

static int handle_shutdown(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    if (strcmp(r->path, "/v1.0/shutdown") != 0 || strcmp(r->method, "POST") != 0) return 0;
    rs_http_req_set_route(r, "/v1.0/shutdown");
    rs_http_reply_empty(r, 204);
    /* On the next loop turn, so the 204 is written before the loop stops. */
    struct timeval tv = {0, 50 * 1000};
    event_base_once(sc->base, -1, EV_TIMEOUT, shutdown_later, sc, &tv);
    return 1;
}

void rs_api_shutdown_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_shutdown, sc); }

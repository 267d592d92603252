/* SPDX-License-Identifier: MIT */
/* Dashboard routes: GET / (the page), GET /api/state (JSON), GET /healthz. */
#include "tools/ripstop/dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http/server.h"
#include "tools/ripstop/report.h"

struct rs_dashboard {
    rs_http_server_t *srv;
    char *page;
    int port;
    rs_dashboard_state_fn fn;
    void *arg;
};

static int handle(rs_http_req_t *r, void *ctx) {
    rs_dashboard_t *d = ctx;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        rs_http_reply_error(r, 405, "ERR_METHOD", "only GET");
        return 1;
    }
    if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/index.html") == 0) {
        rs_kvlist_t h = {0};
        rs_kvlist_set(&h, "Content-Type", "text/html; charset=utf-8");
        rs_kvlist_set(&h, "Cache-Control", "no-store");
        rs_http_reply(r, 200, &h, d->page, strlen(d->page));
        rs_kvlist_free(&h);
    } else if (strcmp(r->path, "/api/state") == 0) {
        rs_http_reply_json(r, 200, d->fn(d->arg));
    } else if (strcmp(r->path, "/healthz") == 0) {
        rs_http_reply_empty(r, 204);
    } else {
        rs_http_reply_error(r, 404, "ERR_NOT_FOUND", "no such page: %s", r->path);
    }
    return 1;
}

rs_dashboard_t *rs_dashboard_start(struct event_base *base, int port, rs_dashboard_state_fn fn, void *arg, char *err,
                                   size_t errlen) {
    char *page = rs_web_page_load(err, errlen);
    if (!page) return NULL;
    rs_dashboard_t *d = rs_xcalloc(1, sizeof *d);
    d->page = page;
    d->fn = fn;
    d->arg = arg;
    d->srv = rs_http_server_new(base, 4096);
    rs_http_server_add(d->srv, handle, d);
    d->port = rs_http_server_listen(d->srv, "127.0.0.1", port);
    if (d->port < 0) {
        snprintf(err, errlen, "dashboard: cannot listen on 127.0.0.1:%d", port);
        rs_dashboard_free(d);
        return NULL;
    }
    return d;
}

int rs_dashboard_port(const rs_dashboard_t *d) { return d->port; }

void rs_dashboard_free(rs_dashboard_t *d) {
    if (!d) return;
    rs_http_server_free(d->srv);
    free(d->page);
    free(d);
}

/* SPDX-License-Identifier: MIT */
/* frontend: GET / places the next of ten fixed customer orders (round robin).
 *
 * FRONTEND_MODE=dapr   POST the order to its sidecar:
 *                      /v1.0/invoke/customer-order-service/method/order
 * FRONTEND_MODE=direct POST it to $ORDER_SERVICE_URL (+ /order unless the URL has a path)
 *
 * It answers with the target's status and body (500 when the call fails) and
 * always adds `X-Order-Id`, the order's unique id, so a load generator can track
 * each order. The order JSON is the original's (customerId, orderTotal,
 * loyaltyPoints, orderCount) plus `orderId` = <FRONTEND_ID or APP_ID>-<6 hex>-<seq>:
 * the random part is drawn once per process, so ids never repeat across
 * replicas or restarts.
 *
 * Environment: APP_PORT (listen port), FRONTEND_MODE (dapr|direct, default dapr),
 * ORDER_SERVICE_URL (direct mode), ORDER_APP_ID (default customer-order-service),
 * FRONTEND_ID, FRONTEND_TIMEOUT_MS (default 120000), DAPR_HTTP_PORT/DAPR_API_TOKEN. */
#include <dapr/dapr.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

/* The original's ten customers and their order totals. */
static const int ORDER_TOTALS[10] = {13, 56, 22, 107, 89, 17, 168, 158, 74, 72};

typedef struct {
    int direct;               /* 1: plain HTTP to the order service, no sidecar */
    dapr_client_t *client;    /* the sidecar, or the order service's base URL */
    const char *order_app;    /* dapr mode: callee app id */
    char *order_path;         /* direct mode: path on the order service */
    char id_prefix[128];      /* "<id>-<6 hex>" */
    atomic_ulong seq;
} frontend_t;

static void on_order(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    (void)req;
    frontend_t *fe = arg;
    unsigned long n = atomic_fetch_add(&fe->seq, 1);
    int customer = (int)(n % 10) + 1;
    char order_id[192], body[384];
    snprintf(order_id, sizeof order_id, "%s-%lu", fe->id_prefix, n + 1);
    snprintf(body, sizeof body,
             "{\"customerId\":%d,\"orderTotal\":%d,\"loyaltyPoints\":0,\"orderCount\":0,\"orderId\":\"%s\"}",
             customer, ORDER_TOTALS[customer - 1], order_id);

    dapr_response_t r = {0};
    dapr_error_t err;
    if (fe->direct) {
        dapr_kv_t ct = {"Content-Type", "application/json"};
        dapr_client_request(fe->client, "POST", fe->order_path, &ct, 1, body, strlen(body), &r, &err);
    } else {
        dapr_invoke(fe->client, fe->order_app, "POST", "order", body, strlen(body), "application/json", &r, &err);
    }
    dapr_reply_header(rep, "X-Order-Id", order_id);
    if (r.status) { /* the target answered: pass its status and body on */
        const char *ct = dapr_response_header(&r, "Content-Type");
        dapr_reply_set(rep, r.status, ct ? ct : "text/plain", r.body, r.body_len);
        rs_svc_log("order %s customer %d total %d -> %d", order_id, customer, ORDER_TOTALS[customer - 1], r.status);
    } else {
        char e[640];
        dapr_reply_text(rep, 500, "order %s failed: %s\n", order_id, dapr_error_str(&err, e, sizeof e));
        rs_svc_log("order %s customer %d failed: %s", order_id, customer, e);
    }
    dapr_response_free(&r);
}

static void on_health(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    (void)req;
    (void)arg;
    dapr_reply_text(rep, 200, "ok\n");
}

/* Splits "http://host:port/path" into the base URL and the path ("/order" when none). */
static int split_url(const char *url, char **base, char **path) {
    const char *scheme = strstr(url, "://");
    if (!scheme) return -1;
    const char *slash = strchr(scheme + 3, '/');
    size_t blen = slash ? (size_t)(slash - url) : strlen(url);
    *base = strndup(url, blen);
    *path = strdup(slash && slash[1] ? slash : "/order");
    return *base && *path ? 0 : -1;
}

int main(void) {
    rs_svc_set_name("frontend");
    static frontend_t fe;
    const char *mode = rs_svc_env("FRONTEND_MODE", "dapr");
    long timeout = rs_svc_env_long("FRONTEND_TIMEOUT_MS", 120000, 1, 3600000);
    dapr_client_options_t copt = {.timeout_ms = timeout};
    char *base = NULL;
    if (strcmp(mode, "direct") == 0) {
        const char *url = rs_svc_env("ORDER_SERVICE_URL", NULL);
        if (!url || split_url(url, &base, &fe.order_path) != 0) {
            rs_svc_log("FRONTEND_MODE=direct needs ORDER_SERVICE_URL=http://host:port (got %s)", url ? url : "nothing");
            return 2;
        }
        fe.direct = 1;
        copt.base_url = base;
    } else if (strcmp(mode, "dapr") != 0) {
        rs_svc_log("FRONTEND_MODE must be dapr or direct (got %s)", mode);
        return 2;
    }
    fe.client = dapr_client_new(&copt);
    fe.order_app = rs_svc_env("ORDER_APP_ID", "customer-order-service");
    char hex[7];
    rs_svc_random_hex(hex, 3);
    snprintf(fe.id_prefix, sizeof fe.id_prefix, "%s-%s", rs_svc_env("FRONTEND_ID", rs_svc_env("APP_ID", "frontend")),
             hex);

    dapr_app_t *app = rs_svc_app_new();
    if (!app) return 1;
    dapr_app_route(app, "GET", "/", on_order, &fe);
    dapr_app_route(app, "GET", "/healthz", on_health, NULL);
    rs_svc_log("listening on port %d, mode %s, target %s%s, order ids %s-<n>", dapr_app_port(app), mode,
               dapr_client_base_url(fe.client), fe.direct ? fe.order_path : "", fe.id_prefix);
    int rc = rs_svc_app_run(app);
    dapr_client_free(fe.client);
    free(base);
    free(fe.order_path);
    return rc == 0 ? 0 : 1;
}

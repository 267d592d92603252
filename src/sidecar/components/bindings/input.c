/* SPDX-License-Identifier: MIT */
/* Input-binding delivery to the app; see input.h. */
#include "sidecar/components/bindings/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

#define PROBE_TIMEOUT_MS 3000 /* daprd --app-binding-options-timeout */
#define MAX_APP_RESPONSE (4u * 1024 * 1024)

static char *app_url(const rs_sidecar_t *sc, const char *route) {
    while (*route == '/') route++;
    size_t n = strlen(sc->app_base_url) + strlen(route) + 2;
    char *u = rs_xmalloc(n);
    snprintf(u, n, "%s/%s", sc->app_base_url, route);
    return u;
}

/* ---- probe ---- */

typedef struct {
    rs_binding_probe_fn cb;
    void *arg;
} probe_t;

static void on_probe(void *arg, rs_http_response_t *resp) {
    probe_t *p = arg;
    char why[300] = "";
    int ok = resp->result == RS_HTTP_OK && (resp->status / 100 == 2 || resp->status == 405);
    if (resp->result != RS_HTTP_OK) snprintf(why, sizeof why, "OPTIONS failed: %s", resp->error);
    else if (!ok) snprintf(why, sizeof why, "OPTIONS answered %d", resp->status);
    p->cb(p->arg, ok, why);
    free(p);
}

int rs_binding_probe(rs_sidecar_t *sc, const char *route, rs_binding_probe_fn cb, void *arg) {
    probe_t *p = rs_xcalloc(1, sizeof *p);
    p->cb = cb;
    p->arg = arg;
    rs_kvlist_t h = {0};
    rs_kvlist_set(&h, "Content-Type", "application/json");
    rs_sidecar_app_headers(sc, &h);
    char *url = app_url(sc, route);
    rs_http_request_t req = {.method = "OPTIONS", .url = url, .headers = &h, .timeout_ms = PROBE_TIMEOUT_MS,
                             .max_response = 64 * 1024};
    rs_http_call_t *call = rs_http_send(sc->http, &req, on_probe, p);
    free(url);
    rs_kvlist_free(&h);
    if (!call) {
        free(p);
        return -1;
    }
    return 0;
}

/* ---- delivery ---- */

struct rs_binding_delivery {
    rs_component_t *c;
    char *url;
    char *data;
    size_t len;
    rs_kvlist_t headers;
    rs_binding_delivered_fn cb;
    void *arg;
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_http_call_t *call;
    int last_status;
    int64_t start_us;
};

static void delivery_free(rs_binding_delivery_t *d) {
    if (d->call) rs_http_cancel(d->call);
    free(d->url);
    free(d->data);
    rs_kvlist_free(&d->headers);
    free(d);
}

static void on_app_answer(void *arg, rs_http_response_t *resp) {
    rs_binding_delivery_t *d = arg;
    d->call = NULL;
    rs_outcome_t o;
    if (resp->result != RS_HTTP_OK) {
        d->last_status = 0;
        rs_outcome_error(&o, 0, 0, "error invoking app: %s", resp->error);
    } else {
        d->last_status = resp->status;
        /* Dapr's inbound policy treats anything but 200 as a failure (so 204 is retried). */
        if (resp->status == 200) rs_outcome_ok(&o);
        else
            rs_outcome_error(&o, resp->status, 0, "error sending binding event to application, status %d",
                             resp->status);
    }
    rs_attempt_done(d->attempt, &o);
}

static void start_attempt(rs_attempt_t *a, void *arg) {
    rs_binding_delivery_t *d = arg;
    d->attempt = a;
    rs_http_request_t req = {.method = "POST", .url = d->url, .headers = &d->headers, .body = d->data,
                             .body_len = d->len, .max_response = MAX_APP_RESPONSE};
    d->call = rs_http_send(d->c->sidecar->http, &req, on_app_answer, d);
    if (!d->call) {
        rs_outcome_t o;
        rs_outcome_error(&o, 0, 0, "error invoking app: cannot start the HTTP request");
        rs_attempt_done(a, &o);
    }
}

static void abort_attempt(rs_attempt_t *a, void *arg) {
    rs_binding_delivery_t *d = arg;
    (void)a;
    if (d->call) rs_http_cancel(d->call);
    d->call = NULL;
}

static void on_run_done(void *arg, const rs_outcome_t *final) {
    rs_binding_delivery_t *d = arg;
    d->run = NULL;
    /* After the policy gave up on a non-200 answer, a 2xx still counts as delivered (as in Dapr). */
    int ok = final->kind == RS_OUTCOME_OK ||
             (final->kind == RS_OUTCOME_ERROR && final->status >= 200 && final->status < 300);
    char err[400] = "";
    if (!ok) {
        if (d->last_status) snprintf(err, sizeof err, "fails to send binding event to http app channel, status code: %d",
                                     d->last_status);
        else snprintf(err, sizeof err, "%s", final->error);
    }
    /* daprd's dapr_component_input_binding_count / _latencies. */
    const char *labels[] = {"component", d->c->name, "success", ok ? "true" : "false", NULL};
    rs_metrics_t *m = d->c->sidecar->metrics;
    rs_metrics_inc(m, "dapr_component_input_binding_count", "input binding events delivered to the app", labels, 1);
    rs_metrics_observe(m, "dapr_component_input_binding_latencies", "input binding delivery latency (ms)", labels,
                       (double)(rs_now_us() - d->start_us) / 1000.0);
    rs_binding_delivered_fn cb = d->cb;
    void *cbarg = d->arg;
    int status = d->last_status;
    delivery_free(d);
    cb(cbarg, ok, status, ok ? NULL : err);
}

rs_binding_delivery_t *rs_binding_deliver(rs_component_t *c, const char *route, const char *data, size_t len,
                                          const rs_kvlist_t *metadata, rs_binding_delivered_fn cb, void *arg) {
    rs_sidecar_t *sc = c->sidecar;
    rs_binding_delivery_t *d = rs_xcalloc(1, sizeof *d);
    d->c = c;
    d->url = app_url(sc, route);
    d->data = rs_xmalloc(len + 1);
    if (len) memcpy(d->data, data, len);
    d->data[len] = 0;
    d->len = len;
    d->cb = cb;
    d->arg = arg;
    d->start_us = rs_now_us();
    if (metadata)
        for (size_t i = 0; i < metadata->len; i++) rs_kvlist_set(&d->headers, metadata->items[i].key, metadata->items[i].value);
    rs_kvlist_set(&d->headers, "Content-Type", "application/json");
    rs_sidecar_app_headers(sc, &d->headers);
    rs_policy_t *policy = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_INBOUND);
    d->run = rs_run_start(sc->base, policy, start_attempt, abort_attempt, on_run_done, d);
    if (policy) rs_policy_release(policy);
    if (!d->run) {
        delivery_free(d);
        return NULL;
    }
    return d;
}

void rs_binding_delivery_cancel(rs_binding_delivery_t *d) {
    if (!d) return;
    if (d->run) rs_run_cancel(d->run);
    d->run = NULL;
    delivery_free(d);
}

/* SPDX-License-Identifier: MIT */
/* Input-binding delivery to the app; see binding_delivery.h. */
#include "sidecar/messaging/binding_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/bindings/go_json.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

#define SCOPE "bindings"
#define PROBE_TIMEOUT_MS 3000 /* daprd --app-binding-options-timeout */

typedef struct bd_ctx bd_ctx_t;

typedef struct probe {
    bd_ctx_t *ctx;
    rs_component_t *c;
    rs_kvlist_t headers;
    rs_app_call_t call;
    struct probe *prev, *next;
} probe_t;

typedef struct delivery {
    bd_ctx_t *ctx;
    rs_component_t *c;
    const char *route;
    char *data;
    size_t len;
    rs_kvlist_t headers;
    rs_binding_event_done_fn done;
    void *done_arg;
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_app_call_t call;
    int last_status;
    int64_t start_us;
    /* what the app's successful reply asks to be sent on (a gRPC app's BindingEventResponse.to) */
    char **to;
    size_t n_to;
    int parallel;
    char *reply;
    size_t reply_len;
    struct delivery *prev, *next;
} delivery_t;

/* The reply's data on its way to the output bindings the app named, as daprd's onAppResponse: one `create` per
 * binding through the output binding operation. Sequential: one after the other, stopping at the first failure,
 * and the event is acknowledged after the last; parallel: one forward per binding, the event acknowledged at once.
 * A failure is logged, never the event's failure. */
typedef struct forward {
    bd_ctx_t *ctx;
    char **to;
    size_t n_to, next_to;
    char *data;
    size_t len;
    void *op; /* the send in flight */
    int starting, failed, parallel;
    rs_binding_event_done_fn done; /* the event's acknowledgement, when it waits for this forward; else NULL */
    void *done_arg;
    struct forward *prev, *next;
} forward_t;

struct bd_ctx {
    rs_sidecar_t *sc;
    probe_t *probes;          /* OPTIONS probes in flight */
    delivery_t *deliveries;   /* events in flight */
    forward_t *forwards;      /* replies being sent on to output bindings */
    const rs_binding_sender_t *sender;
    int stopping;
    unsigned long refused;    /* events not delivered while the app was unhealthy (since it last became so) */
};

/* Probes and deliveries sit on doubly linked lists so shutdown can stop them. */
#define LIST_PUSH(head, x) \
    do {                                   \
        (x)->prev = NULL;                  \
        (x)->next = (head);                \
        if (head) (head)->prev = (x);      \
        (head) = (x);                      \
    } while (0)
#define LIST_UNLINK(head, x)                          \
    do {                                              \
        if ((x)->prev) (x)->prev->next = (x)->next;   \
        else (head) = (x)->next;                      \
        if ((x)->next) (x)->next->prev = (x)->prev;   \
    } while (0)

static const char *route_of(const rs_component_t *c) {
    const char *r = rs_kvlist_get_ci(&c->metadata, "route");
    return r && *r ? r : c->name;
}

/* ---- one event ---- */

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static void delivery_free(delivery_t *d) {
    LIST_UNLINK(d->ctx->deliveries, d);
    free(d->data);
    rs_kvlist_free(&d->headers);
    free_names(d->to, d->n_to);
    free(d->reply);
    free(d);
}

/* ---- the reply's data to the output bindings it names ---- */

static void forward_free(forward_t *f) {
    LIST_UNLINK(f->ctx->forwards, f);
    free_names(f->to, f->n_to);
    free(f->data);
    free(f);
}

static void forward_run(forward_t *f);

static void forward_sent(void *arg, const char *err) {
    forward_t *f = arg;
    f->op = NULL;
    if (err) {
        f->failed = 1;
        if (f->parallel) RS_ERROR(SCOPE, "%s", err);
        else RS_ERROR(SCOPE, "error executing app response: %s", err);
    }
    if (!f->starting) forward_run(f);
}

/* Sends to the next binding until one is in flight; frees f (after acknowledging the event) when none is left. */
static void forward_run(forward_t *f) {
    while (!f->failed && f->next_to < f->n_to) {
        const char *name = f->to[f->next_to++];
        f->starting = 1;
        f->op = f->ctx->sender->send(f->ctx->sc, name, f->data, f->len, forward_sent, f); /* NULL: sent ran */
        f->starting = 0;
        if (f->op) return;
    }
    rs_binding_event_done_fn done = f->done;
    void *done_arg = f->done_arg;
    forward_free(f);
    if (done) done(done_arg, 1, 200, NULL);
}

static forward_t *forward_new(bd_ctx_t *ctx, char **to, size_t n_to, const char *data, size_t len, int parallel) {
    forward_t *f = rs_xcalloc(1, sizeof *f);
    f->ctx = ctx;
    f->to = rs_xcalloc(n_to, sizeof *f->to);
    for (size_t i = 0; i < n_to; i++) f->to[i] = rs_strdup(to[i]);
    f->n_to = n_to;
    f->data = rs_xmalloc(len + 1);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->len = len;
    f->parallel = parallel;
    LIST_PUSH(ctx->forwards, f);
    return f;
}

/* daprd marshals the reply's data decoded as JSON (json.Unmarshal into interface{}, then json.Marshal): data
 * that is not JSON, or none, goes as null. Acknowledges the event (done) once the sequential sends are over. */
static void forward_reply(bd_ctx_t *ctx, char **to, size_t n_to, int parallel, const char *reply, size_t reply_len,
                          rs_binding_event_done_fn done, void *done_arg) {
    json_error_t e;
    json_t *v = reply_len ? json_loadb(reply, reply_len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                                       &e)
                          : NULL;
    size_t len;
    char *data = rs_go_json_marshal(v, &len);
    json_decref(v);
    if (parallel) {
        for (size_t i = 0; i < n_to; i++) forward_run(forward_new(ctx, to + i, 1, data, len, 1));
        free(data);
        done(done_arg, 1, 200, NULL);
        return;
    }
    forward_t *f = forward_new(ctx, to, n_to, data, len, 0);
    free(data);
    f->done = done;
    f->done_arg = done_arg;
    forward_run(f);
}

static void on_app_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    delivery_t *d = arg;
    rs_attempt_t *a = d->attempt;
    d->attempt = NULL;
    d->last_status = resp->result == RS_HTTP_OK ? resp->status : 0;
    const rs_app_binding_forward_t *fw = rs_app_call_binding_forward(&d->call);
    if (fw && o->kind == RS_OUTCOME_OK && !d->to) { /* read now: valid during this callback only */
        d->to = rs_xcalloc(fw->n_to, sizeof *d->to);
        for (size_t i = 0; i < fw->n_to; i++) d->to[i] = rs_strdup(fw->to[i]);
        d->n_to = fw->n_to;
        d->parallel = fw->parallel;
        d->reply_len = resp->body.len;
        d->reply = rs_xmalloc(d->reply_len + 1);
        if (d->reply_len) memcpy(d->reply, resp->body.data, d->reply_len);
    }
    rs_attempt_done(a, o); /* o: exactly 200 succeeds (RS_APP_ACCEPT_200) */
}

static void attempt_start(rs_attempt_t *a, void *arg) {
    delivery_t *d = arg;
    d->attempt = a;
    rs_app_request_t req = {.method = "POST", .path = d->route, .headers = &d->headers, .body = d->data,
                            .body_len = d->len, .accept = RS_APP_ACCEPT_200, .kind = RS_APP_BINDING_EVENT,
                            .name = d->c->name};
    rs_app_call(d->ctx->sc->app, &d->call, &req, on_app_reply, d);
}

static void attempt_abort(rs_attempt_t *a, void *arg) {
    delivery_t *d = arg;
    (void)a;
    rs_app_call_abort(&d->call);
    d->attempt = NULL;
}

static void run_done(void *arg, const rs_outcome_t *final) {
    delivery_t *d = arg;
    d->run = NULL;
    /* After the policy gave up on a non-200 answer, a 2xx still counts as delivered (as in Dapr). */
    int ok = final->kind == RS_OUTCOME_OK ||
             (final->kind == RS_OUTCOME_ERROR && final->status >= 200 && final->status < 300);
    char err[400] = "";
    if (!ok) {
        if (d->last_status)
            snprintf(err, sizeof err, "fails to send binding event to http app channel, status code: %d",
                     d->last_status);
        else snprintf(err, sizeof err, "error invoking app: %s", final->error);
    }
    /* daprd's dapr_component_input_binding_count / _latencies. */
    const char *labels[] = {"component", d->c->name, "success", ok ? "true" : "false", NULL};
    rs_metrics_t *m = d->ctx->sc->metrics;
    rs_metrics_inc(m, "dapr_component_input_binding_count", "input binding events delivered to the app", labels, 1);
    rs_metrics_observe(m, "dapr_component_input_binding_latencies", "input binding delivery latency (ms)", labels,
                       (double)(rs_now_us() - d->start_us) / 1000.0);
    rs_binding_event_done_fn done = d->done;
    void *done_arg = d->done_arg;
    int status = d->last_status;
    if (ok && d->n_to && final->kind == RS_OUTCOME_OK) {
        bd_ctx_t *ctx = d->ctx;
        char **to = d->to, *reply = d->reply;
        size_t n_to = d->n_to, reply_len = d->reply_len;
        int parallel = d->parallel;
        d->to = NULL, d->n_to = 0, d->reply = NULL;
        delivery_free(d);
        forward_reply(ctx, to, n_to, parallel, reply, reply_len, done, done_arg);
        free_names(to, n_to);
        free(reply);
        return;
    }
    delivery_free(d);
    done(done_arg, ok, status, ok ? NULL : err);
}

/* The handler every input binding is started with. */
static void deliver(void *arg, rs_component_t *c, const rs_binding_event_t *ev, rs_binding_event_done_fn done,
                    void *done_arg) {
    bd_ctx_t *ctx = arg;
    rs_sidecar_t *sc = ctx->sc;
    if (ctx->stopping || sc->shutting_down) {
        done(done_arg, 0, 0, "sidecar is shutting down");
        return;
    }
    if (!sc->app_healthy) {
        /* daprd stops reading from input bindings while the app is unhealthy: the event is not delivered */
        ctx->refused++;
        done(done_arg, 0, 0, "app is not in a healthy state");
        return;
    }
    delivery_t *d = rs_xcalloc(1, sizeof *d);
    d->ctx = ctx;
    d->c = c;
    d->route = route_of(c);
    d->data = rs_xmalloc(ev->len + 1);
    if (ev->len) memcpy(d->data, ev->data, ev->len);
    d->data[ev->len] = '\0';
    d->len = ev->len;
    d->done = done;
    d->done_arg = done_arg;
    d->start_us = rs_now_us();
    if (ev->metadata)
        for (size_t i = 0; i < ev->metadata->len; i++)
            rs_kvlist_set(&d->headers, ev->metadata->items[i].key, ev->metadata->items[i].value);
    rs_kvlist_set(&d->headers, "Content-Type", "application/json");
    LIST_PUSH(ctx->deliveries, d);
    rs_policy_t *policy = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_INBOUND);
    d->run = rs_run_start(sc->base, policy, attempt_start, attempt_abort, run_done, d);
    if (policy) rs_policy_release(policy);
    if (!d->run) abort(); /* out of memory */
}

/* ---- gating: probe, then start ---- */

static void start_binding(bd_ctx_t *ctx, rs_component_t *c) {
    char err[RS_ERR_MAX] = "";
    if (rs_binding_ops(c)->start(c, deliver, ctx, err, sizeof err) != 0) {
        RS_ERROR(SCOPE, "%s: cannot start the input binding: %s", c->name, err);
        return;
    }
    if (strcmp(rs_app_channel_protocol(ctx->sc->app), "grpc") == 0)
        RS_INFO(SCOPE, "%s: delivering its events to the app's OnBindingEvent", c->name);
    else RS_INFO(SCOPE, "%s: delivering its events to POST /%s", c->name, route_of(c));
}

static void probe_free(probe_t *p) {
    LIST_UNLINK(p->ctx->probes, p);
    rs_kvlist_free(&p->headers);
    free(p);
}

static void on_probe_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    probe_t *p = arg;
    bd_ctx_t *ctx = p->ctx;
    rs_component_t *c = p->c;
    (void)o;
    int subscribed = resp->result == RS_HTTP_OK && (resp->status / 100 == 2 || resp->status == 405);
    char why[300] = "";
    const char *asked = strcmp(rs_app_channel_protocol(ctx->sc->app), "grpc") == 0 ? "ListInputBindings" : "OPTIONS";
    if (resp->result != RS_HTTP_OK) snprintf(why, sizeof why, "%s failed: %s", asked, resp->error);
    else if (!subscribed && *asked == 'L') snprintf(why, sizeof why, "ListInputBindings does not list it");
    else if (!subscribed) snprintf(why, sizeof why, "OPTIONS answered %d", resp->status);
    probe_free(p);
    if (ctx->stopping) return;
    if (subscribed) start_binding(ctx, c);
    else RS_INFO(SCOPE, "app has not subscribed to binding %s (%s)", c->name, why);
}

static void probe(bd_ctx_t *ctx, rs_component_t *c) {
    probe_t *p = rs_xcalloc(1, sizeof *p);
    p->ctx = ctx;
    p->c = c;
    rs_kvlist_set(&p->headers, "Content-Type", "application/json");
    LIST_PUSH(ctx->probes, p);
    rs_app_request_t req = {.method = "OPTIONS", .path = route_of(c), .headers = &p->headers,
                            .timeout_ms = PROBE_TIMEOUT_MS, .kind = RS_APP_BINDING_PROBE, .name = c->name};
    rs_app_call(ctx->sc->app, &p->call, &req, on_probe_reply, p);
}

static void on_app_ready(rs_sidecar_t *sc, void *arg) {
    bd_ctx_t *ctx = arg;
    if (ctx->stopping || sc->shutting_down) return;
    for (size_t i = 0; i < sc->ncomponents; i++) {
        rs_component_t *c = sc->components[i];
        const rs_binding_ops_t *ops = rs_binding_ops(c);
        if (!ops || !ops->start) continue;
        if (rs_binding_has_direction(c, "input")) start_binding(ctx, c);
        else probe(ctx, c);
    }
}

static void on_app_health(rs_sidecar_t *sc, void *arg) {
    bd_ctx_t *ctx = arg;
    if (ctx->stopping) return;
    if (!sc->app_healthy) {
        ctx->refused = 0;
        RS_INFO(SCOPE, "app is unhealthy: input binding events are not delivered until it recovers");
    } else {
        RS_INFO(SCOPE, "app is healthy: input binding events delivered again (%lu dropped meanwhile)", ctx->refused);
    }
}

static void free_ctx(rs_sidecar_t *sc, void *arg) {
    (void)sc;
    free(arg);
}

static void on_shutdown(rs_sidecar_t *sc, void *arg) {
    bd_ctx_t *ctx = arg;
    ctx->stopping = 1;
    while (ctx->probes) {
        rs_app_call_abort(&ctx->probes->call);
        probe_free(ctx->probes);
    }
    while (ctx->deliveries) {
        delivery_t *d = ctx->deliveries;
        if (d->run) rs_run_cancel(d->run);
        delivery_free(d);
    }
    while (ctx->forwards) {
        forward_t *f = ctx->forwards;
        if (f->op) ctx->sender->cancel(f->op);
        forward_free(f);
    }
    /* Bindings still hold ctx as their handler's argument: during a graceful shutdown keep it (the handler
     * refuses) until rs_sidecar_free runs the hooks again, just before the components are closed. */
    if (sc->shutting_down) rs_sidecar_on_shutdown(sc, free_ctx, ctx);
    else free(ctx);
}

void rs_input_bindings_attach(rs_sidecar_t *sc, const rs_binding_sender_t *sender) {
    bd_ctx_t *ctx = rs_xcalloc(1, sizeof *ctx);
    ctx->sc = sc;
    ctx->sender = sender;
    rs_sidecar_on_app_ready(sc, on_app_ready, ctx);
    rs_sidecar_on_app_health(sc, on_app_health, ctx); /* ctx lives until the last shutdown hook; health is
                                                        * stopped before those run (boot.c) */
    rs_sidecar_on_shutdown(sc, on_shutdown, ctx);
}

/* SPDX-License-Identifier: MIT */
/* The export queue: ended spans wait in a bounded ring; a timer on the event
 * loop sends the oldest batch to each exporter. See tracing.h for the rules
 * (one batch in flight, back-off on failure, drop and count when full). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/tracing/tracer_private.h"

#define SEND_TIMEOUT_MS 5000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

static rs_span_t *at(rs_tracer_t *t, size_t i) { return t->queue[(t->head + i) % t->cfg.queue_max]; }

static void pop(rs_tracer_t *t, size_t n) {
    for (size_t i = 0; i < n; i++) rs_span_free_(at(t, i));
    t->head = (t->head + n) % t->cfg.queue_max;
    t->len -= n;
    t->printed = t->printed > n ? t->printed - n : 0; /* stdout's mark stays on the same span */
}

static void count(rs_tracer_t *t, const char *name, const char *help, size_t n) {
    rs_metrics_t *m = t->metrics ? *t->metrics : NULL;
    const char *labels[] = {NULL};
    if (m && n) rs_metrics_inc(m, name, help, labels, (double)n);
}

void rs_tracing_enqueue_(rs_tracer_t *t, rs_span_t *s) {
    if (!t->cfg.zipkin_url && !t->cfg.otel_url && !t->cfg.to_stdout) { /* sampled, propagated, sent nowhere */
        rs_span_free_(s);
        return;
    }
    if (t->len == t->cfg.queue_max) {
        t->dropped++; /* published to the metric by the timer: a full queue must not make each request dearer */
        rs_span_free_(s);
        return;
    }
    t->queue[(t->head + t->len) % t->cfg.queue_max] = s;
    t->len++;
}

static void batch_done(rs_tracer_t *t) {
    size_t n = t->inflight;
    t->inflight = 0;
    if (t->batch_failed) {
        t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : BACKOFF_FIRST_MS;
        if (t->backoff_ms > BACKOFF_MAX_MS) t->backoff_ms = BACKOFF_MAX_MS;
        t->retry_at_ms = rs_now_ms() + t->backoff_ms;
        return; /* the batch stays at the head of the queue */
    }
    t->backoff_ms = 0;
    t->exported += n;
    count(t, "ripstop_tracing_spans_exported_total", "Spans accepted by the trace collector(s).", n);
    pop(t, n);
}

static void on_sent(void *arg, rs_http_response_t *resp) {
    struct rs_tracing_send *send = arg;
    rs_tracer_t *t = send->t;
    send->call = NULL;
    if (resp->result != RS_HTTP_OK || resp->status < 200 || resp->status > 299) {
        if (!t->batch_failed && !t->backoff_ms) /* once per outage, not per retry */
            RS_WARN("tracing", "cannot export spans: %s",
                    resp->result != RS_HTTP_OK ? resp->error : "collector answered with an error status");
        t->batch_failed = 1;
    }
    if (--t->pending_sends == 0) batch_done(t);
}

static void print_new(rs_tracer_t *t) {
    for (; t->printed < t->len; t->printed++) {
        json_t *o = rs_tracing_zipkin_span_(t, at(t, t->printed));
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) printf("%s\n", line);
        free(line);
        json_decref(o);
    }
    fflush(stdout);
}

static void send_one(rs_tracer_t *t, int which, const char *url, json_t *body) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        t->batch_failed = 1;
        return;
    }
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    rs_http_request_t req = {.method = "POST", .url = url, .headers = &h, .body = text, .body_len = strlen(text),
                             .timeout_ms = SEND_TIMEOUT_MS, .max_response = 64 * 1024};
    t->sends[which].t = t;
    t->sends[which].call = rs_http_send(t->http, &req, on_sent, &t->sends[which]);
    if (t->sends[which].call) t->pending_sends++;
    else t->batch_failed = 1;
    rs_kvlist_free(&h);
    free(text);
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    rs_tracer_t *t = arg;
    (void)fd;
    (void)what;
    if (t->dropped > t->dropped_counted) {
        count(t, "ripstop_tracing_spans_dropped_total", "Spans dropped because the export queue was full.",
              (size_t)(t->dropped - t->dropped_counted));
        t->dropped_counted = t->dropped;
    }
    if (t->cfg.to_stdout) print_new(t);
    if (t->pending_sends || t->len == 0) return;
    if (!t->cfg.zipkin_url && !t->cfg.otel_url) { /* stdout only: printed, done */
        t->exported += t->len;
        pop(t, t->len);
        return;
    }
    if (t->backoff_ms && rs_now_ms() < t->retry_at_ms) return;
    size_t n = t->len < t->cfg.batch_max ? t->len : t->cfg.batch_max;
    rs_span_t **batch = rs_xcalloc(n, sizeof *batch);
    for (size_t i = 0; i < n; i++) batch[i] = at(t, i);
    t->inflight = n;
    t->batch_failed = 0;
    if (t->cfg.zipkin_url) send_one(t, 0, t->cfg.zipkin_url, rs_tracing_zipkin_(t, batch, n));
    if (t->cfg.otel_url) send_one(t, 1, t->cfg.otel_url, rs_tracing_otlp_(t, batch, n));
    free(batch);
    if (t->pending_sends == 0) batch_done(t); /* nothing could start */
}

int rs_tracing_export_start_(rs_tracer_t *t) {
    t->queue = rs_xcalloc(t->cfg.queue_max, sizeof *t->queue);
    t->timer = event_new(t->base, -1, EV_PERSIST, tick, t);
    if (!t->timer) return -1;
    struct timeval tv = {t->cfg.flush_ms / 1000, (t->cfg.flush_ms % 1000) * 1000};
    return evtimer_add(t->timer, &tv);
}

void rs_tracing_export_stop_(rs_tracer_t *t) {
    if (t->timer) event_free(t->timer);
    t->timer = NULL;
    for (int i = 0; i < 2; i++)
        if (t->sends[i].call) rs_http_cancel(t->sends[i].call);
    if (t->cfg.to_stdout && t->queue) print_new(t);
    if (t->queue) pop(t, t->len);
    free(t->queue);
    t->queue = NULL;
}

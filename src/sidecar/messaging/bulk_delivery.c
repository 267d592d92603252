/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/bulk_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/log.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/messaging/cloudevent.h"
#include "sidecar/messaging/delivery.h"
#include "sidecar/messaging/publisher.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/run.h"

#define SCOPE "pubsub"

enum { E_PENDING = 0, E_OK, E_DROP };

typedef struct bulk_op bulk_op_t;

typedef struct bentry {
    rs_pubsub_msg_t *m;  /* NULL once acked */
    bulk_op_t *op;
    char id[37];
    char *event;         /* the CloudEvent text sent as `event` (compact JSON object) */
    int state;
    rs_publish_t *dlq_pub;
} bentry_t;

struct bulk_op {
    rs_bulk_batcher_t *b;
    bulk_op_t *prev, *next;
    char *path;          /* route on the app; NULL: entries dropped before delivery (not a CloudEvent, expired, no
                          * route, cannot be sent to the app) */
    bentry_t *e;
    size_t n;
    rs_run_t *run;
    rs_app_call_t call;
    rs_attempt_t *attempt;
    size_t finishing;    /* dead-letter publishes in flight */
    int64_t start_us;    /* when the delivery to the app started (metrics) */
};

struct rs_bulk_batcher {
    rs_sidecar_t *sc;
    rs_subscription_t *s;
    rs_pubsub_msg_t **wait;
    size_t nwait;
    struct event *timer;
    bulk_op_t *ops;
};

/* ---- finishing ---- */

static void op_free(bulk_op_t *op) {
    rs_bulk_batcher_t *b = op->b;
    if (op->prev) op->prev->next = op->next;
    else if (b->ops == op) b->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    for (size_t i = 0; i < op->n; i++) free(op->e[i].event);
    free(op->e);
    free(op->path);
    free(op);
}

static void ack_entry(bentry_t *e, int success) {
    rs_pubsub_msg_t *m = e->m;
    e->m = NULL;
    if (m) rs_pubsub_msg_ack(m, success);
}

static void maybe_free(bulk_op_t *op) {
    if (op->finishing == 0 && !op->run) op_free(op);
}

static void on_dlq_done(void *arg, int ok, const char *err) {
    bentry_t *e = arg;
    bulk_op_t *op = e->op;
    e->dlq_pub = NULL;
    if (!ok)
        RS_ERROR(SCOPE, "bulk entry %s of topic %s: publishing to dead-letter topic %s failed: %s", e->id,
                 op->b->s->topic, op->b->s->dead_letter_topic, err);
    ack_entry(e, ok);
    op->finishing--;
    maybe_free(op);
}

/* daprd's bulk ingress families: per call to the app (count and latency, component and topic) and per entry
 * (event_count by process_status success, drop or retry). */
static void count_ingress(bulk_op_t *op) {
    rs_sidecar_t *sc = op->b->sc;
    const rs_subscription_t *s = op->b->s;
    if (!sc->metrics) return;
    if (op->path) {
        const char *labels[] = {"component", s->component->name, "topic", s->topic, NULL};
        rs_metrics_count_observe(sc->metrics, "dapr_component_pubsub_ingress_bulk_count",
                                 "The number of incoming bulk subscribe calls arriving from the bulk pub/sub component.",
                                 "dapr_component_pubsub_ingress_bulk_latencies",
                                 "The consuming app event processing latency for the bulk pub/sub component.", labels,
                                 (double)(rs_now_us() - op->start_us) / 1000.0);
    }
    size_t by[3] = {0, 0, 0}; /* success, drop, retry */
    for (size_t i = 0; i < op->n; i++) by[op->e[i].state == E_OK ? 0 : op->e[i].state == E_DROP ? 1 : 2]++;
    static const char *const status[] = {"success", "drop", "retry"};
    for (int k = 0; k < 3; k++) {
        if (!by[k]) continue;
        const char *labels[] = {"component", s->component->name, "process_status", status[k], "topic", s->topic, NULL};
        rs_metrics_inc(sc->metrics, "dapr_component_pubsub_ingress_bulk_event_count",
                       "Total number of incoming messages arriving from the bulk pub/sub component via Bulk Subscribe.",
                       labels, (double)by[k]);
    }
}

/* Every entry gets its final answer: acked, dead-lettered, or left for redelivery. */
static void finalize(bulk_op_t *op) {
    const rs_subscription_t *s = op->b->s;
    count_ingress(op);
    op->finishing++; /* keeps op alive while acks below re-enter the component */
    for (size_t i = 0; i < op->n; i++) {
        bentry_t *e = &op->e[i];
        if (!e->m) continue;
        if (e->state == E_OK) {
            ack_entry(e, 1);
        } else if (s->dead_letter_topic) {
            op->finishing++;
            e->dlq_pub = rs_publisher_send(op->b->sc, s->component, s->dead_letter_topic, e->m->data, e->m->len,
                                           &e->m->metadata, on_dlq_done, e);
        } else {
            ack_entry(e, e->state == E_DROP);
        }
    }
    op->finishing--;
    maybe_free(op);
}

/* ---- one attempt: POST the entries still pending ---- */

static void on_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    bulk_op_t *op = arg;
    rs_attempt_t *a = op->attempt;
    op->attempt = NULL;
    if (resp->result != RS_HTTP_OK) {
        rs_outcome_error(o, 0, o->permanent, "error from app channel while sending bulk pub/sub event to app: %s",
                         resp->error);
    } else if (resp->status == 404) {
        RS_ERROR(SCOPE, "non-retriable error returned from app while processing bulk pub/sub event: 404; dropping %s",
                 op->b->s->topic);
        for (size_t i = 0; i < op->n; i++)
            if (op->e[i].state == E_PENDING) op->e[i].state = E_DROP;
        rs_outcome_ok(o);
    } else if (resp->status < 200 || resp->status > 299) {
        rs_outcome_error(o, resp->status, 0, "retriable error returned from app while processing bulk pub/sub event, "
                         "topic: %s. status code returned: %d", op->b->s->topic, resp->status);
    } else {
        json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        json_t *st = json_object_get(j, "statuses");
        size_t k;
        json_t *it;
        json_array_foreach(st, k, it) {
            const char *id = rs_json_str(it, "entryId"), *status = rs_json_str(it, "status");
            if (!id || !status) continue;
            for (size_t i = 0; i < op->n; i++) {
                if (op->e[i].state != E_PENDING || strcmp(op->e[i].id, id) != 0) continue;
                if (strcasecmp(status, "SUCCESS") == 0) op->e[i].state = E_OK;
                else if (strcasecmp(status, "DROP") == 0) op->e[i].state = E_DROP;
            }
        }
        json_decref(j);
        size_t left = 0;
        for (size_t i = 0; i < op->n; i++) left += op->e[i].state == E_PENDING;
        if (left) rs_outcome_error(o, 0, 0, "%zu bulk entr%s of topic %s to retry", left, left == 1 ? "y" : "ies",
                                   op->b->s->topic);
        else rs_outcome_ok(o);
    }
    rs_attempt_done(a, o);
}

static char *bulk_body(bulk_op_t *op, size_t *len) {
    const rs_subscription_t *s = op->b->s;
    rs_buf_t b;
    rs_buf_init(&b, SIZE_MAX / 2);
    char id[37];
    rs_uuid(id);
    json_t *head = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "id", id, "type", "com.dapr.event.sent.bulk", "topic",
                             s->topic, "pubsubname", s->pubsubname, "metadata");
    char *h = json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(head);
    h[strlen(h) - 1] = '\0'; /* reopen the object to append "entries" */
    rs_buf_printf(&b, "%s,\"entries\":[", h);
    free(h);
    int first = 1;
    for (size_t i = 0; i < op->n; i++) {
        const bentry_t *e = &op->e[i];
        if (e->state != E_PENDING || !e->m) continue;
        json_t *md = json_object();
        for (size_t k = 0; k < e->m->metadata.len; k++)
            json_object_set_new(md, e->m->metadata.items[k].key, json_string(e->m->metadata.items[k].value));
        char *mds = json_dumps(md, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(md);
        rs_buf_printf(&b, "%s{\"entryId\":\"%s\",\"event\":", first ? "" : ",", e->id);
        rs_buf_puts(&b, e->event);
        rs_buf_printf(&b, ",\"metadata\":%s,\"contentType\":\"application/cloudevents+json\"}", mds ? mds : "{}");
        free(mds);
        first = 0;
    }
    rs_buf_puts(&b, "]}");
    return rs_buf_steal(&b, len);
}

static void attempt_start(rs_attempt_t *a, void *arg) {
    bulk_op_t *op = arg;
    op->attempt = a;
    size_t len;
    char *body = bulk_body(op, &len);
    rs_kvlist_t headers = {0};
    rs_kvlist_set(&headers, "Content-Type", "application/json");
    rs_kvlist_set(&headers, "pubsubName", op->b->s->pubsubname);
    rs_app_request_t req = {.method = "POST", .path = op->path, .headers = &headers, .body = body, .body_len = len,
                            .accept = RS_APP_ACCEPT_2XX, .kind = RS_APP_BULK_TOPIC_EVENT};
    rs_app_call(op->b->sc->app, &op->call, &req, on_reply, op);
    free(body);
    rs_kvlist_free(&headers);
}

static void attempt_abort(rs_attempt_t *a, void *arg) {
    bulk_op_t *op = arg;
    (void)a;
    rs_app_call_abort(&op->call);
    op->attempt = NULL;
}

static void run_done(void *arg, const rs_outcome_t *final) {
    bulk_op_t *op = arg;
    op->run = NULL;
    if (final->kind != RS_OUTCOME_OK)
        RS_WARN(SCOPE, "bulk delivery to %s (topic %s) failed: %s", op->path, op->b->s->topic, final->error);
    finalize(op);
}

/* ---- batching ---- */

static bulk_op_t *op_for(rs_bulk_batcher_t *b, bulk_op_t **ops, size_t *nops, const char *path, size_t cap) {
    for (size_t i = 0; i < *nops; i++)
        if ((!path && !ops[i]->path) || (path && ops[i]->path && strcmp(ops[i]->path, path) == 0)) return ops[i];
    bulk_op_t *op = rs_xcalloc(1, sizeof *op);
    op->b = b;
    op->e = rs_xcalloc(cap, sizeof *op->e);
    if (path) op->path = rs_strdup(path);
    op->next = b->ops;
    if (b->ops) b->ops->prev = op;
    b->ops = op;
    ops[(*nops)++] = op;
    return op;
}

static void flush(rs_bulk_batcher_t *b) {
    evtimer_del(b->timer);
    size_t n = b->nwait;
    if (n == 0) return;
    rs_pubsub_msg_t **msgs = b->wait;
    b->wait = NULL;
    b->nwait = 0;
    const rs_subscription_t *s = b->s;
    bulk_op_t **ops = rs_xcalloc(n + 1, sizeof *ops);
    size_t nops = 0;
    time_t now = time(NULL);
    char why[200];
    for (size_t i = 0; i < n; i++) {
        rs_pubsub_msg_t *m = msgs[i];
        char *text;
        size_t tlen;
        if (s->raw_payload) {
            text = rs_cloudevent_from_raw(m->data, m->len, s->topic, s->pubsubname, &tlen);
        } else {
            text = rs_xmalloc(m->len + 1);
            memcpy(text, m->data, m->len);
            text[m->len] = '\0';
            tlen = m->len;
        }
        json_t *ev = rs_json_loadb(text, tlen, JSON_DECODE_INT_AS_REAL, NULL);
        const char *path = NULL;
        if (!json_is_object(ev))
            RS_ERROR(SCOPE, "error deserializing cloud event in pubsub %s and topic %s; dropping it", s->pubsubname,
                     s->topic);
        else if (rs_cloudevent_expired(ev, now))
            RS_WARN(SCOPE, "dropping expired pub/sub event %s", rs_json_str(ev, "id") ? rs_json_str(ev, "id") : "");
        else if (!(path = rs_subscription_route(s, ev)))
            RS_WARN(SCOPE, "no matching route for an event in pubsub %s and topic %s; skipping", s->pubsubname,
                    s->topic);
        else if (!rs_app_channel_event_sendable(b->sc->app, text, tlen, why, sizeof why)) {
            /* A poison entry: it would fail the whole batch on every attempt and every redelivery. */
            RS_ERROR(SCOPE, "pub/sub event %s of topic %s can never be sent to the app (%s); dropping it",
                     rs_json_str(ev, "id") ? rs_json_str(ev, "id") : "", s->topic, why);
            path = NULL;
        }
        json_decref(ev);
        bulk_op_t *op = op_for(b, ops, &nops, path, n);
        bentry_t *e = &op->e[op->n++];
        e->m = m;
        e->op = op;
        rs_uuid(e->id);
        e->state = path ? E_PENDING : E_DROP;
        e->event = path ? rs_json_compact_text(text, tlen, NULL) : NULL;
        free(text);
    }
    free(msgs);
    for (size_t i = 0; i < nops; i++) {
        bulk_op_t *op = ops[i];
        if (!op->path) {
            finalize(op);
            continue;
        }
        rs_policy_t *pol = b->sc->resiliency
                               ? rs_resiliency_component_policy(b->sc->resiliency, s->component, RS_DIR_INBOUND)
                               : NULL;
        op->start_us = rs_now_us();
        op->run = rs_run_start(b->sc->base, pol, attempt_start, attempt_abort, run_done, op);
        if (pol) rs_policy_release(pol);
        if (!op->run) abort(); /* out of memory */
    }
    free(ops);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    flush(arg);
}

rs_bulk_batcher_t *rs_bulk_batcher_new(rs_sidecar_t *sc, rs_subscription_t *s) {
    rs_bulk_batcher_t *b = rs_xcalloc(1, sizeof *b);
    b->sc = sc;
    b->s = s;
    b->timer = evtimer_new(sc->base, on_timer, b);
    return b;
}

void rs_bulk_batcher_add(rs_bulk_batcher_t *b, rs_pubsub_msg_t *m) {
    b->wait = rs_xrealloc(b->wait, (b->nwait + 1) * sizeof *b->wait);
    b->wait[b->nwait++] = m;
    if ((int)b->nwait >= b->s->bulk_max_messages) {
        flush(b);
    } else if (b->nwait == 1) {
        struct timeval tv = {b->s->bulk_max_await_ms / 1000, (b->s->bulk_max_await_ms % 1000) * 1000};
        evtimer_add(b->timer, &tv);
    }
}

void rs_bulk_batcher_free(rs_bulk_batcher_t *b) {
    if (!b) return;
    event_free(b->timer);
    for (size_t i = 0; i < b->nwait; i++) rs_pubsub_msg_ack(b->wait[i], 0);
    free(b->wait);
    while (b->ops) {
        bulk_op_t *op = b->ops;
        if (op->run) rs_run_cancel(op->run);
        op->run = NULL;
        for (size_t i = 0; i < op->n; i++) {
            if (op->e[i].dlq_pub) rs_publisher_cancel(op->e[i].dlq_pub);
            op->e[i].dlq_pub = NULL;
            ack_entry(&op->e[i], 0);
        }
        op_free(op);
    }
    free(b);
}

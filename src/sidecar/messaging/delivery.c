/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/delivery.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_scan.h"
#include "core/json_util.h"
#include "core/log.h"
#include "http/wire.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/messaging/cloudevent.h"
#include "sidecar/messaging/publisher.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/run.h"
#include "sidecar/tracing/tracing.h"

#define SCOPE "pubsub"

struct rs_delivery {
    rs_sidecar_t *sc;
    rs_delivery_set_t *set;
    rs_delivery_t *prev, *next;
    rs_component_t *c;
    rs_pubsub_msg_t *m;
    char *topic;
    char *dlq;          /* dead-letter topic or NULL */
    char *route;        /* path on the app */
    char *body;         /* what the app receives */
    size_t body_len;
    char *event_id;     /* for log lines */
    rs_kvlist_t headers;
    rs_run_t *run;
    rs_app_call_t call;
    rs_attempt_t *attempt;
    rs_publish_t *dlq_pub;
    int dropped;        /* the app (or routing) dropped the message */
    int64_t start_us;
};

#define INGRESS_COUNT "dapr_component_pubsub_ingress_count"
#define INGRESS_COUNT_HELP "The number of incoming messages arriving from the pub/sub component."

/* daprd's ingress families: process_status success, drop or retry (the message is left for redelivery or the
 * dead-letter topic). */
static void count_ingress(rs_delivery_t *d, const char *process_status) {
    const char *labels[] = {"component", d->c->name, "process_status", process_status, "topic", d->topic, NULL};
    rs_metrics_count_observe(d->sc->metrics, INGRESS_COUNT, INGRESS_COUNT_HELP,
                             "dapr_component_pubsub_ingress_latencies", "The consuming app event processing latency.",
                             labels, (double)(rs_now_us() - d->start_us) / 1000.0);
}

rs_app_verdict_t rs_delivery_classify(int status, const char *body, size_t len) {
    if (status == 404) return RS_APP_DROP;
    if (status < 200 || status > 299) return RS_APP_RETRY;
    json_t *j = json_loadb(body ? body : "", len, JSON_DECODE_ANY, NULL);
    if (!json_is_object(j)) {
        json_decref(j); /* empty or not a JSON object: Dapr skips the status check */
        return RS_APP_SUCCESS;
    }
    json_t *st = json_object_get(j, "status");
    rs_app_verdict_t v = RS_APP_SUCCESS;
    if (st && !json_is_string(st) && !json_is_null(st)) {
        v = RS_APP_SUCCESS; /* Go fails to decode the struct and also skips the check */
    } else if (json_is_string(st)) {
        const char *s = json_string_value(st);
        if (*s == '\0' || strcasecmp(s, "SUCCESS") == 0) v = RS_APP_SUCCESS;
        else if (strcasecmp(s, "DROP") == 0) v = RS_APP_DROP;
        else v = RS_APP_RETRY; /* RETRY and unknown values */
    }
    json_decref(j);
    return v;
}

/* ---- lifecycle ---- */

static void delivery_free(rs_delivery_t *d) {
    if (d->prev) d->prev->next = d->next;
    else if (d->set->head == d) d->set->head = d->next;
    if (d->next) d->next->prev = d->prev;
    d->set->count--;
    free(d->topic);
    free(d->dlq);
    free(d->route);
    free(d->body);
    free(d->event_id);
    rs_kvlist_free(&d->headers);
    free(d);
}

/* Ends the delivery: acks (success = 1) or leaves the message for redelivery. */
static void finish(rs_delivery_t *d, int success) {
    rs_pubsub_msg_t *m = d->m;
    d->m = NULL;
    delivery_free(d);
    rs_pubsub_msg_ack(m, success);
}

static void on_dlq_published(void *arg, int ok, const char *err) {
    rs_delivery_t *d = arg;
    d->dlq_pub = NULL;
    if (ok) {
        RS_INFO(SCOPE, "event %s of topic %s sent to dead-letter topic %s", d->event_id, d->topic, d->dlq);
    } else {
        RS_ERROR(SCOPE, "event %s of topic %s: publishing to dead-letter topic %s failed: %s", d->event_id, d->topic,
                 d->dlq, err);
    }
    finish(d, ok);
}

/* The original bytes, as stored in the broker, go to the dead-letter topic (so `topic` in the CloudEvent still
 * names the original topic); the message is acked once that publish succeeded. */
static void to_dead_letter(rs_delivery_t *d) {
    d->dlq_pub = rs_publisher_send(d->sc, d->c, d->dlq, d->m->data, d->m->len, &d->m->metadata, on_dlq_published, d);
}

/* The message is not for the app (no route, DROP, 404, expired). */
static void drop(rs_delivery_t *d) {
    if (d->dlq) to_dead_letter(d);
    else finish(d, 1);
}

/* A message the app never sees (not a CloudEvent, expired, no route matched, cannot be sent to the app): counted
 * as drop with no latency sample, as daprd records it (elapsed 0), then acked or dead-lettered. */
static void drop_unseen(rs_delivery_t *d) {
    const char *labels[] = {"component", d->c->name, "process_status", "drop", "topic", d->topic, NULL};
    rs_metrics_inc(d->sc->metrics, INGRESS_COUNT, INGRESS_COUNT_HELP, labels, 1);
    drop(d);
}

/* ---- one attempt ---- */

static void on_app_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    rs_delivery_t *d = arg;
    rs_attempt_t *a = d->attempt;
    d->attempt = NULL;
    if (resp->result != RS_HTTP_OK) {
        rs_outcome_error(o, 0, o->permanent, "error from app channel while sending pub/sub event to app: %s",
                         resp->error);
        rs_attempt_done(a, o);
        return;
    }
    switch (rs_delivery_classify(resp->status, resp->body.data, resp->body.len)) {
    case RS_APP_SUCCESS:
        d->dropped = 0;
        rs_outcome_ok(o);
        break;
    case RS_APP_DROP:
        if (resp->status == 404)
            RS_ERROR(SCOPE, "non-retriable error returned from app while processing pub/sub event %s: %.200s. "
                            "status code returned: 404",
                     d->event_id, resp->body.data ? resp->body.data : "");
        else
            RS_WARN(SCOPE, "DROP status returned from app while processing pub/sub event %s", d->event_id);
        d->dropped = 1;
        rs_outcome_ok(o);
        break;
    default:
        if (resp->status >= 200 && resp->status <= 299)
            rs_outcome_error(o, 0, 0, "RETRY status returned from app while processing pub/sub event %s",
                             d->event_id);
        else
            rs_outcome_error(o, resp->status, 0, "retriable error returned from app while processing pub/sub "
                             "event %s, topic: %s. status code returned: %d", d->event_id, d->topic, resp->status);
        break;
    }
    rs_attempt_done(a, o);
}

static void attempt_start(rs_attempt_t *a, void *op) {
    rs_delivery_t *d = op;
    d->attempt = a;
    char tp[56];
    if (rs_attempt_traceparent(a, tp)) rs_kvlist_set(&d->headers, "traceparent", tp); /* the app's parent */
    rs_app_request_t req = {.method = "POST", .path = d->route, .headers = &d->headers, .body = d->body,
                            .body_len = d->body_len, .accept = RS_APP_ACCEPT_2XX, .kind = RS_APP_TOPIC_EVENT};
    rs_app_call(d->sc->app, &d->call, &req, on_app_reply, d);
}

static void attempt_abort(rs_attempt_t *a, void *op) {
    rs_delivery_t *d = op;
    (void)a;
    rs_app_call_abort(&d->call);
    d->attempt = NULL;
}

static void run_done(void *op, const rs_outcome_t *final) {
    rs_delivery_t *d = op;
    d->run = NULL;
    count_ingress(d, final->kind != RS_OUTCOME_OK ? "retry" : d->dropped ? "drop" : "success");
    if (final->kind == RS_OUTCOME_OK) {
        if (d->dropped) drop(d);
        else finish(d, 1);
        return;
    }
    if (d->dlq) {
        RS_WARN(SCOPE, "delivery of event %s (topic %s) failed: %s; sending it to %s", d->event_id, d->topic,
                final->error, d->dlq);
        to_dead_letter(d);
        return;
    }
    RS_WARN(SCOPE, "delivery of event %s (topic %s) failed: %s; left for redelivery", d->event_id, d->topic,
            final->error);
    finish(d, 0);
}

/* ---- start ---- */

/* A metadata entry becomes a header only if it cannot break the request or shadow a header the sidecar sets. */
int rs_delivery_header_safe(const char *k, const char *v) {
    static const char *const reserved[] = {"content-type", "content-length", "transfer-encoding", "connection",
                                           "host", "expect", "te", "upgrade", "keep-alive", "dapr-api-token",
                                           "traceparent", "tracestate", "pubsubname", NULL};
    if (!*k) return 0;
    for (const char *const *r = reserved; *r; r++)
        if (strcasecmp(k, *r) == 0) return 0;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p)) return 0;
    /* a field value as HTTP allows it (Go's server answers 400 otherwise, and the message would come back for
     * ever) */
    return rs_http_field_value_ok(v, strlen(v));
}

/* ---- reading the event ---- */

/* The CloudEvent members a delivery reads: string values, decoded; NULL when absent or not a string (the last one
 * wins, as in a parsed object). */
enum { F_ID, F_EXPIRATION, F_TRACEPARENT, F_TRACEID, F_TRACESTATE, F_COUNT };
static const char *const field_names[F_COUNT] = {"id", "expiration", "traceparent", "traceid", "tracestate"};

typedef struct {
    char *v[F_COUNT];
} ce_fields_t;

static void take_field(void *arg, const char *k, size_t klen, const char *v, size_t vlen) {
    ce_fields_t *f = arg;
    char *decoded = memchr(k, '\\', klen) ? rs_json_scan_string(k, klen) : NULL; /* a key written with escapes */
    const char *name = decoded ? decoded : k + 1;
    size_t nlen = decoded ? strlen(decoded) : klen - 2;
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(field_names[i]) == nlen && memcmp(field_names[i], name, nlen) == 0) {
            free(f->v[i]);
            f->v[i] = rs_json_scan_string(v, vlen);
            break;
        }
    free(decoded);
}

static void ce_fields_free(ce_fields_t *f) {
    for (int i = 0; i < F_COUNT; i++) free(f->v[i]);
}

/* The subscription's route for a (valid) event; the event is parsed only when a rule has a match expression. */
static const char *event_route(const rs_subscription_t *s, const char *body, size_t len) {
    int tree = 0;
    for (size_t i = 0; i < s->nrules && !tree; i++) tree = s->rules[i].match != NULL;
    if (!tree) return rs_subscription_route(s, NULL);
    json_t *ev = rs_json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL);
    const char *route = rs_subscription_route(s, ev);
    json_decref(ev);
    return route;
}

void rs_delivery_start(rs_sidecar_t *sc, rs_delivery_set_t *set, const rs_subscription_t *s, rs_pubsub_msg_t *m) {
    rs_delivery_t *d = rs_xcalloc(1, sizeof *d);
    d->sc = sc;
    d->start_us = rs_now_us();
    d->set = set;
    d->next = set->head;
    if (set->head) set->head->prev = d;
    set->head = d;
    set->count++;
    d->c = s->component;
    d->m = m;
    d->topic = rs_strdup(s->topic);
    d->dlq = s->dead_letter_topic ? rs_strdup(s->dead_letter_topic) : NULL;

    if (s->raw_payload) {
        d->body = rs_cloudevent_from_raw(m->data, m->len, s->topic, s->pubsubname, &d->body_len);
    } else {
        d->body = rs_xmalloc(m->len + 1);
        memcpy(d->body, m->data, m->len);
        d->body[m->len] = '\0';
        d->body_len = m->len;
    }
    /* The event is checked and its few members read without building a tree (jansson's parse was a third of a
     * delivery's instructions); the tree is built only for routing rules with a match expression. */
    ce_fields_t f = {0};
    int valid = rs_json_scan_object(d->body, d->body_len, take_field, &f) == 0;
    d->event_id = rs_strdup(valid && f.v[F_ID] ? f.v[F_ID] : "(no id)");
    const char *route = NULL;
    char why[200];
    if (!valid) {
        /* Not a CloudEvent: the app could not handle it either; redelivering would loop forever. */
        RS_ERROR(SCOPE, "error deserializing cloud event in pubsub %s and topic %s; dropping it", s->pubsubname,
                 s->topic);
    } else if (rs_cloudevent_expired_at(f.v[F_EXPIRATION], time(NULL))) {
        RS_WARN(SCOPE, "dropping expired pub/sub event %s as of %s", d->event_id, f.v[F_EXPIRATION]);
    } else if (!(route = event_route(s, d->body, d->body_len))) {
        RS_WARN(SCOPE, "no matching route for event %s in pubsub %s and topic %s; skipping", d->event_id,
                s->pubsubname, s->topic);
    } else if (!rs_app_channel_event_sendable(sc->app, d->body, d->body_len, why, sizeof why)) {
        /* A poison message: every attempt and every redelivery would fail the same way. */
        RS_ERROR(SCOPE, "pub/sub event %s of topic %s can never be sent to the app (%s); dropping it", d->event_id,
                 s->topic, why);
        route = NULL;
    }
    if (!route) {
        ce_fields_free(&f);
        drop_unseen(d);
        return;
    }
    d->route = rs_strdup(route);

    for (size_t i = 0; i < m->metadata.len; i++) {
        const rs_kv_t *kv = &m->metadata.items[i];
        if (rs_delivery_header_safe(kv->key, kv->value)) rs_kvlist_add(&d->headers, kv->key, kv->value);
    }
    rs_kvlist_set(&d->headers, "pubsubName", s->pubsubname);
    const char *tp = f.v[F_TRACEPARENT] ? f.v[F_TRACEPARENT] : f.v[F_TRACEID];
    char parent[56] = "";
    if (tp && rs_traceparent_valid(tp)) {
        rs_kvlist_set(&d->headers, "traceparent", tp);
        memcpy(parent, tp, sizeof parent);
    }
    const char *ts = f.v[F_TRACESTATE];
    if (ts && *ts && !strpbrk(ts, "\r\n")) rs_kvlist_set(&d->headers, "tracestate", ts);
    rs_kvlist_set(&d->headers, "Content-Type", "application/cloudevents+json");
    ce_fields_free(&f);

    rs_policy_t *pol = sc->resiliency ? rs_resiliency_component_policy(sc->resiliency, d->c, RS_DIR_INBOUND) : NULL;
    /* daprd's delivery span: "pubsub/<topic>", a child of the publisher's context in the CloudEvent; here one
     * per attempt, so redeliveries under the inbound policy show. */
    rs_run_trace_t tr = {0};
    rs_kvlist_t tattrs;
    char tname[300];
    rs_kvlist_init_refs(&tattrs);
    if (sc->tracer && parent[0]) {
        snprintf(tname, sizeof tname, "pubsub/%s", d->topic);
        rs_kvlist_add(&tattrs, "messaging.system", "pubsub");
        rs_kvlist_add(&tattrs, "messaging.destination", d->topic);
        rs_kvlist_add(&tattrs, "messaging.destination_kind", "topic");
        rs_kvlist_add(&tattrs, "ripstop.pubsub", s->pubsubname);
        tr = (rs_run_trace_t){.tracer = sc->tracer, .parent = parent, .name = tname, .kind = RS_SPAN_CLIENT,
                              .attrs = &tattrs};
    }
    d->run = rs_run_start_traced(sc->base, pol, &tr, attempt_start, attempt_abort, run_done, d);
    rs_kvlist_free(&tattrs);
    if (pol) rs_policy_release(pol);
    if (!d->run) abort(); /* out of memory */
}

void rs_delivery_cancel_all(rs_delivery_set_t *set) {
    while (set->head) {
        rs_delivery_t *d = set->head;
        if (d->run) rs_run_cancel(d->run);
        d->run = NULL;
        if (d->dlq_pub) rs_publisher_cancel(d->dlq_pub);
        d->dlq_pub = NULL;
        finish(d, 0);
    }
}

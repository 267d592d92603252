/* SPDX-License-Identifier: MIT */
/* The open-loop schedule is a single timer armed for the next due send; when
 * it fires it sends everything whose time has come (catching up if the loop
 * was late) and re-arms. Completions only fill in records. */
#include "tools/ripstop/load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "tools/ripstop/verdict.h"

struct pending {
    rs_load_t *l;
    size_t idx;
    rs_http_call_t *call;
};

struct rs_load {
    struct event_base *base;
    rs_http_client_t *http;
    char *names[RS_LOAD_MAX_TARGETS], *urls[RS_LOAD_MAX_TARGETS];
    int ntargets;
    rs_load_opts_t o;
    int total_per_target;
    int next_seq;          /* next request number to send (to every target) */
    int sending;
    int64_t origin;
    struct event *timer;
    rs_load_record_t *recs;
    size_t nrecs, alloc;
    struct pending **inflight; /* by record index, for cancellation */
    int pending;
};

rs_load_t *rs_load_new(struct event_base *base, rs_http_client_t *http, const rs_load_target_t *targets,
                       int ntargets, const rs_load_opts_t *opts) {
    if (ntargets < 1 || ntargets > RS_LOAD_MAX_TARGETS || !(opts->rate > 0) || opts->rate > 10000 ||
        opts->duration_ms <= 0)
        return NULL;
    rs_load_t *l = rs_xcalloc(1, sizeof *l);
    l->base = base;
    l->http = http;
    l->o = *opts;
    if (l->o.timeout_ms <= 0) l->o.timeout_ms = 30000;
    for (int i = 0; i < ntargets; i++) {
        l->names[i] = rs_strdup(targets[i].name);
        l->urls[i] = rs_strdup(targets[i].url);
    }
    l->ntargets = ntargets;
    long long n = (long long)floor(opts->rate * (double)opts->duration_ms / 1000.0 + 1e-9);
    if (opts->max_requests > 0 && n > opts->max_requests) n = opts->max_requests;
    if (n > 1000000) n = 1000000;
    l->total_per_target = (int)n;
    l->alloc = (size_t)n * (size_t)ntargets;
    l->recs = rs_xcalloc(l->alloc ? l->alloc : 1, sizeof *l->recs);
    l->inflight = rs_xcalloc(l->alloc ? l->alloc : 1, sizeof *l->inflight);
    return l;
}

static void on_done(void *arg, rs_http_response_t *resp) {
    struct pending *p = arg;
    rs_load_t *l = p->l;
    rs_load_record_t *r = &l->recs[p->idx];
    r->done = 1;
    r->latency_ms = rs_now_ms() - l->origin - r->sent_ms;
    if (resp->result == RS_HTTP_OK) {
        r->status = resp->status;
        r->ok = resp->status >= 200 && resp->status < 300;
        const char *oid = rs_kvlist_get_ci(&resp->headers, "X-Order-Id");
        if (oid) snprintf(r->order_id, sizeof r->order_id, "%s", oid);
    } else {
        snprintf(r->error, sizeof r->error, "%s",
                 resp->result == RS_HTTP_ERR_TIMEOUT ? "timeout"
                 : resp->result == RS_HTTP_ERR_CONNECT ? "connect"
                                                       : "transport");
    }
    l->inflight[p->idx] = NULL;
    l->pending--;
    free(p);
}

static int64_t sched_of(const rs_load_t *l, int seq) { return (int64_t)llround((double)seq * 1000.0 / l->o.rate); }

static void arm(rs_load_t *l);

static void tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    rs_load_t *l = arg;
    int64_t rel = rs_now_ms() - l->origin;
    while (l->sending && l->next_seq < l->total_per_target && sched_of(l, l->next_seq) <= rel) {
        for (int t = 0; t < l->ntargets; t++) {
            size_t idx = l->nrecs++;
            rs_load_record_t *r = &l->recs[idx];
            r->target = t;
            r->seq = l->next_seq;
            r->sched_ms = sched_of(l, l->next_seq);
            r->sent_ms = rel;
            r->latency_ms = -1;
            struct pending *p = rs_xcalloc(1, sizeof *p);
            p->l = l;
            p->idx = idx;
            rs_kvlist_t h = {0};
            if (l->o.trace_run) {
                snprintf(r->trace_id, sizeof r->trace_id, "%016llx%08x%08x", (unsigned long long)l->o.trace_run,
                         (unsigned)t, (unsigned)r->seq);
                snprintf(r->span_id, sizeof r->span_id, "%08x%08x", (unsigned)t + 1, (unsigned)r->seq + 1);
                char tp[64];
                snprintf(tp, sizeof tp, "00-%s-%s-01", r->trace_id, r->span_id);
                rs_kvlist_set(&h, "traceparent", tp);
            }
            rs_http_request_t req = {.method = "GET", .url = l->urls[t], .timeout_ms = l->o.timeout_ms,
                                     .max_response = 64 * 1024, .headers = l->o.trace_run ? &h : NULL};
            p->call = rs_http_send(l->http, &req, on_done, p);
            rs_kvlist_free(&h);
            if (!p->call) {
                r->done = 1;
                r->latency_ms = 0;
                snprintf(r->error, sizeof r->error, "send failed");
                free(p);
            } else {
                l->inflight[idx] = p;
                l->pending++;
            }
        }
        l->next_seq++;
    }
    if (l->next_seq >= l->total_per_target) l->sending = 0;
    arm(l);
}

static void arm(rs_load_t *l) {
    if (!l->sending) return;
    int64_t wait = sched_of(l, l->next_seq) - (rs_now_ms() - l->origin);
    if (wait < 0) wait = 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
    evtimer_add(l->timer, &tv);
}

void rs_load_start(rs_load_t *l, int64_t origin_ms) {
    l->origin = origin_ms;
    l->sending = l->total_per_target > 0;
    if (!l->timer) l->timer = evtimer_new(l->base, tick, l);
    arm(l);
}

void rs_load_stop_sending(rs_load_t *l) {
    l->sending = 0;
    if (l->timer) evtimer_del(l->timer);
}

int rs_load_finished(const rs_load_t *l) { return !l->sending && l->pending == 0; }
int rs_load_sending(const rs_load_t *l) { return l->sending; }

const rs_load_record_t *rs_load_records(const rs_load_t *l, size_t *n) {
    *n = l->nrecs;
    return l->recs;
}

int rs_load_ntargets(const rs_load_t *l) { return l->ntargets; }
const char *rs_load_target_name(const rs_load_t *l, int i) { return i >= 0 && i < l->ntargets ? l->names[i] : NULL; }

json_t *rs_load_json(const rs_load_t *l) {
    json_t *targets = json_array(), *recs = json_array();
    for (int i = 0; i < l->ntargets; i++)
        json_array_append_new(targets, json_pack("{s:s, s:s}", "name", l->names[i], "url", l->urls[i]));
    for (size_t i = 0; i < l->nrecs; i++) {
        const rs_load_record_t *r = &l->recs[i];
        json_array_append_new(recs, json_pack("{s:s, s:i, s:I, s:I, s:I, s:i, s:b, s:s, s:s}", "target",
                                              l->names[r->target], "seq", r->seq, "sched_ms", (json_int_t)r->sched_ms,
                                              "sent_ms", (json_int_t)r->sent_ms, "latency_ms",
                                              (json_int_t)r->latency_ms, "status", r->status, "ok", r->ok,
                                              "order_id", r->order_id, "error", r->error));
        if (r->trace_id[0]) json_object_set_new(json_array_get(recs, i), "trace_id", json_string(r->trace_id));
    }
    return json_pack("{s:o, s:o, s:f, s:I}", "targets", targets, "records", recs, "rate", l->o.rate, "timeout_ms",
                     (json_int_t)l->o.timeout_ms);
}

json_t *rs_load_timeline_json(const rs_load_t *l, int64_t now_rel_ms) {
    json_t *out = json_object();
    int64_t secs = now_rel_ms / 1000 + 1;
    if (secs < 1) secs = 1;
    if (secs > 100000) secs = 100000;
    double *lat = rs_xmalloc(sizeof(double) * (l->nrecs + 1));
    for (int t = 0; t < l->ntargets; t++) {
        json_t *arr = json_array();
        size_t i = 0;
        /* Records are in send order, so each second is one contiguous run. */
        for (int64_t s = 0; s < secs; s++) {
            int ok = 0, fail = 0, pend = 0;
            size_t nl = 0;
            for (; i < l->nrecs && l->recs[i].sent_ms < (s + 1) * 1000; i++) {
                const rs_load_record_t *r = &l->recs[i];
                if (r->target != t) continue;
                if (!r->done) pend++;
                else if (r->ok) ok++;
                else fail++;
                if (r->done) lat[nl++] = (double)r->latency_ms;
            }
            json_t *b = json_pack("{s:I, s:i, s:i, s:i}", "t", (json_int_t)s, "ok", ok, "fail", fail, "pending", pend);
            if (nl) {
                json_object_set_new(b, "p50", json_real(rs_percentile(lat, nl, 50)));
                json_object_set_new(b, "p99", json_real(rs_percentile(lat, nl, 99)));
                json_object_set_new(b, "max", json_real(rs_percentile(lat, nl, 100)));
            }
            json_array_append_new(arr, b);
        }
        json_object_set_new(out, l->names[t], arr);
    }
    free(lat);
    return out;
}

void rs_load_free(rs_load_t *l) {
    if (!l) return;
    for (size_t i = 0; i < l->nrecs; i++)
        if (l->inflight[i]) {
            rs_http_cancel(l->inflight[i]->call);
            free(l->inflight[i]);
        }
    if (l->timer) event_free(l->timer);
    for (int i = 0; i < l->ntargets; i++) {
        free(l->names[i]);
        free(l->urls[i]);
    }
    free(l->recs);
    free(l->inflight);
    free(l);
}

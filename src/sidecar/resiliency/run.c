/* SPDX-License-Identifier: MIT */
/* The runner: retry(circuitBreaker(timeout(op))) on libevent timers.
 *
 * Each attempt asks the breaker first (a rejection is permanent and ends the
 * run), arms its own timeout, and starts the op. Whatever ends the attempt
 * (its outcome, or the timeout) reports to the breaker under the generation
 * it was admitted with. The decision to retry or finish is taken from a
 * deferred event, so `done` never runs inside rs_run_start or inside the
 * op's own rs_attempt_done call. */
#include "sidecar/resiliency/run.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "sidecar/resiliency/policy.h"
#include "sidecar/tracing/tracing.h"

struct rs_attempt {
    rs_run_t *run;
    int number;
};

struct rs_run {
    struct event_base *base;
    rs_policy_t *policy; /* a reference, or NULL */
    rs_attempt_start_fn start;
    rs_attempt_abort_fn abort;
    rs_run_done_fn done;
    void *op;
    rs_attempt_t attempt;
    int attempt_open;     /* the op owns the attempt */
    int in_breaker;       /* the attempt was admitted by the breaker and has not reported */
    uint64_t generation;
    int64_t started_ms;
    int64_t retries;
    rs_outcome_t last;
    struct event *timeout_ev; /* per-attempt timeout */
    struct event decide_ev;   /* deferred: look at `last`, then retry or finish (inside: no allocation) */
    struct event *retry_ev;   /* back-off timer */
    /* tracing (rs_run_start_traced): NULL tracer = not traced */
    rs_tracer_t *tracer;
    rs_span_t *span; /* the attempt in flight */
    char *trace_name;
    int trace_kind;
    rs_kvlist_t trace_attrs;
    char trace_parent[56];
};

/* Starts the attempt's span (attempt.number is already the new one). */
static void span_begin(rs_run_t *run) {
    if (!run->tracer) return;
    rs_span_t *s = run->span = rs_span_start(run->tracer, run->trace_parent, run->trace_name, run->trace_kind);
    for (size_t i = 0; s && i < run->trace_attrs.len; i++)
        rs_span_attr(s, run->trace_attrs.items[i].key, run->trace_attrs.items[i].value);
    rs_span_attr_int(s, "ripstop.attempt", run->attempt.number);
}

/* Ends the attempt's span; error NULL = success. */
static void span_finish(rs_run_t *run, const char *error) {
    if (!run->span) return;
    if (error) rs_span_error(run->span, error);
    rs_span_end(run->span);
    run->span = NULL;
}

static void breaker_report(rs_run_t *run, int success) {
    if (!run->in_breaker) return;
    run->in_breaker = 0;
    rs_breaker_after(run->policy->breaker, run->generation, success);
}

static void run_free(rs_run_t *run) {
    span_finish(run, "cancelled");
    free(run->trace_name);
    rs_kvlist_free(&run->trace_attrs);
    if (run->timeout_ev) event_free(run->timeout_ev);
    event_del(&run->decide_ev);
    if (run->retry_ev) event_free(run->retry_ev);
    rs_policy_release(run->policy);
    free(run);
}

static void start_attempt(rs_run_t *run) {
    rs_policy_t *p = run->policy;
    run->attempt.number++;
    span_begin(run);
    if (p && p->breaker) {
        int rc = rs_breaker_before(p->breaker, &run->generation);
        if (rc != 0) {
            span_finish(run, rc == 1 ? "circuit breaker is open" : "too many requests");
            memset(&run->last, 0, sizeof run->last);
            run->last.kind = rc == 1 ? RS_OUTCOME_BREAKER_OPEN : RS_OUTCOME_TOO_MANY;
            run->last.permanent = 1;
            snprintf(run->last.error, sizeof run->last.error, "%s",
                     rc == 1 ? "circuit breaker is open" : "too many requests");
            event_active(&run->decide_ev, 0, 0);
            return;
        }
        run->in_breaker = 1;
    }
    run->attempt_open = 1;
    if (p && p->timeout_ms > 0) {
        struct timeval tv = {p->timeout_ms / 1000, (p->timeout_ms % 1000) * 1000};
        evtimer_add(run->timeout_ev, &tv);
    }
    run->start(&run->attempt, run->op);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    rs_run_t *run = arg;
    (void)fd;
    (void)what;
    if (!run->attempt_open) return;
    run->attempt_open = 0;
    if (run->abort) run->abort(&run->attempt, run->op);
    breaker_report(run, 0);
    memset(&run->last, 0, sizeof run->last);
    run->last.kind = RS_OUTCOME_TIMEOUT;
    snprintf(run->last.error, sizeof run->last.error, "context deadline exceeded");
    span_finish(run, run->last.error);
    rs_policy_note_activation(run->policy, "timeout", "");
    event_active(&run->decide_ev, 0, 0);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    start_attempt(arg);
}

static void finish(rs_run_t *run) {
    rs_run_done_fn done = run->done;
    void *op = run->op;
    rs_outcome_t final = run->last;
    run_free(run);
    done(op, &final);
}

static void on_decide(evutil_socket_t fd, short what, void *arg) {
    rs_run_t *run = arg;
    (void)fd;
    (void)what;
    rs_policy_t *p = run->policy;
    const rs_outcome_t *o = &run->last;
    if (o->kind == RS_OUTCOME_OK || !p || !p->has_retry || o->permanent || o->kind == RS_OUTCOME_BREAKER_OPEN ||
        o->kind == RS_OUTCOME_TOO_MANY) {
        finish(run);
        return;
    }
    if (o->kind == RS_OUTCOME_ERROR && !rs_retry_status_retriable(&p->retry, o->status)) {
        finish(run); /* `matching` says this code is permanent */
        return;
    }
    int64_t elapsed = rs_clock_now(p->clock) - run->started_ms;
    int64_t wait = rs_retry_next_delay(&p->retry, run->retries, elapsed, p->rand());
    if (wait < 0) {
        finish(run);
        return;
    }
    run->retries++;
    rs_policy_note_activation(p, "retry", "");
    RS_DEBUG("resiliency", "retry %lld for %s in %lldms after: %s", (long long)run->retries, p->target,
             (long long)wait, o->error);
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    evtimer_add(run->retry_ev, &tv);
}

rs_run_t *rs_run_start(struct event_base *base, struct rs_policy *policy, rs_attempt_start_fn start,
                       rs_attempt_abort_fn abort_fn, rs_run_done_fn done, void *op) {
    return rs_run_start_traced(base, policy, NULL, start, abort_fn, done, op);
}

rs_run_t *rs_run_start_traced(struct event_base *base, struct rs_policy *policy, const rs_run_trace_t *trace,
                              rs_attempt_start_fn start, rs_attempt_abort_fn abort_fn, rs_run_done_fn done, void *op) {
    rs_run_t *run = rs_xcalloc(1, sizeof *run);
    if (trace && trace->tracer && trace->parent && rs_traceparent_valid(trace->parent)) {
        run->tracer = trace->tracer;
        memcpy(run->trace_parent, trace->parent, 56);
        run->trace_name = rs_strdup(trace->name ? trace->name : "");
        run->trace_kind = trace->kind;
        if (trace->attrs) rs_kvlist_copy(&run->trace_attrs, trace->attrs);
    }
    run->base = base;
    run->start = start;
    run->abort = abort_fn;
    run->done = done;
    run->op = op;
    run->attempt.run = run;
    /* Timers only for the kinds the policy has: most calls run with no policy at all. */
    event_assign(&run->decide_ev, base, -1, 0, on_decide, run);
    if (policy && policy->timeout_ms > 0) run->timeout_ev = evtimer_new(base, on_timeout, run);
    if (policy && policy->has_retry) run->retry_ev = evtimer_new(base, on_retry_timer, run);
    if ((policy && policy->timeout_ms > 0 && !run->timeout_ev) ||
        (policy && policy->has_retry && !run->retry_ev)) {
        run_free(run);
        return NULL;
    }
    if (policy) {
        rs_policy_ref(policy);
        run->policy = policy;
        run->started_ms = rs_clock_now(policy->clock);
        rs_policy_note_applied(policy);
    }
    start_attempt(run);
    return run;
}

void rs_attempt_done(rs_attempt_t *a, const rs_outcome_t *outcome) {
    rs_run_t *run = a->run;
    if (!run->attempt_open) return;
    run->attempt_open = 0;
    if (run->timeout_ev) evtimer_del(run->timeout_ev);
    breaker_report(run, outcome->kind == RS_OUTCOME_OK);
    span_finish(run, outcome->kind == RS_OUTCOME_OK ? NULL : outcome->error[0] ? outcome->error : "failed");
    run->last = *outcome;
    event_active(&run->decide_ev, 0, 0);
}

void rs_run_cancel(rs_run_t *run) {
    if (!run) return;
    if (run->attempt_open) {
        run->attempt_open = 0;
        if (run->abort) run->abort(&run->attempt, run->op);
    }
    /* gobreaker sees the cancelled context as a failed request; reporting it also frees a half-open slot. */
    breaker_report(run, 0);
    run_free(run);
}

int rs_attempt_number(const rs_attempt_t *a) { return a->number; }

int rs_attempt_traceparent(const rs_attempt_t *a, char out[56]) {
    if (!a->run->span) return 0;
    rs_span_traceparent(a->run->span, out);
    return 1;
}

void rs_outcome_ok(rs_outcome_t *o) { memset(o, 0, sizeof *o); }

void rs_outcome_error(rs_outcome_t *o, int status, int permanent, const char *fmt, ...) {
    memset(o, 0, sizeof *o);
    o->kind = RS_OUTCOME_ERROR;
    o->status = status;
    o->permanent = permanent;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->error, sizeof o->error, fmt, ap);
    va_end(ap);
}

/* SPDX-License-Identifier: MIT */
/* Running one operation under a resiliency policy, without blocking.
 *
 * Dapr composes retry(circuitBreaker(timeout(op))): every attempt gets its own
 * timeout, passes through the breaker, and is retried by the retry policy on
 * a timer. The caller describes the operation by two callbacks:
 *
 *   start(attempt, op)  starts one attempt; the op later calls
 *                       rs_attempt_done(attempt, &outcome) exactly once. It
 *                       may do so before start returns.
 *   abort(attempt, op)  the attempt timed out or the run was cancelled: the op
 *                       must stop using `attempt` (e.g. mark its in-flight I/O
 *                       orphaned so a late reply is dropped) and must not call
 *                       rs_attempt_done for it. May be NULL if start always
 *                       finishes synchronously.
 *
 * When the run ends, done(op, final) is called once with the last outcome,
 * never from inside rs_run_start. rs_run_cancel (the caller hung up) aborts
 * the attempt in flight and ends the run without calling done. */
#ifndef RS_SIDECAR_RESILIENCY_RUN_H
#define RS_SIDECAR_RESILIENCY_RUN_H

#include <event2/event.h>
#include <stdint.h>

#include "core/str.h"

struct rs_policy;

typedef struct rs_run rs_run_t;
typedef struct rs_attempt rs_attempt_t;

typedef enum {
    RS_OUTCOME_OK = 0,
    RS_OUTCOME_ERROR,        /* failed; retriable unless `permanent` or the status is not matched */
    RS_OUTCOME_TIMEOUT,      /* set by the runner: the attempt's timeout fired */
    RS_OUTCOME_BREAKER_OPEN, /* set by the runner: "circuit breaker is open" */
    RS_OUTCOME_TOO_MANY,     /* set by the runner: half-open "too many requests" */
} rs_outcome_kind_t;

typedef struct {
    rs_outcome_kind_t kind;
    int status;      /* status code carried by the error (HTTP 100-599 or gRPC 0-16), 0 if none; used by `matching` */
    int permanent;   /* never retry this error (e.g. an etag mismatch) */
    char error[RS_ERR_MAX]; /* message, e.g. "context deadline exceeded" */
} rs_outcome_t;

typedef void (*rs_attempt_start_fn)(rs_attempt_t *a, void *op);
typedef void (*rs_attempt_abort_fn)(rs_attempt_t *a, void *op);
typedef void (*rs_run_done_fn)(void *op, const rs_outcome_t *final);

/** Starts a run. `policy` may be NULL (one attempt, no timeout). The run takes its own reference to the policy.
 *  Returns NULL only when libevent cannot create the policy's timers (done is not called then). */
rs_run_t *rs_run_start(struct event_base *base, struct rs_policy *policy, rs_attempt_start_fn start,
                       rs_attempt_abort_fn abort, rs_run_done_fn done, void *op);
/** Tracing for a run: every attempt becomes its own span (so each retry is visible), a child of `parent`, named
 *  `name`, of `kind` (tracing.h's rs_span_kind_t), with `attrs` and ripstop.attempt = its number; a failed,
 *  timed-out, refused or cancelled attempt ends with an error status. A run without a valid, sampled parent is
 *  not traced. Everything is copied at rs_run_start_traced. */
typedef struct {
    struct rs_tracer *tracer; /* NULL = not traced */
    const char *parent;       /* W3C traceparent */
    const char *name;
    int kind;
    const rs_kvlist_t *attrs; /* may be NULL */
} rs_run_trace_t;

/** rs_run_start with tracing (trace may be NULL). */
rs_run_t *rs_run_start_traced(struct event_base *base, struct rs_policy *policy, const rs_run_trace_t *trace,
                              rs_attempt_start_fn start, rs_attempt_abort_fn abort, rs_run_done_fn done, void *op);
/** Writes the traceparent of the attempt's span into out and returns 1, or returns 0 when it has none (the caller
 *  then propagates the context as without tracing). */
int rs_attempt_traceparent(const rs_attempt_t *a, char out[56]);
/** Ends the run now without calling done; aborts the attempt in flight. */
void rs_run_cancel(rs_run_t *run);
/** Reports the outcome of an attempt. */
void rs_attempt_done(rs_attempt_t *a, const rs_outcome_t *outcome);
/** 1 for the first attempt, 2 for the first retry, ... */
int rs_attempt_number(const rs_attempt_t *a);

/** Helpers to fill an outcome. */
void rs_outcome_ok(rs_outcome_t *o);
void rs_outcome_error(rs_outcome_t *o, int status, int permanent, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif

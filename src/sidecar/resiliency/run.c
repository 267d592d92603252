/* SPDX-License-Identifier: MIT */
/* Placeholder runner: one attempt, no timeout, no retries, no breaker.
 * The resiliency engine (issue 3) replaces this file with the real
 * retry(breaker(timeout(op))) composition; the contract in run.h stays. */
#include "sidecar/resiliency/run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rs_attempt {
    rs_run_t *run;
    int number;
};

struct rs_run {
    struct event_base *base;
    rs_attempt_start_fn start;
    rs_attempt_abort_fn abort;
    rs_run_done_fn done;
    void *op;
    rs_attempt_t attempt;
    int attempt_open;
    rs_outcome_t final;
    struct event *finish_ev;
};

static void on_finish(evutil_socket_t fd, short what, void *arg) {
    rs_run_t *run = arg;
    (void)fd;
    (void)what;
    rs_run_done_fn done = run->done;
    void *op = run->op;
    rs_outcome_t final = run->final;
    event_free(run->finish_ev);
    free(run);
    done(op, &final);
}

rs_run_t *rs_run_start(struct event_base *base, struct rs_policy *policy, rs_attempt_start_fn start,
                       rs_attempt_abort_fn abort_fn, rs_run_done_fn done, void *op) {
    (void)policy;
    rs_run_t *run = calloc(1, sizeof *run);
    if (!run) return NULL;
    run->base = base;
    run->start = start;
    run->abort = abort_fn;
    run->done = done;
    run->op = op;
    run->finish_ev = event_new(base, -1, 0, on_finish, run);
    run->attempt.run = run;
    run->attempt.number = 1;
    run->attempt_open = 1;
    start(&run->attempt, op);
    return run;
}

void rs_attempt_done(rs_attempt_t *a, const rs_outcome_t *outcome) {
    rs_run_t *run = a->run;
    if (!run->attempt_open) return;
    run->attempt_open = 0;
    run->final = *outcome;
    event_active(run->finish_ev, 0, 0);
}

void rs_run_cancel(rs_run_t *run) {
    if (run->attempt_open && run->abort) run->abort(&run->attempt, run->op);
    event_free(run->finish_ev);
    free(run);
}

int rs_attempt_number(const rs_attempt_t *a) { return a->number; }

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

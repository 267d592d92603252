/* SPDX-License-Identifier: MIT */
/* The runner on a real event loop with a scripted op: retry(breaker(timeout(op))) composition,
 * matching, per-attempt timeouts, breaker rejections ending retries, cancellation. Waits are 0-1ms
 * (constant retries) and a 20ms attempt timeout, so no test sleeps. */
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>

#include "sidecar/resiliency/policy.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"
#include "test.h"

#define HANG (-1) /* the attempt never answers */
#define OK 0

typedef struct {
    struct event_base *base;
    const int *script; /* per attempt: OK, HANG, or an HTTP status error; 1000+n = permanent error n */
    int nscript;
    int attempts, aborts, dones;
    int in_start;
    int done_inside_start;
    rs_outcome_t final;
    rs_run_t *run;
    int cancel_after; /* cancel the run when this many attempts have started (0 = never) */
    struct event *cancel_ev;
} op_t;

static void op_start(rs_attempt_t *a, void *arg) {
    op_t *op = arg;
    int step = op->attempts < op->nscript ? op->script[op->attempts] : OK;
    op->attempts++;
    ASSERT_EQ(rs_attempt_number(a), op->attempts);
    if (op->cancel_after && op->attempts == op->cancel_after) event_active(op->cancel_ev, 0, 0);
    if (step == HANG) return;
    rs_outcome_t o;
    if (step == OK) rs_outcome_ok(&o);
    else if (step >= 1000) rs_outcome_error(&o, step - 1000, 1, "permanent %d", step - 1000);
    else rs_outcome_error(&o, step, 0, "status %d", step);
    op->in_start = 1;
    rs_attempt_done(a, &o); /* synchronously, which the contract allows */
    op->in_start = 0;
}

static void op_abort(rs_attempt_t *a, void *arg) {
    (void)a;
    ((op_t *)arg)->aborts++;
}

static void op_done(void *arg, const rs_outcome_t *final) {
    op_t *op = arg;
    if (op->in_start) op->done_inside_start = 1;
    op->dones++;
    op->final = *final;
    op->run = NULL;
}

static void on_cancel(evutil_socket_t fd, short what, void *arg) {
    op_t *op = arg;
    (void)fd;
    (void)what;
    if (op->run) rs_run_cancel(op->run);
    op->run = NULL;
}

static rs_resiliency_t *provider(const char *json) {
    rs_resources_t res = {0};
    rs_resource_doc_t d = {.name = "r", .file = "r.yaml", .line = 1};
    d.doc = json_loads(json, 0, NULL);
    res.resiliencies = &d;
    res.nresiliencies = 1;
    char err[300];
    rs_resiliency_t *r = rs_resiliency_new(NULL, &res, "me", err, sizeof err);
    if (!r) printf("  %s\n", err);
    json_decref(d.doc);
    return r;
}

static void run_op(op_t *op, rs_policy_t *p) {
    op->base = event_base_new();
    op->cancel_ev = event_new(op->base, -1, 0, on_cancel, op);
    op->run = rs_run_start(op->base, p, op_start, op_abort, op_done, op);
    int guard = 0;
    while ((op->run || op->dones == 0) && guard++ < 100000) {
        if (op->dones == 0 && !op->run) break; /* cancelled */
        event_base_loop(op->base, EVLOOP_ONCE);
    }
    event_free(op->cancel_ev);
    event_base_free(op->base);
}

#define POLICIES                                                                                                     \
    "{\"spec\":{\"policies\":{\"timeouts\":{\"short\":20},"                                                          \
    "\"retries\":{\"three\":{\"duration\":0,\"maxRetries\":3},\"forever\":{\"duration\":1},"                         \
    "\"only503\":{\"duration\":0,\"maxRetries\":5,\"matching\":{\"httpStatusCodes\":\"503\"}}},"                     \
    "\"circuitBreakers\":{\"cb\":{\"trip\":\"consecutiveFailures > 1\",\"timeout\":\"1h\"}}},"                      \
    "\"targets\":{\"apps\":{\"retry\":{\"retry\":\"three\"},\"match\":{\"retry\":\"only503\"},"                      \
    "\"timeout\":{\"retry\":\"three\",\"timeout\":\"short\"},\"timeoutonly\":{\"timeout\":\"short\"},"               \
    "\"breaker\":{\"retry\":\"forever\",\"circuitBreaker\":\"cb\"},\"forever\":{\"retry\":\"forever\"}}}}}"

TEST(no_policy_one_attempt_done_deferred) {
    static const int script[] = {500};
    op_t op = {.script = script, .nscript = 1};
    run_op(&op, NULL);
    ASSERT_EQ(op.attempts, 1);
    ASSERT_EQ(op.dones, 1);
    ASSERT_EQ(op.done_inside_start, 0);
    ASSERT_EQ(op.final.kind, RS_OUTCOME_ERROR);
    ASSERT_EQ(op.final.status, 500);
}

TEST(retry_then_success) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "retry", "m");
    static const int script[] = {500, 404, OK};
    op_t op = {.script = script, .nscript = 3};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 3); /* no matching: 4xx is retried too */
    ASSERT_EQ(op.final.kind, RS_OUTCOME_OK);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(retries_exhausted_gives_last_outcome) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "retry", "m");
    static const int script[] = {500, 501, 502, 503, 504, 505};
    op_t op = {.script = script, .nscript = 6};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 4); /* maxRetries 3 = 4 attempts */
    ASSERT_EQ(op.final.status, 503);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(matching_stops_on_unlisted_code_and_permanent_errors) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "match", "m");
    static const int script[] = {503, 503, 404, OK};
    op_t op = {.script = script, .nscript = 4};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 3);
    ASSERT_EQ(op.final.status, 404);
    rs_policy_release(p);
    p = rs_resiliency_app_policy(r, "retry", "m");
    static const int script2[] = {1409, OK};
    op_t op2 = {.script = script2, .nscript = 2};
    run_op(&op2, p);
    ASSERT_EQ(op2.attempts, 1);
    ASSERT_EQ(op2.final.status, 409);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(timeout_is_per_attempt) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "timeout", "m");
    static const int script[] = {HANG, HANG, OK};
    op_t op = {.script = script, .nscript = 3};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 3);
    ASSERT_EQ(op.aborts, 2);
    ASSERT_EQ(op.final.kind, RS_OUTCOME_OK);
    rs_policy_release(p);
    p = rs_resiliency_app_policy(r, "timeoutonly", "m");
    static const int script2[] = {HANG};
    op_t op2 = {.script = script2, .nscript = 1};
    run_op(&op2, p);
    ASSERT_EQ(op2.attempts, 1);
    ASSERT_EQ(op2.aborts, 1);
    ASSERT_EQ(op2.final.kind, RS_OUTCOME_TIMEOUT);
    ASSERT_STREQ(op2.final.error, "context deadline exceeded");
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(breaker_rejection_ends_retry_forever) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "breaker", "m");
    static const int script[] = {500, 500, 500, 500, 500, 500};
    op_t op = {.script = script, .nscript = 6};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 2); /* trips after 2 failures; the 3rd attempt is rejected, which is permanent */
    ASSERT_EQ(op.final.kind, RS_OUTCOME_BREAKER_OPEN);
    ASSERT_STREQ(op.final.error, "circuit breaker is open");
    rs_policy_release(p);
    /* the same app+method is now rejected at once; another method has its own breaker */
    p = rs_resiliency_app_policy(r, "breaker", "m");
    op_t op2 = {.script = script, .nscript = 6};
    run_op(&op2, p);
    ASSERT_EQ(op2.attempts, 0);
    ASSERT_EQ(op2.final.kind, RS_OUTCOME_BREAKER_OPEN);
    rs_policy_release(p);
    p = rs_resiliency_app_policy(r, "breaker", "other");
    static const int ok[] = {OK};
    op_t op3 = {.script = ok, .nscript = 1};
    run_op(&op3, p);
    ASSERT_EQ(op3.final.kind, RS_OUTCOME_OK);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(cancel_stops_retry_forever_without_done) {
    rs_resiliency_t *r = provider(POLICIES);
    rs_policy_t *p = rs_resiliency_app_policy(r, "forever", "m");
    static const int script[] = {500, 500, 500, 500, HANG};
    op_t op = {.script = script, .nscript = 5, .cancel_after = 5};
    run_op(&op, p);
    ASSERT_EQ(op.attempts, 5);
    ASSERT_EQ(op.dones, 0);
    ASSERT_EQ(op.aborts, 1); /* the hanging attempt was aborted */
    rs_policy_release(p);
    rs_resiliency_free(r);
}

int main(void) {
    RUN(no_policy_one_attempt_done_deferred);
    RUN(retry_then_success);
    RUN(retries_exhausted_gives_last_outcome);
    RUN(matching_stops_on_unlisted_code_and_permanent_errors);
    RUN(timeout_is_per_attempt);
    RUN(breaker_rejection_ends_retry_forever);
    RUN(cancel_stops_retry_forever_without_done);
    return TEST_SUMMARY();
}

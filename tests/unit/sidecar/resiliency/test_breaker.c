/* SPDX-License-Identifier: MIT */
/* The gobreaker state machine on a manual clock (spec §1.5). */
#include <jansson.h>

#include "sidecar/resiliency/breaker.h"
#include "test.h"

static int transitions;
static rs_cb_state_t last_from, last_to;

static void on_tr(void *arg, rs_breaker_t *b, rs_cb_state_t from, rs_cb_state_t to) {
    (void)arg;
    (void)b;
    transitions++;
    last_from = from;
    last_to = to;
}

static rs_breaker_t *make(const char *json, rs_clock_t *clk) {
    json_t *j = json_loads(json, 0, NULL);
    rs_breaker_spec_t spec;
    char err[200];
    int rc = rs_breaker_spec_parse(j, &spec, err, sizeof err);
    json_decref(j);
    if (rc != 0) return NULL;
    rs_breaker_t *b = rs_breaker_new(&spec, "app_b:m", "cb1", clk, on_tr, NULL);
    rs_breaker_spec_free(&spec);
    transitions = 0;
    return b;
}

static void fail(rs_breaker_t *b) {
    uint64_t g;
    if (rs_breaker_before(b, &g) == 0) rs_breaker_after(b, g, 0);
}

TEST(trips_after_consecutive_failures_then_half_open_then_closed) {
    rs_clock_t clk;
    rs_clock_manual_init(&clk, 1000);
    rs_breaker_t *b = make("{\"maxRequests\":1,\"timeout\":\"30s\",\"trip\":\"consecutiveFailures >= 3\"}", &clk);
    ASSERT_TRUE(b != NULL);
    uint64_t g;
    fail(b);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_CLOSED);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    ASSERT_EQ(transitions, 1);
    ASSERT_EQ(last_to, RS_CB_OPEN);
    ASSERT_EQ(rs_breaker_before(b, &g), 1); /* circuit breaker is open */
    rs_clock_advance(&clk, 30000);
    ASSERT_EQ(rs_breaker_before(b, &g), 1); /* expiry is exclusive: now must be after it */
    rs_clock_advance(&clk, 1);
    ASSERT_EQ(rs_breaker_before(b, &g), 0);
    ASSERT_EQ(last_to, RS_CB_HALF_OPEN);
    uint64_t g2;
    ASSERT_EQ(rs_breaker_before(b, &g2), 2); /* too many requests: maxRequests 1 is cumulative */
    rs_breaker_after(b, g, 1);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_CLOSED);
    ASSERT_EQ(transitions, 3);
    ASSERT_EQ(last_from, RS_CB_HALF_OPEN);
    rs_breaker_unref(b);
}

TEST(half_open_failure_reopens) {
    rs_clock_t clk;
    rs_clock_manual_init(&clk, 0);
    rs_breaker_t *b = make("{\"maxRequests\":2,\"timeout\":\"1s\",\"trip\":\"consecutiveFailures > 0\"}", &clk);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_clock_advance(&clk, 1001);
    uint64_t g1, g2, g3;
    ASSERT_EQ(rs_breaker_before(b, &g1), 0);
    ASSERT_EQ(rs_breaker_before(b, &g2), 0);
    ASSERT_EQ(rs_breaker_before(b, &g3), 2);
    rs_breaker_after(b, g1, 1);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_HALF_OPEN); /* needs 2 consecutive successes */
    rs_breaker_after(b, g2, 0);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_breaker_unref(b);
}

TEST(stale_generation_is_ignored) {
    rs_clock_t clk;
    rs_clock_manual_init(&clk, 0);
    rs_breaker_t *b = make("{\"timeout\":\"1s\",\"trip\":\"consecutiveFailures > 1\"}", &clk);
    uint64_t slow;
    ASSERT_EQ(rs_breaker_before(b, &slow), 0);
    fail(b);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_clock_advance(&clk, 1001);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_HALF_OPEN);
    rs_breaker_after(b, slow, 1); /* from the closed generation: must not close the half-open breaker */
    ASSERT_EQ(rs_breaker_state(b), RS_CB_HALF_OPEN);
    ASSERT_EQ(rs_breaker_counts(b).total_successes, 0);
    rs_breaker_unref(b);
}

TEST(interval_clears_counts_while_closed) {
    rs_clock_t clk;
    rs_clock_manual_init(&clk, 0);
    rs_breaker_t *b = make("{\"interval\":\"10s\",\"trip\":\"totalFailures >= 3\"}", &clk);
    fail(b);
    fail(b);
    ASSERT_EQ(rs_breaker_counts(b).total_failures, 2);
    rs_clock_advance(&clk, 10001);
    fail(b); /* counts were cleared first */
    ASSERT_EQ(rs_breaker_counts(b).total_failures, 1);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_CLOSED);
    fail(b);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_breaker_unref(b);
}

TEST(defaults_and_bad_trip) {
    rs_clock_t clk;
    rs_clock_manual_init(&clk, 0);
    rs_breaker_t *b = make("{}", &clk); /* trip consecutiveFailures > 5, timeout 60s, maxRequests 1 */
    for (int i = 0; i < 5; i++) fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_CLOSED);
    fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_clock_advance(&clk, 59999);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_OPEN);
    rs_clock_advance(&clk, 2);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_HALF_OPEN);
    rs_breaker_unref(b);
    /* a trip that errors at run time (division by zero) never trips */
    b = make("{\"trip\":\"totalFailures / totalSuccesses > 1\"}", &clk);
    for (int i = 0; i < 20; i++) fail(b);
    ASSERT_EQ(rs_breaker_state(b), RS_CB_CLOSED);
    rs_breaker_unref(b);
    /* a trip that does not compile is a load error */
    ASSERT_TRUE(make("{\"trip\":\"consecutiveFailures >\"}", &clk) == NULL);
    ASSERT_TRUE(make("{\"maxRequests\":\"x\"}", &clk) == NULL);
    ASSERT_TRUE(make("{\"timeout\":\"soon\"}", &clk) == NULL);
}

int main(void) {
    RUN(trips_after_consecutive_failures_then_half_open_then_closed);
    RUN(half_open_failure_reopens);
    RUN(stale_generation_is_ignored);
    RUN(interval_clears_counts_while_closed);
    RUN(defaults_and_bad_trip);
    return TEST_SUMMARY();
}

/* SPDX-License-Identifier: MIT */
/* Retry schedules, jitter bounds and `matching` syntax (spec §1.2), with no clock and no sleeps. */
#include <jansson.h>

#include "sidecar/resiliency/retry.h"
#include "test.h"

static int parse(const char *json, rs_retry_spec_t *s, char *err, size_t errlen) {
    json_t *j = json_loads(json, 0, NULL);
    int rc = rs_retry_spec_parse(j, s, err, errlen);
    json_decref(j);
    return rc;
}

TEST(defaults) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{}", &s, err, sizeof err), 0);
    ASSERT_EQ(s.kind, RS_RETRY_CONSTANT);
    ASSERT_EQ(s.duration_ms, 5000);
    ASSERT_EQ(s.max_interval_ms, 60000);
    ASSERT_EQ(s.max_retries, -1); /* omitted = forever */
    ASSERT_EQ(rs_retry_next_delay(&s, 1000000, 0, 0.5), 5000);
}

TEST(constant_schedule_and_max_retries) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{\"policy\":\"constant\",\"duration\":\"2s\",\"maxRetries\":3}", &s, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) ASSERT_EQ(rs_retry_next_delay(&s, i, i * 2000, 0.9), 2000);
    ASSERT_EQ(rs_retry_next_delay(&s, 3, 6000, 0.9), -1);
    /* integers as strings, bare integer durations are milliseconds */
    ASSERT_EQ(parse("{\"duration\":250,\"maxRetries\":\"0\"}", &s, err, sizeof err), 0);
    ASSERT_EQ(s.duration_ms, 250);
    ASSERT_EQ(rs_retry_next_delay(&s, 0, 0, 0.5), -1); /* maxRetries 0 = no retries */
    ASSERT_EQ(parse("{\"duration\":\"300\"}", &s, err, sizeof err), 0);
    ASSERT_EQ(s.duration_ms, 300);
}

TEST(exponential_schedule_jitter_bounds) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{\"policy\":\"exponential\",\"maxInterval\":\"3s\"}", &s, err, sizeof err), 0);
    /* nominal intervals: 500, 750, 1125, 1687.5, 2531.25, then capped at 3000 */
    const double nominal[] = {500, 750, 1125, 1687.5, 2531.25, 3000, 3000, 3000};
    for (int n = 0; n < 8; n++) {
        int64_t lo = rs_retry_next_delay(&s, n, 0, 0.0);
        int64_t mid = rs_retry_next_delay(&s, n, 0, 0.5);
        int64_t hi = rs_retry_next_delay(&s, n, 0, 0.999999);
        ASSERT_NEAR(lo, nominal[n] * 0.5, 1);
        ASSERT_NEAR(mid, nominal[n], 1);
        ASSERT_NEAR(hi, nominal[n] * 1.5, 1);
    }
    /* the jitter is applied after the cap: waits stay within [1.5s, 4.5s] once capped */
    for (int i = 0; i < 100; i++) {
        int64_t w = rs_retry_next_delay(&s, 20 + i, 0, i / 100.0);
        ASSERT_TRUE(w >= 1500 && w <= 4500);
    }
}

TEST(exponential_stops_after_15_minutes_even_when_unlimited) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{\"policy\":\"exponential\",\"maxInterval\":\"10s\",\"maxRetries\":-1}", &s, err, sizeof err), 0);
    ASSERT_EQ(s.max_retries, -1);
    ASSERT_TRUE(rs_retry_next_delay(&s, 100, 14 * 60 * 1000, 0.5) > 0);
    ASSERT_EQ(rs_retry_next_delay(&s, 100, 15 * 60 * 1000 - 5000, 0.5), -1); /* elapsed + 10s > 15min */
    ASSERT_EQ(rs_retry_next_delay(&s, 100, 15 * 60 * 1000 + 1, 0.0), -1);
    /* simulate: the total schedule of an unlimited exponential retry ends near 15 minutes */
    int64_t elapsed = 0, n = 0;
    for (;;) {
        int64_t w = rs_retry_next_delay(&s, n, elapsed, 0.5);
        if (w < 0) break;
        elapsed += w;
        n++;
        ASSERT_TRUE(n < 1000);
    }
    ASSERT_TRUE(elapsed <= RS_RETRY_EXP_MAX_ELAPSED_MS);
    ASSERT_TRUE(elapsed > RS_RETRY_EXP_MAX_ELAPSED_MS - 10000);
}

TEST(matching_syntax) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"429,500-503,,\",\"gRPCStatusCodes\":\"1-4,14\"}}", &s, err,
                    sizeof err),
              0);
    ASSERT_EQ(rs_retry_status_retriable(&s, 429), 1);
    ASSERT_EQ(rs_retry_status_retriable(&s, 500), 1);
    ASSERT_EQ(rs_retry_status_retriable(&s, 503), 1);
    ASSERT_EQ(rs_retry_status_retriable(&s, 504), 0);
    ASSERT_EQ(rs_retry_status_retriable(&s, 404), 0);
    ASSERT_EQ(rs_retry_status_retriable(&s, 14), 1);
    ASSERT_EQ(rs_retry_status_retriable(&s, 5), 0);
    ASSERT_EQ(rs_retry_status_retriable(&s, 0), 1); /* errors without a code are always retried */
    /* spaces are not trimmed: the whole document is invalid */
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"500, 502\"}}", &s, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "500, 502") != NULL);
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"503-500\"}}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"99\"}}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"600\"}}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"matching\":{\"gRPCStatusCodes\":\"17\"}}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"5xx\"}}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"matching\":{\"httpStatusCodes\":\"-500\"}}", &s, err, sizeof err), -1);
    /* an unset list retries every code */
    ASSERT_EQ(parse("{\"matching\":{\"gRPCStatusCodes\":\"14\"}}", &s, err, sizeof err), 0);
    ASSERT_EQ(rs_retry_status_retriable(&s, 404), 1);
    ASSERT_EQ(rs_retry_status_retriable(&s, 2), 0);
}

TEST(bad_fields) {
    rs_retry_spec_t s;
    char err[200];
    ASSERT_EQ(parse("{\"policy\":\"linear\"}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"duration\":\"5 s\"}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"maxRetries\":\"many\"}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("{\"maxRetries\":-2}", &s, err, sizeof err), -1);
    ASSERT_EQ(parse("[]", &s, err, sizeof err), -1);
}

int main(void) {
    RUN(defaults);
    RUN(constant_schedule_and_max_retries);
    RUN(exponential_schedule_jitter_bounds);
    RUN(exponential_stops_after_15_minutes_even_when_unlimited);
    RUN(matching_syntax);
    RUN(bad_fields);
    return TEST_SUMMARY();
}

/* SPDX-License-Identifier: MIT */
/* The demo verdict (src/tools/ripstop/verdict.c) as the pure function it is: recordings built here, the
 * judgement checked check by check, including recordings that must fail and corrupt inputs. */
#include <jansson.h>
#include <string.h>

#include "test.h"
#include "tools/ripstop/verdict.h"

/* One load record: target, sent at ms, ok or not, with an order id (or none when oid is NULL). */
static json_t *rec(const char *target, double sent_ms, int ok, const char *oid) {
    json_t *r = json_pack("{s:s, s:f, s:f, s:b}", "target", target, "sent_ms", sent_ms, "latency_ms", 10.0 + sent_ms / 100,
                          "ok", ok);
    if (oid) json_object_set_new(r, "order_id", json_string(oid));
    return r;
}

/* A recording that passes every check: both frontends send 10 requests inside the chaos window [1000, 2000);
 * dapr's all succeed, direct's only 2; orders o1..o4 of customers 1 and 2 reached the broker; the lock variant
 * counted them exactly, the no-lock one twice for customer 1. */
static json_t *passing(void) {
    json_t *records = json_array();
    for (int i = 0; i < 10; i++) {
        char oid[16];
        snprintf(oid, sizeof oid, "o%d", i % 4 + 1);
        json_array_append_new(records, rec("dapr", 1000 + i * 50, 1, oid));
        json_array_append_new(records, rec("direct", 1000 + i * 50, i < 2, NULL));
    }
    json_array_append_new(records, rec("dapr", 5000, 0, NULL)); /* outside the window */
    json_t *load = json_pack("{s:o, s:[{s:s}, {s:s}]}", "records", records, "targets", "name", "dapr", "name", "direct");
    json_t *published = json_pack("[{s:s, s:i, s:f}, {s:s, s:i, s:f}, {s:s, s:i, s:f}, {s:s, s:i, s:f}]",
                                  "orderId", "o1", "customerId", 1, "orderTotal", 10.4, "orderId", "o2", "customerId",
                                  1, "orderTotal", 20.0, "orderId", "o3", "customerId", 2, "orderTotal", 5.0,
                                  "orderId", "o4", "customerId", 2, "orderTotal", 7.0);
    json_t *loyalty = json_pack("{s:{s:{s:i, s:i}, s:{s:i, s:i}}, s:{s:{s:i, s:i}, s:{s:i, s:i}}}", "lock", "1",
                                "orderCount", 2, "loyaltyPoints", 30, "2", "orderCount", 2, "loyaltyPoints", 12,
                                "nolock", "1", "orderCount", 4, "loyaltyPoints", 60, "2", "orderCount", 2,
                                "loyaltyPoints", 12);
    return json_pack("{s:o, s:[{s:s, s:s, s:i, s:i}], s:o, s:o, s:b}", "load", load, "windows", "name", "slow",
                     "kind", "chaos", "start_ms", 1000, "end_ms", 2000, "published", published, "loyalty", loyalty,
                     "drained", 1);
}

/* The check called name in verdict v (NULL when there is none). */
static const json_t *check(const json_t *v, const char *name) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "checks"), i, c) if (strcmp(json_string_value(json_object_get(c, "name")),
                                                                       name) == 0) return c;
    return NULL;
}

static int passed(const json_t *v, const char *name) {
    const json_t *c = check(v, name);
    return c && json_is_true(json_object_get(c, "pass"));
}

static const char *detail(const json_t *v, const char *name) {
    const json_t *c = check(v, name);
    return c ? json_string_value(json_object_get(c, "detail")) : "(no such check)";
}

static long long get_int(const json_t *o, const char *path) {
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    const json_t *cur = o;
    for (char *tok = strtok(key, "."); tok && cur; tok = strtok(NULL, ".")) cur = json_object_get(cur, tok);
    return json_is_number(cur) ? (long long)json_number_value(cur) : -999;
}

TEST(percentile_is_nearest_rank) {
    double v[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    ASSERT_NEAR(rs_percentile(v, 10, 50), 5, 1e-9);
    ASSERT_NEAR(rs_percentile(v, 10, 90), 9, 1e-9);
    ASSERT_NEAR(rs_percentile(v, 10, 99), 10, 1e-9);
    ASSERT_NEAR(rs_percentile(v, 10, 100), 10, 1e-9);
    ASSERT_NEAR(rs_percentile(v, 10, 0), 1, 1e-9);
    ASSERT_NEAR(rs_percentile(v, 0, 50), 0, 1e-9);
    double one = 42;
    ASSERT_NEAR(rs_percentile(&one, 1, 1), 42, 1e-9);
}

TEST(a_good_run_passes_every_check) {
    json_t *r = passing(), *v = rs_verdict_compute(r);
    const char *names[] = {"dapr-survives-chaos", "dapr-beats-direct", "orders-published", "lock-exact",
                           "lock-no-lost-orders", "nolock-overcount-shown", "drained"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!passed(v, names[i])) TEST_FAIL_AT("%s failed: %s", names[i], detail(v, names[i]));
    ASSERT_TRUE(json_is_true(json_object_get(v, "pass")));
    ASSERT_EQ(json_array_size(json_object_get(v, "checks")), 7);
    ASSERT_EQ(get_int(v, "frontends.dapr.sent"), 11);
    ASSERT_EQ(get_int(v, "frontends.dapr.failed"), 1);
    ASSERT_EQ(get_int(v, "frontends.dapr.chaos_window.sent"), 10);
    ASSERT_EQ(get_int(v, "frontends.direct.chaos_window.succeeded"), 2);
    ASSERT_EQ(get_int(v, "published.distinct_orders"), 4);
    ASSERT_EQ(get_int(v, "published.duplicate_messages"), 0);
    ASSERT_EQ(get_int(v, "loyalty.lock.expected_points"), 42); /* 10.4 rounds to 10 */
    ASSERT_EQ(get_int(v, "loyalty.nolock.overcount"), 2);
    ASSERT_EQ(get_int(v, "lost.lock"), 0);
    json_decref(v);
    json_decref(r);
}

TEST(dapr_failing_in_the_window_fails) {
    json_t *r = passing();
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(json_object_get(r, "load"), "records"), i, x) {
        if (i % 4 == 0) json_object_set_new(x, "ok", json_false()); /* half of dapr's requests fail */
    }
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(!passed(v, "dapr-survives-chaos"));
    ASSERT_TRUE(strstr(detail(v, "dapr-survives-chaos"), "50.0% of 10") != NULL);
    ASSERT_TRUE(json_is_false(json_object_get(v, "pass")));
    json_decref(v);
    /* the same, with a threshold the run meets */
    json_object_set_new(r, "criteria", json_pack("{s:f, s:f}", "min_dapr_chaos_success", 0.5, "min_success_gap", 0.1));
    v = rs_verdict_compute(r);
    ASSERT_TRUE(passed(v, "dapr-survives-chaos"));
    ASSERT_TRUE(passed(v, "dapr-beats-direct"));
    json_decref(v);
    json_decref(r);
}

TEST(too_few_requests_in_the_window_fail) {
    json_t *r = passing();
    json_object_set_new(r, "criteria", json_pack("{s:i}", "min_chaos_requests", 11));
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(!passed(v, "dapr-survives-chaos"));
    ASSERT_TRUE(!passed(v, "dapr-beats-direct"));
    ASSERT_TRUE(strstr(detail(v, "dapr-survives-chaos"), "too few requests") != NULL);
    json_decref(v);
    json_decref(r);
}

TEST(chaos_window_chosen_by_name) {
    json_t *r = passing();
    json_array_insert_new(json_object_get(r, "windows"), 0,
                          json_pack("{s:s, s:s, s:i, s:i}", "name", "early", "kind", "chaos", "start_ms", 0, "end_ms",
                                    10));
    json_t *v = rs_verdict_compute(r); /* the first chaos window is "early": nothing was sent in it */
    ASSERT_TRUE(!passed(v, "dapr-survives-chaos"));
    json_decref(v);
    json_object_set_new(r, "criteria", json_pack("{s:s}", "chaos_window", "slow"));
    v = rs_verdict_compute(r);
    ASSERT_TRUE(passed(v, "dapr-survives-chaos"));
    ASSERT_EQ(get_int(v, "chaos_window.start_ms"), 1000);
    json_decref(v);
    json_decref(r);
}

TEST(missing_inputs_fail_and_say_what) {
    json_t *r = json_object(), *v = rs_verdict_compute(r);
    ASSERT_TRUE(json_is_false(json_object_get(v, "pass")));
    ASSERT_TRUE(strstr(detail(v, "dapr-survives-chaos"), "missing input: load records") != NULL);
    ASSERT_TRUE(strstr(detail(v, "orders-published"), "missing input") != NULL);
    ASSERT_TRUE(strstr(detail(v, "lock-exact"), "missing input") != NULL);
    ASSERT_TRUE(strstr(detail(v, "nolock-overcount-shown"), "missing input") != NULL);
    ASSERT_TRUE(!passed(v, "lock-no-lost-orders"));
    ASSERT_TRUE(check(v, "drained") == NULL); /* optional */
    json_decref(v);
    json_decref(r);
    /* everything but the windows */
    r = passing();
    json_object_del(r, "windows");
    v = rs_verdict_compute(r);
    ASSERT_TRUE(strstr(detail(v, "dapr-survives-chaos"), "a chaos window") != NULL);
    json_decref(v);
    json_decref(r);
}

TEST(duplicates_count_once_and_lost_orders_are_found) {
    json_t *r = passing();
    json_t *pub = json_object_get(r, "published");
    json_array_append_new(pub, json_pack("{s:s, s:i, s:f}", "orderId", "o1", "customerId", 1, "orderTotal", 10.4));
    json_array_append_new(pub, json_pack("{s:s, s:i, s:f}", "orderId", "o1", "customerId", 1, "orderTotal", 10.4));
    json_array_append_new(pub, json_pack("{s:i, s:f}", "customerId", 3, "orderTotal", 1.0)); /* no order id */
    /* answered with success, never published */
    json_array_append_new(json_object_get(json_object_get(r, "load"), "records"), rec("dapr", 1500, 1, "o99"));
    json_t *v = rs_verdict_compute(r);
    ASSERT_EQ(get_int(v, "published.messages"), 7);
    ASSERT_EQ(get_int(v, "published.distinct_orders"), 5);
    ASSERT_EQ(get_int(v, "published.duplicate_messages"), 2);
    ASSERT_EQ(get_int(v, "published.duplicated_orders"), 1);
    ASSERT_EQ(get_int(v, "published.without_order_id"), 1);
    ASSERT_EQ(get_int(v, "lost.answered_not_published"), 1);
    ASSERT_TRUE(!passed(v, "orders-published"));
    /* customer 3 was published but never counted: the lock variant is not exact and lost one more */
    ASSERT_TRUE(!passed(v, "lock-exact"));
    ASSERT_EQ(get_int(v, "lost.lock"), 2);
    ASSERT_TRUE(!passed(v, "lock-no-lost-orders"));
    ASSERT_TRUE(json_is_false(json_object_get(v, "pass")));
    json_decref(v);
    json_decref(r);
}

TEST(corrupt_state_is_clamped_and_odd_keys_ignored) {
    json_t *r = passing();
    json_t *lock = json_object_get(json_object_get(r, "loyalty"), "lock");
    json_object_set_new(json_object_get(lock, "1"), "orderCount", json_real(1e300));
    json_object_set_new(lock, "abc", json_pack("{s:i}", "orderCount", 5));
    json_object_set_new(lock, "12x", json_pack("{s:i}", "orderCount", 5));
    json_object_set_new(lock, "", json_pack("{s:i}", "orderCount", 5));
    json_object_set_new(lock, "7", json_pack("{s:s}", "orderCount", "lots")); /* not a number: counts as 0 */
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(!passed(v, "lock-exact"));
    /* rows: customers 1, 2 (published) and 7 (only in the state); the bad keys are no customers */
    const json_t *rows = json_object_get(json_object_get(json_object_get(v, "loyalty"), "lock"), "customers");
    ASSERT_EQ(json_array_size(rows), 3);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(rows, 2), "customerId")), 7);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(rows, 2), "actual_count")), 0);
    json_decref(v);
    json_decref(r);
}

TEST(drained_false_fails) {
    json_t *r = passing();
    json_object_set_new(r, "drained", json_false());
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(!passed(v, "drained"));
    ASSERT_TRUE(json_is_false(json_object_get(v, "pass")));
    json_decref(v);
    json_decref(r);
}

/* compare_frontends false: no dapr-beats-direct check, and only the Dapr frontend needs requests in the window. */
TEST(compare_frontends_false_judges_dapr_alone) {
    json_t *r = passing();
    json_object_set_new(r, "criteria", json_pack("{s:b}", "compare_frontends", 0));
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(check(v, "dapr-beats-direct") == NULL);
    ASSERT_TRUE(passed(v, "dapr-survives-chaos"));
    ASSERT_TRUE(json_is_true(json_object_get(v, "pass")));
    json_decref(v);
    json_decref(r);
}

/* breaker_cycle: open (2) seen, then closed (0) after it; open and never closed fails; never open fails. */
TEST(breaker_must_open_and_close_again) {
    static const struct {
        int vals[5];
        int pass;
        const char *says;
    } cases[] = {{{0, 2, 2, 1, 0}, 1, "opened at 1.0 s and closed at 4.0 s"},
                 {{0, 0, 2, 2, 1}, 0, "never closed"},
                 {{0, 1, 0, 0, 0}, 0, "never seen open"}};
    for (size_t k = 0; k < 3; k++) {
        json_t *r = passing();
        json_object_set_new(r, "criteria", json_pack("{s:b}", "breaker_cycle", 1));
        json_t *series = json_array();
        for (int i = 0; i < 5; i++)
            json_array_append_new(series, json_pack("{s:i, s:i}", "t_ms", i * 1000, "value", cases[k].vals[i]));
        json_object_set_new(r, "breaker", series);
        json_t *v = rs_verdict_compute(r);
        ASSERT_EQ(passed(v, "breaker-opened-and-closed"), cases[k].pass);
        ASSERT_TRUE(strstr(detail(v, "breaker-opened-and-closed"), cases[k].says) != NULL);
        ASSERT_EQ(json_is_true(json_object_get(v, "pass")), cases[k].pass);
        json_decref(v);
        json_decref(r);
    }
    json_t *r = passing(); /* not asked: no such check */
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(check(v, "breaker-opened-and-closed") == NULL);
    json_decref(v);
    json_decref(r);
}

/* min_retries / min_timeouts / min_redeliveries: sums over the resiliency series. */
TEST(resiliency_minimums_sum_the_series) {
    json_t *r = passing();
    json_object_set_new(r, "criteria", json_pack("{s:i, s:i, s:i}", "min_retries", 5, "min_timeouts", 1,
                                                 "min_redeliveries", 1));
    json_object_set_new(r, "resiliency",
                        json_pack("[{s:i, s:f, s:f, s:f}, {s:i, s:f, s:f, s:f}]", "t_ms", 0, "retries", 2.0,
                                  "timeouts", 1.0, "redeliveries", 0.0, "t_ms", 2000, "retries", 3.0, "timeouts", 0.0,
                                  "redeliveries", 0.0));
    json_t *v = rs_verdict_compute(r);
    ASSERT_TRUE(passed(v, "resiliency-retries"));
    ASSERT_TRUE(passed(v, "resiliency-timeouts"));
    ASSERT_TRUE(!passed(v, "resiliency-redeliveries"));
    ASSERT_TRUE(strstr(detail(v, "resiliency-redeliveries"), "0 messages back for redelivery") != NULL);
    ASSERT_TRUE(json_is_false(json_object_get(v, "pass")));
    json_decref(v);
    json_decref(r);
}

int main(void) {
    RUN(percentile_is_nearest_rank);
    RUN(a_good_run_passes_every_check);
    RUN(dapr_failing_in_the_window_fails);
    RUN(too_few_requests_in_the_window_fail);
    RUN(chaos_window_chosen_by_name);
    RUN(missing_inputs_fail_and_say_what);
    RUN(duplicates_count_once_and_lost_orders_are_found);
    RUN(corrupt_state_is_clamped_and_odd_keys_ignored);
    RUN(drained_false_fails);
    RUN(compare_frontends_false_judges_dapr_alone);
    RUN(breaker_must_open_and_close_again);
    RUN(resiliency_minimums_sum_the_series);
    return TEST_SUMMARY();
}

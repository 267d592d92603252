/* SPDX-License-Identifier: MIT */
/* The demo's trace collector and waterfalls: Zipkin v2 spans grouped by
 * trace (bad spans skipped, the bound counted), a waterfall in tree order
 * under the load request, and the choice of orders to show. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "tools/ripstop/trace_collector.h"
#include "tools/ripstop/trace_view.h"

#define T1 "0000000000000001000000000000002a"
#define T2 "0000000000000001000000000000002b"

/* A Zipkin span (times in us). */
static void span(char *out, size_t n, const char *trace, const char *id, const char *parent, const char *svc,
                 const char *name, long long ts, long long dur, const char *tags) {
    char p[64] = "";
    if (parent) snprintf(p, sizeof p, "\"parentId\":\"%s\",", parent);
    snprintf(out, n,
             "{\"traceId\":\"%s\",\"id\":\"%s\",%s\"name\":\"%s\",\"kind\":\"SERVER\",\"timestamp\":%lld,"
             "\"duration\":%lld,\"localEndpoint\":{\"serviceName\":\"%s\"},\"tags\":{%s}}",
             trace, id, p, name, ts, dur, svc, tags ? tags : "");
}

static rs_traces_t *sample(void) {
    rs_traces_t *t = rs_traces_new(100);
    char a[512], b[512], c[512], d[512], e[512], body[4096];
    /* T1: load root 00000001-00000001 -> frontend server -> two attempts (the first failed) -> callee */
    span(a, sizeof a, T1, "00000000000000a1", "0000000100000001", "frontend-dapr", "CallLocal/o/order",
         1000000100, 9000, NULL);
    span(b, sizeof b, T1, "00000000000000b2", "00000000000000a1", "frontend-dapr", "CallLocal/o/order",
         1000005200, 3000, "\"ripstop.attempt\":\"2\"");
    span(c, sizeof c, T1, "00000000000000b1", "00000000000000a1", "frontend-dapr", "CallLocal/o/order",
         1000000200, 5000, "\"ripstop.attempt\":\"1\",\"error\":\"timeout\"");
    span(d, sizeof d, T1, "00000000000000c1", "00000000000000b2", "customer-order-service", "/v1.0/publish/q/order",
         1000005300, 2000, "\"dapr.status_code\":\"204\"");
    span(e, sizeof e, T2, "00000000000000d1", NULL, "customer-loyalty-job", "/v1.0/state/s", 1000020000, 100, NULL);
    snprintf(body, sizeof body, "[%s,%s,%s,%s,%s,{\"traceId\":\"xyz\",\"id\":\"1\"},42]", a, b, c, d, e);
    char err[128];
    rs_traces_add_zipkin(t, body, strlen(body), err, sizeof err); /* 5 kept: collects_by_trace checks */
    return t;
}

TEST(collects_by_trace) {
    rs_traces_t *t = sample();
    ASSERT_EQ(rs_traces_span_count(t), 5);
    ASSERT_EQ(rs_traces_trace_count(t), 2);
    ASSERT_EQ(json_array_size(rs_traces_get(t, T1)), 4);
    ASSERT_TRUE(rs_traces_get(t, "0000000000000000000000000000ffff") == NULL);
    char err[128];
    ASSERT_EQ(rs_traces_add_zipkin(t, "{\"not\":\"a list\"}", 16, err, sizeof err), -1);
    ASSERT_EQ(rs_traces_add_zipkin(t, "[nope", 5, err, sizeof err), -1);
    rs_traces_free(t);
}

TEST(bound_counts_dropped_spans) {
    rs_traces_t *t = rs_traces_new(2);
    char a[512], body[2048];
    span(a, sizeof a, T1, "00000000000000a1", NULL, "s", "n", 1, 1, NULL);
    snprintf(body, sizeof body, "[%s,%s,%s]", a, a, a);
    char err[64];
    ASSERT_EQ(rs_traces_add_zipkin(t, body, strlen(body), err, sizeof err), 2);
    ASSERT_EQ(rs_traces_dropped(t), 1);
    rs_traces_free(t);
}

TEST(waterfall_in_tree_order_under_the_load_request) {
    rs_traces_t *t = sample();
    rs_trace_root_t root = {.label = "GET / (frontend-dapr)", .span_id = "0000000100000001", .start_us = 1000000000,
                            .dur_us = 10000};
    json_t *w = rs_trace_waterfall(rs_traces_get(t, T1), &root, 100);
    json_t *rows = json_object_get(w, "rows");
    ASSERT_EQ(json_array_size(rows), 5);
    ASSERT_EQ(json_integer_value(json_object_get(w, "errors")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(w, "retries")), 1);
    ASSERT_NEAR(json_real_value(json_object_get(w, "duration_ms")), 10.0, 1e-9);
    /* root, frontend server, attempt 1 (earlier), attempt 2, the callee under attempt 2 */
    const char *want_svc[] = {"ripstop load", "frontend-dapr", "frontend-dapr", "frontend-dapr", "customer-order-service"};
    int want_depth[] = {0, 1, 2, 2, 3};
    for (int i = 0; i < 5; i++) {
        json_t *r = json_array_get(rows, (size_t)i);
        ASSERT_STREQ(json_string_value(json_object_get(r, "service")), want_svc[i]);
        ASSERT_EQ(json_integer_value(json_object_get(r, "depth")), want_depth[i]);
    }
    json_t *a1 = json_array_get(rows, 2), *a2 = json_array_get(rows, 3), *pub = json_array_get(rows, 4);
    ASSERT_EQ(json_integer_value(json_object_get(a1, "attempt")), 1);
    ASSERT_STREQ(json_string_value(json_object_get(a1, "error")), "timeout");
    ASSERT_EQ(json_integer_value(json_object_get(a2, "attempt")), 2);
    ASSERT_NEAR(json_real_value(json_object_get(pub, "start_ms")), 5.3, 1e-9);
    ASSERT_NEAR(json_real_value(json_object_get(pub, "dur_ms")), 2.0, 1e-9);
    ASSERT_EQ(json_integer_value(json_object_get(pub, "status")), 204);
    json_decref(w);
    /* capped rows are counted */
    w = rs_trace_waterfall(rs_traces_get(t, T1), &root, 2);
    ASSERT_EQ(json_array_size(json_object_get(w, "rows")), 2);
    ASSERT_EQ(json_integer_value(json_object_get(w, "more")), 3);
    json_decref(w);
    /* no root: parentless spans start the tree */
    w = rs_trace_waterfall(rs_traces_get(t, T2), NULL, 10);
    ASSERT_EQ(json_array_size(json_object_get(w, "rows")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(w, "rows"), 0), "depth")), 0);
    json_decref(w);
    rs_traces_free(t);
}

TEST(chooses_straight_and_window_orders) {
    rs_traces_t *t = sample();
    char body[1024], a[512];
    /* a clean order before the window */
    span(a, sizeof a, "00000000000000010000000000000001", "00000000000000e1", "0000000100000002", "frontend-dapr",
         "CallLocal/o/order", 1000000100, 1000, NULL);
    snprintf(body, sizeof body, "[%s]", a);
    char err[64];
    ASSERT_EQ(rs_traces_add_zipkin(t, body, strlen(body), err, sizeof err), 1);
    rs_load_record_t recs[3] = {
        {.target = 0, .seq = 1, .sent_ms = 1000, .latency_ms = 3, .status = 200, .ok = 1, .done = 1,
         .order_id = "o-clean", .trace_id = "00000000000000010000000000000001", .span_id = "0000000100000002"},
        {.target = 0, .seq = 42, .sent_ms = 12000, .latency_ms = 9000, .status = 200, .ok = 1, .done = 1,
         .order_id = "o-retried", .trace_id = T1, .span_id = "0000000100000001"},
        {.target = 1, .seq = 42, .sent_ms = 12000, .latency_ms = 5000, .status = 500, .done = 1,
         .order_id = "d-failed", .trace_id = "0000000000000001000000010000002a", .span_id = "0000000200000001"},
    };
    const char *names[] = {"dapr", "direct"}, *apps[] = {"frontend-dapr", "frontend"};
    json_t *windows = json_pack("[{s:s, s:s, s:i, s:i, s:b}, {s:s, s:s, s:i, s:i, s:b}]", "name", "kafka-latency",
                                "kind", "chaos", "start_ms", 10000, "end_ms", 50000, "happened", 1, "name", "later",
                                "kind", "crash", "start_ms", 60000, "end_ms", 70000, "happened", 1);
    json_t *o = rs_trace_choose(t, recs, 3, names, apps, 0, windows, 1000, NULL);
    json_t *chosen = json_object_get(o, "chosen");
    ASSERT_EQ(json_array_size(chosen), 2); /* nothing was sent in the crash window */
    json_t *c0 = json_array_get(chosen, 0), *c1 = json_array_get(chosen, 1);
    ASSERT_STREQ(json_string_value(json_object_get(c0, "label")), "straight through");
    ASSERT_STREQ(json_string_value(json_object_get(c0, "order_id")), "o-clean");
    ASSERT_STREQ(json_string_value(json_object_get(c1, "label")), "chaos: kafka-latency");
    ASSERT_STREQ(json_string_value(json_object_get(c1, "order_id")), "o-retried");
    json_t *root = json_array_get(json_object_get(json_object_get(c1, "waterfall"), "rows"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(root, "name")), "GET / (frontend-dapr)");
    json_t *slow = json_object_get(o, "slowest");
    ASSERT_EQ(json_array_size(slow), 2); /* the focus target only */
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(slow, 0), "order_id")), "o-retried");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(slow, 0), "retries")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(o, "collector"), "spans")), 6);
    json_decref(o);
    json_decref(windows);
    rs_traces_free(t);
}

TEST(repeated_failures_fold_into_one_row) {
    rs_traces_t *t = rs_traces_new(100);
    char body[8192] = "[", sp[512];
    /* a server span with 5 attempts failing the same way (each with a child), then a good one */
    span(sp, sizeof sp, T1, "0000000000000a00", NULL, "fe", "CallLocal/o/order", 1000, 10000, NULL);
    strcat(body, sp);
    for (int i = 1; i <= 6; i++) {
        char id[17], kid[17], tags[96];
        snprintf(id, sizeof id, "00000000000001%02d", i);
        snprintf(kid, sizeof kid, "00000000000002%02d", i);
        snprintf(tags, sizeof tags, "\"ripstop.attempt\":\"%d\"%s", i, i < 6 ? ",\"error\":\"breaker open\"" : "");
        span(sp, sizeof sp, T1, id, "0000000000000a00", "fe", "CallLocal/o/order", 1000 + i * 1000, 500, tags);
        strcat(body, ",");
        strcat(body, sp);
        span(sp, sizeof sp, T1, kid, id, "o", "CallLocal/o/order", 1100 + i * 1000, 100, NULL);
        strcat(body, ",");
        strcat(body, sp);
    }
    strcat(body, "]");
    char err[64];
    ASSERT_EQ(rs_traces_add_zipkin(t, body, strlen(body), err, sizeof err), 13);
    json_t *w = rs_trace_waterfall(rs_traces_get(t, T1), NULL, 100);
    json_t *rows = json_object_get(w, "rows");
    /* server, folded attempts 1-5, attempt 6, its child */
    ASSERT_EQ(json_array_size(rows), 4);
    json_t *f = json_array_get(rows, 1);
    ASSERT_EQ(json_integer_value(json_object_get(f, "repeat")), 5);
    ASSERT_EQ(json_integer_value(json_object_get(f, "attempt")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(f, "attempt_last")), 5);
    ASSERT_NEAR(json_real_value(json_object_get(f, "dur_ms")), 4.5, 1e-9); /* 2000 .. 6500 us */
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(rows, 2), "attempt")), 6);
    ASSERT_EQ(json_integer_value(json_object_get(w, "more")), 9); /* 5 children + 4 folded attempts */
    ASSERT_EQ(json_integer_value(json_object_get(w, "retries")), 5);
    json_decref(w);
    rs_traces_free(t);
}

/* A span from the sidecar on `port` (ripstopd's localEndpoint.port). */
static void span_at(char *out, size_t n, const char *trace, const char *id, const char *svc, int port, const char *name,
                    long long ts) {
    snprintf(out, n,
             "{\"traceId\":\"%s\",\"id\":\"%s\",\"name\":\"%s\",\"kind\":\"CLIENT\",\"timestamp\":%lld,"
             "\"duration\":2000,\"localEndpoint\":{\"serviceName\":\"%s\",\"ipv4\":\"127.0.0.1\",\"port\":%d}}",
             trace, id, name, ts, svc, port);
}

#define TK "00000000000000010000000000000077"
#define TN "00000000000000010000000000000078"

TEST(the_order_a_killed_replica_was_processing) {
    rs_traces_t *t = rs_traces_new(100);
    char body[4096], s1[400], s2[400], s3[400], s4[400], s5[400], s6[400];
    const char *lj = "customer-loyalty-job";
    /* TK: replica 2 (port 3502) locks and reads just before the kill at 61 s (wall), replica 1 (3501) finishes it
     * 20 s later; TN: replica 2 counted it well before the kill, nobody after */
    span_at(s1, sizeof s1, TK, "00000000000000f1", "frontend-dapr", 3400, "CallLocal/o/order", 60000100);
    span_at(s2, sizeof s2, TK, "00000000000000f2", lj, 3502, "/v1.0-alpha1/lock/l", 60900000);
    span_at(s3, sizeof s3, TK, "00000000000000f3", lj, 3502, "/v1.0/state/s", 60950000);
    span_at(s4, sizeof s4, TK, "00000000000000f4", lj, 3501, "/v1.0/state/s/transaction", 81000000);
    span_at(s5, sizeof s5, TK, "00000000000000f5", lj, 3501, "/v1.0/bindings/b", 81100000);
    span_at(s6, sizeof s6, TN, "00000000000000f6", lj, 3502, "/v1.0/state/s", 40000000);
    snprintf(body, sizeof body, "[%s,%s,%s,%s,%s,%s]", s1, s2, s3, s4, s5, s6);
    char err[64];
    ASSERT_EQ(rs_traces_add_zipkin(t, body, strlen(body), err, sizeof err), 6);
    rs_load_record_t recs[2] = {
        {.target = 0, .seq = 3, .sent_ms = 60500, .latency_ms = 4, .status = 200, .ok = 1, .done = 1,
         .order_id = "o-killed", .trace_id = TK, .span_id = "0000000100000003"},
        {.target = 0, .seq = 1, .sent_ms = 38000, .latency_ms = 4, .status = 200, .ok = 1, .done = 1,
         .order_id = "o-normal", .trace_id = TN, .span_id = "0000000100000004"},
    };
    const char *names[] = {"dapr"}, *apps[] = {"frontend-dapr"};
    json_t *windows = json_pack("[{s:s, s:s, s:i, s:i, s:b}]", "name", "crash", "kind", "crash", "start_ms", 60000,
                                "end_ms", 63000, "happened", 1);
    json_t *instances = json_pack("{s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}}", "3501", "app", lj,
                                  "instance", 1, "replicas", 2, "3502", "app", lj, "instance", 2, "replicas", 2,
                                  "3400", "app", "frontend-dapr", "instance", 1, "replicas", 1);
    json_t *kills = json_pack("[{s:s, s:s, s:i, s:i, s:b, s:i, s:i, s:i}, {s:s, s:s, s:i, s:i, s:b, s:i, s:i, s:i}]",
                              "action", "crash", "app", "customer-order-service", "instance", 1, "replicas", 1,
                              "sidecar", 0, "signal", 9, "port", 3300, "t_ms", 60000, "action", "crash", "app", lj,
                              "instance", 2, "replicas", 2, "sidecar", 0, "signal", 9, "port", 3502, "t_ms", 60000);
    rs_trace_kills_t k = {.instances = instances, .kills = kills, .final = 0};
    json_t *o = rs_trace_choose(t, recs, 2, names, apps, 0, windows, 1000, &k);
    json_t *chosen = json_object_get(o, "chosen");
    ASSERT_EQ(json_array_size(chosen), 2); /* straight through (o-normal), then one pick for the one replica kill */
    json_t *c = json_array_get(chosen, 1);
    ASSERT_STREQ(json_string_value(json_object_get(c, "label")), "crash: customer-loyalty-job#2 replica killed");
    ASSERT_STREQ(json_string_value(json_object_get(c, "order_id")), "o-killed");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(c, "killed"), "instance")), 2);
    ASSERT_TRUE(strstr(json_string_value(json_object_get(c, "why")), "#1 finished it 20.1 s after the kill") != NULL);
    ASSERT_TRUE(strstr(json_string_value(json_object_get(c, "why")), "the last (/v1.0/state/s) started 50 ms") != NULL);
    json_t *wf = json_object_get(c, "waterfall");
    json_t *rows = json_object_get(wf, "rows");
    int killed = 0, by_one = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        int inst = (int)json_integer_value(json_object_get(row, "instance"));
        if (json_is_true(json_object_get(row, "killed"))) {
            ASSERT_EQ(inst, 2);
            killed++;
        }
        if (inst == 1) by_one++;
        if (strcmp(json_string_value(json_object_get(row, "service")), "frontend-dapr") == 0)
            ASSERT_TRUE(json_object_get(row, "instance") == NULL); /* one replica: no number */
    }
    ASSERT_EQ(killed, 2);
    ASSERT_EQ(by_one, 2);
    json_t *mark = json_array_get(json_object_get(wf, "marks"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(mark, "label")), "signal 9 to customer-loyalty-job#2");
    /* the frontend's span at 60.0001 s (wall) starts the waterfall: the kill is ~1 s into it */
    ASSERT_NEAR(json_number_value(json_object_get(mark, "at_ms")), 999.9, 1e-6);
    json_decref(o);

    /* the kill interrupted nothing: said so, no other order shown in its place */
    k.final = 1;
    o = rs_trace_choose(t, recs + 1, 1, names, apps, 0, windows, 1000, &k);
    c = json_array_get(json_object_get(o, "chosen"), 1);
    ASSERT_STREQ(json_string_value(json_object_get(c, "label")), "crash: customer-loyalty-job#2 replica killed");
    ASSERT_TRUE(json_is_true(json_object_get(c, "none")));
    ASSERT_TRUE(json_object_get(c, "waterfall") == NULL);
    ASSERT_TRUE(strstr(json_string_value(json_object_get(c, "why")), "interrupted nothing") != NULL);
    ASSERT_TRUE(strstr(json_string_value(json_object_get(c, "why")), "ended 21.0 s earlier") != NULL);
    json_decref(o);
    json_decref(windows);
    json_decref(instances);
    json_decref(kills);
    rs_traces_free(t);
}

int main(void) {
    RUN(collects_by_trace);
    RUN(bound_counts_dropped_spans);
    RUN(waterfall_in_tree_order_under_the_load_request);
    RUN(chooses_straight_and_window_orders);
    RUN(repeated_failures_fold_into_one_row);
    RUN(the_order_a_killed_replica_was_processing);
    return TEST_SUMMARY();
}

/* SPDX-License-Identifier: MIT */
/* The Prometheus registry: text format, label escaping, histograms, the series cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "sidecar/metrics/metrics.h"
#include "test.h"

TEST(counters_gauges_and_format) {
    rs_metrics_t *m = rs_metrics_new("my\"app");
    const char *l1[] = {"status", "200", NULL};
    rs_metrics_inc(m, "reqs_total", "Requests.", l1, 1);
    rs_metrics_inc(m, "reqs_total", "Requests.", l1, 2);
    const char *l2[] = {"target", "a\\b\nc", NULL};
    rs_metrics_set(m, "state", "State.", l2, 2);
    rs_metrics_set(m, "state", "State.", l2, 1);
    ASSERT_EQ(rs_metrics_value(m, "reqs_total", l1), 3);
    ASSERT_EQ(rs_metrics_value(m, "state", l2), 1);
    ASSERT_EQ(rs_metrics_value(m, "nope", l1), -1);
    size_t len;
    char *text = rs_metrics_render(m, &len);
    ASSERT_TRUE(strstr(text, "# HELP reqs_total Requests.\n# TYPE reqs_total counter\n") != NULL);
    ASSERT_TRUE(strstr(text, "reqs_total{app_id=\"my\\\"app\",status=\"200\"} 3\n") != NULL);
    ASSERT_TRUE(strstr(text, "state{app_id=\"my\\\"app\",target=\"a\\\\b\\nc\"} 1\n") != NULL);
    ASSERT_EQ(strlen(text), len);
    free(text);
    rs_metrics_free(m);
    rs_metrics_inc(NULL, "x", "y", NULL, 1); /* NULL registry is a no-op */
}

/* A label value with bytes that are not UTF-8 (an app id of %FF%FE from a request path) is written with U+FFFD:
 * the exposition format is UTF-8, and one bad label would make a scraper drop the whole page. */
TEST(labels_are_always_utf8) {
    rs_metrics_t *m = rs_metrics_new("a");
    const char *bad[] = {"target", "\xff\xfe", NULL}, *good[] = {"target", "gr\xc3\xbc\xc3\x9f", NULL};
    rs_metrics_inc(m, "calls_total", "Calls.", bad, 1);
    rs_metrics_inc(m, "calls_total", "Calls.", good, 1);
    size_t len;
    char *text = rs_metrics_render(m, &len);
    ASSERT_TRUE(rs_utf8_valid(text, len));
    ASSERT_TRUE(strstr(text, "calls_total{app_id=\"a\",target=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "calls_total{app_id=\"a\",target=\"gr\xc3\xbc\xc3\x9f\"} 1\n") != NULL);
    free(text);
    rs_metrics_free(m);
}

TEST(histogram_buckets) {
    rs_metrics_t *m = rs_metrics_new("a");
    rs_metrics_observe(m, "lat", "Latency.", NULL, 0.3);
    rs_metrics_observe(m, "lat", "Latency.", NULL, 7);
    rs_metrics_observe(m, "lat", "Latency.", NULL, 100000);
    char *text = rs_metrics_render(m, NULL);
    ASSERT_TRUE(strstr(text, "# TYPE lat histogram") != NULL);
    ASSERT_TRUE(strstr(text, "lat_bucket{app_id=\"a\",le=\"0.25\"} 0\n") != NULL);
    ASSERT_TRUE(strstr(text, "lat_bucket{app_id=\"a\",le=\"0.5\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "lat_bucket{app_id=\"a\",le=\"10\"} 2\n") != NULL);
    ASSERT_TRUE(strstr(text, "lat_bucket{app_id=\"a\",le=\"60000\"} 2\n") != NULL);
    ASSERT_TRUE(strstr(text, "lat_bucket{app_id=\"a\",le=\"+Inf\"} 3\n") != NULL);
    ASSERT_TRUE(strstr(text, "lat_count{app_id=\"a\"} 3\n") != NULL);
    free(text);
    rs_metrics_free(m);
}

/* daprd's gRPC server families: count and latency by method and status, byte sizes by method in size buckets. */
TEST(grpc_server_families) {
    rs_metrics_t *m = rs_metrics_new("a");
    rs_metrics_grpc_server(m, "/S/M", "OK", 100, 3000, 1.5);
    rs_metrics_grpc_server(m, "/S/M", "Internal", 10, 0, 0.2);
    size_t len;
    char *text = rs_metrics_render(m, &len);
    ASSERT_TRUE(strstr(text, "dapr_grpc_io_server_completed_rpcs{app_id=\"a\",grpc_server_method=\"/S/M\","
                             "grpc_server_status=\"OK\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "dapr_grpc_io_server_server_latency_count{app_id=\"a\",grpc_server_method=\"/S/M\","
                             "grpc_server_status=\"Internal\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "# TYPE dapr_grpc_io_server_sent_bytes_per_rpc histogram\n") != NULL);
    /* 0 and 3000 bytes: one in the 1 KiB bucket, both by 4 KiB; the sum is the bytes */
    ASSERT_TRUE(strstr(text, "dapr_grpc_io_server_sent_bytes_per_rpc_bucket{app_id=\"a\",grpc_server_method=\"/S/M\","
                             "le=\"1024\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "dapr_grpc_io_server_sent_bytes_per_rpc_bucket{app_id=\"a\",grpc_server_method=\"/S/M\","
                             "le=\"4096\"} 2\n") != NULL);
    ASSERT_TRUE(strstr(text, "dapr_grpc_io_server_received_bytes_per_rpc_sum{app_id=\"a\",grpc_server_method=\"/S/M\"}"
                             " 110\n") != NULL);
    free(text);
    rs_metrics_free(m);
}

/* A view records its families from one set of values; the cache that remembers each (view, values) must give the
 * same figures as rendering every time: distinct values (also ones that collide in the cache's short hash, and ones
 * too long to remember) keep their own series, and escaping still applies. */
static const rs_metrics_view_t test_view = {
    {"method", "status"},
    {{"v_count", "Count.", RS_METRIC_COUNTER, 3},
     {"v_latency", "Latency.", RS_METRIC_HISTOGRAM, 3},
     {"v_sizes", "Sizes.", RS_METRIC_SIZES, 1},
     {"v_gauge", "Gauge.", RS_METRIC_GAUGE, 0}},
};

TEST(views_remember_series_by_value) {
    rs_metrics_t *m = rs_metrics_new("a");
    char long_method[300];
    memset(long_method, 'x', sizeof long_method - 1);
    long_method[sizeof long_method - 1] = '\0';
    /* same length, same first and last 8 bytes: only the middle differs */
    const char *methods[] = {"GET", "POST", "abcdefgh1ijklmnop", "abcdefgh2ijklmnop", long_method, "q\"uote"};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
            char st[8], buf[8];
            snprintf(st, sizeof st, "%d", i == 3 ? 200 : 200 + (int)i % 2); /* 2 and 3: same status */
            memcpy(buf, st, sizeof st); /* a fresh buffer each call: matched by content, not address */
            const char *values[] = {methods[i], buf};
            const double obs[] = {1, 2.0, 3000, (double)round};
            rs_metrics_record(m, &test_view, values, obs);
        }
    const char *l1[] = {"method", "abcdefgh1ijklmnop", "status", "200", NULL};
    const char *l2[] = {"method", "abcdefgh2ijklmnop", "status", "200", NULL};
    const char *l3[] = {"method", long_method, "status", "200", NULL};
    const char *l4[] = {"method", "POST", "status", "201", NULL};
    ASSERT_EQ(rs_metrics_value(m, "v_count", l1), 3);
    ASSERT_EQ(rs_metrics_value(m, "v_count", l2), 3);
    ASSERT_EQ(rs_metrics_value(m, "v_count", l3), 3);
    ASSERT_EQ(rs_metrics_value(m, "v_count", l4), 3);
    ASSERT_EQ(rs_metrics_value(m, "v_gauge", NULL), 2);
    char *text = rs_metrics_render(m, NULL);
    ASSERT_TRUE(strstr(text, "v_count{app_id=\"a\",method=\"q\\\"uote\",status=\"201\"} 3\n") != NULL);
    ASSERT_TRUE(strstr(text, "v_latency_count{app_id=\"a\",method=\"GET\",status=\"200\"} 3\n") != NULL);
    ASSERT_TRUE(strstr(text, "v_sizes_bucket{app_id=\"a\",method=\"POST\",le=\"4096\"} 3\n") != NULL);
    ASSERT_TRUE(strstr(text, "v_sizes_bucket{app_id=\"a\",method=\"POST\",le=\"2048\"} 0\n") != NULL);
    free(text);
    rs_metrics_free(m);
    rs_metrics_record(NULL, &test_view, NULL, NULL); /* NULL registry is a no-op */
}

TEST(series_per_family_are_capped) {
    rs_metrics_t *m = rs_metrics_new("a");
    char id[32];
    for (int i = 0; i < 10050; i++) {
        snprintf(id, sizeof id, "app%d", i);
        const char *l[] = {"destination_app_id", id, NULL};
        rs_metrics_inc(m, "sent_total", "Sent.", l, 1);
    }
    const char *first[] = {"destination_app_id", "app0", NULL};
    const char *last[] = {"destination_app_id", "app10049", NULL};
    ASSERT_EQ(rs_metrics_value(m, "sent_total", first), 1);
    ASSERT_EQ(rs_metrics_value(m, "sent_total", last), -1);
    rs_metrics_free(m);
}

int main(void) {
    RUN(counters_gauges_and_format);
    RUN(histogram_buckets);
    RUN(labels_are_always_utf8);
    RUN(series_per_family_are_capped);
    RUN(grpc_server_families);
    RUN(views_remember_series_by_value);
    return TEST_SUMMARY();
}

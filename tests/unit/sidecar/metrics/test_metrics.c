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
    return TEST_SUMMARY();
}

/* Tracing (src/sidecar/tracing/): spec.tracing parsing, daprd's parent-based
 * ratio sampling, the bounded export queue and the two JSON encodings. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "sidecar/tracing/tracer_private.h"
#include "test.h"

static json_t *doc(const char *yaml_as_json) { return rs_json_parse(yaml_as_json, strlen(yaml_as_json), NULL, 0); }

TEST(config_parse) {
    rs_tracing_config_t c;
    char why[256];
    json_t *d = doc("{\"spec\":{}}");
    ASSERT_EQ(rs_tracing_config_parse(d, &c, why, sizeof why), 0);
    ASSERT_TRUE(c.sampling_rate == 0);
    ASSERT_TRUE(rs_tracer_new(NULL, NULL, &c, "a", NULL) == NULL); /* tracing off: no tracer at all */
    json_decref(d);
    d = doc("{\"spec\":{\"tracing\":{\"samplingRate\":\"0.5\",\"stdout\":true,"
            "\"zipkin\":{\"endpointAddress\":\"http://127.0.0.1:9411/api/v2/spans\"},"
            "\"otel\":{\"endpointAddress\":\"127.0.0.1:4318\",\"isSecure\":false,\"protocol\":\"http\"}}}}");
    ASSERT_EQ(rs_tracing_config_parse(d, &c, why, sizeof why), 0);
    ASSERT_TRUE(c.sampling_rate == 0.5);
    ASSERT_TRUE(c.to_stdout);
    ASSERT_STREQ(c.zipkin_url, "http://127.0.0.1:9411/api/v2/spans");
    ASSERT_STREQ(c.otel_url, "http://127.0.0.1:4318/v1/traces");
    rs_tracing_config_free(&c);
    json_decref(d);
    d = doc("{\"spec\":{\"tracing\":{\"samplingRate\":\"x\",\"otel\":{\"endpointAddress\":\"h:1\",\"protocol\":\"grpc\"}}}}");
    ASSERT_EQ(rs_tracing_config_parse(d, &c, why, sizeof why), -1);
    ASSERT_TRUE(strstr(why, "grpc") != NULL);
    json_decref(d);
}

/* A loop and a client for the tracers of one test (the loop never runs: nothing is sent). */
static struct event_base *base;
static rs_http_client_t *http;

static rs_tracer_t *tracer(double rate, size_t queue) {
    if (!base) {
        base = event_base_new();
        http = rs_http_client_new(base);
    }
    rs_tracing_config_t c = {.sampling_rate = rate, .zipkin_url = "http://127.0.0.1:1/api/v2/spans",
                             .queue_max = queue, .flush_ms = 60000};
    return rs_tracer_new(base, http, &c, "svc", NULL);
}

TEST(sampling_is_parent_based) {
    rs_tracer_t *t = tracer(1, 16);
    rs_span_t *s = rs_span_start(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "x", RS_SPAN_SERVER);
    ASSERT_TRUE(s == NULL); /* unsampled parent: no span even at rate 1 */
    s = rs_span_start(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x", RS_SPAN_SERVER);
    ASSERT_TRUE(s != NULL);
    ASSERT_STREQ(s->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ASSERT_STREQ(s->parent_id, "00f067aa0ba902b7");
    char tp[56];
    rs_span_traceparent(s, tp);
    ASSERT_TRUE(strncmp(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36) == 0 && strcmp(tp + 52, "-01") == 0);
    rs_span_end(s);
    rs_tracer_free(t);
    /* a tiny rate samples few roots, but a sampled parent always */
    t = tracer(0.001, 4096);
    int sampled = 0;
    for (int i = 0; i < 4000; i++) {
        rs_span_t *r = rs_span_start(t, NULL, "root", RS_SPAN_SERVER);
        if (r) sampled++;
        rs_span_end(r);
    }
    ASSERT_TRUE(sampled < 40);
    s = rs_span_start(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x", RS_SPAN_CLIENT);
    ASSERT_TRUE(s != NULL);
    rs_span_end(s);
    rs_tracer_free(t);
}

TEST(full_queue_drops_and_counts) {
    rs_tracer_t *t = tracer(1, 4);
    for (int i = 0; i < 10; i++) rs_span_end(rs_span_start(t, NULL, "s", RS_SPAN_INTERNAL));
    ASSERT_EQ(t->len, 4);
    ASSERT_EQ(rs_tracer_dropped(t), 6);
    rs_tracer_free(t);
}

TEST(encodings) {
    rs_tracer_t *t = tracer(1, 4);
    rs_span_t *s = rs_span_start(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "n", RS_SPAN_CLIENT);
    rs_span_attr(s, "db.system", "state");
    rs_span_attr_int(s, "ripstop.attempt", 2);
    rs_span_error(s, "boom");
    s->start_us = 1700000000000000;
    s->end_us = 1700000000000250;
    json_t *z = rs_tracing_zipkin_(t, &s, 1);
    json_t *z0 = json_array_get(z, 0);
    ASSERT_STREQ(rs_json_str(z0, "kind"), "CLIENT");
    ASSERT_STREQ(rs_json_str(z0, "parentId"), "00f067aa0ba902b7");
    ASSERT_EQ(json_integer_value(json_object_get(z0, "duration")), 250);
    ASSERT_STREQ(rs_json_str(json_object_get(z0, "tags"), "error"), "boom");
    ASSERT_STREQ(rs_json_str(json_object_get(z0, "tags"), "ripstop.attempt"), "2");
    ASSERT_STREQ(rs_json_str(json_object_get(z0, "localEndpoint"), "serviceName"), "svc");
    ASSERT_TRUE(json_object_get(json_object_get(z0, "localEndpoint"), "port") == NULL);
    json_decref(z);
    /* the sidecar's address tells replicas apart; what is not an IPv4 literal or a port is left out */
    rs_tracer_set_endpoint(t, "127.0.0.1", 3500);
    z = rs_tracing_zipkin_(t, &s, 1);
    json_t *ep = json_object_get(json_array_get(z, 0), "localEndpoint");
    ASSERT_STREQ(rs_json_str(ep, "ipv4"), "127.0.0.1");
    ASSERT_EQ(json_integer_value(json_object_get(ep, "port")), 3500);
    json_decref(z);
    rs_tracer_set_endpoint(t, "::1", 70000);
    z = rs_tracing_zipkin_(t, &s, 1);
    ep = json_object_get(json_array_get(z, 0), "localEndpoint");
    ASSERT_TRUE(json_object_get(ep, "ipv4") == NULL && json_object_get(ep, "port") == NULL);
    json_decref(z);
    json_t *o = rs_tracing_otlp_(t, &s, 1);
    json_t *sp = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(
                     json_object_get(o, "resourceSpans"), 0), "scopeSpans"), 0), "spans"), 0);
    ASSERT_STREQ(rs_json_str(sp, "startTimeUnixNano"), "1700000000000000000");
    ASSERT_EQ(json_integer_value(json_object_get(sp, "kind")), 3);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(sp, "status"), "code")), 2);
    json_decref(o);
    rs_span_end(s);
    rs_tracer_free(t);
}

int main(void) {
    RUN(config_parse);
    RUN(sampling_is_parent_based);
    RUN(full_queue_drops_and_counts);
    RUN(encodings);
    rs_http_client_free(http);
    event_base_free(base);
    return TEST_SUMMARY();
}

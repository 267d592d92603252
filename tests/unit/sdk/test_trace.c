/* SPDX-License-Identifier: MIT */
/* The SDK's trace context (trace.h): validation, per-thread storage, the app
 * server setting it for a handler and clearing it after, and client calls
 * carrying it (unless the caller passes its own traceparent). */
#include <dapr/dapr.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

#define TP_A "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TP_B "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"

TEST(traceparent_validation) {
    ASSERT_TRUE(dapr_traceparent_valid(TP_A));
    ASSERT_TRUE(dapr_traceparent_valid(TP_B));
    ASSERT_TRUE(!dapr_traceparent_valid(NULL));
    ASSERT_TRUE(!dapr_traceparent_valid(""));
    ASSERT_TRUE(!dapr_traceparent_valid("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01")); /* uppercase */
    ASSERT_TRUE(!dapr_traceparent_valid("00-00000000000000000000000000000000-b7ad6b7169203331-01")); /* zero trace */
    ASSERT_TRUE(!dapr_traceparent_valid("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")); /* zero span */
    ASSERT_TRUE(!dapr_traceparent_valid("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")); /* version */
    ASSERT_TRUE(!dapr_traceparent_valid(TP_A "\r\nX-Evil: 1"));
    ASSERT_TRUE(!dapr_traceparent_valid("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01"));
}

static void *other_thread(void *arg) {
    (void)arg;
    return (void *)dapr_trace_traceparent(); /* NULL: contexts are per thread */
}

TEST(set_get_clear_per_thread) {
    ASSERT_TRUE(dapr_trace_traceparent() == NULL);
    ASSERT_EQ(dapr_trace_context_set(TP_A, "ro=1,dapr=x"), 0);
    ASSERT_STREQ(dapr_trace_traceparent(), TP_A);
    dapr_trace_context_t c;
    dapr_trace_context_get(&c);
    ASSERT_STREQ(c.traceparent, TP_A);
    ASSERT_STREQ(c.tracestate, "ro=1,dapr=x");
    pthread_t t;
    void *seen = (void *)1;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &seen);
    ASSERT_TRUE(seen == NULL);
    /* a tracestate with a line break is left out, the traceparent kept */
    ASSERT_EQ(dapr_trace_context_set(TP_B, "a=1\r\nX-Evil: 1"), 0);
    dapr_trace_context_get(&c);
    ASSERT_STREQ(c.traceparent, TP_B);
    ASSERT_STREQ(c.tracestate, "");
    /* a malformed traceparent clears everything */
    ASSERT_EQ(dapr_trace_context_set("garbage", "a=1"), -1);
    dapr_trace_context_get(&c);
    ASSERT_STREQ(c.traceparent, "");
    ASSERT_STREQ(c.tracestate, "");
    ASSERT_TRUE(dapr_trace_traceparent() == NULL);
}

/* ---- an app whose /hop handler calls /seen on itself, the way a service calls its sidecar ---- */

static dapr_client_t *self_client;

static void on_seen(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    (void)arg;
    const char *tp = dapr_request_header(req, "traceparent"), *ts = dapr_request_header(req, "tracestate");
    dapr_reply_text(rep, 200, "%s|%s", tp ? tp : "-", ts ? ts : "-");
}

static void on_hop(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    (void)arg;
    dapr_response_t r = {0};
    dapr_error_t err;
    dapr_kv_t own = {"traceparent", TP_B};
    int explicit = strcmp(req->query, "own") == 0;
    dapr_client_request(self_client, "GET", "/seen", explicit ? &own : NULL, explicit ? 1 : 0, NULL, 0, &r, &err);
    dapr_reply_set(rep, r.status ? r.status : 500, "text/plain", r.body, r.body_len);
    dapr_response_free(&r);
}

static int hop(dapr_client_t *outside, const char *path, const char *tp, const char *ts, char *out, size_t outlen) {
    dapr_kv_t h[2] = {{"traceparent", tp}, {"tracestate", ts}};
    size_t nh = tp ? (ts ? 2 : 1) : 0;
    dapr_response_t r = {0};
    dapr_error_t err;
    int rc = dapr_client_request(outside, "GET", path, h, nh, NULL, 0, &r, &err);
    snprintf(out, outlen, "%s", r.body ? r.body : "");
    dapr_response_free(&r);
    return rc;
}

TEST(handler_calls_carry_the_request_context) {
    dapr_trace_context_set(NULL, NULL);
    dapr_app_options_t o = {.port = 0, .threads = 2, .api_token = ""}; /* both workers serve a traced request first */
    dapr_error_t err;
    dapr_app_t *app = dapr_app_new(&o, &err);
    ASSERT_TRUE(app != NULL);
    dapr_app_route(app, "GET", "/hop", on_hop, NULL);
    dapr_app_route(app, "GET", "/seen", on_seen, NULL);
    ASSERT_EQ(dapr_app_start(app), 0);
    char url[64], got[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dapr_app_port(app));
    dapr_client_options_t co = {.base_url = url, .timeout_ms = 5000};
    self_client = dapr_client_new(&co);
    dapr_client_t *outside = dapr_client_new(&co);
    /* the test thread has no context: the outside call itself carries only what it passes */
    ASSERT_EQ(hop(outside, "/hop", TP_A, "k=v", got, sizeof got), 0);
    ASSERT_STREQ(got, TP_A "|k=v");
    /* the next request without one finds nothing left over on either worker */
    ASSERT_EQ(hop(outside, "/hop", NULL, NULL, got, sizeof got), 0);
    ASSERT_STREQ(got, "-|-");
    /* a malformed incoming header is not passed on */
    ASSERT_EQ(hop(outside, "/hop", "00-xyz", NULL, got, sizeof got), 0);
    ASSERT_STREQ(got, "-|-");
    /* the handler's own traceparent wins */
    ASSERT_EQ(hop(outside, "/hop?own", TP_A, NULL, got, sizeof got), 0);
    ASSERT_STREQ(got, TP_B "|-");
    dapr_client_free(outside);
    dapr_client_free(self_client);
    dapr_app_free(app);
}

TEST(thread_context_goes_on_every_call) {
    dapr_app_options_t o = {.port = 0, .threads = 2, .api_token = ""};
    dapr_error_t err;
    dapr_app_t *app = dapr_app_new(&o, &err);
    ASSERT_TRUE(app != NULL);
    dapr_app_route(app, "GET", "/seen", on_seen, NULL);
    ASSERT_EQ(dapr_app_start(app), 0);
    char url[64], got[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dapr_app_port(app));
    dapr_client_options_t co = {.base_url = url, .timeout_ms = 5000};
    dapr_client_t *c = dapr_client_new(&co);
    dapr_trace_context_set(TP_A, NULL);
    ASSERT_EQ(hop(c, "/seen", NULL, NULL, got, sizeof got), 0);
    ASSERT_STREQ(got, TP_A "|-");
    dapr_trace_context_set(NULL, NULL);
    ASSERT_EQ(hop(c, "/seen", NULL, NULL, got, sizeof got), 0);
    ASSERT_STREQ(got, "-|-");
    dapr_client_free(c);
    dapr_app_free(app);
}

int main(void) {
    RUN(traceparent_validation);
    RUN(set_get_clear_per_thread);
    RUN(handler_calls_carry_the_request_context);
    RUN(thread_context_goes_on_every_call);
    return TEST_SUMMARY();
}

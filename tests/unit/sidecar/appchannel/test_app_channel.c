/* SPDX-License-Identifier: MIT */
/* The app channel against a real HTTP server on a free loopback port (the
 * project's own server, as the "app"): URL and query, the app token, the
 * outcome per accept mode, the reply cap, a call that cannot start, abort. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/client.h"
#include "http/server.h"
#include "sidecar/appchannel/app_channel.h"
#include "test.h"

static struct event_base *base;
static rs_http_client_t *http;
static int app_port;

/* What the app saw last, and the request it holds unanswered (path /hold). */
static char seen_path[256], seen_query[256], seen_token[128], seen_method[16];
static int app_requests;
static rs_http_req_t *held;

static int app(rs_http_req_t *r, void *ctx) {
    (void)ctx;
    app_requests++;
    snprintf(seen_method, sizeof seen_method, "%s", r->method);
    snprintf(seen_path, sizeof seen_path, "%s", r->raw_path);
    snprintf(seen_query, sizeof seen_query, "%s", r->query ? r->query : "");
    const char *tok = rs_http_req_header(r, "dapr-api-token");
    snprintf(seen_token, sizeof seen_token, "%s", tok ? tok : "");
    if (strcmp(r->path, "/hold") == 0) {
        held = r;
        return 1;
    }
    if (strcmp(r->path, "/big") == 0) {
        static char big[4096];
        memset(big, 'x', sizeof big);
        rs_http_reply(r, 200, NULL, big, sizeof big);
        return 1;
    }
    int status = 200;
    if (strncmp(r->path, "/status/", 8) == 0) status = atoi(r->path + 8);
    rs_http_reply(r, status, NULL, "ok", 2);
    return 1;
}

/* The caller's side of one call. */
static int replies, last_result, last_status, last_kind, last_permanent;
static char last_body[64], last_error[256];

static void on_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    (void)arg;
    replies++;
    last_result = resp->result;
    last_status = resp->status;
    last_kind = o->kind;
    last_permanent = o->permanent;
    snprintf(last_error, sizeof last_error, "%s", o->error);
    snprintf(last_body, sizeof last_body, "%.*s", (int)(resp->body.len < 63 ? resp->body.len : 63),
             resp->body.data ? resp->body.data : "");
}

static void run_until_replies(int want, int ms) {
    int64_t end = rs_now_us() + (int64_t)ms * 1000;
    while (replies < want && rs_now_us() < end) event_base_loop(base, EVLOOP_ONCE);
}

static int call(rs_app_channel_t *ch, rs_app_call_t *c, const char *method, const char *path, const char *query,
                rs_kvlist_t *headers, rs_app_accept_t accept) {
    rs_app_request_t req = {.method = method, .path = path, .query = query, .headers = headers, .accept = accept};
    return rs_app_call(ch, c, &req, on_reply, NULL);
}

/* One call on a fresh call state, waited for. Returns how many replies came (1 when it answered), -1 if it did not
 * start. */
static int call_wait(rs_app_channel_t *ch, const char *method, const char *path, rs_app_accept_t accept) {
    rs_app_call_t c = {0};
    replies = 0;
    if (call(ch, &c, method, path, NULL, NULL, accept) != 0) return -1;
    run_until_replies(1, 3000);
    return replies;
}

TEST(url_query_and_token) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", app_port, "s3cret", 0);
    rs_app_call_t c = {0};
    rs_kvlist_t h = {0};
    rs_kvlist_set(&h, "x-a", "1");
    replies = 0;
    ASSERT_EQ(call(ch, &c, "POST", "orders", "a=1&b=2", &h, RS_APP_ACCEPT_2XX), 0);
    ASSERT_EQ(replies, 0); /* never from inside rs_app_call when it started */
    ASSERT_TRUE(rs_app_call_pending(&c));
    run_until_replies(1, 3000);
    ASSERT_EQ(replies, 1);
    ASSERT_TRUE(!rs_app_call_pending(&c));
    ASSERT_STREQ(seen_method, "POST");
    ASSERT_STREQ(seen_path, "/orders"); /* a '/' put first */
    ASSERT_STREQ(seen_query, "a=1&b=2");
    ASSERT_STREQ(seen_token, "s3cret");
    ASSERT_EQ(last_kind, RS_OUTCOME_OK);
    ASSERT_STREQ(last_body, "ok");
    /* The same list for the next attempt: the token is there once. */
    ASSERT_EQ(call(ch, &c, "POST", "/orders", NULL, &h, RS_APP_ACCEPT_2XX), 0);
    run_until_replies(2, 3000);
    size_t tokens = 0;
    for (size_t i = 0; i < h.len; i++) tokens += strcmp(h.items[i].key, "dapr-api-token") == 0;
    ASSERT_EQ(tokens, 1);
    rs_kvlist_free(&h);
    rs_app_channel_free(ch);
}

TEST(no_token_without_app_api_token) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", app_port, NULL, 0);
    ASSERT_EQ(call_wait(ch, "GET", "/dapr/subscribe", RS_APP_ACCEPT_2XX), 1);
    ASSERT_STREQ(seen_token, "");
    rs_app_channel_free(ch);
}

/* status, accept mode -> outcome kind, status carried */
TEST(outcome_per_accept_mode) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", app_port, NULL, 0);
    struct {
        const char *path;
        rs_app_accept_t accept;
        int ok;
    } cases[] = {{"/status/204", RS_APP_ACCEPT_200, 0},     {"/status/200", RS_APP_ACCEPT_200, 1},
                 {"/status/204", RS_APP_ACCEPT_2XX, 1},     {"/status/302", RS_APP_ACCEPT_2XX, 0},
                 {"/status/302", RS_APP_ACCEPT_2XX_3XX, 1}, {"/status/404", RS_APP_ACCEPT_2XX_3XX, 0},
                 {"/status/500", RS_APP_ACCEPT_2XX_3XX, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_EQ(call_wait(ch, "GET", cases[i].path, cases[i].accept), 1);
        ASSERT_EQ(last_result, RS_HTTP_OK);
        ASSERT_EQ(last_kind, cases[i].ok ? RS_OUTCOME_OK : RS_OUTCOME_ERROR);
        if (!cases[i].ok) {
            ASSERT_EQ(last_permanent, 0); /* retriable, with the status for `matching` */
            ASSERT_TRUE(strstr(last_error, cases[i].path + 8) != NULL);
        }
    }
    rs_app_channel_free(ch);
}

TEST(reply_cap) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", app_port, NULL, 1024);
    ASSERT_EQ(call_wait(ch, "GET", "/big", RS_APP_ACCEPT_2XX), 1);
    ASSERT_EQ(last_result, RS_HTTP_ERR_TOO_LARGE);
    ASSERT_EQ(last_kind, RS_OUTCOME_ERROR);
    rs_app_channel_free(ch);
}

TEST(no_app_answers_at_once) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", 0, NULL, 0);
    ASSERT_TRUE(!rs_app_channel_has_app(ch));
    rs_app_call_t c = {0};
    replies = 0;
    ASSERT_EQ(call(ch, &c, "POST", "/x", NULL, NULL, RS_APP_ACCEPT_2XX), -1);
    ASSERT_EQ(replies, 1); /* before rs_app_call returned */
    ASSERT_EQ(last_result, RS_HTTP_ERR_TRANSPORT);
    ASSERT_EQ(last_kind, RS_OUTCOME_ERROR);
    ASSERT_EQ(last_permanent, 1);
    ASSERT_STREQ(last_error, "app channel is not initialized");
    rs_app_channel_free(ch);
}

TEST(abort_drops_the_reply) {
    rs_app_channel_t *ch = rs_app_channel_new(http, "127.0.0.1", app_port, NULL, 0);
    rs_app_call_t c = {0};
    replies = 0;
    held = NULL;
    int before = app_requests;
    ASSERT_EQ(call(ch, &c, "GET", "/hold", NULL, NULL, RS_APP_ACCEPT_2XX), 0);
    int64_t end = rs_now_us() + 3000 * 1000;
    while (!held && rs_now_us() < end) event_base_loop(base, EVLOOP_ONCE);
    ASSERT_TRUE(held != NULL);
    ASSERT_EQ(app_requests, before + 1);
    rs_app_call_abort(&c);
    ASSERT_TRUE(!rs_app_call_pending(&c));
    rs_app_call_abort(&c); /* idle: nothing happens */
    rs_http_reply(held, 200, NULL, "late", 4);
    held = NULL;
    /* A later call on the channel still works, and the aborted one never answered. */
    ASSERT_EQ(call_wait(ch, "GET", "/status/200", RS_APP_ACCEPT_2XX), 1);
    ASSERT_STREQ(last_body, "ok");
    rs_app_channel_free(ch);
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
}

int main(void) {
    base = event_base_new();
    struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 10000}; /* so EVLOOP_ONCE returns regularly and the waits see their deadlines */
    event_add(t, &tv);
    rs_http_server_t *srv = rs_http_server_new(base, 1 << 20);
    app_port = rs_http_server_listen(srv, "127.0.0.1", 0);
    if (app_port <= 0) return 1;
    rs_http_server_add(srv, app, NULL);
    http = rs_http_client_new(base);
    RUN(url_query_and_token);
    RUN(no_token_without_app_api_token);
    RUN(outcome_per_accept_mode);
    RUN(reply_cap);
    RUN(no_app_answers_at_once);
    RUN(abort_drops_the_reply);
    rs_http_client_free(http);
    rs_http_server_free(srv);
    event_free(t);
    event_base_free(base);
    return TEST_SUMMARY();
}

/* The state API's error mapping, against a scripted in-memory store on a real
 * HTTP server and event loop: every store result code on every route gives
 * Dapr's status and errorCode, synchronous and asynchronous completions both
 * work, a non-transactional store is refused, and a client that hangs up gets
 * its pending store call cancelled. */
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/clock.h"
#include "http/client.h"
#include "http/server.h"
#include "sidecar/components/state/state.h"
#include "sidecar/runtime/sidecar.h"
#include "test.h"

void rs_api_state_register(rs_sidecar_t *sc);

/* ---- a scripted store ---- */

#define NEVER 99 /* the op never calls back (until cancelled) */

static struct {
    int code;          /* rs_state_code_t to answer, or NEVER */
    int async;         /* answer from a timer instead of before returning */
    int found;
    int calls, cancels, txn_ops;
    struct event_base *base;
} fake;

struct rs_state_call {
    rs_state_cb cb;
    void *arg;
    struct event *ev;
};

static void answer(rs_state_cb cb, void *arg) {
    rs_state_result_t res = {.code = (rs_state_code_t)fake.code, .found = fake.found, .data = "{\"v\":1}", .len = 7,
                             .etag = "3"};
    snprintf(res.error, sizeof res.error, "scripted %d", fake.code);
    cb(arg, &res);
}

static void on_timer(evutil_socket_t fd, short what, void *p) {
    rs_state_call_t *call = p;
    event_free(call->ev);
    rs_state_cb cb = call->cb;
    void *arg = call->arg;
    free(call);
    answer(cb, arg);
}

static rs_state_call_t *start_op(rs_state_cb cb, void *arg) {
    fake.calls++;
    if (fake.code != NEVER && !fake.async) {
        answer(cb, arg);
        return NULL;
    }
    rs_state_call_t *call = calloc(1, sizeof *call);
    call->cb = cb;
    call->arg = arg;
    call->ev = evtimer_new(fake.base, on_timer, call);
    struct timeval tv = {0, 1000};
    if (fake.code != NEVER) evtimer_add(call->ev, &tv);
    return call;
}

static rs_state_call_t *f_get(rs_component_t *c, const char *key, rs_state_cb cb, void *arg) { return start_op(cb, arg); }
static rs_state_call_t *f_write(rs_component_t *c, const rs_state_write_t *w, rs_state_cb cb, void *arg) {
    return start_op(cb, arg);
}
static rs_state_call_t *f_txn(rs_component_t *c, const rs_state_write_t *ws, size_t n, rs_state_cb cb, void *arg) {
    fake.txn_ops = (int)n;
    return start_op(cb, arg);
}
static void f_cancel(rs_state_call_t *call) {
    fake.cancels++;
    event_free(call->ev);
    free(call);
}

static const rs_state_ops_t fake_ops = {.get = f_get, .write = f_write, .transact = f_txn, .cancel = f_cancel};
static const rs_state_ops_t plain_ops = {.get = f_get, .write = f_write, .transact = NULL, .cancel = f_cancel};
static const rs_component_type_t fake_type = {.type = "state.fake", .kind = RS_KIND_STATE, .ops = &fake_ops};
static const rs_component_type_t plain_type = {.type = "state.plain", .kind = RS_KIND_STATE, .ops = &plain_ops};

/* ---- a sidecar with just the state API ---- */

static rs_sidecar_t sc;
static rs_http_client_t *client;
static int port;

static void setup(void) {
    static rs_component_t fake_c = {.name = "fake", .version = "v1", .type = &fake_type};
    static rs_component_t plain_c = {.name = "plain", .version = "v1", .type = &plain_type};
    static rs_component_t *comps[] = {&fake_c, &plain_c};
    sc.base = event_base_new();
    fake.base = sc.base;
    sc.cfg.app_id = "app";
    sc.components = comps;
    sc.ncomponents = 2;
    sc.api = rs_http_server_new(sc.base, 1 << 20);
    port = rs_http_server_listen(sc.api, "127.0.0.1", 0);
    rs_api_state_register(&sc);
    client = rs_http_client_new(sc.base);
}

struct resp {
    int done, status;
    rs_http_result_t result;
    char code[64];
    char etag[32];
    char body[512];
};

static void on_resp(void *arg, rs_http_response_t *r) {
    struct resp *out = arg;
    out->done = 1;
    out->result = r->result;
    out->status = r->status;
    const char *e = rs_kvlist_get_ci(&r->headers, "ETag");
    snprintf(out->etag, sizeof out->etag, "%s", e ? e : "");
    snprintf(out->body, sizeof out->body, "%s", r->body.data ? r->body.data : "");
    json_t *j = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    const char *c = j ? json_string_value(json_object_get(j, "errorCode")) : NULL;
    snprintf(out->code, sizeof out->code, "%s", c ? c : "");
    json_decref(j);
}

static struct resp call(const char *method, const char *path, const char *body, int64_t timeout_ms) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    rs_http_request_t req = {.method = method, .url = url, .body = body, .body_len = body ? strlen(body) : 0,
                             .timeout_ms = timeout_ms};
    struct resp out = {0};
    rs_http_send(client, &req, on_resp, &out);
    int64_t end = rs_now_ms() + 5000;
    while (!out.done && rs_now_ms() < end) event_base_loop(sc.base, EVLOOP_ONCE);
    return out;
}

#define EXPECT(method, path, body, code_, async_, want_status, want_code)                                              \
    do {                                                                                                               \
        fake.code = (code_);                                                                                           \
        fake.async = (async_);                                                                                         \
        struct resp r_ = call(method, path, body, 0);                                                                  \
        if (r_.status != (want_status) || strcmp(r_.code, want_code) != 0) {                                           \
            TEST_FAIL_AT("%s %s (store %d, async %d): %d %s, want %d %s", method, path, code_, async_, r_.status,       \
                         r_.code, want_status, want_code);                                                             \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

static const char *SAVE = "[{\"key\":\"k\",\"value\":1,\"etag\":\"2\"}]";
static const char *TXN = "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"a\",\"value\":1}},"
                         "{\"operation\":\"delete\",\"request\":{\"key\":\"b\"}}]}";

TEST(save_mapping) {
    for (int async = 0; async < 2; async++) {
        EXPECT("POST", "/v1.0/state/fake", SAVE, RS_STATE_OK, async, 204, "");
        EXPECT("POST", "/v1.0/state/fake", SAVE, RS_STATE_ETAG_MISMATCH, async, 409, "ERR_STATE_SAVE");
        EXPECT("POST", "/v1.0/state/fake", SAVE, RS_STATE_ETAG_INVALID, async, 400, "ERR_STATE_SAVE");
        EXPECT("POST", "/v1.0/state/fake", SAVE, RS_STATE_FAILED, async, 500, "ERR_STATE_SAVE");
    }
}

TEST(get_and_delete_mapping) {
    for (int async = 0; async < 2; async++) {
        fake.found = 1;
        fake.code = RS_STATE_OK;
        fake.async = async;
        struct resp r = call("GET", "/v1.0/state/fake/k", NULL, 0);
        ASSERT_EQ(r.status, 200);
        ASSERT_STREQ(r.etag, "3");
        ASSERT_STREQ(r.body, "{\"v\":1}");
        fake.found = 0;
        EXPECT("GET", "/v1.0/state/fake/k", NULL, RS_STATE_OK, async, 204, "");
        EXPECT("GET", "/v1.0/state/fake/k", NULL, RS_STATE_FAILED, async, 500, "ERR_STATE_GET");
        EXPECT("DELETE", "/v1.0/state/fake/k", NULL, RS_STATE_OK, async, 204, "");
        EXPECT("DELETE", "/v1.0/state/fake/k", NULL, RS_STATE_ETAG_MISMATCH, async, 409, "ERR_STATE_DELETE");
        EXPECT("DELETE", "/v1.0/state/fake/k", NULL, RS_STATE_FAILED, async, 409, "ERR_STATE_DELETE"); /* Dapr's Redis quirk */
    }
}

TEST(transaction_mapping) {
    for (int async = 0; async < 2; async++) {
        EXPECT("POST", "/v1.0/state/fake/transaction", TXN, RS_STATE_OK, async, 204, "");
        ASSERT_EQ(fake.txn_ops, 2);
        EXPECT("POST", "/v1.0/state/fake/transaction", TXN, RS_STATE_ETAG_MISMATCH, async, 500, "ERR_STATE_TRANSACTION");
        EXPECT("POST", "/v1.0/state/fake/transaction", TXN, RS_STATE_ETAG_INVALID, async, 500, "ERR_STATE_TRANSACTION");
        EXPECT("POST", "/v1.0/state/fake/transaction", TXN, RS_STATE_FAILED, async, 500, "ERR_STATE_TRANSACTION");
    }
    EXPECT("POST", "/v1.0/state/plain/transaction", TXN, RS_STATE_OK, 0, 500, "ERR_STATE_STORE_NOT_SUPPORTED");
}

TEST(bulk_reports_per_key_errors) {
    fake.code = RS_STATE_FAILED;
    fake.async = 1;
    struct resp r = call("POST", "/v1.0/state/fake/bulk", "{\"keys\":[\"a\",\"b\",\"c\"],\"parallelism\":2}", 0);
    ASSERT_EQ(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    ASSERT_EQ(json_array_size(j), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 2), "key")), "c");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(j, 2), "error")), "scripted 3");
    json_decref(j);
}

TEST(bad_input_never_reaches_the_store) {
    int before = fake.calls;
    EXPECT("POST", "/v1.0/state/fake", "[{\"key\":\"k\"},{\"key\":\"a||b\"}]", RS_STATE_OK, 0, 400, "ERR_MALFORMED_REQUEST");
    EXPECT("POST", "/v1.0/state/fake", "nope", RS_STATE_OK, 0, 400, "ERR_MALFORMED_REQUEST");
    EXPECT("POST", "/v1.0/state/fake/transaction", "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"a\"}},"
           "{\"operation\":\"get\"}]}", RS_STATE_OK, 0, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION");
    EXPECT("GET", "/v1.0/state/nosuch/k", NULL, RS_STATE_OK, 0, 400, "ERR_STATE_STORE_NOT_FOUND");
    ASSERT_EQ(fake.calls, before);
}

TEST(hangup_cancels_the_pending_call) {
    int before = fake.cancels;
    fake.code = NEVER;
    struct resp r = call("GET", "/v1.0/state/fake/k", NULL, 100);
    ASSERT_TRUE(r.result == RS_HTTP_ERR_TIMEOUT);
    int64_t end = rs_now_ms() + 3000;
    while (fake.cancels == before && rs_now_ms() < end) event_base_loop(sc.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    ASSERT_EQ(fake.cancels, before + 1);
    /* the server still answers */
    EXPECT("GET", "/v1.0/state/fake/k", NULL, RS_STATE_OK, 0, 204, "");
}

int main(void) {
    setup();
    RUN(save_mapping);
    RUN(get_and_delete_mapping);
    RUN(transaction_mapping);
    RUN(bulk_reports_per_key_errors);
    RUN(bad_input_never_reaches_the_store);
    RUN(hangup_cancels_the_pending_call);
    rs_http_client_free(client);
    rs_http_server_free(sc.api);
    event_base_free(sc.base);
    return TEST_SUMMARY();
}

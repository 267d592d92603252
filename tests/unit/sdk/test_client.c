/* SPDX-License-Identifier: MIT */
/* libdapr client: the requests it sends (paths, headers, JSON bodies), how it
 * reads answers (ETag, 204, Dapr errors, unlock status) and that connections are
 * reused. The "sidecar" is a plain evhttp server on a thread that records the
 * last request and answers with a canned response. */
#include <dapr/dapr.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static struct {
    struct event_base *base;
    struct evhttp *http;
    int port;
    pthread_t th;
    atomic_int connections;
    pthread_mutex_t mu;
    /* last request */
    char method[16], uri[512], body[4096], token[64], content_type[128], if_match[64];
    /* next answer */
    int status;
    char answer[1024], answer_ctype[64], answer_etag[32];
} fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct bufferevent *count_conn(struct event_base *base, void *arg) {
    atomic_fetch_add(&fake.connections, 1);
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void copy_hdr(char *dst, size_t n, struct evhttp_request *req, const char *name) {
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    snprintf(dst, n, "%s", v ? v : "");
}

static void on_req(struct evhttp_request *req, void *arg) {
    pthread_mutex_lock(&fake.mu);
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: strcpy(fake.method, "GET"); break;
    case EVHTTP_REQ_POST: strcpy(fake.method, "POST"); break;
    case EVHTTP_REQ_PUT: strcpy(fake.method, "PUT"); break;
    case EVHTTP_REQ_DELETE: strcpy(fake.method, "DELETE"); break;
    default: strcpy(fake.method, "OTHER"); break;
    }
    snprintf(fake.uri, sizeof fake.uri, "%s", evhttp_request_get_uri(req));
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n >= sizeof fake.body) n = sizeof fake.body - 1;
    evbuffer_copyout(in, fake.body, n);
    fake.body[n] = '\0';
    copy_hdr(fake.token, sizeof fake.token, req, "dapr-api-token");
    copy_hdr(fake.content_type, sizeof fake.content_type, req, "Content-Type");
    copy_hdr(fake.if_match, sizeof fake.if_match, req, "If-Match");
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (fake.answer_ctype[0]) evhttp_add_header(out, "Content-Type", fake.answer_ctype);
    if (fake.answer_etag[0]) evhttp_add_header(out, "ETag", fake.answer_etag);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, fake.answer, strlen(fake.answer));
    int status = fake.status;
    pthread_mutex_unlock(&fake.mu);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void *fake_main(void *arg) {
    event_base_dispatch(fake.base);
    return NULL;
}

static void answer(int status, const char *ctype, const char *body, const char *etag) {
    pthread_mutex_lock(&fake.mu);
    fake.status = status;
    snprintf(fake.answer_ctype, sizeof fake.answer_ctype, "%s", ctype ? ctype : "");
    snprintf(fake.answer, sizeof fake.answer, "%s", body ? body : "");
    snprintf(fake.answer_etag, sizeof fake.answer_etag, "%s", etag ? etag : "");
    pthread_mutex_unlock(&fake.mu);
}

static int start_fake(void) {
    evthread_use_pthreads();
    fake.base = event_base_new();
    fake.http = evhttp_new(fake.base);
    evhttp_set_allowed_methods(fake.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_bevcb(fake.http, count_conn, NULL);
    evhttp_set_gencb(fake.http, on_req, NULL);
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(fake.http, "127.0.0.1", 0);
    if (!s) return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&ss, &sl);
    fake.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return pthread_create(&fake.th, NULL, fake_main, NULL);
}

static dapr_client_t *client(void) {
    dapr_client_options_t o = {.port = fake.port, .api_token = "tok", .timeout_ms = 5000};
    return dapr_client_new(&o);
}

static int json_eq(const char *text, const char *expected) {
    json_t *a = json_loads(text, 0, NULL), *b = json_loads(expected, 0, NULL);
    int eq = a && b && json_equal(a, b);
    if (!eq) printf("  got %s\n  want %s\n", text, expected);
    json_decref(a);
    json_decref(b);
    return eq;
}

TEST(state_get_reads_value_and_etag) {
    dapr_client_t *c = client();
    answer(200, "application/json", "{\"n\":1}", "7");
    dapr_state_t s;
    dapr_error_t err;
    ASSERT_EQ(dapr_state_get(c, "loyalty-store", "cust 1", DAPR_CONSISTENCY_STRONG, &s, &err), 0);
    ASSERT_STREQ(fake.method, "GET");
    ASSERT_STREQ(fake.uri, "/v1.0/state/loyalty-store/cust%201?consistency=strong");
    ASSERT_STREQ(fake.token, "tok");
    ASSERT_TRUE(s.found);
    ASSERT_STREQ(s.value, "{\"n\":1}");
    ASSERT_STREQ(s.etag, "7");
    dapr_state_free(&s);
    answer(204, NULL, "", NULL);
    ASSERT_EQ(dapr_state_get(c, "loyalty-store", "missing", DAPR_CONSISTENCY_DEFAULT, &s, &err), 0);
    ASSERT_EQ(s.found, 0);
    ASSERT_TRUE(s.value == NULL);
    dapr_client_free(c);
}

TEST(state_save_and_transaction_bodies) {
    dapr_client_t *c = client();
    answer(204, NULL, "", NULL);
    dapr_kv_t ttl = {"ttlInSeconds", "60"};
    dapr_state_item_t items[2] = {
        {.key = "a", .value = "{\"x\":1}", .etag = "3", .concurrency = DAPR_CONCURRENCY_FIRST_WRITE,
         .consistency = DAPR_CONSISTENCY_STRONG, .metadata = &ttl, .nmetadata = 1},
        {.key = "b", .value = "not json"},
    };
    ASSERT_EQ(dapr_state_save(c, "s", items, 2, NULL), 0);
    ASSERT_STREQ(fake.uri, "/v1.0/state/s");
    ASSERT_STREQ(fake.content_type, "application/json");
    ASSERT_TRUE(json_eq(fake.body, "[{\"key\":\"a\",\"value\":{\"x\":1},\"etag\":\"3\",\"metadata\":{\"ttlInSeconds\":\"60\"},"
                                   "\"options\":{\"concurrency\":\"first-write\",\"consistency\":\"strong\"}},"
                                   "{\"key\":\"b\",\"value\":\"not json\"}]"));
    dapr_state_op_t ops[2] = {{DAPR_STATE_UPSERT, {.key = "c", .value = "5", .etag = "2"}},
                              {DAPR_STATE_DELETE, {.key = "d"}}};
    ASSERT_EQ(dapr_state_transaction(c, "s", ops, 2, NULL), 0);
    ASSERT_STREQ(fake.uri, "/v1.0/state/s/transaction");
    ASSERT_TRUE(json_eq(fake.body, "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"c\",\"value\":5,"
                                   "\"etag\":\"2\"}},{\"operation\":\"delete\",\"request\":{\"key\":\"d\"}}]}"));
    ASSERT_EQ(dapr_state_delete(c, "s", "k", "9", DAPR_CONCURRENCY_FIRST_WRITE, NULL), 0);
    ASSERT_STREQ(fake.method, "DELETE");
    ASSERT_STREQ(fake.uri, "/v1.0/state/s/k?concurrency=first-write");
    ASSERT_STREQ(fake.if_match, "9");
    dapr_client_free(c);
}

TEST(dapr_errors_are_parsed) {
    dapr_client_t *c = client();
    answer(409, "application/json", "{\"errorCode\":\"ERR_STATE_SAVE\",\"message\":\"possible etag mismatch\"}", NULL);
    dapr_error_t err;
    ASSERT_EQ(dapr_state_save_one(c, "s", "k", "1", &err), -1);
    ASSERT_EQ(err.status, 409);
    ASSERT_STREQ(err.code, "ERR_STATE_SAVE");
    ASSERT_STREQ(err.message, "possible etag mismatch");
    char buf[128];
    ASSERT_STREQ(dapr_error_str(&err, buf, sizeof buf), "HTTP 409 ERR_STATE_SAVE: possible etag mismatch");
    answer(401, "text/plain", "invalid api token\n", NULL);
    ASSERT_EQ(dapr_health(c, &err), -1);
    ASSERT_EQ(err.status, 401);
    ASSERT_STREQ(err.code, "");
    ASSERT_STREQ(err.message, "invalid api token");
    dapr_client_free(c);
    /* nobody listening: status 0 and a transport message */
    dapr_client_options_t o = {.port = 1, .timeout_ms = 2000};
    dapr_client_t *dead = dapr_client_new(&o);
    ASSERT_EQ(dapr_health(dead, &err), -1);
    ASSERT_EQ(err.status, 0);
    ASSERT_TRUE(err.message[0] != '\0');
    ASSERT_EQ(dapr_wait_for_sidecar(dead, 300, &err), -1);
    dapr_client_free(dead);
}

TEST(lock_publish_binding_invoke_requests) {
    dapr_client_t *c = client();
    answer(200, "application/json", "{\"success\":true}", NULL);
    int got = 0;
    ASSERT_EQ(dapr_lock_try(c, "loyalty-lock", "blob-1", "job-abc", 60, &got, NULL), 0);
    ASSERT_EQ(got, 1);
    ASSERT_STREQ(fake.uri, "/v1.0-alpha1/lock/loyalty-lock");
    ASSERT_TRUE(json_eq(fake.body, "{\"resourceId\":\"blob-1\",\"lockOwner\":\"job-abc\",\"expiryInSeconds\":60}"));
    answer(200, "application/json", "{}", NULL); /* proto3 JSON omits status 0 */
    dapr_unlock_status_t st = DAPR_UNLOCK_INTERNAL_ERROR;
    ASSERT_EQ(dapr_unlock(c, "loyalty-lock", "blob-1", "job-abc", &st, NULL), 0);
    ASSERT_EQ(st, DAPR_UNLOCK_SUCCESS);
    answer(200, "application/json", "{\"status\":2}", NULL);
    ASSERT_EQ(dapr_unlock(c, "loyalty-lock", "blob-1", "job-abc", &st, NULL), 0);
    ASSERT_EQ(st, DAPR_UNLOCK_BELONGS_TO_OTHERS);

    answer(204, NULL, "", NULL);
    dapr_kv_t md = {"rawPayload", "true"};
    ASSERT_EQ(dapr_publish(c, "order-queue", "order", "{\"a\":1}", 7, "application/json", &md, 1, NULL), 0);
    ASSERT_STREQ(fake.uri, "/v1.0/publish/order-queue/order?metadata.rawPayload=true");
    ASSERT_STREQ(fake.content_type, "application/json");
    ASSERT_STREQ(fake.body, "{\"a\":1}");

    answer(200, "application/json", "{\"blobName\":\"o-1\"}", NULL);
    dapr_kv_t bn = {"blobName", "o-1"};
    dapr_response_t r = {0};
    ASSERT_EQ(dapr_binding_invoke(c, "order-binding", "create", "{\"customerId\":1}", &bn, 1, &r, NULL), 0);
    ASSERT_STREQ(fake.uri, "/v1.0/bindings/order-binding");
    ASSERT_TRUE(json_eq(fake.body, "{\"data\":{\"customerId\":1},\"metadata\":{\"blobName\":\"o-1\"},"
                                   "\"operation\":\"create\"}"));
    ASSERT_STREQ(r.body, "{\"blobName\":\"o-1\"}");
    dapr_response_free(&r);

    answer(503, "text/plain", "busy", NULL);
    dapr_error_t err;
    ASSERT_EQ(dapr_invoke(c, "customer-order-service", "POST", "/order", "{}", 2, NULL, &r, &err), -1);
    ASSERT_STREQ(fake.uri, "/v1.0/invoke/customer-order-service/method/order");
    ASSERT_EQ(r.status, 503); /* the callee's answer is kept for the caller */
    ASSERT_STREQ(r.body, "busy");
    ASSERT_EQ(err.status, 503);
    dapr_response_free(&r);
    dapr_client_free(c);
}

typedef struct {
    dapr_client_t *c;
    int ok;
} hammer_t;

static void *hammer(void *arg) {
    hammer_t *h = arg;
    for (int i = 0; i < 50; i++) h->ok += dapr_health(h->c, NULL) == 0;
    return NULL;
}

TEST(connections_are_reused) {
    answer(204, NULL, "", NULL);
    dapr_client_t *c = client();
    int before = atomic_load(&fake.connections);
    for (int i = 0; i < 100; i++) ASSERT_EQ(dapr_health(c, NULL), 0);
    ASSERT_EQ(atomic_load(&fake.connections) - before, 1);
    /* 4 threads: at most one connection each, not one per call */
    hammer_t h[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer_t){.c = c};
        pthread_create(&th[i], NULL, hammer, &h[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) ASSERT_EQ(h[i].ok, 50);
    ASSERT_TRUE(atomic_load(&fake.connections) - before <= 4);
    dapr_client_free(c);
}

TEST(configuration_from_the_environment) {
    unsetenv("DAPR_HTTP_ENDPOINT");
    setenv("DAPR_HTTP_PORT", "3999", 1);
    setenv("DAPR_HTTP_HOST", "127.0.0.2", 1);
    dapr_client_t *c = dapr_client_new(NULL);
    ASSERT_STREQ(dapr_client_base_url(c), "http://127.0.0.2:3999");
    dapr_client_free(c);
    setenv("DAPR_HTTP_ENDPOINT", "http://127.0.0.1:4111/", 1);
    c = dapr_client_new(NULL);
    ASSERT_STREQ(dapr_client_base_url(c), "http://127.0.0.1:4111");
    dapr_client_free(c);
    dapr_client_options_t o = {.port = 4222}; /* explicit options win */
    c = dapr_client_new(&o);
    ASSERT_STREQ(dapr_client_base_url(c), "http://127.0.0.2:4222");
    dapr_client_free(c);
    unsetenv("DAPR_HTTP_ENDPOINT");
    unsetenv("DAPR_HTTP_HOST");
    setenv("DAPR_HTTP_PORT", "notaport", 1);
    c = dapr_client_new(NULL);
    ASSERT_STREQ(dapr_client_base_url(c), "http://127.0.0.1:3500");
    dapr_client_free(c);
    unsetenv("DAPR_HTTP_PORT");
}

TEST(url_escape) {
    char *s = dapr_url_escape("a b/c?d=é~._-");
    ASSERT_STREQ(s, "a%20b%2Fc%3Fd%3D%C3%A9~._-");
    free(s);
}

int main(void) {
    if (start_fake() != 0) {
        printf("cannot start the fake sidecar\n");
        return 1;
    }
    RUN(state_get_reads_value_and_etag);
    RUN(state_save_and_transaction_bodies);
    RUN(dapr_errors_are_parsed);
    RUN(lock_publish_binding_invoke_requests);
    RUN(connections_are_reused);
    RUN(configuration_from_the_environment);
    RUN(url_escape);
    event_base_loopbreak(fake.base);
    pthread_join(fake.th, NULL);
    evhttp_free(fake.http);
    event_base_free(fake.base);
    return TEST_SUMMARY();
}

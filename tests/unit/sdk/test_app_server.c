/* SPDX-License-Identifier: MIT */
/* The app-side server: a slow handler does not hold up another request, routes,
 * subscriptions (/dapr/subscribe, CloudEvent unwrapping, RETRY/DROP), input-binding
 * OPTIONS, app token, body limit. A libdapr client with base_url talks to it. */
#include <dapr/dapr.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- handlers ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int slow_entered;

/* Blocks until /fast opened the gate (or 5 s passed): it can only finish early if /fast ran meanwhile. */
static void on_slow(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    atomic_store(&slow_entered, 1);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&gate_mu);
    while (!gate_open) {
        if (pthread_cond_timedwait(&gate_cv, &gate_mu, &dl) != 0) break;
    }
    int opened = gate_open;
    pthread_mutex_unlock(&gate_mu);
    dapr_reply_text(rep, 200, "%s", opened ? "released" : "timed out");
}

static void on_fast(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    dapr_reply_header(rep, "X-Test", "fast");
    dapr_reply_json(rep, 201, "{\"fast\":true}");
}

static void on_echo(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    const char *ct = dapr_request_header(req, "content-type");
    dapr_reply_set(rep, 200, ct ? ct : "application/octet-stream", req->body, req->body_len);
    dapr_reply_header(rep, "X-Query", req->query);
    dapr_reply_header(rep, "X-Method", req->method);
}

static char last_event_data[256], last_event_topic[64];
static dapr_event_status_t on_event(const dapr_event_t *ev, const dapr_request_t *req, void *arg) {
    snprintf(last_event_data, sizeof last_event_data, "%s", ev->data);
    snprintf(last_event_topic, sizeof last_event_topic, "%s", ev->topic ? ev->topic : "");
    if (strstr(ev->data, "retry")) return DAPR_EVENT_RETRY;
    if (strstr(ev->data, "drop")) return DAPR_EVENT_DROP;
    return DAPR_EVENT_SUCCESS;
}

static atomic_int ticks;
static void on_tick(const dapr_request_t *req, dapr_reply_t *rep, void *arg) { atomic_fetch_add(&ticks, 1); }

/* ---- fixture ---- */

static dapr_app_t *start_app(const char *token, size_t max_body) {
    dapr_app_options_t o = {.port = 0, .threads = 4, .api_token = token ? token : "", .max_body = max_body};
    dapr_error_t err;
    dapr_app_t *app = dapr_app_new(&o, &err);
    if (!app) return NULL;
    dapr_app_route(app, "GET", "/slow", on_slow, NULL);
    dapr_app_route(app, "GET", "/fast", on_fast, NULL);
    dapr_app_route(app, "*", "/echo", on_echo, NULL);
    dapr_app_subscribe(app, "order-queue", "order", "/order", on_event, NULL);
    dapr_app_event_route(app, "/declarative", on_event, NULL);
    dapr_app_binding(app, "/checkorders", on_tick, NULL);
    if (dapr_app_start(app) != 0) {
        dapr_app_free(app);
        return NULL;
    }
    return app;
}

static dapr_client_t *client_for(dapr_app_t *app, long timeout_ms) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dapr_app_port(app));
    dapr_client_options_t co = {.base_url = url, .timeout_ms = timeout_ms};
    return dapr_client_new(&co);
}

typedef struct {
    dapr_client_t *c;
    int status;
    char body[64];
    long done_ms;
} call_t;

static void *call_slow(void *arg) {
    call_t *k = arg;
    dapr_response_t r = {0};
    dapr_client_request(k->c, "GET", "/slow", NULL, 0, NULL, 0, &r, NULL);
    k->status = r.status;
    snprintf(k->body, sizeof k->body, "%s", r.body ? r.body : "");
    k->done_ms = now_ms();
    dapr_response_free(&r);
    return NULL;
}

TEST(slow_handler_does_not_block_others) {
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 10000);
    call_t slow = {.c = c};
    pthread_t th;
    pthread_create(&th, NULL, call_slow, &slow);
    for (int i = 0; i < 500 && !atomic_load(&slow_entered); i++) usleep(10000); /* bounded: 5 s */
    ASSERT_TRUE(atomic_load(&slow_entered));
    dapr_response_t r = {0};
    ASSERT_EQ(dapr_client_request(c, "GET", "/fast", NULL, 0, NULL, 0, &r, NULL), 0);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(dapr_response_header(&r, "x-test"), "fast");
    ASSERT_STREQ(dapr_response_header(&r, "Content-Type"), "application/json");
    dapr_response_free(&r);
    pthread_join(th, NULL);
    /* The slow request finished only because /fast ran while it was still waiting. */
    ASSERT_EQ(slow.status, 200);
    ASSERT_STREQ(slow.body, "released");
    dapr_client_free(c);
    dapr_app_free(app);
}

TEST(routes_methods_and_errors) {
    dapr_app_t *app = start_app(NULL, 64);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 5000);
    dapr_response_t r = {0};
    dapr_kv_t ct = {"Content-Type", "text/x-test"};
    ASSERT_EQ(dapr_client_request(c, "PUT", "/echo?a=1&b=2", &ct, 1, "hi there", 8, &r, NULL), 0);
    ASSERT_STREQ(r.body, "hi there");
    ASSERT_STREQ(dapr_response_header(&r, "X-Query"), "a=1&b=2");
    ASSERT_STREQ(dapr_response_header(&r, "X-Method"), "PUT");
    ASSERT_STREQ(dapr_response_header(&r, "Content-Type"), "text/x-test");
    dapr_response_free(&r);

    dapr_error_t err;
    ASSERT_EQ(dapr_client_request(c, "GET", "/nope", NULL, 0, NULL, 0, &r, &err), -1);
    ASSERT_EQ(r.status, 404);
    ASSERT_STREQ(err.code, "ERR_NOT_FOUND");
    dapr_response_free(&r);
    ASSERT_EQ(dapr_client_request(c, "POST", "/slow", NULL, 0, "x", 1, &r, &err), -1);
    ASSERT_EQ(r.status, 405);
    dapr_response_free(&r);
    /* over the body limit (64 bytes) */
    char big[200];
    memset(big, 'x', sizeof big);
    ASSERT_EQ(dapr_client_request(c, "POST", "/echo", NULL, 0, big, sizeof big, &r, &err), -1);
    ASSERT_EQ(r.status, 413);
    dapr_response_free(&r);
    dapr_client_free(c);
    dapr_app_free(app);
}

TEST(subscriptions_and_cloudevents) {
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 5000);
    dapr_response_t r = {0};
    ASSERT_EQ(dapr_client_request(c, "GET", "/dapr/subscribe", NULL, 0, NULL, 0, &r, NULL), 0);
    json_t *subs = json_loads(r.body, 0, NULL);
    dapr_response_free(&r);
    ASSERT_EQ(json_array_size(subs), 1); /* the declarative route is not announced */
    json_t *s0 = json_array_get(subs, 0);
    ASSERT_STREQ(json_string_value(json_object_get(s0, "pubsubname")), "order-queue");
    ASSERT_STREQ(json_string_value(json_object_get(s0, "topic")), "order");
    ASSERT_STREQ(json_string_value(json_object_get(s0, "route")), "/order");
    json_decref(subs);

    dapr_kv_t ct = {"Content-Type", "application/cloudevents+json"};
    const char *ce = "{\"specversion\":\"1.0\",\"id\":\"1\",\"topic\":\"order\",\"datacontenttype\":\"application/json\","
                     "\"data\":{\"orderId\":\"o-9\"}}";
    ASSERT_EQ(dapr_client_request(c, "POST", "/order", &ct, 1, ce, strlen(ce), &r, NULL), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(r.body, "{\"status\":\"SUCCESS\"}");
    ASSERT_STREQ(last_event_data, "{\"orderId\":\"o-9\"}");
    ASSERT_STREQ(last_event_topic, "order");
    dapr_response_free(&r);

    const char *retry = "{\"specversion\":\"1.0\",\"datacontenttype\":\"text/plain\",\"data\":\"please retry\"}";
    ASSERT_EQ(dapr_client_request(c, "POST", "/declarative", &ct, 1, retry, strlen(retry), &r, NULL), -1);
    ASSERT_EQ(r.status, 500);
    ASSERT_STREQ(last_event_data, "please retry");
    dapr_response_free(&r);
    const char *drop = "{\"specversion\":\"1.0\",\"data\":\"drop me\"}";
    ASSERT_EQ(dapr_client_request(c, "POST", "/declarative", &ct, 1, drop, strlen(drop), &r, NULL), 0);
    ASSERT_STREQ(r.body, "{\"status\":\"DROP\"}");
    dapr_response_free(&r);
    dapr_client_free(c);
    dapr_app_free(app);
}

TEST(input_binding_answers_options_probe) {
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 5000);
    dapr_response_t r = {0};
    ASSERT_EQ(dapr_client_request(c, "OPTIONS", "/checkorders", NULL, 0, NULL, 0, &r, NULL), 0);
    ASSERT_EQ(r.status, 200);
    dapr_response_free(&r);
    int before = atomic_load(&ticks);
    ASSERT_EQ(dapr_client_request(c, "POST", "/checkorders", NULL, 0, "", 0, &r, NULL), 0);
    ASSERT_EQ(atomic_load(&ticks), before + 1);
    dapr_response_free(&r);
    dapr_client_free(c);
    dapr_app_free(app);
}

TEST(app_token_is_required_when_set) {
    dapr_app_t *app = start_app("app-secret", 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 5000);
    dapr_response_t r = {0};
    dapr_error_t err;
    ASSERT_EQ(dapr_client_request(c, "GET", "/fast", NULL, 0, NULL, 0, &r, &err), -1);
    ASSERT_EQ(r.status, 401);
    ASSERT_STREQ(err.message, "invalid api token");
    dapr_response_free(&r);
    dapr_kv_t wrong = {"dapr-api-token", "nope"}, right = {"dapr-api-token", "app-secret"};
    ASSERT_EQ(dapr_client_request(c, "GET", "/fast", &wrong, 1, NULL, 0, &r, NULL), -1);
    ASSERT_EQ(r.status, 401);
    dapr_response_free(&r);
    ASSERT_EQ(dapr_client_request(c, "GET", "/fast", &right, 1, NULL, 0, &r, NULL), 0);
    ASSERT_EQ(r.status, 201);
    dapr_response_free(&r);
    dapr_client_free(c);
    dapr_app_free(app);
}

TEST(client_hanging_up_during_a_handler_is_harmless) {
    pthread_mutex_lock(&gate_mu);
    gate_open = 0;
    pthread_mutex_unlock(&gate_mu);
    atomic_store(&slow_entered, 0);
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *impatient = client_for(app, 300), *c = client_for(app, 5000);
    dapr_error_t err;
    /* The client gives up after 300 ms and closes its connection while /slow still waits. */
    ASSERT_EQ(dapr_client_request(impatient, "GET", "/slow", NULL, 0, NULL, 0, NULL, &err), -1);
    ASSERT_EQ(err.status, 0);
    ASSERT_TRUE(atomic_load(&slow_entered));
    /* /fast opens the gate: the slow handler finishes and its reply has nobody to go to. */
    dapr_response_t r = {0};
    ASSERT_EQ(dapr_client_request(c, "GET", "/fast", NULL, 0, NULL, 0, &r, NULL), 0);
    dapr_response_free(&r);
    for (int i = 0; i < 20; i++) { /* the server keeps serving */
        ASSERT_EQ(dapr_client_request(c, "PUT", "/echo", NULL, 0, "x", 1, &r, NULL), 0);
        dapr_response_free(&r);
    }
    dapr_client_free(impatient);
    dapr_client_free(c);
    dapr_app_free(app);
}

static void *open_gate_later(void *arg) {
    usleep(300000);
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    return NULL;
}

TEST(stop_while_a_handler_runs) {
    pthread_mutex_lock(&gate_mu);
    gate_open = 0;
    pthread_mutex_unlock(&gate_mu);
    atomic_store(&slow_entered, 0);
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 10000);
    call_t slow = {.c = c};
    pthread_t th;
    pthread_create(&th, NULL, call_slow, &slow);
    for (int i = 0; i < 500 && !atomic_load(&slow_entered); i++) usleep(10000);
    ASSERT_TRUE(atomic_load(&slow_entered));
    /* The gate opens 300 ms after the stop began: free() waits for the running handler. */
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate_later, NULL);
    long t0 = now_ms();
    dapr_app_free(app);
    long waited = now_ms() - t0;
    pthread_join(opener, NULL);
    pthread_join(th, NULL);
    ASSERT_TRUE(waited >= 250);
    ASSERT_TRUE(slow.status == 200 || slow.status == 0); /* answered, or the connection closed first */
    dapr_client_free(c);
}

typedef struct {
    dapr_client_t *c;
    int id, ok;
} echo_worker_t;

static void *echo_many(void *arg) {
    echo_worker_t *w = arg;
    for (int i = 0; i < 100; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "w%d-%d", w->id, i);
        dapr_response_t r = {0};
        if (dapr_client_request(w->c, "POST", "/echo", NULL, 0, body, (size_t)n, &r, NULL) == 0 &&
            strcmp(r.body, body) == 0)
            w->ok++;
        dapr_response_free(&r);
    }
    return NULL;
}

TEST(one_client_many_threads) {
    dapr_app_t *app = start_app(NULL, 0);
    ASSERT_TRUE(app != NULL);
    dapr_client_t *c = client_for(app, 5000);
    echo_worker_t w[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (echo_worker_t){.c = c, .id = i};
        pthread_create(&th[i], NULL, echo_many, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
    }
    ASSERT_EQ(ok, 800);
    dapr_client_free(c);
    dapr_app_free(app);
}

int main(void) {
    RUN(slow_handler_does_not_block_others);
    RUN(routes_methods_and_errors);
    RUN(subscriptions_and_cloudevents);
    RUN(input_binding_answers_options_probe);
    RUN(app_token_is_required_when_set);
    RUN(one_client_many_threads);
    RUN(client_hanging_up_during_a_handler_is_harmless);
    RUN(stop_while_a_handler_runs);
    return TEST_SUMMARY();
}

/* The publish operations against a real redis-server (pubsub.redis), without
 * HTTP: a single message and a bulk request land in the topic's stream (as a
 * CloudEvent, or raw with rawPayload), Dapr's check order, the publishing
 * scope (PUBSUB_FORBIDDEN), a bulk entry that cannot be enveloped (nothing
 * sent), and cancellation (the callback never runs). */
#include <hiredis/hiredis.h>

#include "ops_harness.h"
#include "sidecar/ops/publish.h"
#include "test.h"

static ops_env_t env;
static int redis_port;

struct got {
    int called, failed;
    size_t nfailed;
    rs_dapr_error_t err;
};

static void record(void *arg, const rs_publish_reply_t *reply, const rs_dapr_error_t *err) {
    struct got *g = arg;
    g->called++;
    g->failed = err != NULL;
    if (err) g->err = *err;
    if (reply) g->nfailed = reply->nfailed;
}

/* XLEN of a stream, read with a plain blocking client. */
static long long stream_len(const char *topic) {
    redisContext *rc = redisConnect("127.0.0.1", redis_port);
    redisReply *rep = redisCommand(rc, "XLEN %s", topic);
    long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    freeReplyObject(rep);
    redisFree(rc);
    return n;
}

/* The "data" field of the stream's last entry. */
static void last_data(const char *topic, char *out, size_t n) {
    redisContext *rc = redisConnect("127.0.0.1", redis_port);
    redisReply *rep = redisCommand(rc, "XREVRANGE %s + - COUNT 1", topic);
    out[0] = '\0';
    if (rep && rep->elements == 1) {
        redisReply *fields = rep->element[0]->element[1];
        for (size_t i = 0; i + 1 < fields->elements; i += 2)
            if (strcmp(fields->element[i]->str, "data") == 0) snprintf(out, n, "%s", fields->element[i + 1]->str);
    }
    freeReplyObject(rep);
    redisFree(rc);
}

static void publish_one(const char *pubsub, const char *topic, const rs_kvlist_t *md, const char *data,
                        struct got *g) {
    memset(g, 0, sizeof *g);
    rs_publish_target_t t = {.pubsub = pubsub, .topic = topic, .metadata = md};
    rs_publish_message_t m = {.data = data, .len = strlen(data), .content_type = "text/plain"};
    rs_op_t *op = rs_ops_publish(&env.sc, &t, &m, record, g);
    if (op) loop_until(env.base, &g->called, 5000);
}

TEST(single_lands_in_the_stream) {
    struct got g;
    publish_one("pubsub", "orders", NULL, "hello", &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.nfailed, 0);
    ASSERT_EQ(stream_len("orders"), 1);
    char data[1024];
    last_data("orders", data, sizeof data);
    ASSERT_TRUE(strstr(data, "\"data\":\"hello\"") != NULL); /* a CloudEvent around the text */
    rs_kvlist_t md = {0};
    rs_kvlist_set(&md, "rawPayload", "true");
    publish_one("pubsub", "orders", &md, "raw bytes", &g);
    last_data("orders", data, sizeof data);
    ASSERT_STREQ(data, "raw bytes");
    rs_kvlist_free(&md);
}

TEST(checks_in_daprs_order) {
    struct got g;
    rs_kvlist_t md = {0};
    rs_kvlist_set(&md, "rawPayload", "maybe");
    publish_one("", "", &md, "x", &g);
    ASSERT_EQ(g.err.code, RS_ERR_PUBSUB_EMPTY);
    publish_one("nosuch", "", &md, "x", &g);
    ASSERT_EQ(g.err.code, RS_ERR_PUBSUB_NOT_FOUND);
    publish_one("pubsub", "", &md, "x", &g);
    ASSERT_EQ(g.err.code, RS_ERR_TOPIC_NAME_EMPTY);
    publish_one("pubsub", "orders", &md, "x", &g);
    ASSERT_EQ(g.err.code, RS_ERR_PUBSUB_REQUEST_METADATA);
    ASSERT_STREQ(g.err.message, "failed deserializing metadata: rawPayload: invalid boolean maybe");
    rs_kvlist_free(&md);
    publish_one("pubsub", "secret", NULL, "x", &g); /* publishingScopes: opsapp=orders */
    ASSERT_EQ(g.err.code, RS_ERR_PUBSUB_FORBIDDEN);
    ASSERT_STREQ(g.err.message, "topic secret is not allowed for app id opsapp");
    ASSERT_EQ(stream_len("secret"), 0);
}

TEST(bulk) {
    struct got g = {0};
    rs_publish_target_t t = {.pubsub = "pubsub", .topic = "orders"};
    long long before = stream_len("orders");
    rs_publish_message_t m[2] = {{.entry_id = "1", .data = "{\"a\":1}", .len = 7, .content_type = "application/json"},
                                 {.entry_id = "2", .data = "two", .len = 3, .content_type = "text/plain"}};
    rs_op_t *op = rs_ops_publish_bulk(&env.sc, &t, m, 2, record, &g);
    ASSERT_TRUE(op != NULL);
    loop_until(env.base, &g.called, 5000);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.nfailed, 0);
    ASSERT_EQ(stream_len("orders"), before + 2);
    /* an application/cloudevents+json entry that is not a JSON object: nothing is sent */
    m[1] = (rs_publish_message_t){.entry_id = "2", .data = "[1]", .len = 3,
                                  .content_type = "application/cloudevents+json"};
    memset(&g, 0, sizeof g);
    op = rs_ops_publish_bulk(&env.sc, &t, m, 2, record, &g);
    ASSERT_TRUE(op == NULL);
    ASSERT_EQ(g.err.code, RS_ERR_PUBSUB_CLOUD_EVENTS_SER);
    ASSERT_TRUE(strstr(g.err.message, ": entry 2: ") != NULL);
    ASSERT_EQ(stream_len("orders"), before + 2);
}

TEST(cancel_means_no_callback) {
    struct got g = {0};
    rs_publish_target_t t = {.pubsub = "pubsub", .topic = "orders"};
    rs_publish_message_t m = {.data = "x", .len = 1};
    rs_op_t *op = rs_ops_publish(&env.sc, &t, &m, record, &g);
    ASSERT_TRUE(op != NULL);
    rs_op_cancel(op);
    loop_for(env.base, 200);
    ASSERT_EQ(g.called, 0);
}

int main(void) {
    redis_port = rs_port_reserve();
    pid_t redis = start_redis(redis_port, NULL);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: pubsub.redis\n"
             "  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:%d\n"
             "  - name: publishingScopes\n    value: opsapp=orders\n",
             redis_port);
    if (ops_env_init(&env, yaml) != 0) return 1;
    RUN(single_lands_in_the_stream);
    RUN(checks_in_daprs_order);
    RUN(bulk);
    RUN(cancel_means_no_callback);
    ops_env_free(&env);
    stop_redis(redis);
    return TEST_SUMMARY();
}

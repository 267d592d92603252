/* The state operations against a real redis-server, without HTTP: save, get
 * with its etag, an etag mismatch (409 row), bulk get in request order with a
 * missing key, delete, an atomic transaction, the store and key checks, and
 * cancellation (the callback never runs). */
#include "ops_harness.h"
#include "sidecar/ops/state.h"
#include "test.h"

static ops_env_t env;

typedef rs_op_t *(*state_fn)(struct rs_sidecar *, const rs_state_request_t *, rs_state_done_fn, void *);

struct got {
    int called;
    int failed;
    rs_dapr_error_t err;
    size_t n;
    char keys[4][32], data[4][64], etag[4][32];
    int found[4], has_error[4];
};

static void record(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err) {
    struct got *g = arg;
    g->called++;
    g->failed = err != NULL;
    if (err) g->err = *err;
    if (!reply) return;
    g->n = reply->n;
    for (size_t i = 0; i < reply->n && i < 4; i++) {
        const rs_state_value_t *v = &reply->values[i];
        snprintf(g->keys[i], sizeof g->keys[i], "%s", v->key);
        snprintf(g->data[i], sizeof g->data[i], "%.*s", (int)v->len, v->data ? v->data : "");
        snprintf(g->etag[i], sizeof g->etag[i], "%s", v->etag ? v->etag : "");
        g->found[i] = v->found;
        g->has_error[i] = v->error != NULL;
    }
}

static void run(state_fn fn, const rs_state_item_t *items, size_t n, struct got *g) {
    memset(g, 0, sizeof *g);
    rs_state_request_t req = {.store = "statestore", .items = items, .n = n};
    rs_op_t *op = fn(&env.sc, &req, record, g);
    if (op) loop_until(env.base, &g->called, 5000);
}

TEST(save_get_etag) {
    struct got g;
    rs_state_item_t a = {.key = "a", .value = "{\"v\":1}", .len = 7};
    run(rs_ops_state_save, &a, 1, &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ((int)g.n, 0);
    run(rs_ops_state_get, &a, 1, &g);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.found[0], 1);
    ASSERT_STREQ(g.data[0], "{\"v\":1}");
    ASSERT_STREQ(g.etag[0], "1");
    a.etag = "7";
    run(rs_ops_state_save, &a, 1, &g);
    ASSERT_EQ(g.err.code, RS_ERR_STATE_SAVE_ETAG_MISMATCH);
    ASSERT_EQ(rs_dapr_err_http(g.err.code), 409);
    a.etag = "1";
    run(rs_ops_state_save, &a, 1, &g);
    ASSERT_EQ(g.failed, 0);
}

TEST(bulk_get_in_order) {
    struct got g;
    rs_state_item_t b = {.key = "b", .value = "2", .len = 1};
    run(rs_ops_state_save, &b, 1, &g);
    rs_state_item_t keys[3] = {{.key = "b"}, {.key = "nosuch"}, {.key = "a"}};
    memset(&g, 0, sizeof g);
    rs_state_request_t req = {.store = "statestore", .items = keys, .n = 3, .parallelism = 1};
    rs_op_t *op = rs_ops_state_bulk_get(&env.sc, &req, record, &g);
    ASSERT_TRUE(op != NULL);
    loop_until(env.base, &g.called, 5000);
    ASSERT_EQ((int)g.n, 3);
    ASSERT_STREQ(g.keys[0], "b");
    ASSERT_STREQ(g.data[0], "2");
    ASSERT_STREQ(g.keys[1], "nosuch");
    ASSERT_EQ(g.found[1], 0);
    ASSERT_EQ(g.has_error[1], 0);
    ASSERT_STREQ(g.keys[2], "a");
    ASSERT_EQ(g.found[2], 1);
}

TEST(delete_and_transaction) {
    struct got g;
    rs_state_item_t d = {.key = "b"};
    run(rs_ops_state_delete, &d, 1, &g);
    ASSERT_EQ(g.failed, 0);
    run(rs_ops_state_get, &d, 1, &g);
    ASSERT_EQ(g.found[0], 0);
    /* all or nothing: a stale etag on "a" keeps "c" from being written */
    rs_state_item_t txn[2] = {{.key = "c", .value = "3", .len = 1}, {.key = "a", .is_delete = 1, .etag = "99"}};
    run(rs_ops_state_transact, txn, 2, &g);
    ASSERT_EQ(g.err.code, RS_ERR_STATE_TRANSACTION);
    rs_state_item_t c = {.key = "c"};
    run(rs_ops_state_get, &c, 1, &g);
    ASSERT_EQ(g.found[0], 0);
    txn[1].etag = NULL;
    run(rs_ops_state_transact, txn, 2, &g);
    ASSERT_EQ(g.failed, 0);
    run(rs_ops_state_get, &c, 1, &g);
    ASSERT_STREQ(g.data[0], "3");
}

TEST(checks) {
    rs_dapr_error_t err;
    ASSERT_EQ(rs_ops_state_check_store(&env.sc, "statestore", 1, &err), 0);
    ASSERT_EQ(rs_ops_state_check_store(&env.sc, "nosuch", 0, &err), -1);
    ASSERT_EQ(err.code, RS_ERR_STATE_STORE_NOT_FOUND);
    ASSERT_STREQ(err.message, "state store nosuch is not found");
    ASSERT_EQ(rs_ops_state_check_key("s", "x||y", &err), -1);
    ASSERT_EQ(err.code, RS_ERR_STATE_ILLEGAL_KEY);
    ASSERT_STREQ(err.resource, "s"); /* the details daprd sends: ResourceInfo and the key as BadRequest field */
    ASSERT_STREQ(err.field, "x||y");
    struct got g;
    rs_state_item_t bad = {.key = "x||y"}; /* the operation checks keys itself too */
    run(rs_ops_state_get, &bad, 1, &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.err.code, RS_ERR_STATE_ILLEGAL_KEY);
}

TEST(cancel_means_no_callback) {
    struct got g = {0};
    rs_state_item_t a = {.key = "a"};
    rs_state_request_t req = {.store = "statestore", .items = &a, .n = 1};
    rs_op_t *op = rs_ops_state_get(&env.sc, &req, record, &g);
    ASSERT_TRUE(op != NULL);
    rs_op_cancel(op);
    loop_for(env.base, 200);
    ASSERT_EQ(g.called, 0);
}

int main(void) {
    int port = rs_port_reserve();
    pid_t redis = start_redis(port, NULL);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.redis\n"
             "  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:%d\n",
             port);
    if (ops_env_init(&env, yaml) != 0) return 1;
    RUN(save_get_etag);
    RUN(bulk_get_in_order);
    RUN(delete_and_transaction);
    RUN(checks);
    RUN(cancel_means_no_callback);
    ops_env_free(&env);
    stop_redis(redis);
    return TEST_SUMMARY();
}

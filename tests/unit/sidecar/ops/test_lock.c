/* The lock operations against a real redis-server, without HTTP: try-lock and
 * unlock results, Dapr's validation order and codes, a store that is down
 * (ERR_TRY_LOCK), and cancellation (the callback never runs). */
#include "ops_harness.h"
#include "sidecar/ops/lock.h"
#include "test.h"

static ops_env_t env;
static pid_t redis_pid;
static int redis_port;

struct got {
    int called;
    rs_lock_reply_t reply;
    int failed;
    rs_dapr_error_t err;
};

static void record(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err) {
    struct got *g = arg;
    g->called++;
    g->failed = err != NULL;
    if (reply) g->reply = *reply;
    if (err) g->err = *err;
}

/* Runs one op to its callback. */
static void run(rs_op_t *(*fn)(struct rs_sidecar *, const rs_lock_request_t *, rs_lock_done_fn, void *),
                const rs_lock_request_t *req, struct got *g) {
    memset(g, 0, sizeof *g);
    rs_op_t *op = fn(&env.sc, req, record, g);
    if (op) loop_until(env.base, &g->called, 5000);
}

TEST(try_lock_and_unlock) {
    struct got g;
    rs_lock_request_t req = {.store = "lockstore", .resource_id = "r1", .lock_owner = "alice", .expiry_seconds = 30};
    run(rs_ops_lock_try, &req, &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.reply.acquired, 1);
    req.lock_owner = "bob";
    run(rs_ops_lock_try, &req, &g);
    ASSERT_EQ(g.reply.acquired, 0);
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.reply.status, 2); /* belongs to others */
    req.lock_owner = "alice";
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.reply.status, 0);
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.reply.status, 1); /* does not exist */
}

TEST(validation_in_daprs_order) {
    struct got g;
    /* the expiry is checked before an empty resource id, and both before the store name */
    rs_lock_request_t req = {.store = "nosuch", .resource_id = "", .lock_owner = "", .expiry_seconds = 0};
    run(rs_ops_lock_try, &req, &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.err.code, RS_ERR_MALFORMED_REQUEST);
    ASSERT_STREQ(g.err.message, "ExpiryInSeconds is not positive in lock store nosuch");
    run(rs_ops_lock_unlock, &req, &g); /* unlock has no expiry */
    ASSERT_STREQ(g.err.message, "ResourceId is empty in lock store nosuch");
    req.resource_id = "r";
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_STREQ(g.err.message, "LockOwner is empty in lock store nosuch");
    req.lock_owner = "o";
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.err.code, RS_ERR_LOCK_STORE_NOT_FOUND);
    ASSERT_EQ(rs_dapr_err_http(g.err.code), 400);
    req.store = "lockstore";
    req.resource_id = "a||b";
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.err.code, RS_ERR_MALFORMED_REQUEST);
}

TEST(cancel_means_no_callback) {
    struct got g = {0};
    rs_lock_request_t req = {.store = "lockstore", .resource_id = "r2", .lock_owner = "alice", .expiry_seconds = 30};
    rs_op_t *op = rs_ops_lock_try(&env.sc, &req, record, &g);
    ASSERT_TRUE(op != NULL);
    rs_op_cancel(op);
    loop_for(env.base, 200);
    ASSERT_EQ(g.called, 0);
}

TEST(store_down_is_err_try_lock) {
    stop_redis(redis_pid);
    struct got g;
    rs_lock_request_t req = {.store = "lockstore", .resource_id = "r3", .lock_owner = "alice", .expiry_seconds = 30};
    run(rs_ops_lock_try, &req, &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.err.code, RS_ERR_TRY_LOCK);
    ASSERT_TRUE(strncmp(g.err.message, "failed to try acquiring lock: ", 30) == 0);
    run(rs_ops_lock_unlock, &req, &g);
    ASSERT_EQ(g.err.code, RS_ERR_UNLOCK);
    redis_pid = start_redis(redis_port, NULL);
}

int main(void) {
    redis_port = rs_port_reserve();
    redis_pid = start_redis(redis_port, NULL);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: lockstore\nspec:\n  type: lock.redis\n"
             "  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:%d\n",
             redis_port);
    if (ops_env_init(&env, yaml) != 0) return 1;
    RUN(try_lock_and_unlock);
    RUN(validation_in_daprs_order);
    RUN(cancel_means_no_callback);
    RUN(store_down_is_err_try_lock);
    ops_env_free(&env);
    stop_redis(redis_pid);
    return TEST_SUMMARY();
}

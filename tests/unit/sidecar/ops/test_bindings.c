/* The output binding operation on bindings.localstorage (a real directory),
 * without HTTP: create then get (the bytes come back), Dapr's checks and
 * messages (operation missing, no such binding, unsupported operation), a
 * component error, and cancellation (the callback never runs). */
#include "ops_harness.h"
#include "sidecar/ops/bindings.h"
#include "test.h"

static ops_env_t env;

struct got {
    int called, failed, has_data;
    char data[128];
    rs_dapr_error_t err;
};

static void record(void *arg, const rs_binding_reply_t *reply, const rs_dapr_error_t *err) {
    struct got *g = arg;
    g->called++;
    g->failed = err != NULL;
    if (err) g->err = *err;
    if (reply) {
        g->has_data = reply->has_data;
        snprintf(g->data, sizeof g->data, "%.*s", (int)reply->len, reply->data ? reply->data : "");
    }
}

static void invoke(const char *name, const char *operation, const char *data, const char *file, struct got *g) {
    memset(g, 0, sizeof *g);
    rs_kvlist_t md = {0};
    if (file) rs_kvlist_set(&md, "fileName", file);
    rs_binding_request_t req = {.name = name, .operation = operation, .data = data, .len = strlen(data),
                                .metadata = &md};
    rs_op_t *op = rs_ops_binding_invoke(&env.sc, &req, record, g);
    if (op) loop_until(env.base, &g->called, 5000);
    rs_kvlist_free(&md);
}

TEST(create_then_get) {
    struct got g;
    invoke("files", "create", "\"hello\"", "a.txt", &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.failed, 0);
    invoke("files", "get", "null", "a.txt", &g);
    ASSERT_EQ(g.failed, 0);
    ASSERT_EQ(g.has_data, 1);
    ASSERT_STREQ(g.data, "hello"); /* a JSON string is stored as its text, as Dapr's localstorage does */
}

TEST(daprs_checks) {
    struct got g;
    invoke("files", "", "null", NULL, &g);
    ASSERT_EQ(g.err.code, RS_ERR_INVOKE_OUTPUT_BINDING);
    ASSERT_STREQ(g.err.message, "error invoking output binding files: operation field is missing from request");
    invoke("nosuch", "get", "null", NULL, &g);
    ASSERT_STREQ(g.err.message, "error invoking output binding nosuch: couldn't find output binding nosuch");
    invoke("files", "explode", "null", NULL, &g);
    ASSERT_STREQ(g.err.message, "error invoking output binding files: binding files does not support operation "
                                "explode. supported operations:create get delete list");
    invoke("files", "get", "null", "/etc/passwd", &g); /* the component refuses it */
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.err.code, RS_ERR_INVOKE_OUTPUT_BINDING);
    ASSERT_EQ(rs_dapr_err_http(g.err.code), 500);
}

TEST(cancel_means_no_callback) {
    struct got g = {0};
    rs_binding_request_t req = {.name = "files", .operation = "list", .data = "null", .len = 4};
    rs_op_t *op = rs_ops_binding_invoke(&env.sc, &req, record, &g);
    ASSERT_TRUE(op != NULL); /* even a local component answers after the run started, never inside */
    rs_op_cancel(op);
    loop_for(env.base, 100);
    ASSERT_EQ(g.called, 0);
}

int main(void) {
    char root[] = "/tmp/rs-ops-bind-XXXXXX";
    if (!mkdtemp(root)) return 1;
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n"
             "  type: bindings.localstorage\n  version: v1\n  metadata:\n  - name: rootPath\n    value: %s\n",
             root);
    if (ops_env_init(&env, yaml) != 0) return 1;
    RUN(create_then_get);
    RUN(daprs_checks);
    RUN(cancel_means_no_callback);
    ops_env_free(&env);
    return remove_dir(root) == 0 ? TEST_SUMMARY() : 1;
}

/* The secrets and metadata operations, without HTTP: one secret, bulk,
 * Configuration scopes (PERMISSION_DENIED, bulk filtered), unknown store;
 * metadata lists the components and the extended metadata that was put. */
#include "ops_harness.h"
#include "sidecar/ops/metadata.h"
#include "sidecar/ops/secrets.h"
#include "test.h"

static ops_env_t env;

struct got {
    int called;
    char *json;
    rs_dapr_error_t err;
    int failed;
};

static void record(void *arg, json_t *secrets, const rs_dapr_error_t *err) {
    struct got *g = arg;
    g->called++;
    g->failed = err != NULL;
    if (secrets) g->json = json_dumps(secrets, JSON_COMPACT | JSON_SORT_KEYS);
    if (err) g->err = *err;
}

static void get(const char *store, const char *key, struct got *g) {
    free(g->json);
    memset(g, 0, sizeof *g);
    rs_secrets_request_t req = {.store = store, .key = key};
    rs_op_t *op = rs_ops_secrets_get(&env.sc, &req, record, g);
    if (op) loop_until(env.base, &g->called, 5000);
}

TEST(get_one_and_bulk) {
    struct got g = {0};
    get("files", "db", &g);
    ASSERT_EQ(g.called, 1);
    ASSERT_EQ(g.failed, 0);
    ASSERT_STREQ(g.json, "{\"db\":\"pw\"}");
    get("files", NULL, &g);
    ASSERT_EQ(g.failed, 0);
    ASSERT_STREQ(g.json, "{\"db\":{\"db\":\"pw\"}}"); /* "hidden" is denied by the scope */
    free(g.json);
}

TEST(errors) {
    struct got g = {0};
    get("files", "hidden", &g);
    ASSERT_EQ(g.err.code, RS_ERR_PERMISSION_DENIED);
    ASSERT_STREQ(g.err.message, "access denied by policy to get \"hidden\" from \"files\"");
    get("nosuch", "db", &g);
    ASSERT_EQ(g.err.code, RS_ERR_SECRET_STORE_NOT_FOUND);
    ASSERT_EQ(rs_dapr_err_http(g.err.code), 401);
    get("files", "missing", &g);
    ASSERT_EQ(g.err.code, RS_ERR_SECRET_GET);
    free(g.json);
}

TEST(metadata) {
    rs_dapr_error_t err;
    ASSERT_EQ(rs_ops_metadata_put(&env.sc, "k", "v", &err), 0);
    rs_metadata_t m;
    rs_ops_metadata_get(&env.sc, &m);
    ASSERT_STREQ(m.id, "opsapp");
    ASSERT_EQ((int)m.ncomponents, 1);
    ASSERT_STREQ(m.components[0].name, "files");
    ASSERT_STREQ(m.components[0].type, "secretstores.local.file");
    ASSERT_STREQ(rs_kvlist_get(m.extended, "k"), "v");
    ASSERT_EQ(m.app_port, 0);
    rs_ops_metadata_release(&m);
}

/* The extended metadata lives as long as the sidecar: a client cannot grow it without bound. */
TEST(metadata_is_bounded) {
    rs_dapr_error_t err;
    char key[32], big[RS_METADATA_MAX_VALUE + 2];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ASSERT_EQ(rs_ops_metadata_put(&env.sc, "k", big, &err), -1);
    ASSERT_EQ(err.code, RS_ERR_MALFORMED_REQUEST);
    size_t have = env.sc.extended_metadata.len;
    for (size_t i = have; i < RS_METADATA_MAX_KEYS; i++) {
        snprintf(key, sizeof key, "key%zu", i);
        ASSERT_EQ(rs_ops_metadata_put(&env.sc, key, "v", &err), 0);
    }
    ASSERT_EQ(rs_ops_metadata_put(&env.sc, "one-too-many", "v", &err), -1);
    ASSERT_TRUE(strstr(err.message, "at most") != NULL);
    ASSERT_EQ(rs_ops_metadata_put(&env.sc, "k", "replaced", &err), 0); /* an existing key may always be set */
    ASSERT_EQ((int)env.sc.extended_metadata.len, RS_METADATA_MAX_KEYS);
}

int main(void) {
    char dir[] = "/tmp/rs-ops-secrets-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char file[128], cfg[128], yaml[1024];
    snprintf(file, sizeof file, "%s/secrets.json", dir);
    FILE *f = fopen(file, "w");
    fputs("{\"db\":\"pw\",\"hidden\":\"x\"}", f);
    fclose(f);
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    f = fopen(cfg, "w");
    fputs("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: cfg\nspec:\n  secrets:\n    scopes:\n"
          "    - storeName: files\n      defaultAccess: allow\n      deniedSecrets: [\"hidden\"]\n",
          f);
    fclose(f);
    snprintf(yaml, sizeof yaml,
             "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: files\nspec:\n"
             "  type: secretstores.local.file\n  version: v1\n  metadata:\n  - name: secretsFile\n    value: %s\n",
             file);
    /* the Configuration is read from --config: set it before init */
    memset(&env, 0, sizeof env);
    if (ops_env_init_with_config(&env, yaml, cfg) != 0) return 1;
    RUN(get_one_and_bulk);
    RUN(errors);
    RUN(metadata);
    RUN(metadata_is_bounded);
    ops_env_free(&env);
    return remove_dir(dir) == 0 ? TEST_SUMMARY() : 1;
}

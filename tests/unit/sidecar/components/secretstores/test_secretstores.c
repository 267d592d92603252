/* secretstores.local.file (flattening, multiValued, nestedSeparator, errors) and
 * secretstores.local.env (prefix, denied names, missing variables). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sidecar/components/secretstores/secretstore.h"
#include "test.h"

static char secrets_path[64];

static void write_file(const char *text) {
    snprintf(secrets_path, sizeof secrets_path, "/tmp/rs-secrets-%d.json", (int)getpid());
    FILE *f = fopen(secrets_path, "w");
    fputs(text, f);
    fclose(f);
}

static const char *SAMPLE = "{\"redis\":{\"password\":\"pw\",\"user\":\"u\"},\"list\":[\"p\",\"q\"],\"plain\":\"v\",\"n\":5}";

static int init_store(rs_component_t *c, const char *type, char *err, size_t errlen) {
    c->name = "s";
    c->type = rs_component_type_find(type);
    if (!c->type) return -2;
    return c->type->init(c, err, errlen);
}

static char *get_json(rs_component_t *c, const char *name) {
    const rs_secretstore_ops_t *ops = c->type->ops;
    json_t *out = NULL;
    char err[200];
    if (ops->get(c, name, &out, err, sizeof err) != 0) return NULL;
    char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(out);
    return s;
}

#define ASSERT_SECRET(c, name, want)                                                                                   \
    do {                                                                                                               \
        char *got_ = get_json(c, name);                                                                                \
        int ok_ = got_ && strcmp(got_, want) == 0;                                                                     \
        if (!ok_) TEST_FAIL_AT("secret %s = %s, want %s", name, got_ ? got_ : "(error)", want);                       \
        free(got_);                                                                                                    \
        if (!ok_) return;                                                                                              \
    } while (0)

TEST(file_flattens_by_default) {
    write_file(SAMPLE);
    rs_component_t c = {0};
    rs_kvlist_set(&c.metadata, "secretsFile", secrets_path);
    char err[300];
    ASSERT_EQ(init_store(&c, "secretstores.local.file", err, sizeof err), 0);
    ASSERT_SECRET(&c, "redis:password", "{\"redis:password\":\"pw\"}");
    ASSERT_SECRET(&c, "list:1", "{\"list:1\":\"q\"}");
    ASSERT_SECRET(&c, "plain", "{\"plain\":\"v\"}");
    ASSERT_SECRET(&c, "n", "{\"n\":\"5\"}");
    ASSERT_TRUE(get_json(&c, "redis") == NULL); /* a branch is not a secret in flat mode */
    json_t *all = NULL;
    ASSERT_EQ(((const rs_secretstore_ops_t *)c.type->ops)->bulk_get(&c, &all, err, sizeof err), 0);
    ASSERT_EQ(json_object_size(all), 6);
    json_decref(all);
    c.type->close(&c);
    rs_kvlist_free(&c.metadata);
    unlink(secrets_path);
}

TEST(file_multivalued_and_separator) {
    write_file("{\"redis\":{\"password\":\"pw\",\"tls\":{\"ca\":\"x\"}},\"plain\":\"v\"}");
    rs_component_t c = {0};
    rs_kvlist_set(&c.metadata, "secretsFile", secrets_path);
    rs_kvlist_set(&c.metadata, "multiValued", "true");
    rs_kvlist_set(&c.metadata, "nestedSeparator", ".");
    char err[300];
    ASSERT_EQ(init_store(&c, "secretstores.local.file", err, sizeof err), 0);
    ASSERT_SECRET(&c, "redis", "{\"password\":\"pw\",\"tls.ca\":\"x\"}");
    ASSERT_SECRET(&c, "plain", "{\"plain\":\"v\"}");
    c.type->close(&c);
    rs_kvlist_free(&c.metadata);
    unlink(secrets_path);
}

TEST(file_errors) {
    rs_component_t c = {0};
    char err[300] = "";
    ASSERT_EQ(init_store(&c, "secretstores.local.file", err, sizeof err), -1); /* no secretsFile */
    ASSERT_TRUE(strstr(err, "secretsFile") != NULL);
    c.type->close(&c);
    write_file("{not json");
    rs_kvlist_set(&c.metadata, "secretsFile", secrets_path);
    ASSERT_EQ(init_store(&c, "secretstores.local.file", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, secrets_path) != NULL);
    c.type->close(&c);
    rs_kvlist_set(&c.metadata, "secretsFile", "/nonexistent/secrets.json");
    ASSERT_EQ(init_store(&c, "secretstores.local.file", err, sizeof err), -1);
    c.type->close(&c);
    rs_kvlist_free(&c.metadata);
    unlink(secrets_path);
}

TEST(env_store) {
    setenv("RSTEST_DB_PASS", "s3cret", 1);
    setenv("DAPR_API_TOKEN", "tok", 1);
    setenv("APP_API_TOKEN", "tok2", 1);
    rs_component_t c = {0};
    char err[300];
    ASSERT_EQ(init_store(&c, "secretstores.local.env", err, sizeof err), 0);
    ASSERT_SECRET(&c, "RSTEST_DB_PASS", "{\"RSTEST_DB_PASS\":\"s3cret\"}");
    ASSERT_SECRET(&c, "RSTEST_MISSING", "{\"RSTEST_MISSING\":\"\"}");
    ASSERT_SECRET(&c, "DAPR_API_TOKEN", "{\"DAPR_API_TOKEN\":\"\"}");
    ASSERT_SECRET(&c, "APP_API_TOKEN", "{\"APP_API_TOKEN\":\"\"}");
    c.type->close(&c);

    rs_kvlist_set(&c.metadata, "prefix", "RSTEST_");
    ASSERT_EQ(init_store(&c, "secretstores.local.env", err, sizeof err), 0);
    ASSERT_SECRET(&c, "DB_PASS", "{\"DB_PASS\":\"s3cret\"}");
    json_t *all = NULL;
    ASSERT_EQ(((const rs_secretstore_ops_t *)c.type->ops)->bulk_get(&c, &all, err, sizeof err), 0);
    ASSERT_TRUE(json_object_get(all, "DB_PASS") != NULL);
    ASSERT_TRUE(json_object_get(all, "DAPR_API_TOKEN") == NULL);
    ASSERT_TRUE(json_object_get(all, "HOME") == NULL);
    json_decref(all);
    c.type->close(&c);
    rs_kvlist_free(&c.metadata);
}

int main(void) {
    RUN(file_flattens_by_default);
    RUN(file_multivalued_and_separator);
    RUN(file_errors);
    RUN(env_store);
    return TEST_SUMMARY();
}

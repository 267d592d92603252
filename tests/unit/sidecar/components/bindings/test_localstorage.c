/* SPDX-License-Identifier: MIT */
/* bindings.localstorage driven directly through its ops table: operations,
 * escape attempts (../, absolute names, symlinks out), refused roots. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sidecar/components/bindings/bindings.h"
#include "test.h"

extern const rs_component_type_t rs_bindings_localstorage_type;

typedef struct {
    int called, ok;
    char data[4096];
    size_t len;
    char err[1024];
} result_t;

static void on_done(void *arg, int ok, const rs_binding_resp_t *resp, const char *err) {
    result_t *r = arg;
    r->called++;
    r->ok = ok;
    r->len = 0;
    r->data[0] = 0;
    if (resp && resp->len < sizeof r->data) {
        memcpy(r->data, resp->data, resp->len);
        r->data[resp->len] = 0;
        r->len = resp->len;
    }
    snprintf(r->err, sizeof r->err, "%s", err ? err : "");
}

static char tmp[256];

static int init_comp(rs_component_t *c, const char *root, const char *d64, char *err) {
    memset(c, 0, sizeof *c);
    c->name = "files";
    c->type = &rs_bindings_localstorage_type;
    rs_kvlist_set(&c->metadata, "rootPath", root);
    if (d64) rs_kvlist_set(&c->metadata, "decodeBase64", d64);
    return c->type->init(c, err, 256);
}

static void fini_comp(rs_component_t *c) {
    c->type->close(c);
    rs_kvlist_free(&c->metadata);
}

static result_t call(rs_component_t *c, const char *op, const char *data, const char *file) {
    result_t r = {0};
    rs_kvlist_t md = {0};
    if (file) rs_kvlist_set(&md, "fileName", file);
    const rs_binding_ops_t *ops = rs_binding_ops(c);
    rs_binding_call_t *h = ops->invoke(c, op, data, strlen(data), &md, on_done, &r);
    if (h) r.called = -100; /* must finish inline */
    rs_kvlist_free(&md);
    return r;
}

static void setup(void) {
    snprintf(tmp, sizeof tmp, "/tmp/rs-ls-test-XXXXXX");
    if (!mkdtemp(tmp)) abort();
}

static void cleanup(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) printf("  cleanup failed\n");
}

TEST(create_get_list_delete) {
    setup();
    char root[300], err[256];
    snprintf(root, sizeof root, "%s/root/sub", tmp); /* created at init */
    rs_component_t c;
    ASSERT_EQ(init_comp(&c, root, NULL, err), 0);
    result_t r = call(&c, "create", "\"hello\"", "a/b.txt");
    ASSERT_EQ(r.called, 1);
    ASSERT_EQ(r.ok, 1);
    ASSERT_STREQ(r.data, "{\"fileName\":\"a/b.txt\"}");
    r = call(&c, "get", "null", "a/b.txt");
    ASSERT_EQ(r.ok, 1);
    ASSERT_STREQ(r.data, "hello"); /* the JSON string lost its quotes */
    r = call(&c, "create", "{\"k\":1}", "./x.json");
    ASSERT_STREQ(r.data, "{\"fileName\":\"x.json\"}");
    r = call(&c, "get", "null", "x.json");
    ASSERT_STREQ(r.data, "{\"k\":1}");
    r = call(&c, "list", "null", NULL);
    ASSERT_EQ(r.ok, 1);
    char want[1024];
    snprintf(want, sizeof want, "[\"%s/a/b.txt\",\"%s/x.json\"]", root, root);
    ASSERT_STREQ(r.data, want);
    r = call(&c, "create", "\"no name\"", NULL);
    ASSERT_EQ(r.ok, 1);
    ASSERT_TRUE(strlen(r.data) == strlen("{\"fileName\":\"\"}") + 36); /* a UUID */
    r = call(&c, "delete", "null", "a/b.txt");
    ASSERT_EQ(r.ok, 1);
    ASSERT_EQ(r.len, 0);
    r = call(&c, "get", "null", "a/b.txt");
    ASSERT_EQ(r.ok, 0);
    ASSERT_TRUE(strstr(r.err, "file not found: ") != NULL);
    r = call(&c, "delete", "null", "a/b.txt");
    ASSERT_EQ(r.ok, 0);
    r = call(&c, "get", "null", NULL);
    ASSERT_EQ(r.ok, 0);
    ASSERT_STREQ(r.err, "fileName is a required attribute");
    fini_comp(&c);
    cleanup();
}

TEST(no_base64_guessing_unless_asked) {
    setup();
    char err[256];
    rs_component_t c;
    ASSERT_EQ(init_comp(&c, tmp, NULL, err), 0);
    call(&c, "create", "\"test\"", "t");
    result_t r = call(&c, "get", "null", "t");
    ASSERT_STREQ(r.data, "test"); /* Dapr would store the 3 bytes base64 "test" decodes to */
    fini_comp(&c);
    ASSERT_EQ(init_comp(&c, tmp, "true", err), 0);
    call(&c, "create", "\"aGVsbG8=\"", "h");
    r = call(&c, "get", "null", "h");
    ASSERT_STREQ(r.data, "hello");
    r = call(&c, "create", "\"not base64!\"", "h2");
    ASSERT_EQ(r.ok, 0);
    fini_comp(&c);
    cleanup();
}

TEST(escape_attempts_are_refused) {
    setup();
    char root[300], outside[300], err[256], p[700];
    snprintf(root, sizeof root, "%s/root", tmp);
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    mkdir(outside, 0777);
    snprintf(p, sizeof p, "%s/secret", outside);
    FILE *f = fopen(p, "w");
    fputs("s3cret", f);
    fclose(f);
    rs_component_t c;
    ASSERT_EQ(init_comp(&c, root, NULL, err), 0);
    result_t r = call(&c, "create", "\"x\"", "../outside/evil");
    ASSERT_EQ(r.ok, 0);
    ASSERT_TRUE(strstr(r.err, "leaves rootPath") != NULL);
    r = call(&c, "get", "null", "a/../../outside/secret");
    ASSERT_EQ(r.ok, 0);
    r = call(&c, "get", "null", p); /* absolute */
    ASSERT_EQ(r.ok, 0);
    ASSERT_TRUE(strstr(r.err, "absolute") != NULL);
    /* a symlinked folder pointing out */
    snprintf(p, sizeof p, "%s/out", root);
    ASSERT_EQ(symlink(outside, p), 0);
    r = call(&c, "get", "null", "out/secret");
    ASSERT_EQ(r.ok, 0);
    ASSERT_TRUE(strstr(r.err, "symlink") != NULL);
    r = call(&c, "create", "\"x\"", "out/new/deeper");
    ASSERT_EQ(r.ok, 0);
    snprintf(p, sizeof p, "%s/new", outside);
    struct stat st;
    ASSERT_TRUE(stat(p, &st) != 0); /* nothing was created outside */
    r = call(&c, "list", "null", "out");
    ASSERT_EQ(r.ok, 0);
    r = call(&c, "delete", "null", "out/secret");
    ASSERT_EQ(r.ok, 0);
    /* a symlinked file pointing out */
    snprintf(p, sizeof p, "%s/lnk", root);
    char target[400];
    snprintf(target, sizeof target, "%s/secret", outside);
    ASSERT_EQ(symlink(target, p), 0);
    r = call(&c, "get", "null", "lnk");
    ASSERT_EQ(r.ok, 0);
    r = call(&c, "create", "\"overwrite\"", "lnk");
    ASSERT_EQ(r.ok, 0);
    f = fopen(target, "r");
    char buf[32] = "";
    ASSERT_TRUE(f && fgets(buf, sizeof buf, f));
    fclose(f);
    ASSERT_STREQ(buf, "s3cret");
    /* a symlink that stays inside is fine */
    call(&c, "create", "\"in\"", "real.txt");
    snprintf(p, sizeof p, "%s/alias", root);
    snprintf(target, sizeof target, "%s/real.txt", root);
    ASSERT_EQ(symlink(target, p), 0);
    r = call(&c, "get", "null", "alias");
    ASSERT_EQ(r.ok, 1);
    ASSERT_STREQ(r.data, "in");
    fini_comp(&c);
    cleanup();
}

TEST(forbidden_roots) {
    setup();
    char err[256], p[400];
    rs_component_t c;
    ASSERT_EQ(init_comp(&c, "/proc", NULL, err), -1);
    fini_comp(&c);
    ASSERT_EQ(init_comp(&c, "/sys/kernel", NULL, err), -1);
    fini_comp(&c);
    ASSERT_EQ(init_comp(&c, "/boot", NULL, err), -1);
    fini_comp(&c);
    ASSERT_EQ(init_comp(&c, "/var/run/secrets/x", NULL, err), -1);
    fini_comp(&c);
    ASSERT_EQ(init_comp(&c, "/", NULL, err), -1);
    fini_comp(&c);
    snprintf(p, sizeof p, "%s/to-proc", tmp);
    ASSERT_EQ(symlink("/proc/self", p), 0);
    ASSERT_EQ(init_comp(&c, p, NULL, err), -1);
    ASSERT_TRUE(strstr(err, "resolves to /proc") != NULL);
    fini_comp(&c);
    memset(&c, 0, sizeof c);
    c.type = &rs_bindings_localstorage_type;
    ASSERT_EQ(c.type->init(&c, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "missing rootPath") != NULL);
    c.type->close(&c);
    cleanup();
}

int main(void) {
    RUN(create_get_list_delete);
    RUN(no_base64_guessing_unless_asked);
    RUN(escape_attempts_are_refused);
    RUN(forbidden_roots);
    return TEST_SUMMARY();
}

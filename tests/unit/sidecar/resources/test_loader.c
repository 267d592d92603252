/* SPDX-License-Identifier: MIT */
/* Resource loading: kinds, scopes, metadata forms, duplicate names, and the
 * file:line: reason errors that stop start-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sidecar/boot/resolve.h"
#include "sidecar/resources/resources.h"
#include "test.h"

static char dir[256];

static void write_file(const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static void fresh_dir(void) {
    char cmd[300];
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) perror("rm");
    }
    snprintf(dir, sizeof dir, "/tmp/rs-loader-XXXXXX");
    if (!mkdtemp(dir)) perror("mkdtemp");
}

static int load(rs_resources_t *r, const char *app, char *err, size_t errlen) {
    rs_strlist_t paths = {0};
    rs_strlist_add(&paths, dir);
    int rc = rs_resources_load(r, &paths, NULL, app, err, errlen);
    rs_strlist_free(&paths);
    return rc;
}

static const char *COMPONENTS =
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Component\n"
    "metadata:\n"
    "  name: statestore\n"
    "spec:\n"
    "  type: state.redis\n"
    "  version: v1\n"
    "  metadata:\n"
    "  - name: redisHost\n"
    "    value: localhost:6379\n"
    "  - name: redisPassword\n"
    "    secretKeyRef:\n"
    "      name: redis\n"
    "      key: password\n"
    "  - name: fromEnv\n"
    "    envRef: SOME_VAR\n"
    "  - name: number\n"
    "    value: 5\n"
    "auth:\n"
    "  secretStore: local\n"
    "---\n"
    "apiVersion: dapr.io/v1alpha1\n"
    "kind: Component\n"
    "metadata:\n"
    "  name: other-app-only\n"
    "spec:\n"
    "  type: state.redis\n"
    "  version: v1\n"
    "scopes:\n"
    "- other\n";

TEST(multi_document_file_with_scopes) {
    fresh_dir();
    write_file("a.yaml", COMPONENTS);
    write_file("ignored.txt", "not yaml at all: [");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "myapp", err, sizeof err), 0);
    ASSERT_EQ(r.ncomponents, 1);
    rs_resource_component_t *c = &r.components[0];
    ASSERT_STREQ(c->name, "statestore");
    ASSERT_STREQ(c->type, "state.redis");
    ASSERT_STREQ(c->secret_store, "local");
    ASSERT_EQ(c->nitems, 4);
    ASSERT_STREQ(c->items[0].value, "localhost:6379");
    ASSERT_STREQ(c->items[1].secret_name, "redis");
    ASSERT_STREQ(c->items[1].secret_key, "password");
    ASSERT_STREQ(c->items[2].env_ref, "SOME_VAR");
    ASSERT_STREQ(c->items[3].value, "5");
    ASSERT_EQ(c->line, 1);
    rs_resources_free(&r);
}

TEST(empty_folder_loads_nothing) {
    fresh_dir();
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), 0);
    ASSERT_EQ(r.ncomponents, 0);
    rs_resources_free(&r);
}

TEST(scoped_component_loads_for_listed_app) {
    fresh_dir();
    write_file("a.yml", COMPONENTS);
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "other", err, sizeof err), 0);
    ASSERT_EQ(r.ncomponents, 2);
    rs_resources_free(&r);
}

TEST(duplicate_names_rejected) {
    fresh_dir();
    write_file("a.yaml", "kind: Component\nmetadata:\n  name: x\nspec:\n  type: state.redis\n");
    write_file("b.yaml", "kind: Component\nmetadata:\n  name: x\nspec:\n  type: lock.redis\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "duplicate component name 'x'") != NULL);
    ASSERT_TRUE(strstr(err, "b.yaml:1") != NULL);
}

TEST(invalid_yaml_names_file_and_line) {
    fresh_dir();
    write_file("bad.yaml", "kind: Component\nmetadata:\n  name: [unclosed\nspec: x\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
    /* "<dir>/bad.yaml:<line>:<col>: error: <reason>" */
    const char *at = strstr(err, "bad.yaml:");
    ASSERT_TRUE(at != NULL);
    ASSERT_TRUE(at[9] >= '1' && at[9] <= '9');
    ASSERT_TRUE(strstr(err, "closing bracket") != NULL);
}

TEST(lines_that_break_libfyaml_refused) {
    /* libfyaml 0.7.12 crashes destroying its parser after some explicit keys with a ':' and a tab ("? t:<TAB>?",
     * "?\n s:<TAB>:"), and a NUL is no YAML character (found by fuzz/resources): refused with their place before
     * libfyaml reads them */
    const char *bad[] = {"? t:\t?\n", "kind: Component\nx:\n  - ? t:\t|\n", "?\n s:\t:\n", "kind: Component\n? o: x\n",
                         "kind: C\0omponent\n"};
    const char *where[] = {"t.yaml:1: an explicit key ('? '): not supported", "t.yaml:3: an explicit key",
                           "t.yaml:1: an explicit key", "t.yaml:2: an explicit key", "t.yaml:1: a NUL byte"};
    const size_t len[] = {7, 30, 8, 23, 17};
    for (int i = 0; i < 5; i++) {
        fresh_dir();
        char path[600];
        snprintf(path, sizeof path, "%s/t.yaml", dir);
        FILE *f = fopen(path, "wb");
        ASSERT_TRUE(f != NULL);
        ASSERT_EQ(fwrite(bad[i], 1, len[i], f), len[i]);
        fclose(f);
        rs_resources_t r;
        char err[512] = "";
        ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
        ASSERT_TRUE(strstr(err, where[i]) != NULL);
    }
    /* tabs and '?' elsewhere are libfyaml's to judge: after ':' of a plain key, in values, quotes and comments */
    fresh_dir();
    write_file("ok.yaml", "kind: Component\nmetadata:\n  name: s # ? a:\t- b\nspec:\n  type:\tstate.redis\n"
                          "  metadata:\n  - name: a\n    value: b\t- c ?\n  - name: q\n    value: \"? x:\t- y\"\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), 0);
    ASSERT_EQ(r.ncomponents, 1);
    rs_resources_free(&r);
}

TEST(wrong_field_type_names_line) {
    fresh_dir();
    write_file("c.yaml",
               "kind: Component\nmetadata:\n  name: s\nspec:\n  type: state.redis\n  metadata:\n    redisHost: x\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "c.yaml:7:") != NULL);
    ASSERT_TRUE(strstr(err, "must be a list") != NULL);

    write_file("c.yaml", "kind: Component\nmetadata:\n  name: s\nspec:\n  type: state.redis\n  metadata:\n"
                         "  - name: a\n    valeu: 1\n");
    err[0] = '\0';
    ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "c.yaml:8:") != NULL);
    ASSERT_TRUE(strstr(err, "unknown field 'valeu'") != NULL);
}

TEST(missing_type_rejected) {
    fresh_dir();
    write_file("d.yaml", "kind: Component\nmetadata:\n  name: s\nspec:\n  version: v1\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "has no spec.type") != NULL);
}

TEST(subscriptions_v1_and_v2) {
    fresh_dir();
    write_file("s.yaml",
               "apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata:\n  name: s1\n"
               "spec:\n  pubsubname: p\n  topic: t\n  route: /t\nscopes:\n- app\n"
               "---\n"
               "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: s2\n"
               "spec:\n  pubsubname: p\n  topic: u\n  routes:\n    rules:\n    - match: event.type == \"x\"\n"
               "      path: /x\n    default: /u\n  deadLetterTopic: dlq\n  metadata:\n    rawPayload: \"true\"\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), 0);
    ASSERT_EQ(r.nsubscriptions, 2);
    ASSERT_STREQ(r.subscriptions[0].route, "/t");
    ASSERT_EQ(r.subscriptions[0].v2, 0);
    ASSERT_EQ(r.subscriptions[1].v2, 1);
    ASSERT_EQ(r.subscriptions[1].nrules, 1);
    ASSERT_STREQ(r.subscriptions[1].rules[0].match, "event.type == \"x\"");
    ASSERT_STREQ(r.subscriptions[1].route, "/u");
    ASSERT_STREQ(r.subscriptions[1].dead_letter_topic, "dlq");
    ASSERT_STREQ(rs_kvlist_get(&r.subscriptions[1].metadata, "rawPayload"), "true");
    rs_resources_free(&r);
}

TEST(resiliency_kept_as_json) {
    fresh_dir();
    write_file("r.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\nspec:\n  policies:\n"
                         "    retries:\n      f:\n        policy: constant\n        maxRetries: -1\n"
                         "        duration: 200ms\n        quoted: \"12\"\n");
    rs_resources_t r;
    char err[512] = "";
    ASSERT_EQ(load(&r, "app", err, sizeof err), 0);
    ASSERT_EQ(r.nresiliencies, 1);
    json_t *f = json_object_get(json_object_get(json_object_get(json_object_get(r.resiliencies[0].doc, "spec"),
                                                                "policies"), "retries"), "f");
    ASSERT_EQ(json_integer_value(json_object_get(f, "maxRetries")), -1);
    ASSERT_STREQ(json_string_value(json_object_get(f, "duration")), "200ms");
    ASSERT_TRUE(json_is_string(json_object_get(f, "quoted")));
    rs_resources_free(&r);
}

TEST(templates) {
    char err[128];
    char *v = rs_resolve_templates("{appID}-x", "app1", err, sizeof err);
    ASSERT_STREQ(v, "app1-x");
    free(v);
    v = rs_resolve_templates("id-{uuid}", "a", err, sizeof err);
    ASSERT_EQ(strlen(v), 3 + 36);
    free(v);
    ASSERT_TRUE(rs_resolve_templates("{podName}", "a", err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "self-hosted") != NULL);
}

int main(void) {
    RUN(multi_document_file_with_scopes);
    RUN(empty_folder_loads_nothing);
    RUN(scoped_component_loads_for_listed_app);
    RUN(duplicate_names_rejected);
    RUN(invalid_yaml_names_file_and_line);
    RUN(lines_that_break_libfyaml_refused);
    RUN(wrong_field_type_names_line);
    RUN(missing_type_rejected);
    RUN(subscriptions_v1_and_v2);
    RUN(resiliency_kept_as_json);
    RUN(templates);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) perror("rm");
    return TEST_SUMMARY();
}

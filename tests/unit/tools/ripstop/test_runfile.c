/* SPDX-License-Identifier: MIT */
/* Run-file loading (src/tools/ripstop/runfile.c): inheritance from common, defaults, path resolution, and the
 * files that must be refused (unknown fields, bad numbers, bad combinations) with file:line in the message. */
#include "tmpdir.h" /* first: it asks for _GNU_SOURCE */

#include "test.h"
#include "tools/ripstop/runfile.h"

static char err[1024];

/* Loads run-file text written to <scratch>/<name>; returns rs_runfile_load's result (err filled on -1). */
static int load(const char *name, const char *text, rs_runfile_t *rf) {
    return rs_runfile_load(rf, tmp_write(name, text), err, sizeof err);
}

/* The text must be refused with every one of the NULL-terminated fragments in the message. */
#define ASSERT_REFUSED(text, ...)                                                                                     \
    do {                                                                                                              \
        rs_runfile_t rf_;                                                                                             \
        int rc_ = load("bad.yaml", text, &rf_);                                                                       \
        if (rc_ == 0) rs_runfile_free(&rf_);                                                                          \
        ASSERT_EQ(rc_, -1);                                                                                           \
        const char *want_[] = {__VA_ARGS__, NULL};                                                                    \
        for (const char **w_ = want_; *w_; w_++)                                                                      \
            if (!strstr(err, *w_)) TEST_FAIL_AT("'%s' not in: %s", *w_, err);                                         \
    } while (0)

#define APP_A "apps:\n  - appDirPath: ./a\n    command: [python3, app.py]\n"

TEST(common_is_inherited_and_defaults_filled) {
    tmp_mkdir("a");
    tmp_mkdir("b/.dapr/resources");
    tmp_mkdir("res");
    tmp_write("conf.yaml", "kind: Configuration\n");
    rs_runfile_t rf;
    int rc = load("dapr.yaml",
                  "version: 1\n"
                  "common:\n"
                  "  resourcesPath: ./res\n"
                  "  configFilePath: conf.yaml\n"
                  "  logLevel: debug\n"
                  "  env: {A: common, B: common}\n"
                  "  command: [sh, run.sh]\n"
                  "  enableAppHealthCheck: true\n"
                  "  appHealthProbeInterval: 2\n"
                  "apps:\n"
                  "  - appDirPath: ./a/\n"
                  "    appPort: 7001\n"
                  "  - appID: bee\n"
                  "    appDirPath: b\n"
                  "    appPort: auto\n"
                  "    replicas: 3\n"
                  "    env: {B: own}\n"
                  "    command: [python3, app.py]\n"
                  "    restart: on-failure\n"
                  "    restartDelay: 250ms\n"
                  "    appHealthThreshold: 5\n",
                  &rf);
    if (rc) TEST_FAIL_AT("%s", err);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(rf.napps, 2);
    char want[PATH_MAX];
    const rs_runfile_app_t *a = &rf.apps[0], *b = &rf.apps[1];
    ASSERT_STREQ(a->app_id, "a"); /* the directory's name */
    snprintf(want, sizeof want, "%s/a", tmp_dir());
    ASSERT_STREQ(a->dir, want);
    ASSERT_EQ(a->app_port, 7001);
    ASSERT_EQ(a->http_port, RS_PORT_AUTO);
    ASSERT_EQ(a->grpc_port, RS_PORT_AUTO);
    ASSERT_EQ(a->replicas, 1);
    ASSERT_EQ(a->restart, RS_RESTART_ALWAYS);
    ASSERT_EQ(a->restart_delay_ms, 1000);
    ASSERT_STREQ(a->app_protocol, "http");
    ASSERT_STREQ(a->log_level, "debug");
    ASSERT_EQ(a->ncommand, 2);
    ASSERT_STREQ(a->command[0], "sh");
    ASSERT_STREQ(rs_kvlist_get(&a->env, "B"), "common");
    ASSERT_EQ(a->resources_paths.len, 1); /* common's, resolved against the run file's directory */
    snprintf(want, sizeof want, "%s/res", tmp_dir());
    ASSERT_STREQ(a->resources_paths.items[0], want);
    snprintf(want, sizeof want, "%s/conf.yaml", tmp_dir());
    ASSERT_STREQ(a->config_path, want);
    ASSERT_EQ(a->enable_health_check, 1); /* passed on to the sidecar as --enable-app-health-check ... */
    ASSERT_EQ(a->health_interval_s, 2);
    ASSERT_EQ(a->health_timeout_ms, 0);   /* 0: not given, the sidecar's default */
    ASSERT_EQ(a->health_threshold, 0);

    ASSERT_STREQ(b->app_id, "bee");
    ASSERT_EQ(b->app_port, RS_PORT_AUTO);
    ASSERT_EQ(b->replicas, 3);
    ASSERT_EQ(b->restart, RS_RESTART_ON_FAILURE);
    ASSERT_EQ(b->restart_delay_ms, 250);
    ASSERT_EQ(b->restart_max_delay_ms, 30000);
    ASSERT_EQ(b->health_interval_s, 2);
    ASSERT_EQ(b->health_threshold, 5);
    ASSERT_STREQ(b->command[0], "python3");
    ASSERT_STREQ(rs_kvlist_get(&b->env, "A"), "common");
    ASSERT_STREQ(rs_kvlist_get(&b->env, "B"), "own");
    /* the app's own .dapr/resources wins over common's */
    ASSERT_EQ(b->resources_paths.len, 1);
    snprintf(want, sizeof want, "%s/b/.dapr/resources", tmp_dir());
    ASSERT_STREQ(b->resources_paths.items[0], want);
    rs_runfile_free(&rf);
}

TEST(a_directory_means_its_dapr_yaml_and_ignored_fields_warn) {
    tmp_mkdir("d/a");
    tmp_write("d/dapr.yaml", "version: 1\n"
                             "apps:\n"
                             "  - appDirPath: ./a\n"
                             "    command: [python3, app.py]\n"
                             "    appMaxConcurrency: 4\n");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/d", tmp_dir());
    rs_runfile_t rf;
    int rc = rs_runfile_load(&rf, dir, err, sizeof err);
    if (rc) TEST_FAIL_AT("%s", err);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(rf.warnings.len, 1);
    ASSERT_TRUE(strstr(rf.warnings.items[0], "dapr.yaml:5:") != NULL);
    ASSERT_TRUE(strstr(rf.warnings.items[0], "appMaxConcurrency") != NULL);
    rs_runfile_free(&rf);
}

TEST(unknown_fields_are_refused_with_their_line) {
    tmp_mkdir("a");
    ASSERT_REFUSED("version: 1\n" APP_A "    appPrt: 3000\n", "bad.yaml:5:", "appPrt: unknown field");
    ASSERT_REFUSED("version: 1\n" APP_A "extra: 1\n", "bad.yaml:5:", "extra: unknown top-level field");
    ASSERT_REFUSED("version: 1\ninfra: {redis: true, postgres: true}\n" APP_A, "postgres: unknown field");
    ASSERT_REFUSED("version: 1\ncommon: {appID: x}\n" APP_A, "appID: not allowed in common");
}

TEST(bad_numbers_are_refused) {
    tmp_mkdir("a");
    ASSERT_REFUSED("version: 1\n" APP_A "    appPort: 70000\n", "bad.yaml:5:", "appPort: must be a port number");
    ASSERT_REFUSED("version: 1\n" APP_A "    appPort: 80x\n", "appPort: must be a port number");
    ASSERT_REFUSED("version: 1\n" APP_A "    appPort: -1\n", "appPort: must be a port number");
    ASSERT_REFUSED("version: 1\n" APP_A "    daprGRPCPort: auto\n", "daprGRPCPort: must be a port number");
    ASSERT_REFUSED("version: 1\n" APP_A "    daprHTTPPort: 99999999999999999999\n", "daprHTTPPort");
    ASSERT_REFUSED("version: 1\n" APP_A "    replicas: 0\n", "replicas: must be 1..64");
    ASSERT_REFUSED("version: 1\n" APP_A "    replicas: 65\n", "replicas: must be 1..64");
    ASSERT_REFUSED("version: 1\n" APP_A "    replicas: two\n", "replicas: must be 1..64");
    ASSERT_REFUSED("version: 1\n" APP_A "    restartDelay: fast\n", "restartDelay: must be a duration");
    ASSERT_REFUSED("version: 1\n" APP_A "    enableApiLogging: maybe\n", "enableApiLogging: must be true or false");
    ASSERT_REFUSED("version: 2\n" APP_A, "version", "must be 1");
    ASSERT_REFUSED("version: 1\n" APP_A "    appHealthThreshold: 0\n", "appHealthThreshold: must be a whole number");
    ASSERT_REFUSED("version: 1\n" APP_A "    appHealthProbeTimeout: 5s\n", "appHealthProbeTimeout: must be a whole");
}

TEST(bad_combinations_are_refused) {
    tmp_mkdir("a");
    tmp_mkdir("b");
    ASSERT_REFUSED(APP_A, "version", "required");
    ASSERT_REFUSED("version: 1\napps: []\n", "apps", "non-empty list");
    ASSERT_REFUSED("version: 1\napps:\n  - appDirPath: ./a\n", "command: required");
    ASSERT_REFUSED("version: 1\napps:\n  - appDirPath: ./nowhere\n    command: [x]\n", "is not a directory");
    ASSERT_REFUSED("version: 1\n" APP_A "    replicas: 2\n    appPort: 7000\n", "cannot be shared by 2 replicas");
    ASSERT_REFUSED("version: 1\n" APP_A "    appID: x\n  - appDirPath: ./b\n    appID: x\n    command: [y]\n",
                   "appID: 'x' is used twice");
    ASSERT_REFUSED("version: 1\n" APP_A "    appID: 'no spaces'\n", "appID: 'no spaces' must be");
    ASSERT_REFUSED("version: 1\n" APP_A "    appProtocol: ftp\n", "appProtocol: must be");
    ASSERT_REFUSED("version: 1\n" APP_A "    resourcesPath: ./missing\n", "does not exist");
    ASSERT_REFUSED("version: 1\n" APP_A "    env: {\"A=B\": 1}\n", "env: bad variable name");
    ASSERT_REFUSED("version: 1\napps: [\n", "YAML syntax error");
}

/* chaosLinks: names to bits, inherited from common, none for an app without a sidecar; Kafka is refused
 * with the reason. */
TEST(chaos_links_are_parsed_and_checked) {
    tmp_mkdir("a");
    tmp_mkdir("b");
    rs_runfile_t rf;
    ASSERT_EQ(load("links.yaml",
                   "version: 1\ncommon: {chaosLinks: [redis]}\n" APP_A "    chaosLinks: [app, blob]\n"
                   "  - appDirPath: ./b\n    command: [y]\n  - appDirPath: ./a\n    appID: plain\n"
                   "    noSidecar: true\n    command: [z]\n",
                   &rf),
              0);
    ASSERT_EQ(rf.apps[0].chaos_links, RS_LINK_APP | RS_LINK_BLOB);
    ASSERT_EQ(rf.apps[1].chaos_links, RS_LINK_REDIS);
    ASSERT_EQ(rf.apps[2].chaos_links, 0);
    rs_runfile_free(&rf);
    ASSERT_EQ(rs_runfile_link_bit("blob"), RS_LINK_BLOB);
    ASSERT_EQ(rs_runfile_link_bit("kafka"), -1);
    ASSERT_STREQ(rs_runfile_link_name(RS_LINK_REDIS), "redis");
    ASSERT_REFUSED("version: 1\n" APP_A "    chaosLinks: [kafka]\n", "bad.yaml:5:",
                   "chaosLinks: 'kafka' is not one of app, redis, blob", "advertise their own addresses");
    ASSERT_REFUSED("version: 1\n" APP_A "    chaosLinks: app\n", "chaosLinks");
}

TEST(a_missing_file_is_refused) {
    rs_runfile_t rf;
    ASSERT_EQ(rs_runfile_load(&rf, "/nonexistent/dapr.yaml", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "cannot read the run file") != NULL);
}

int main(void) {
    RUN(common_is_inherited_and_defaults_filled);
    RUN(a_directory_means_its_dapr_yaml_and_ignored_fields_warn);
    RUN(unknown_fields_are_refused_with_their_line);
    RUN(bad_numbers_are_refused);
    RUN(bad_combinations_are_refused);
    RUN(a_missing_file_is_refused);
    RUN(chaos_links_are_parsed_and_checked);
    tmp_cleanup();
    return TEST_SUMMARY();
}

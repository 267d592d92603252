/* SPDX-License-Identifier: MIT */
/* nameresolution.sqlite: configuration, register/resolve/remove, stale rows, cleanup direction. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "sidecar/nameres/nameres.h"
#include "test.h"

static char dbpath[256];

static json_t *config(const char *extra) {
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"spec\":{\"nameResolution\":{\"component\":\"sqlite\",\"configuration\":{\"connectionString\":\"%s\""
             "%s}}}}",
             dbpath, extra);
    return json_loads(buf, 0, NULL);
}

static void sql(const char *q) {
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    sqlite3_exec(db, q, NULL, NULL, NULL);
    sqlite3_close(db);
}

static int count_rows(const char *where) {
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    char q[256];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM hosts WHERE %s", where);
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

TEST(config_defaults_and_errors) {
    rs_nameres_config_t c;
    char err[256];
    ASSERT_EQ(rs_nameres_config_parse(NULL, &c, err, sizeof err), 0);
    ASSERT_TRUE(strstr(c.connection_string, "ripstop-nameres") != NULL);
    ASSERT_EQ(c.update_interval_ms, 5000);
    ASSERT_EQ(c.timeout_ms, 1000);
    ASSERT_STREQ(c.table, "hosts");
    rs_nameres_config_free(&c);
    setenv("RIPSTOP_NAMERES_DB", "/tmp/one-run.db", 1);
    ASSERT_EQ(rs_nameres_config_parse(NULL, &c, err, sizeof err), 0);
    ASSERT_STREQ(c.connection_string, "/tmp/one-run.db");
    rs_nameres_config_free(&c);
    unsetenv("RIPSTOP_NAMERES_DB");
    json_t *j = config(",\"updateInterval\":\"2s\",\"timeout\":\"500ms\",\"tableName\":\"peers\"");
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), 0);
    ASSERT_EQ(c.update_interval_ms, 2000);
    ASSERT_STREQ(c.table, "peers");
    rs_nameres_config_free(&c);
    json_decref(j);
    j = config(",\"updateInterval\":\"1500ms\"");
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), -1); /* whole seconds */
    json_decref(j);
    j = config(",\"updateInterval\":\"1s\",\"timeout\":\"1s\"");
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), -1); /* >= timeout + 1s */
    json_decref(j);
    j = config(",\"tableName\":\"x; DROP TABLE y\"");
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), -1);
    json_decref(j);
    j = json_loads("{\"spec\":{\"nameResolution\":{\"component\":\"sqlite\",\"configuration\":{}}}}", 0, NULL);
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), -1); /* connectionString required */
    json_decref(j);
}

TEST(register_resolve_replicas_and_remove) {
    char err[256], out[128];
    json_t *j = config(",\"updateInterval\":\"3s\",\"cleanupInterval\":0");
    rs_nameres_config_t c1, c2, c3;
    ASSERT_EQ(rs_nameres_config_parse(j, &c1, err, sizeof err), 0);
    ASSERT_EQ(rs_nameres_config_parse(j, &c2, err, sizeof err), 0);
    ASSERT_EQ(rs_nameres_config_parse(j, &c3, err, sizeof err), 0);
    json_decref(j);
    rs_nameres_t *a1 = rs_nameres_new(NULL, &c1, "orders", "127.0.0.1:1001", err, sizeof err);
    rs_nameres_t *a2 = rs_nameres_new(NULL, &c2, "orders", "127.0.0.1:1002", err, sizeof err);
    rs_nameres_t *client = rs_nameres_new(NULL, &c3, NULL, NULL, err, sizeof err);
    ASSERT_TRUE(a1 && a2 && client);
    int seen1 = 0, seen2 = 0;
    for (int i = 0; i < 200; i++) {
        ASSERT_EQ(rs_nameres_resolve(client, "orders", out, sizeof out, err, sizeof err), 0);
        seen1 += strcmp(out, "127.0.0.1:1001") == 0;
        seen2 += strcmp(out, "127.0.0.1:1002") == 0;
    }
    ASSERT_EQ(seen1 + seen2, 200);
    ASSERT_TRUE(seen1 > 20 && seen2 > 20); /* random choice among replicas */
    ASSERT_EQ(rs_nameres_resolve(client, "nobody", out, sizeof out, err, sizeof err), -1);
    ASSERT_STREQ(err, "no host found with the given ID");
    /* forgetting an address after a connect error drops it from the cache */
    rs_nameres_forget(client, "orders", "127.0.0.1:1001");
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(rs_nameres_resolve(client, "orders", out, sizeof out, err, sizeof err), 0);
        ASSERT_STREQ(out, "127.0.0.1:1002");
    }
    ASSERT_EQ(count_rows("app_id='orders'"), 2);
    rs_nameres_free(a1); /* exit deletes the row */
    ASSERT_EQ(count_rows("app_id='orders'"), 1);
    rs_nameres_free(a2);
    rs_nameres_free(client);
    ASSERT_EQ(count_rows("1"), 0);
}

TEST(stale_rows_are_ignored_and_cleanup_deletes_only_them) {
    char err[256], out[128];
    sql("INSERT INTO hosts VALUES ('dead', '127.0.0.1:9', 'cart', '', unixepoch() - 100)");
    json_t *j = config(",\"updateInterval\":\"3s\",\"cleanupInterval\":0");
    rs_nameres_config_t c;
    ASSERT_EQ(rs_nameres_config_parse(j, &c, err, sizeof err), 0);
    rs_nameres_t *client = rs_nameres_new(NULL, &c, NULL, NULL, err, sizeof err);
    ASSERT_EQ(rs_nameres_resolve(client, "cart", out, sizeof out, err, sizeof err), -1);
    rs_nameres_config_t c2;
    ASSERT_EQ(rs_nameres_config_parse(j, &c2, err, sizeof err), 0);
    rs_nameres_t *live = rs_nameres_new(NULL, &c2, "cart", "127.0.0.1:10", err, sizeof err);
    rs_nameres_free(client);
    json_decref(j);
    ASSERT_EQ(count_rows("1"), 2);
    /* a sidecar with cleanup on deletes the stale row and keeps the live one (not Dapr's inverted query) */
    j = config(",\"updateInterval\":\"3s\",\"cleanupInterval\":\"1h\"");
    rs_nameres_config_t c3;
    ASSERT_EQ(rs_nameres_config_parse(j, &c3, err, sizeof err), 0);
    json_decref(j);
    struct event_base *base = event_base_new();
    rs_nameres_t *cleaner = rs_nameres_new(base, &c3, NULL, NULL, err, sizeof err);
    ASSERT_EQ(count_rows("registration_id='dead'"), 0);
    ASSERT_EQ(count_rows("app_id='cart'"), 1);
    ASSERT_EQ(rs_nameres_resolve(cleaner, "cart", out, sizeof out, err, sizeof err), 0);
    ASSERT_STREQ(out, "127.0.0.1:10");
    rs_nameres_free(cleaner);
    rs_nameres_free(live);
    event_base_free(base);
}

/* Removes a database file and its WAL companions. */
static void remove_db(const char *path) {
    char p[320];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* Sidecars started together all create the schema and switch a fresh file to WAL at the same moment;
 * each must come up (a start-up failed with "database is locked" before set-up retried). Real processes,
 * because SQLite's file locks are per process. */
TEST(processes_starting_together_on_a_fresh_file_all_register) {
    char fresh[300];
    snprintf(fresh, sizeof fresh, "%s-fresh", dbpath);
    enum { N = 8, ROUNDS = 5 };
    for (int round = 0; round < ROUNDS; round++) {
        remove_db(fresh);
        int go[2];
        ASSERT_EQ(pipe(go), 0);
        pid_t kids[N];
        for (int i = 0; i < N; i++) {
            kids[i] = fork();
            if (kids[i] == 0) { /* wait for the start signal, then open and register like a sidecar */
                char b;
                close(go[1]);
                rs_log_set_level(RS_LOG_WARN); /* 8 x 5 "registered" lines say nothing */
                if (read(go[0], &b, 1) != 0) _exit(3);
                char conf[512], err[256], id[32], addr[32];
                snprintf(conf, sizeof conf,
                         "{\"spec\":{\"nameResolution\":{\"component\":\"sqlite\",\"configuration\":"
                         "{\"connectionString\":\"%s\"}}}}",
                         fresh);
                json_t *j = json_loads(conf, 0, NULL);
                rs_nameres_config_t c;
                if (!j || rs_nameres_config_parse(j, &c, err, sizeof err) != 0) _exit(2);
                json_decref(j);
                snprintf(id, sizeof id, "app%d", i);
                snprintf(addr, sizeof addr, "127.0.0.1:%d", 2000 + i);
                rs_nameres_t *n = rs_nameres_new(NULL, &c, id, addr, err, sizeof err);
                if (!n) {
                    fprintf(stderr, "child %d: %s\n", i, err);
                    _exit(1);
                }
                _exit(0); /* no remove: the row stays for the parent to count */
            }
        }
        close(go[0]);
        close(go[1]); /* EOF in every child at once: the start signal */
        int ok = 0;
        for (int i = 0; i < N; i++) {
            int st = 0;
            waitpid(kids[i], &st, 0);
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
        }
        ASSERT_EQ(ok, N);
        char saved[256];
        snprintf(saved, sizeof saved, "%s", dbpath);
        snprintf(dbpath, sizeof dbpath, "%s", fresh);
        ASSERT_EQ(count_rows("1=1"), N);
        snprintf(dbpath, sizeof dbpath, "%s", saved);
    }
    remove_db(fresh);
}

int main(void) {
    snprintf(dbpath, sizeof dbpath, "/tmp/ripstop-nameres-unit-%d.db", (int)getpid());
    RUN(config_defaults_and_errors);
    RUN(register_resolve_replicas_and_remove);
    RUN(stale_rows_are_ignored_and_cleanup_deletes_only_them);
    RUN(processes_starting_together_on_a_fresh_file_all_register);
    remove_db(dbpath);
    return TEST_SUMMARY();
}

/* SPDX-License-Identifier: MIT */
/* Core helpers: durations, capped buffers, booleans, trace ids. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/duration.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/str.h"
#include "test.h"

TEST(go_duration_format) {
    /* as Go's time.Duration.String prints them (daprd's metadata shows the app-health durations so) */
    static const struct {
        int64_t ms;
        const char *s;
    } cases[] = {{0, "0s"}, {1, "1ms"}, {500, "500ms"}, {1000, "1s"}, {5000, "5s"}, {1500, "1.5s"},
                 {1250, "1.25s"}, {90000, "1m30s"}, {60000, "1m0s"}, {3600000, "1h0m0s"}, {3723004, "1h2m3.004s"},
                 {-1500, "-1.5s"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        rs_duration_format_go(cases[i].ms, buf, sizeof buf);
        ASSERT_STREQ(buf, cases[i].s);
    }
}

TEST(go_durations) {
    int64_t ms;
    ASSERT_EQ(rs_duration_parse_go("200ms", &ms), 0);
    ASSERT_EQ(ms, 200);
    ASSERT_EQ(rs_duration_parse_go("1m30s", &ms), 0);
    ASSERT_EQ(ms, 90000);
    ASSERT_EQ(rs_duration_parse_go("1.5s", &ms), 0);
    ASSERT_EQ(ms, 1500);
    ASSERT_EQ(rs_duration_parse_go("1h", &ms), 0);
    ASSERT_EQ(ms, 3600000);
    ASSERT_EQ(rs_duration_parse_go("0", &ms), 0);
    ASSERT_EQ(ms, 0);
    ASSERT_EQ(rs_duration_parse_go("5", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("5x", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("", &ms), -1);
    /* Go's number syntax only, and nothing past int64 nanoseconds (~292 years): an error, never UB */
    ASSERT_EQ(rs_duration_parse_go("1e3s", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("0x10s", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("1e999h", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("2562047h", &ms), 0);
    ASSERT_EQ(ms, 2562047LL * 3600000);
    ASSERT_EQ(rs_duration_parse_go("2562048h", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("-2562048h", &ms), -1);
    ASSERT_EQ(rs_duration_parse_go("1.s", &ms), 0);
    ASSERT_EQ(ms, 1000);
    ASSERT_EQ(rs_duration_parse_s_default("9223372036854776", &ms), -1);
    ASSERT_EQ(rs_duration_parse_s_default("99999999999999999999", &ms), -1);
    ASSERT_EQ(rs_duration_parse_ms_default("-9223372036854775808", &ms), 0);
    ASSERT_EQ(rs_duration_parse_ms_default("99999999999999999999", &ms), -1);
    ASSERT_EQ(rs_duration_parse_ms_default("5000", &ms), 0);
    ASSERT_EQ(ms, 5000);
    ASSERT_EQ(rs_duration_parse_s_default("10", &ms), 0);
    ASSERT_EQ(ms, 10000);
    ASSERT_EQ(rs_duration_parse_s_default("10s", &ms), 0);
    ASSERT_EQ(ms, 10000);
}

TEST(checked_numbers) {
    double d;
    ASSERT_EQ(rs_parse_double("0.25", &d), 0);
    ASSERT_NEAR(d, 0.25, 1e-12);
    ASSERT_EQ(rs_parse_double("-3", &d), 0);
    ASSERT_NEAR(d, -3, 1e-12);
    const char *bad[] = {"", " 1", "1 ", "1x", "nan", "inf", "-inf", "1e999", "abc", NULL};
    for (const char **b = bad; *b; b++)
        if (rs_parse_double(*b, &d) == 0) TEST_FAIL_AT("'%s' parsed as %g", *b, d);
    ASSERT_EQ(rs_parse_double(NULL, &d), -1);
    int64_t ms;
    ASSERT_EQ(rs_duration_parse_seconds("2.5", 10, &ms), 0);
    ASSERT_EQ(ms, 2500);
    ASSERT_EQ(rs_duration_parse_seconds("0", 10, &ms), 0);
    ASSERT_EQ(ms, 0);
    ASSERT_EQ(rs_duration_parse_seconds("10.001", 10, &ms), -1);
    ASSERT_EQ(rs_duration_parse_seconds("-1", 10, &ms), -1);
    ASSERT_EQ(rs_duration_parse_seconds("5s", 10, &ms), -1);
    ASSERT_EQ(rs_duration_parse_seconds("1e300", 1e308, &ms), -1); /* past int64 milliseconds */
}

TEST(buffer_cap) {
    rs_buf_t b;
    rs_buf_init(&b, 8);
    ASSERT_EQ(rs_buf_puts(&b, "12345"), 0);
    ASSERT_EQ(rs_buf_puts(&b, "6789"), -1);
    ASSERT_STREQ(b.data, "12345");
    ASSERT_EQ(rs_buf_printf(&b, "%d", 678), 0);
    ASSERT_STREQ(b.data, "12345678");
    rs_buf_free(&b);
}

TEST(buffer_building) {
    rs_buf_t b;
    rs_buf_init(&b, 64);
    ASSERT_EQ(rs_buf_reserve(&b, 40), 0);
    ASSERT_TRUE(b.alloc >= 41);
    char *before = b.data;
    ASSERT_EQ(rs_buf_puts(&b, "Content-Length: "), 0);
    ASSERT_EQ(rs_buf_put_uint(&b, 0), 0);
    ASSERT_EQ(rs_buf_puts(&b, " "), 0);
    ASSERT_EQ(rs_buf_put_uint(&b, 18446744073709551615ULL), 0);
    ASSERT_TRUE(b.data == before); /* the reservation held: no reallocation */
    ASSERT_STREQ(b.data, "Content-Length: 0 18446744073709551615");
    char *at = rs_buf_extend(&b, 3);
    ASSERT_TRUE(at != NULL);
    memcpy(at, "\r\n!", 3);
    ASSERT_EQ(b.len, 41);
    ASSERT_STREQ(b.data + 38, "\r\n!");
    ASSERT_TRUE(rs_buf_extend(&b, 24) == NULL); /* over the cap of 64: refused, contents unchanged */
    ASSERT_EQ(b.len, 41);
    ASSERT_EQ(rs_buf_reserve(&b, 1000), 0); /* asks past the cap: room up to the cap, not an error */
    ASSERT_TRUE(b.alloc >= 65);
    before = b.data;
    ASSERT_TRUE(rs_buf_extend(&b, 23) != NULL); /* exactly to the cap, in the room reserved */
    ASSERT_TRUE(b.data == before);
    rs_buf_free(&b);
}

TEST(number_and_join) {
    char num[21];
    ASSERT_EQ(rs_utoa(0, num), 1);
    ASSERT_STREQ(num, "0");
    ASSERT_EQ(rs_utoa(404, num), 3);
    ASSERT_STREQ(num, "404");
    ASSERT_EQ(rs_utoa(18446744073709551615ULL, num), 20);
    ASSERT_STREQ(num, "18446744073709551615");
    char out[16];
    const char *fits[] = {"http://", "a", "/b", "", NULL};
    ASSERT_EQ(rs_str_join(out, sizeof out, fits), 10);
    ASSERT_STREQ(out, "http://a/b");
    const char *exact[] = {"0123456789", "abcde", NULL}; /* 15 bytes and the NUL: just fits */
    ASSERT_EQ(rs_str_join(out, sizeof out, exact), 15);
    const char *too_long[] = {"0123456789", "abcdef", NULL};
    ASSERT_EQ(rs_str_join(out, sizeof out, too_long), -1);
    ASSERT_STREQ(out, "");
}

static rs_name_set_t test_names = RS_NAME_SET("connection", "te", "keep-alive", "dapr-app-id");

TEST(name_set) {
    ASSERT_EQ(rs_name_set_has(&test_names, "connection"), 1);
    ASSERT_EQ(rs_name_set_has(&test_names, "Connection"), 1);
    ASSERT_EQ(rs_name_set_has(&test_names, "TE"), 1);
    ASSERT_EQ(rs_name_set_has(&test_names, "Keep-Alive"), 1);
    ASSERT_EQ(rs_name_set_has(&test_names, "DAPR-APP-ID"), 1);
    ASSERT_EQ(rs_name_set_has(&test_names, "traceparent"), 0); /* same length as dapr-app-id */
    ASSERT_EQ(rs_name_set_has(&test_names, "dapr-app-iD2"), 0);
    ASSERT_EQ(rs_name_set_has(&test_names, "connectio"), 0);
    ASSERT_EQ(rs_name_set_has(&test_names, "t"), 0);
    ASSERT_EQ(rs_name_set_has(&test_names, ""), 0);
    ASSERT_EQ(rs_name_set_has(&test_names, "tf"), 0);
}

TEST(json_unquote) {
    size_t n = 99;
    char *s = rs_json_unquote("\"a\\u0000b\\n\"", 12, &n); /* "a\u0000b\n" */
    ASSERT_TRUE(s != NULL);
    ASSERT_EQ(n, 4);
    ASSERT_TRUE(memcmp(s, "a\0b\n", 5) == 0);
    free(s);
    n = 99;
    ASSERT_TRUE(rs_json_unquote("{\"a\":1}", 7, &n) == NULL); /* not a string */
    ASSERT_TRUE(rs_json_unquote("\"abc", 4, &n) == NULL);     /* unterminated */
    ASSERT_TRUE(rs_json_unquote("\"a\" \"", 5, &n) == NULL); /* quotes at both ends, not one string */
    ASSERT_TRUE(rs_json_unquote("\"", 1, &n) == NULL);
    ASSERT_EQ(n, 99);
}

TEST(go_bools) {
    int v;
    ASSERT_EQ(rs_parse_bool("True", &v), 0);
    ASSERT_EQ(v, 1);
    ASSERT_EQ(rs_parse_bool("0", &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(rs_parse_bool("yes", &v), -1);
}

TEST(trace_ids) {
    char tp[56];
    rs_traceparent_new(tp);
    ASSERT_TRUE(rs_traceparent_valid(tp));
    ASSERT_TRUE(!rs_traceparent_valid("00-abc"));
    char u[37];
    rs_uuid(u);
    ASSERT_EQ(strlen(u), 36);
    ASSERT_TRUE(u[14] == '4' && strchr("89ab", u[19]) && u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
}

/* A forked child (e.g. sidecars started by one parent) must not repeat its parent's ids. */
TEST(uuid_differs_after_fork) {
    char mine[37], theirs[37] = "";
    rs_uuid(mine); /* seeds this thread's generator before the fork */
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char u[37];
        rs_uuid(u);
        _exit(write(fds[1], u, 37) == 37 ? 0 : 1);
    }
    close(fds[1]);
    ASSERT_EQ(read(fds[0], theirs, 37), 37);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    rs_uuid(mine); /* the parent's next draw: what the child would have drawn without reseeding */
    ASSERT_TRUE(strcmp(mine, theirs) != 0);
}

TEST(random_numbers) {
    char a[56], b[56];
    rs_traceparent_new(a);
    rs_traceparent_new(b);
    ASSERT_TRUE(strcmp(a, b) != 0); /* two draws differ */
    char hex[9];
    rs_hex_encode("\x00\x7f\xa5\xff", 4, hex);
    ASSERT_STREQ(hex, "007fa5ff");
    /* spread: 10,000 draws of rs_random_below(10) land in every bucket, none far from 1,000 */
    int bucket[10] = {0};
    for (int i = 0; i < 10000; i++) bucket[rs_random_below(10)]++;
    for (int i = 0; i < 10; i++) ASSERT_TRUE(bucket[i] > 800 && bucket[i] < 1200);
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double u = rs_random_unit();
        ASSERT_TRUE(u >= 0 && u < 1);
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    ASSERT_TRUE(lo < 0.01 && hi > 0.99);
    /* every byte value appears in 64 KiB of rs_random_bytes */
    static unsigned char buf[65536];
    int seen[256] = {0};
    rs_random_bytes(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) seen[buf[i]] = 1;
    for (int i = 0; i < 256; i++) ASSERT_TRUE(seen[i]);
}

TEST(kvlist) {
    rs_kvlist_t l = {0};
    rs_kvlist_set(&l, "A", "1");
    rs_kvlist_set(&l, "A", "2");
    rs_kvlist_add(&l, "b", "3");
    ASSERT_EQ(l.len, 2);
    ASSERT_STREQ(rs_kvlist_get(&l, "A"), "2");
    ASSERT_STREQ(rs_kvlist_get_ci(&l, "B"), "3");
    ASSERT_TRUE(rs_kvlist_get_ci(&l, "c") == NULL);
    /* lengths, no NUL needed; the key and value are copied */
    const char raw[] = "X-Trace: abc, more";
    rs_kvlist_add_n(&l, raw, 7, raw + 9, 3);
    ASSERT_STREQ(rs_kvlist_get(&l, "X-Trace"), "abc");
    ASSERT_STREQ(rs_kvlist_get_ci(&l, "x-trace"), "abc");
    for (int i = 0; i < 40; i++) rs_kvlist_add(&l, "many", "x"); /* the array grows past its first size */
    ASSERT_EQ(l.len, 43);
    rs_kv_t taken = l.items[0]; /* an item taken out is freed on its own */
    l.items[0] = l.items[--l.len];
    ASSERT_STREQ(taken.value, "2");
    rs_kv_free(&taken);
    ASSERT_TRUE(taken.key == NULL);
    rs_kvlist_free(&l);
    ASSERT_EQ(l.len, 0);
}

TEST(kvlist_reference_mode) {
    char value[8] = "one";
    char token[8] = "secret";
    rs_kvlist_t l;
    rs_kvlist_init_refs(&l);
    rs_kvlist_add(&l, "k", value);
    rs_kvlist_add(&l, "empty", NULL);
    rs_kvlist_set(&l, "token", token);
    ASSERT_TRUE(rs_kvlist_get(&l, "k") == value); /* the pointer given, not a copy */
    ASSERT_STREQ(rs_kvlist_get(&l, "empty"), "");
    rs_kvlist_set(&l, "token", value); /* replaced in place, still a reference */
    ASSERT_TRUE(rs_kvlist_get(&l, "token") == value);
    ASSERT_EQ(l.len, 3);
    rs_kvlist_free(&l); /* frees the array only: the strings are ours (ASan would report a bad free) */
    ASSERT_EQ(l.refs, 0);
    rs_kvlist_add(&l, "k", value); /* after free the list copies again */
    ASSERT_TRUE(rs_kvlist_get(&l, "k") != value);
    rs_kvlist_free(&l);
}

TEST(mkdir_p) {
    char root[] = "/tmp/rs-core-fs-XXXXXX", path[PATH_MAX + 16];
    ASSERT_TRUE(mkdtemp(root) != NULL);
    snprintf(path, sizeof path, "%s/a/b//c", root);
    ASSERT_EQ(rs_mkdir_p(path, 0755), 0);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ(rs_mkdir_p(path, 0755), 0); /* existing: fine */
    snprintf(path, sizeof path, "%s/file", root);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/file/sub", root); /* a parent that is a file */
    ASSERT_EQ(rs_mkdir_p(path, 0755), -1);
    char longp[PATH_MAX + 8];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    errno = 0;
    ASSERT_EQ(rs_mkdir_p(longp, 0755), -1);
    ASSERT_EQ(errno, ENAMETOOLONG);
    snprintf(path, sizeof path, "%s/file", root);
    unlink(path);
    const char *dirs[] = {"a/b/c", "a/b", "a", ""};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        rmdir(path);
    }
}

int main(void) {
    RUN(go_durations);
    RUN(go_duration_format);
    RUN(checked_numbers);
    RUN(buffer_cap);
    RUN(json_unquote);
    RUN(go_bools);
    RUN(trace_ids);
    RUN(uuid_differs_after_fork);
    RUN(random_numbers);
    RUN(kvlist);
    RUN(kvlist_reference_mode);
    RUN(buffer_building);
    RUN(number_and_join);
    RUN(name_set);
    RUN(mkdir_p);
    return TEST_SUMMARY();
}

/* SPDX-License-Identifier: MIT */
/* Core helpers: durations, capped buffers, booleans, trace ids. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/duration.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/str.h"
#include "test.h"

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
    rs_kvlist_free(&l);
}

int main(void) {
    RUN(go_durations);
    RUN(buffer_cap);
    RUN(json_unquote);
    RUN(go_bools);
    RUN(trace_ids);
    RUN(random_numbers);
    RUN(kvlist);
    return TEST_SUMMARY();
}

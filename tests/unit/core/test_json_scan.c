/* SPDX-License-Identifier: MIT */
/* rs_json_scan_object accepts exactly what rs_json_loadb (jansson's json_loadb without a NUL byte;
 * JSON_DECODE_INT_AS_REAL) accepts as an object:
 * a table of edge cases and thousands of random mutations of a CloudEvent, each checked against jansson. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "test.h"

static int jansson_object(const char *s, size_t len) {
    json_t *j = rs_json_loadb(s, len, JSON_DECODE_INT_AS_REAL, NULL);
    int ok = json_is_object(j);
    json_decref(j);
    return ok;
}

static int ours(const char *s, size_t len) { return rs_json_scan_object(s, len, NULL, NULL) == 0; }

static int agree(const char *s, size_t len) {
    if (jansson_object(s, len) == ours(s, len)) return 1;
    fprintf(stderr, "disagree (jansson %d) on %zu bytes: ", jansson_object(s, len), len);
    for (size_t i = 0; i < len && i < 300; i++)
        fprintf(stderr, (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? "%c" : "\\x%02x", (unsigned char)s[i]);
    fprintf(stderr, "\n");
    return 0;
}

TEST(edge_cases_agree_with_jansson) {
    static const char *const cases[] = {
        "{}", " {} ", "{} x", "[]", "\"s\"", "1", "", " ", "{", "}", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}",
        "{\"a\" : [1, 2.5, -0, -0.5e-3, 1E+2, true, false, null, {}, [[]]]}", "{\"a\":01}", "{\"a\":-}",
        "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":1e400}", "{\"a\":-1e400}", "{\"a\":1e-400}",
        "{\"a\":123456789012345678901234567890}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":truex}",
        "{\"a\":\"\\u0000\"}", "{\"a\":\"\\u0001\\n\\t\\\"\\\\\\/\\b\\f\\r\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\ud83dx\"}",
        "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"caf\xc3\xa9\"}",
        "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xf0\x9f\x98\x80\"}", "{\"\xc3\xa9\":1}", "{\"a\":\"tab\there\"}", "{\"a\":\"x\x7f\"}",
        "{\"a\":1}\n", "{\"a\":1}\x00", "\xef\xbb\xbf{}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":{\"b\":{}}}",
        "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}", "{'a':1}", "{\"a\":+1}", "{\"a\":0x10}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "{\"a\":-0.0e0}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\uD83D\\uDE00\"}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) ASSERT_TRUE(agree(cases[i], strlen(cases[i])));
    ASSERT_TRUE(agree("{\"a\":\"x\x00y\"}", 11)); /* a raw NUL inside a string */
    /* after a number or literal (json_loadb alone skips it) */
    ASSERT_TRUE(agree("{\"a\":1\x00}", 8));
    ASSERT_TRUE(agree("{\"a\":true\x00}", 11));
    ASSERT_TRUE(!ours("{\"a\":1\x00}", 8));
    /* nesting around jansson's depth limit */
    for (int depth = 2040; depth <= 2056; depth += 1) {
        char *s = malloc(2 * (size_t)depth + 16);
        size_t n = 0;
        s[n++] = '{';
        s[n++] = '"';
        s[n++] = 'a';
        s[n++] = '"';
        s[n++] = ':';
        for (int k = 0; k < depth; k++) s[n++] = '[';
        for (int k = 0; k < depth; k++) s[n++] = ']';
        s[n++] = '}';
        ASSERT_TRUE(agree(s, n));
        free(s);
    }
}

TEST(random_mutations_agree_with_jansson) {
    static const char base[] =
        "{\"data\":{\"orderId\":12345,\"total\":-1.5e3,\"tags\":[\"a\",\"caf\xc3\xa9\",true,null],\"n\":{}},"
        "\"datacontenttype\":\"application/json\",\"id\":\"3f0c6a2e-8f3b\",\"source\":\"app\\u0041\\n\","
        "\"specversion\":\"1.0\",\"time\":\"2026-01-01T00:00:00Z\",\"topic\":\"orders\",\"x\":\"\\ud83d\\ude00\","
        "\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\",\"big\":1234567890123456789}";
    static const char alphabet[] = "{}[]\":,\\u0123456789abcdefABCDEF.-+eEtrufalsn \t\n\x01\x7f\x80\xc3\xa9\xed\xa0\xf4";
    srand(18);
    char buf[sizeof base + 16];
    int accepted = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = sizeof base - 1;
        memcpy(buf, base, n);
        int muts = 1 + rand() % 3;
        for (int m = 0; m < muts; m++) {
            size_t at = (size_t)rand() % n;
            int kind = rand() % 3;
            char ch = alphabet[rand() % (int)(sizeof alphabet - 1)];
            if (kind == 0) buf[at] = ch;
            else if (kind == 1 && n > 1) memmove(buf + at, buf + at + 1, n - at - 1), n--;
            else if (n < sizeof buf - 1) memmove(buf + at + 1, buf + at, n - at), buf[at] = ch, n++;
        }
        ASSERT_TRUE(agree(buf, n));
        accepted += ours(buf, n);
    }
    ASSERT_TRUE(accepted > 1000 && accepted < 19000); /* the mutations exercise both verdicts */
}

typedef struct {
    char keys[16][32];
    int n;
} seen_t;

static void collect(void *arg, const char *k, size_t klen, const char *v, size_t vlen) {
    seen_t *s = arg;
    (void)v;
    (void)vlen;
    if (s->n < 16) snprintf(s->keys[s->n++], 32, "%.*s", (int)klen, k);
}

TEST(members_and_strings) {
    const char *t = "{ \"id\" : \"abc\", \"n\":[1,{\"x\":2}], \"e\":\"a\\u0041\\n\" }";
    seen_t s = {0};
    ASSERT_EQ(rs_json_scan_object(t, strlen(t), collect, &s), 0);
    ASSERT_EQ(s.n, 3); /* top level only */
    ASSERT_STREQ(s.keys[0], "\"id\"");
    ASSERT_STREQ(s.keys[2], "\"e\"");
    char *v = rs_json_scan_string("\"abc\"", 5);
    ASSERT_STREQ(v, "abc");
    free(v);
    v = rs_json_scan_string("\"a\\u0041\\n\"", 11);
    ASSERT_STREQ(v, "aA\n");
    free(v);
    ASSERT_TRUE(rs_json_scan_string("12", 2) == NULL);
}

int main(void) {
    RUN(edge_cases_agree_with_jansson);
    RUN(random_mutations_agree_with_jansson);
    RUN(members_and_strings);
    return TEST_SUMMARY();
}

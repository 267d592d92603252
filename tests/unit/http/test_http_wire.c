/* SPDX-License-Identifier: MIT */
/* wire.c: header lines written for requests and replies, headers assembled
 * from http-parser's callbacks, which split names and values wherever a read
 * ended, and the field-value check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/wire.h"
#include "test.h"

/* Feeds "name: value" headers to the accumulator the way http-parser would, each name and value cut into
 * pieces of at most `piece` bytes (a read boundary can fall anywhere). */
static void feed(rs_http_header_acc_t *a, const char *const *pairs, size_t piece) {
    for (size_t i = 0; pairs[i]; i += 2) {
        for (size_t off = 0, n = strlen(pairs[i]); off < n; off += piece)
            ASSERT_EQ(rs_http_header_acc_field(a, pairs[i] + off, n - off < piece ? n - off : piece), 0);
        size_t n = strlen(pairs[i + 1]);
        if (n == 0) ASSERT_EQ(rs_http_header_acc_value(a, "", 0), 0); /* http-parser reports an empty value so */
        for (size_t off = 0; off < n; off += piece)
            ASSERT_EQ(rs_http_header_acc_value(a, pairs[i + 1] + off, n - off < piece ? n - off : piece), 0);
    }
}

static const char *const headers[] = {"Host", "example", "X-Empty", "", "Trace", "a b  \t", "Content-Type",
                                      "text/plain", NULL};

static void check_list(const rs_kvlist_t *l) {
    ASSERT_EQ(l->len, 4);
    ASSERT_STREQ(l->items[0].key, "Host");
    ASSERT_STREQ(l->items[0].value, "example");
    ASSERT_STREQ(l->items[1].key, "X-Empty");
    ASSERT_STREQ(l->items[1].value, "");
    ASSERT_STREQ(l->items[2].value, "a b"); /* trailing blanks trimmed, inner ones kept */
    ASSERT_STREQ(rs_kvlist_get_ci(l, "content-type"), "text/plain");
}

TEST(assembled_into_one_block_whatever_the_reads) {
    for (size_t piece = 1; piece <= 16; piece++) {
        rs_http_header_acc_t a;
        rs_http_header_acc_init(&a, 4096);
        feed(&a, headers, piece);
        rs_kvlist_t l;
        char *block = rs_http_header_acc_take(&a, &l);
        ASSERT_TRUE(block != NULL);
        ASSERT_EQ(l.refs, 1);
        ASSERT_TRUE(l.items[0].key == block); /* points into the block: no copy per header */
        check_list(&l);
        rs_kvlist_free(&l);
        free(block);
        /* the accumulator starts over for the next message */
        const char *next[] = {"A", "1", NULL};
        feed(&a, next, piece);
        ASSERT_EQ(rs_http_header_acc_copy(&a, &l), 0);
        ASSERT_EQ(l.len, 1);
        ASSERT_EQ(l.refs, 0);
        ASSERT_STREQ(rs_kvlist_get(&l, "A"), "1");
        rs_kvlist_free(&l);
        rs_http_header_acc_free(&a);
    }
}

TEST(copies_outlive_the_accumulator) {
    rs_http_header_acc_t a;
    rs_http_header_acc_init(&a, 4096);
    feed(&a, headers, 3);
    rs_kvlist_t l = {0};
    ASSERT_EQ(rs_http_header_acc_copy(&a, &l), 0);
    rs_http_header_acc_free(&a);
    check_list(&l);
    rs_kvlist_free(&l);
}

TEST(no_headers_and_the_cap) {
    rs_http_header_acc_t a;
    rs_http_header_acc_init(&a, 16);
    rs_kvlist_t l;
    char *block = rs_http_header_acc_take(&a, &l);
    ASSERT_TRUE(block != NULL);
    ASSERT_EQ(l.len, 0);
    free(block);
    ASSERT_EQ(rs_http_header_acc_field(&a, "0123456789", 10), 0);
    ASSERT_EQ(rs_http_header_acc_value(&a, "0123456789", 10), -1); /* 10 + NUL + 10 > 16 */
    rs_http_header_acc_free(&a);
}

TEST(header_lines) {
    rs_buf_t b;
    rs_buf_init(&b, 64);
    ASSERT_EQ(rs_http_wire_header(&b, "Host", "a"), 0);
    ASSERT_EQ(rs_http_wire_header(&b, "X-Bad", "v\r\nInjected: 1"), 0); /* left out: it would split the message */
    ASSERT_EQ(rs_http_wire_header(&b, "X:Bad", "v"), 0);
    ASSERT_EQ(rs_http_wire_header(&b, "X-Ctl", "a\x01b"), 0);  /* a receiver would refuse the message */
    ASSERT_EQ(rs_http_wire_header(&b, "X-Del", "a\x7f"), 0);
    ASSERT_EQ(rs_http_wire_header(&b, "X Sp", "v"), 0);         /* not a token */
    ASSERT_EQ(rs_http_wire_header(&b, "", "v"), 0);
    ASSERT_STREQ(b.data, "Host: a\r\n");
    ASSERT_EQ(rs_http_wire_header(&b, "X-Tab", "a\tb\xc3\xa9"), 0); /* HTAB and obs-text are allowed */
    ASSERT_STREQ(b.data, "Host: a\r\nX-Tab: a\tb\xc3\xa9\r\n");
    rs_buf_reset(&b);
    ASSERT_EQ(rs_http_wire_header(&b, "Host", "a"), 0);
    ASSERT_EQ(rs_http_wire_header(&b, "Long", "0123456789012345678901234567890123456789012345678901"), -1);
    ASSERT_STREQ(b.data, "Host: a\r\n"); /* over the cap: unchanged */
    rs_buf_free(&b);
}

/* The word-at-a-time check against the plain rule, for every length up to 40 and every byte value at every
 * position, in a value of otherwise clean bytes (including high bytes, as UTF-8 has). */
TEST(field_value_check) {
    uint8_t v[40];
    for (size_t n = 0; n <= sizeof v; n++) {
        for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i % 3 == 0 ? 'a' : i % 3 == 1 ? 0xc3 : ' ');
        ASSERT_EQ(rs_http_field_value_ok(v, n), 1);
        for (size_t at = 0; at < n; at++) {
            uint8_t keep = v[at];
            for (int b = 0; b < 256; b++) {
                v[at] = (uint8_t)b;
                int want = !((b < 0x20 && b != '\t') || b == 0x7f);
                if (rs_http_field_value_ok(v, n) != want) {
                    fprintf(stderr, "length %zu, byte 0x%02x at %zu: got %d\n", n, b, at, !want);
                    ASSERT_EQ(rs_http_field_value_ok(v, n), want);
                }
            }
            v[at] = keep;
        }
    }
}

int main(void) {
    RUN(assembled_into_one_block_whatever_the_reads);
    RUN(copies_outlive_the_accumulator);
    RUN(no_headers_and_the_cap);
    RUN(header_lines);
    RUN(field_value_check);
    return TEST_SUMMARY();
}

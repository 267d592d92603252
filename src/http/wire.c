/* SPDX-License-Identifier: MIT */
#include "http/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9110 §5.1: a field name is a token. */
static int is_token(const char *s) {
    if (!*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", *p)))
            return 0;
    return 1;
}

/* 1 if none of the eight bytes in x can be a control byte (below 0x20, or 0x7f). The test has no false negatives
 * (a 0 may be a false alarm, which the byte loop settles). */
static int word_clean(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t d = x ^ (0x7f * ones);
    return !(((x - 0x20 * ones) & ~x & highs) | ((d - ones) & ~d & highs));
}

int rs_http_field_value_ok(const void *value, size_t n) {
    const uint8_t *v = value;
    uint64_t x;
    if (n < 8) { /* padded with spaces to one word */
        uint8_t pad[8] = "        ";
        if (n) memcpy(pad, v, n);
        memcpy(&x, pad, 8);
        if (word_clean(x)) return 1;
    } else { /* whole words; the last one overlaps the one before it, so no byte is left over */
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&x, v + i, 8);
            if (!word_clean(x)) goto bytewise;
        }
        memcpy(&x, v + n - 8, 8);
        if (word_clean(x)) return 1;
    }
bytewise:
    for (size_t i = 0; i < n; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) return 0;
    return 1;
}

int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value) {
    if (!is_token(name) || !rs_http_field_value_ok(value, strlen(value))) return 0;
    size_t nl = strlen(name), vl = strlen(value);
    char *at = rs_buf_extend(b, nl + vl + 4);
    if (!at) return -1;
    memcpy(at, name, nl);
    at += nl;
    *at++ = ':';
    *at++ = ' ';
    memcpy(at, value, vl);
    at += vl;
    *at++ = '\r';
    *at = '\n';
    return 0;
}

size_t rs_http_wire_headers_size(const rs_kvlist_t *h) {
    size_t size = 0;
    for (size_t i = 0; h && i < h->len; i++) size += strlen(h->items[i].key) + strlen(h->items[i].value) + 4;
    return size;
}

int rs_http_wire_content_length(rs_buf_t *b, size_t len) {
    if (rs_buf_puts(b, "Content-Length: ") != 0 || rs_buf_put_uint(b, len) != 0) return -1;
    return rs_buf_append(b, "\r\n", 2);
}

void rs_http_header_acc_init(rs_http_header_acc_t *a, size_t cap) {
    memset(a, 0, sizeof *a);
    rs_buf_init(&a->block, cap);
}

void rs_http_header_acc_reset(rs_http_header_acc_t *a) {
    rs_buf_reset(&a->block);
    a->count = a->value_at = 0;
    a->in_name = a->in_value = 0;
}

void rs_http_header_acc_free(rs_http_header_acc_t *a) { rs_buf_free(&a->block); }

/* Ends the name in progress; an empty value follows until value pieces come. */
static int end_name(rs_http_header_acc_t *a) {
    if (rs_buf_putc(&a->block, '\0') != 0) return -1; /* the NUL after the name */
    a->value_at = a->block.len;
    a->in_name = 0;
    a->in_value = 1;
    return 0;
}

static int end_header(rs_http_header_acc_t *a) {
    size_t len = a->block.len;
    while (len > a->value_at && (a->block.data[len - 1] == ' ' || a->block.data[len - 1] == '\t')) len--;
    a->block.len = len;
    if (rs_buf_putc(&a->block, '\0') != 0) return -1; /* the NUL after the value */
    a->in_value = 0;
    a->count++;
    return 0;
}

int rs_http_header_acc_field(rs_http_header_acc_t *a, const char *at, size_t len) {
    if (a->in_value && end_header(a) != 0) return -1;
    a->in_name = 1;
    return rs_buf_append(&a->block, at, len);
}

int rs_http_header_acc_value(rs_http_header_acc_t *a, const char *at, size_t len) {
    if (a->in_name && end_name(a) != 0) return -1;
    if (!a->in_value) return 0; /* a value with no name: http-parser never sends one */
    return rs_buf_append(&a->block, at, len);
}

/* Finishes the last header. */
static int acc_finish(rs_http_header_acc_t *a) {
    if (a->in_name && end_name(a) != 0) return -1;
    if (a->in_value && end_header(a) != 0) return -1;
    return 0;
}

/* Lists the block's headers in `out`: add copies, or points into the block (reference mode). */
static void list_block(const char *p, size_t count, rs_kvlist_t *out) {
    for (size_t i = 0; i < count; i++) {
        size_t kl = strlen(p);
        const char *v = p + kl + 1;
        size_t vl = strlen(v);
        if (out->refs) rs_kvlist_add(out, p, v);
        else rs_kvlist_add_n(out, p, kl, v, vl);
        p = v + vl + 1;
    }
}

int rs_http_header_acc_copy(rs_http_header_acc_t *a, rs_kvlist_t *out) {
    if (acc_finish(a) != 0) return -1;
    if (a->count) list_block(a->block.data, a->count, out);
    rs_http_header_acc_reset(a);
    return 0;
}

char *rs_http_header_acc_take(rs_http_header_acc_t *a, rs_kvlist_t *out) {
    rs_kvlist_init_refs(out);
    if (acc_finish(a) != 0) return NULL;
    size_t used = a->block.len, count = a->count;
    char *block = rs_buf_steal(&a->block, NULL);
    rs_http_header_acc_reset(a);
    rs_buf_reserve(&a->block, used); /* the next request's headers are likely the same size: one allocation */
    if (block && count) list_block(block, count, out);
    return block;
}

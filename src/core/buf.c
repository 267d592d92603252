/* SPDX-License-Identifier: MIT */
#include "core/buf.h"
#include "core/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_buf_init(rs_buf_t *b, size_t cap) {
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

static int grow(rs_buf_t *b, size_t need) {
    if (need > b->cap) return -1;
    if (need + 1 <= b->alloc) return 0;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need + 1) n *= 2;
    char *p = realloc(b->data, n);
    if (!p) return -1;
    b->data = p;
    b->alloc = n;
    return 0;
}

int rs_buf_append(rs_buf_t *b, const void *p, size_t n) {
    if (grow(b, b->len + n) != 0) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int rs_buf_puts(rs_buf_t *b, const char *s) { return rs_buf_append(b, s, strlen(s)); }

char *rs_buf_extend(rs_buf_t *b, size_t n) {
    if (grow(b, b->len + n) != 0) return NULL;
    char *at = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return at;
}

int rs_buf_reserve(rs_buf_t *b, size_t n) {
    if (b->len + n > b->cap) n = b->cap - b->len; /* never more than the cap allows */
    if (b->len + n + 1 <= b->alloc) return 0;
    char *p = realloc(b->data, b->len + n + 1); /* exactly: the caller knows the size */
    if (!p) return -1;
    b->data = p;
    b->alloc = b->len + n + 1;
    return 0;
}

int rs_buf_put_uint(rs_buf_t *b, unsigned long long v) {
    char digits[21];
    size_t n = rs_utoa(v, digits);
    return rs_buf_append(b, digits, n);
}

int rs_buf_printf(rs_buf_t *b, const char *fmt, ...) {
    if (grow(b, b->len) != 0) return -1; /* make sure there is a buffer to try first */
    size_t room = b->alloc - b->len;     /* includes the NUL's place */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap); /* usually fits: one formatting pass */
    va_end(ap);
    if (n < 0 || b->len + (size_t)n > b->cap) { /* over the cap: leave the buffer as it was */
        b->data[b->len] = '\0';
        return -1;
    }
    if ((size_t)n >= room) {
        if (grow(b, b->len + (size_t)n) != 0) {
            b->data[b->len] = '\0';
            return -1;
        }
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

void rs_buf_reset(rs_buf_t *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void rs_buf_free(rs_buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

char *rs_buf_steal(rs_buf_t *b, size_t *len) {
    if (grow(b, b->len) != 0) return NULL;
    b->data[b->len] = '\0'; /* a buffer never appended to has just been allocated */
    char *p = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

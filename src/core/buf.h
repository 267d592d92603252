/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard cap, for anything fed from the network.
 * Appending past the cap fails (and leaves the contents as they were), so a
 * peer can never make us grow without bound. Always NUL-terminated. */
#ifndef RS_CORE_BUF_H
#define RS_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap;   /* most bytes the buffer may hold */
} rs_buf_t;

/** Prepares an empty buffer that may hold at most `cap` bytes. */
void rs_buf_init(rs_buf_t *b, size_t cap);
/** Appends `n` bytes; returns 0, or -1 if the cap would be exceeded. */
int rs_buf_append(rs_buf_t *b, const void *p, size_t n);
/** Appends a C string. */
int rs_buf_puts(rs_buf_t *b, const char *s);
/** Appends one byte (inline: parsers call it per field). */
static inline int rs_buf_putc(rs_buf_t *b, char c) {
    if (b->len + 2 > b->alloc || b->len + 1 > b->cap) return rs_buf_append(b, &c, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}
/** Appends an unsigned number in decimal (no printf: used for every Content-Length). */
int rs_buf_put_uint(rs_buf_t *b, unsigned long long v);
/** Makes the buffer `n` bytes longer and returns where those bytes go, for the caller to fill (the NUL
 *  after them is written); NULL, with the buffer unchanged, if the cap would be exceeded. */
char *rs_buf_extend(rs_buf_t *b, size_t n);
/** Makes room for exactly `n` more bytes (within the cap), so appends up to that size do not reallocate:
 *  one allocation of the right size when the caller can add up what it will write. */
int rs_buf_reserve(rs_buf_t *b, size_t n);
/** Appends printf-style text. */
int rs_buf_printf(rs_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Empties the buffer, keeping its memory. */
void rs_buf_reset(rs_buf_t *b);
/** Frees the memory; the buffer is empty and reusable afterwards. */
void rs_buf_free(rs_buf_t *b);
/** Hands the bytes to the caller (free() them) and empties the buffer. */
char *rs_buf_steal(rs_buf_t *b, size_t *len);

#endif

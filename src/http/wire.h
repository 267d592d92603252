/* SPDX-License-Identifier: MIT */
/* Internal to rs_http: writing HTTP/1.1 header lines, shared by the server's
 * replies and the h1 client's requests. Plain appends, not printf: these run
 * for every header of every proxied request. */
#ifndef RS_HTTP_WIRE_H
#define RS_HTTP_WIRE_H

#include <string.h>

#include "core/buf.h"

/** Appends "name: value\r\n". A name or value that could end the line early is left out (returns 0): a
 *  header must never split a message. Returns -1 when the buffer is full. */
static inline int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value) {
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return 0;
    size_t nl = strlen(name), vl = strlen(value);
    if (rs_buf_append(b, name, nl) != 0 || rs_buf_append(b, ": ", 2) != 0 || rs_buf_append(b, value, vl) != 0)
        return -1;
    return rs_buf_append(b, "\r\n", 2);
}

#endif

/* SPDX-License-Identifier: MIT */
/* Internal to rs_http: the HTTP/1.1 header wire format, shared by the server
 * (requests in, replies out) and the h1 client (requests out, responses in).
 * Plain appends, not printf: these run for every header of every proxied
 * request. */
#ifndef RS_HTTP_WIRE_H
#define RS_HTTP_WIRE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/** Appends "name: value\r\n". A name or value that could end the line early is left out (returns 0): a
 *  header must never split a message. Returns -1 when the buffer is full. */
int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value);

/** Assembles headers from http-parser's callbacks, which may split a name or a value over several calls
 *  (one per read). A name that follows a value ends the previous header. */
typedef struct {
    rs_buf_t field, value;
    int in_value;
} rs_http_header_acc_t;

/** `cap`: most bytes of one name or one value. */
void rs_http_header_acc_init(rs_http_header_acc_t *a, size_t cap);
void rs_http_header_acc_reset(rs_http_header_acc_t *a);
void rs_http_header_acc_free(rs_http_header_acc_t *a);
/** A piece of a header name; a finished previous header goes to `into`. -1: over the cap or out of memory. */
int rs_http_header_acc_field(rs_http_header_acc_t *a, const char *at, size_t len, rs_kvlist_t *into);
/** A piece of a header value. -1: over the cap. */
int rs_http_header_acc_value(rs_http_header_acc_t *a, const char *at, size_t len);
/** The headers are complete: the last one goes to `into` (trailing blanks of its value trimmed). */
int rs_http_header_acc_end(rs_http_header_acc_t *a, rs_kvlist_t *into);

#endif

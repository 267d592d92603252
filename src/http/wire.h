/* SPDX-License-Identifier: MIT */
/* The HTTP/1.1 header wire format, shared by the server (requests in, replies
 * out) and the h1 client (requests out, responses in), and the field-value
 * rule every place that passes a value on as a header uses (the gRPC server,
 * pub/sub deliveries, blob metadata). Plain appends, not printf: these run
 * for every header of every proxied request. */
#ifndef RS_HTTP_WIRE_H
#define RS_HTTP_WIRE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/** 1 if value[0..n) may be an HTTP field value (RFC 9110 §5.5): no control byte but HTAB (no NUL, CR or LF,
 *  which would end a header line, and no DEL); bytes >= 0x80 (obs-text) are allowed. A receiver such as Go's
 *  server answers 400 to anything else, so a forwarded message would fail for good. Every request has a few
 *  values and nearly all are clean, so they are read eight bytes at a time. */
int rs_http_field_value_ok(const void *value, size_t n);

/** Appends "name: value\r\n". A header whose name is not a token or whose value holds a control character
 *  (other than HTAB) is left out (returns 0): a header must never split a message, nor make the receiver refuse
 *  it. Returns -1 when the buffer is full. */
int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value);

/** Bytes rs_http_wire_header writes for every item of `h` (NULL: none), for sizing a message up front. */
size_t rs_http_wire_headers_size(const rs_kvlist_t *h);
/** Appends "Content-Length: <len>\r\n". Returns -1 when the buffer is full. */
int rs_http_wire_content_length(rs_buf_t *b, size_t len);

/** Assembles headers from http-parser's callbacks, which may split a name or a value over several calls
 *  (one per read). Headers go into one block, "name\0value\0" each, so a request's headers cost one
 *  allocation rather than one per header. A name piece that follows a value starts the next header; a value's
 *  trailing blanks are trimmed. */
typedef struct {
    rs_buf_t block;  /* finished headers, then the one in progress */
    size_t count;    /* finished headers */
    size_t value_at; /* where the value in progress starts */
    int in_name, in_value;
} rs_http_header_acc_t;

/** `cap`: most bytes of all headers together (names, values and a NUL after each). */
void rs_http_header_acc_init(rs_http_header_acc_t *a, size_t cap);
/** Forgets everything assembled (keeps the memory). */
void rs_http_header_acc_reset(rs_http_header_acc_t *a);
void rs_http_header_acc_free(rs_http_header_acc_t *a);
/** A piece of a header name. -1: over the cap. */
int rs_http_header_acc_field(rs_http_header_acc_t *a, const char *at, size_t len);
/** A piece of a header value. -1: over the cap. */
int rs_http_header_acc_value(rs_http_header_acc_t *a, const char *at, size_t len);
/** The headers are complete: lists them in `out` (which must be empty) as copies, and resets. */
int rs_http_header_acc_copy(rs_http_header_acc_t *a, rs_kvlist_t *out);
/** The headers are complete: hands over the block (free() it after `out`) and lists it in `out`, which must
 *  be empty, in reference mode (str.h); resets. NULL, with `out` empty, when out of memory. */
char *rs_http_header_acc_take(rs_http_header_acc_t *a, rs_kvlist_t *out);

#endif

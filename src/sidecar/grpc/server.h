/* SPDX-License-Identifier: MIT */
/* A unary gRPC server over HTTP/2 cleartext (prior knowledge, as gRPC clients
 * connect without TLS), on the caller's libevent loop. nghttp2 does the
 * framing, HPACK and flow control; this file maps streams to calls.
 *
 * A call is one request message on one stream. The handler gets it once the
 * stream's request has ended and must finish it exactly once, at once or
 * later from a callback, with rs_grpc_call_reply* or rs_grpc_call_fail. A
 * handler that finishes later registers a cancel function
 * (rs_grpc_call_on_cancel): if the client resets the stream, the connection
 * goes, the grpc-timeout deadline passes or the server is freed first, the
 * cancel function runs and must stop the work so that it never finishes the
 * call; after a deadline the server answers DEADLINE_EXCEEDED itself. The
 * call is freed by the server; after finishing or being cancelled the
 * handler must not touch it.
 *
 * Limits: a request message over max_msg bytes is answered
 * RESOURCE_EXHAUSTED without being buffered; a connection buffers at most
 * 4 x max_msg of request bytes over all its streams; at most
 * RS_GRPC_MAX_STREAMS streams are open per connection; 64 KiB of metadata
 * per stream. Replies are written as the client's flow-control windows and
 * the socket allow (at most 1 MiB queued per connection). */
#ifndef RS_SIDECAR_GRPC_SERVER_H
#define RS_SIDECAR_GRPC_SERVER_H

#include <event2/event.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "sidecar/errors/errors.h"

/** Concurrent streams a client may open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
#define RS_GRPC_MAX_STREAMS 1000

typedef struct rs_grpc_server rs_grpc_server_t;
typedef struct rs_grpc_call rs_grpc_call_t;

/** Takes a call whose request has arrived. */
typedef void (*rs_grpc_handler_fn)(rs_grpc_call_t *call, void *ctx);
/** Stops the work of a call the server is dropping. */
typedef void (*rs_grpc_cancel_fn)(void *arg);

/** Creates a server on base. Every call goes to handler(call, ctx). */
rs_grpc_server_t *rs_grpc_server_new(struct event_base *base, size_t max_msg, rs_grpc_handler_fn handler, void *ctx);
/** Listens on addr:port (0 picks a free port). Returns the bound port, or -1 with errno set. */
int rs_grpc_server_listen(rs_grpc_server_t *s, const char *addr, int port);
/** Serves fd, a connected stream socket, exactly as a connection the listener accepted from `peer` (for logs
 *  and rs_grpc_call_peer). For harnesses that hand the server one end of a socketpair (tests/fuzz/). Takes
 *  ownership of fd; returns 0, or -1 with fd closed. */
int rs_grpc_server_adopt(rs_grpc_server_t *s, int fd, const char *peer);
/** Open connections now. */
int rs_grpc_server_connections(const rs_grpc_server_t *s);
/** Closes every connection (cancelling the calls in flight) and frees the server. NULL is ignored. */
void rs_grpc_server_free(rs_grpc_server_t *s);

/** The call's :path, e.g. "/dapr.proto.runtime.v1.Dapr/GetState". */
const char *rs_grpc_call_path(const rs_grpc_call_t *c);
/** A request metadata value by its (lower-case) name, or NULL. */
const char *rs_grpc_call_metadata(const rs_grpc_call_t *c, const char *name);
/** Sets (replaces or adds) a request metadata value, e.g. the traceparent of the call's own span. */
void rs_grpc_call_set_metadata(rs_grpc_call_t *c, const char *name, const char *value);
/** Adds a response header (lower-case name) sent with the reply — or with a trailers-only failure — as grpc-go
 *  sends what a handler set with grpc.SetHeader. A value with a control character is left out, and so is a fifth
 *  name (up to 4 are kept; a name set again is replaced). */
void rs_grpc_call_add_reply_header(rs_grpc_call_t *c, const char *name, const char *value);
/** The request message's bytes (without the gRPC prefix); valid until the call is finished or cancelled. */
const uint8_t *rs_grpc_call_message(const rs_grpc_call_t *c, size_t *len);
/** Appends every request metadata entry to out, except those skip(name) returns non-zero for. */
void rs_grpc_call_copy_metadata(const rs_grpc_call_t *c, int (*skip)(const char *name), rs_kvlist_t *out);
/** An allocator for decoding the request message (protobuf_c_message_unpack and _free_unpacked): memory of the
 *  call's own where it fits. A message decoded with it in the handler must be freed before the handler returns
 *  (the call is not freed while its handler runs, even if the handler finished it). */
ProtobufCAllocator *rs_grpc_call_allocator(rs_grpc_call_t *c);
/** n zeroed bytes of the call's own memory, which lasts until the call is freed (after its finish observer ran),
 *  or NULL when the call has no room left (allocate them otherwise then). */
void *rs_grpc_call_scratch(rs_grpc_call_t *c, size_t n);
/** The client's address, for logs. */
const char *rs_grpc_call_peer(const rs_grpc_call_t *c);
/** Observes the end of a call: its status code and message, and the reply message's size (0 unless OK). */
typedef void (*rs_grpc_finish_fn)(void *arg, rs_grpc_code_t code, const char *message, size_t reply_bytes);
/** Registers the call's finish observer: called exactly once, when the call is answered (reply, failure,
 *  deadline) or dropped unanswered (client reset, connection gone, server freed: CANCELLED), before the call is
 *  freed. It must not touch the call. */
void rs_grpc_call_on_finish(rs_grpc_call_t *c, rs_grpc_finish_fn fn, void *arg);
/** Registers (fn non-NULL) or clears the function that stops the call's work if the server drops the call. */
void rs_grpc_call_on_cancel(rs_grpc_call_t *c, rs_grpc_cancel_fn fn, void *arg);

/** Finishes the call with status OK and the message m (packed here). */
void rs_grpc_call_reply(rs_grpc_call_t *c, const ProtobufCMessage *m);
/** Finishes the call with a non-OK status, its message, and optional grpc-status-details-bin bytes (a packed
 *  google.rpc.Status; details may be NULL). */
void rs_grpc_call_fail(rs_grpc_call_t *c, rs_grpc_code_t code, const char *message, const void *details,
                       size_t details_len);

#endif

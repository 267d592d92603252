/* SPDX-License-Identifier: MIT */
/* A unary gRPC client over HTTP/2 cleartext (prior knowledge, as daprd dials
 * a gRPC app), on the caller's libevent loop. nghttp2 does the framing, HPACK
 * and flow control; this file maps calls to streams.
 *
 * A client talks to one address. It keeps one connection and opens a stream
 * per call on it, so many calls run at once on one socket; the connection is
 * dialled (non-blocking) by the first call and again by the first call after
 * it went away. Messages are bytes here: the caller packs and unpacks them.
 *
 * Contract, as the HTTP client's (client.h): rs_grpc_client_call never calls
 * `done` synchronously; `done` runs exactly once from the loop unless the call
 * is cancelled first, in which case it never runs.
 *
 * Limits: a reply message over max_reply bytes fails the call
 * RS_HTTP_ERR_TOO_LARGE (the stream is reset, nothing more is buffered);
 * a call with a timeout sends grpc-timeout and fails RS_HTTP_ERR_TIMEOUT when
 * it passes (the stream is reset, so the app may stop working on it). */
#ifndef RS_HTTP_GRPC_CLIENT_H
#define RS_HTTP_GRPC_CLIENT_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"
#include "http/client.h"

typedef struct rs_grpc_client rs_grpc_client_t;
typedef struct rs_grpc_ccall rs_grpc_ccall_t;

typedef struct {
    const char *path;             /* "/package.Service/Method" */
    const rs_kvlist_t *metadata;  /* may be NULL; names must be lower-case gRPC metadata names (the caller checks) */
    const void *message;          /* the packed request message; copied */
    size_t message_len;
    int64_t timeout_ms;           /* whole call; 0 = none */
} rs_grpc_request_t;

typedef struct {
    rs_http_result_t result;  /* RS_HTTP_OK: the app answered with a gRPC status (any); else the transport failed */
    int code;                 /* grpc-status when result == RS_HTTP_OK */
    char message[512];        /* grpc-message, decoded */
    rs_kvlist_t metadata;     /* response headers and trailers, except pseudo-headers and grpc-status/-message */
    rs_buf_t reply;           /* the reply message's bytes (without the prefix); empty when code != 0 */
    char error[256];          /* human-readable reason when result != RS_HTTP_OK */
} rs_grpc_response_t;

/** Called once with the outcome. The response is owned by the client and valid only during the call; the
 *  callback may take resp->reply (rs_buf_steal). */
typedef void (*rs_grpc_done_fn)(void *arg, rs_grpc_response_t *resp);

/** Creates a client for host (an IP address) and port. max_reply: the largest reply message accepted. */
rs_grpc_client_t *rs_grpc_client_new(struct event_base *base, const char *host, int port, size_t max_reply);
/** Cancels every pending call (their callbacks do not run), closes the connection and frees the client. */
void rs_grpc_client_free(rs_grpc_client_t *c);
/** Starts a call. Returns a handle for cancellation (never NULL: a call that cannot start fails through done). */
rs_grpc_ccall_t *rs_grpc_client_call(rs_grpc_client_t *c, const rs_grpc_request_t *req, rs_grpc_done_fn done,
                                     void *arg);
/** Aborts a pending call (its stream is reset); its callback will not run. The handle is invalid afterwards. */
void rs_grpc_client_cancel(rs_grpc_ccall_t *call);

#endif

/* SPDX-License-Identifier: MIT */
/* The outbound HTTP client, driven by the same libevent loop as the server, so
 * calls to apps, peer sidecars and Azure never block. A plain http:// URL whose
 * host is an IP address (apps, peer sidecars, Azurite) goes over our own HTTP/1.1
 * keep-alive pool (h1_client.c); anything else (https://, host names) through
 * libcurl's multi interface (curl_client.c); transport.h is the seam between
 * them. Both keep connections alive and reuse them per host.
 *
 * Contract: rs_http_send never calls `done` synchronously; `done` runs exactly
 * once from the loop unless the call is cancelled first, in which case it
 * never runs. */
#ifndef RS_HTTP_CLIENT_H
#define RS_HTTP_CLIENT_H

#include <event2/event.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"

typedef struct rs_http_client rs_http_client_t;
typedef struct rs_http_call rs_http_call_t;

typedef struct {
    const char *method;          /* "GET", "POST", ... */
    const char *url;             /* absolute http:// URL */
    const rs_kvlist_t *headers;  /* may be NULL; sent as given */
    const void *body;            /* may be NULL; copied by rs_http_send */
    size_t body_len;
    int64_t timeout_ms;          /* whole call; 0 = none */
    size_t max_response;         /* response body cap; 0 = 64 MiB */
} rs_http_request_t;

typedef enum {
    RS_HTTP_OK = 0,          /* a response arrived (any status) */
    RS_HTTP_ERR_CONNECT,     /* connection refused / unreachable */
    RS_HTTP_ERR_TIMEOUT,     /* timeout_ms passed */
    RS_HTTP_ERR_TOO_LARGE,   /* response over max_response */
    RS_HTTP_ERR_TRANSPORT,   /* anything else (reset, bad response) */
} rs_http_result_t;

typedef struct {
    rs_http_result_t result;
    int status;              /* HTTP status when result == RS_HTTP_OK */
    rs_kvlist_t headers;     /* response headers (last response of the call) */
    rs_buf_t body;
    char error[256];         /* human-readable reason when result != OK */
    int64_t latency_us;
} rs_http_response_t;

/** Called once with the outcome. The response is owned by the client and valid only during the call; the
 *  callback may take the body (rs_buf_steal) or the headers (copy the struct, then zero resp->headers). */
typedef void (*rs_http_done_fn)(void *arg, rs_http_response_t *resp);

rs_http_client_t *rs_http_client_new(struct event_base *base);
/** Cancels every pending call (their callbacks do not run) and frees the client. */
void rs_http_client_free(rs_http_client_t *c);
/** Starts a call. Returns a handle for cancellation, or NULL on immediate failure (done is not called then). */
rs_http_call_t *rs_http_send(rs_http_client_t *c, const rs_http_request_t *req, rs_http_done_fn done, void *arg);
/** Aborts a pending call; its callback will not run. The handle is invalid afterwards. */
void rs_http_cancel(rs_http_call_t *call);

#endif

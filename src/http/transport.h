/* SPDX-License-Identifier: MIT */
/* Internal to rs_http: the two transports behind rs_http_send.
 *
 * - h1 (h1_client.c): our own HTTP/1.1 keep-alive connection pool for plain
 *   `http://` to an IP address, which is every hop on the invocation path
 *   (sidecar to app, sidecar to peer sidecar) and local emulators. It costs a
 *   fraction of libcurl's CPU per call: one send and one recv per request on
 *   a connection whose read event stays registered for its whole life.
 * - curl (curl_client.c): libcurl multi for everything else (https, DNS
 *   names), created on first use.
 *
 * Both follow client.h's contract; each call struct embeds rs_http_call as its
 * first member so rs_http_cancel can route a handle to its transport. */
#ifndef RS_HTTP_TRANSPORT_H
#define RS_HTTP_TRANSPORT_H

#include <sys/socket.h>

#include "http/client.h"

typedef enum { RS_HTTP_VIA_H1 = 1, RS_HTTP_VIA_CURL = 2 } rs_http_via_t;

struct rs_http_call {
    rs_http_via_t via;
};

#define RS_HTTP_DEFAULT_MAX_RESPONSE (64u * 1024 * 1024)

typedef struct rs_h1_client rs_h1_client_t;

/** Where an h1 request goes: the address, the Host header value and the request target ("/path?query";
 *  a bare "?query" means the path "/"). */
typedef struct {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[128];
    const char *target;
} rs_h1_dest_t;

rs_h1_client_t *rs_h1_client_new(struct event_base *base);
/** Cancels every call in flight (their callbacks do not run), closes every connection. */
void rs_h1_client_free(rs_h1_client_t *c);
rs_http_call_t *rs_h1_send(rs_h1_client_t *c, const rs_h1_dest_t *dest, const rs_http_request_t *req,
                           rs_http_done_fn done, void *arg);
void rs_h1_cancel(rs_http_call_t *call);

typedef struct rs_curl_client rs_curl_client_t;

rs_curl_client_t *rs_curl_client_new(struct event_base *base);
void rs_curl_client_free(rs_curl_client_t *c);
rs_http_call_t *rs_curl_send(rs_curl_client_t *c, const rs_http_request_t *req, rs_http_done_fn done, void *arg);
void rs_curl_cancel(rs_http_call_t *call);

#endif

/* SPDX-License-Identifier: MIT */
/* The inbound HTTP/1.1 server (libevent loop, Debian's http-parser) behind a handler chain.
 *
 * Handlers are tried in the order they were added; each returns 1 if it took
 * the request and 0 to pass it on (h2o's on_req model). A handler that takes a
 * request must finish it exactly once with one of the rs_http_reply* calls,
 * either at once or later from a callback (async). If the client hangs up
 * first, the request is marked gone, its on-close callback runs, and the final
 * reply call only frees it. */
#ifndef RS_HTTP_SERVER_H
#define RS_HTTP_SERVER_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "core/str.h"
#include "http/limits.h"

typedef struct rs_http_server rs_http_server_t;
typedef struct rs_http_req rs_http_req_t;

typedef int (*rs_http_handler_fn)(rs_http_req_t *req, void *ctx);
typedef void (*rs_http_close_fn)(rs_http_req_t *req, void *arg);

struct rs_http_req {
    const char *method;      /* "GET", "POST", ... */
    char *path;              /* decoded path, no query string */
    char *raw_path;          /* as received, still percent-encoded, no query */
    char *query;             /* raw query string without '?', or NULL */
    rs_kvlist_t query_args;  /* decoded query parameters, in order */
    rs_kvlist_t headers;     /* request headers as received */
    char *body;              /* request body (NUL-terminated), never NULL */
    size_t body_len;
    char peer[64];           /* client address */
    int gone;                /* the client hung up; replies are dropped */
    void *user;              /* free for the handler's use */
    void *trace;             /* free for the request hooks' use (rs_http_server_set_hooks) */
    char traceparent[56];    /* storage for a traceparent header the hooks set (headers are references) */
    rs_kvlist_t reply_headers; /* headers the hooks add to whatever reply the request gets (e.g. `baggage`) */
    /* private */
    struct rs_http_conn *conn_; /* NULL once replied or gone */
    rs_http_server_t *srv_;     /* NULL once the server is freed */
    rs_http_close_fn on_close_;
    void *on_close_arg_;
    int64_t start_us_;
};

/** Creates a server on `base` with the default limits. Bodies over max_body bytes are answered 413 before any
 *  handler runs. */
rs_http_server_t *rs_http_server_new(struct event_base *base, size_t max_body);
/** Replaces the limits; call before listening. The connection cap is lowered to fit RLIMIT_NOFILE (half the
 *  descriptors left after a reserve: a proxied request holds an outbound connection too). */
void rs_http_server_set_limits(rs_http_server_t *s, const rs_http_limits_t *l);
/** The limits in force (after the RLIMIT_NOFILE clamp). */
rs_http_limits_t rs_http_server_limits(const rs_http_server_t *s);
/** Open connections now (for tests and metrics). */
int rs_http_server_connections(const rs_http_server_t *s);
/** Listens on addr:port (port 0 picks a free port). Returns the bound port, or -1. May be called for several addresses. */
int rs_http_server_listen(rs_http_server_t *s, const char *addr, int port);
/** Serves fd, a connected stream socket, exactly as a connection the listener accepted from `peer` (an address
 *  for logs and X-Forwarded-For). For harnesses that hand the server one end of a socketpair (tests/fuzz/). Takes
 *  ownership of fd; returns 0, or -1 with fd closed when at the connection cap. */
int rs_http_server_adopt(rs_http_server_t *s, int fd, const char *peer);
/** Appends a handler to the chain. */
void rs_http_server_add(rs_http_server_t *s, rs_http_handler_fn fn, void *ctx);
/** Called after each reply with the route label the handler set (rs_http_req_set_route), status, latency and the
 *  request and response body sizes; for metrics. */
typedef void (*rs_http_observer_fn)(void *arg, const char *method, const char *route, int status, int64_t latency_us,
                                    size_t req_bytes, size_t resp_bytes);
void rs_http_server_set_observer(rs_http_server_t *s, rs_http_observer_fn fn, void *arg);
/** Hooks around every dispatched request (tracing). begin runs before the handler chain — returning non-zero, it
 *  has answered the request itself (e.g. 400 for a malformed baggage header) and the chain is skipped; dispatched after the
 *  chain returns (the synchronous part of the handler is over; the reply may still be pending); end with the
 *  final status (499 when the client hung up) just before the reply is written — it may run before dispatched
 *  when the handler answers at once. r->trace is theirs. Requests the server rejects itself (parse errors) skip
 *  them. */
typedef struct {
    int (*begin)(void *arg, rs_http_req_t *r);
    void (*dispatched)(void *arg, rs_http_req_t *r);
    void (*end)(void *arg, rs_http_req_t *r, int status);
    void *arg;
} rs_http_hooks_t;
/** Sets the hooks (copied), or clears them with NULL. */
void rs_http_server_set_hooks(rs_http_server_t *s, const rs_http_hooks_t *h);
/** Stops listening and frees the server (requests still pending are dropped). */
void rs_http_server_free(rs_http_server_t *s);

/** Returns a request header (case-insensitive), or NULL. */
const char *rs_http_req_header(const rs_http_req_t *r, const char *name);
/** Registers a callback for when the client hangs up before the reply. */
void rs_http_req_on_close(rs_http_req_t *r, rs_http_close_fn fn, void *arg);
/** Labels the request for metrics, e.g. "/v1.0/state/{store}". The string must be static. */
void rs_http_req_set_route(rs_http_req_t *r, const char *route);

/** Sends status, extra headers (may be NULL), and body (may be NULL). Finishes the request. */
void rs_http_reply(rs_http_req_t *r, int status, const rs_kvlist_t *headers, const void *body, size_t len);
/** Sends a JSON value with Content-Type application/json, and takes the reference. */
void rs_http_reply_json(rs_http_req_t *r, int status, json_t *v);
/** Sends Dapr's error body {"errorCode":code,"message":msg}. */
void rs_http_reply_error(rs_http_req_t *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** The Dapr errorCode this server answers a status with when it turns a request away itself (no handler took it,
 *  malformed, too large, ...): 400 ERR_MALFORMED_REQUEST, 404 ERR_NOT_FOUND, 405 ERR_METHOD_NOT_ALLOWED,
 *  408 ERR_REQUEST_TIMEOUT, 413 ERR_REQUEST_TOO_LARGE, 431 ERR_HEADERS_TOO_LARGE, 501 ERR_NOT_IMPLEMENTED,
 *  505 ERR_HTTP_VERSION, anything else ERR_INTERNAL.
 *  ripstopd's error table (sidecar/errors/errors.h) lists each with the same status; its unit test checks that. */
const char *rs_http_error_code(int status);
/** Sends a status with no body (e.g. 204). */
void rs_http_reply_empty(rs_http_req_t *r, int status);

#endif

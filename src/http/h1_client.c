/* SPDX-License-Identifier: MIT */
/* The h1 transport (see transport.h): HTTP/1.1 over pooled keep-alive TCP
 * connections to IP addresses, on the caller's libevent loop.
 *
 * Why not libcurl here: on the invocation path a sidecar makes one outbound
 * call per inbound request, and libcurl's general machinery (per-transfer
 * state, connection checks with poll(), re-registering its socket for every
 * transfer) cost more CPU than everything else the sidecar does. Here a call
 * is one send() of a pre-formatted request on an idle connection and one
 * recv() per readable event, parsed by Debian's http-parser.
 *
 * A connection's read event is registered once, when it is opened, and stays
 * until it is closed: an idle connection that the server closes (or writes
 * to) is noticed and dropped at once. A request that meets a server which
 * closed a reused connection at the same moment (no response byte yet) is
 * sent once more on a new connection, as curl and browsers do. */
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/transport.h"
#include "http/wire.h"

/* Idle connections kept per address; more are closed when they come back. */
#define IDLE_MAX_PER_PEER 512
#define READ_CHUNK 16384

typedef struct h1_conn h1_conn_t;
typedef struct h1_call h1_call_t;

/* One remote address and its idle connections (most recently used first). */
typedef struct h1_peer {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    h1_conn_t *idle;
    int nidle;
    struct h1_peer *next;
} h1_peer_t;

struct h1_conn {
    rs_h1_client_t *client;
    h1_peer_t *peer;
    int fd;
    struct event on_read;  /* EV_READ|EV_PERSIST for the connection's whole life */
    struct event on_write; /* waits for connect() to finish or for room to write */
    int connected;
    int served;            /* responses read; a reused connection may have been closed by the server */
    rs_http_header_acc_t hdr; /* the response header being assembled (kept: no allocation per call) */
    h1_call_t *call;       /* NULL while idle */
    h1_conn_t *next_idle;
};

struct h1_call {
    rs_http_call_t base; /* first: routes rs_http_cancel here */
    rs_h1_client_t *client;
    h1_peer_t *peer;
    h1_conn_t *conn;
    char *out;           /* the formatted request, kept whole so it can be sent again */
    size_t out_len, out_off;
    int resent;          /* already re-sent once after a stale connection */
    int head;            /* HEAD: the response has no body */
    http_parser parser;
    int got_bytes;       /* any response byte arrived on the current connection */
    int complete, keep_alive, too_large;
    rs_http_response_t resp;
    struct event timer;  /* whole-call timeout, when asked for */
    int timer_set;
    struct event later;  /* reports an outcome decided inside rs_h1_send */
    rs_http_done_fn done;
    void *arg;
    int64_t start_us;
    h1_call_t *prev, *next;
};

struct rs_h1_client {
    struct event_base *base;
    h1_peer_t *peers;
    h1_call_t *calls; /* in flight, for cleanup on free */
};

static http_parser_settings parser_settings;

/* ---------- bookkeeping ---------- */

static void link_call(rs_h1_client_t *c, h1_call_t *call) {
    call->next = c->calls;
    if (c->calls) c->calls->prev = call;
    c->calls = call;
}

static void unlink_call(rs_h1_client_t *c, h1_call_t *call) {
    if (call->prev) call->prev->next = call->next;
    else c->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

static void free_call(h1_call_t *call) {
    if (call->timer_set) event_del(&call->timer);
    event_del(&call->later);
    free(call->out);
    rs_kvlist_free(&call->resp.headers);
    rs_buf_free(&call->resp.body);
    free(call);
}

static h1_peer_t *find_peer(rs_h1_client_t *c, const rs_h1_dest_t *d) {
    for (h1_peer_t *p = c->peers; p; p = p->next)
        if (p->addr_len == d->addr_len && memcmp(&p->addr, &d->addr, d->addr_len) == 0) return p;
    h1_peer_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    memcpy(&p->addr, &d->addr, d->addr_len);
    p->addr_len = d->addr_len;
    p->next = c->peers;
    c->peers = p;
    return p;
}

static void remove_idle(h1_conn_t *conn) {
    for (h1_conn_t **pp = &conn->peer->idle; *pp; pp = &(*pp)->next_idle) {
        if (*pp == conn) {
            *pp = conn->next_idle;
            conn->peer->nidle--;
            return;
        }
    }
}

static void close_conn(h1_conn_t *conn) {
    if (!conn->call) remove_idle(conn);
    else conn->call->conn = NULL;
    event_del(&conn->on_read);
    event_del(&conn->on_write);
    close(conn->fd);
    rs_http_header_acc_free(&conn->hdr);
    free(conn);
}

/* ---------- finishing a call ---------- */

static void finish(h1_call_t *call) {
    unlink_call(call->client, call);
    call->resp.latency_us = rs_now_us() - call->start_us;
    call->done(call->arg, &call->resp);
    free_call(call);
}

static void on_later(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    finish(arg);
}

/* Ends a call with an error. `from_send` defers the callback to the loop: the
 * contract says done never runs inside rs_http_send. */
static void fail(h1_call_t *call, rs_http_result_t result, int from_send, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(h1_call_t *call, rs_http_result_t result, int from_send, const char *fmt, ...) {
    if (call->conn) close_conn(call->conn);
    call->resp.result = result;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->resp.error, sizeof call->resp.error, fmt, ap);
    va_end(ap);
    if (from_send) event_active(&call->later, 0, 0);
    else finish(call);
}

/* ---------- connections ---------- */

static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void start_on_conn(h1_call_t *call, h1_conn_t *conn, int from_send);

static h1_conn_t *open_conn(rs_h1_client_t *c, h1_peer_t *peer, int *err) {
    int fd = socket(peer->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h1_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) {
        close(fd);
        *err = ENOMEM;
        return NULL;
    }
    conn->client = c;
    conn->peer = peer;
    conn->fd = fd;
    rs_http_header_acc_init(&conn->hdr, HTTP_MAX_HEADER_SIZE);
    event_assign(&conn->on_read, c->base, fd, EV_READ | EV_PERSIST, on_readable, conn);
    event_assign(&conn->on_write, c->base, fd, EV_WRITE, on_writable, conn);
    if (connect(fd, (struct sockaddr *)&peer->addr, peer->addr_len) == 0) {
        conn->connected = 1;
    } else if (errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        free(conn);
        return NULL;
    }
    event_add(&conn->on_read, NULL);
    return conn;
}

/* A reused connection that the server closed just as the request went out (no response byte yet):
 * returns 1 after moving the call to a fresh connection, once per call; 0 if that does not apply. */
static int resend_if_stale(h1_conn_t *conn, int from_send) {
    h1_call_t *call = conn->call;
    if (!conn->served || call->resent || call->got_bytes) return 0;
    call->resent = 1;
    close_conn(conn);
    int err = 0;
    h1_conn_t *fresh = open_conn(call->client, call->peer, &err);
    if (!fresh) fail(call, RS_HTTP_ERR_CONNECT, from_send, "connect: %s", strerror(err));
    else start_on_conn(call, fresh, from_send);
    return 1;
}

/* Sends what is left of the call's request; waits for room when the socket is full. */
static void write_request(h1_conn_t *conn, int from_send) {
    h1_call_t *call = conn->call;
    while (call->out_off < call->out_len) {
        ssize_t n = send(conn->fd, call->out + call->out_off, call->out_len - call->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            call->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(&conn->on_write, NULL);
            return;
        } else {
            int err = errno;
            if (resend_if_stale(conn, from_send)) return;
            fail(call, RS_HTTP_ERR_TRANSPORT, from_send, "send: %s", strerror(err));
            return;
        }
    }
}

static void start_on_conn(h1_call_t *call, h1_conn_t *conn, int from_send) {
    conn->call = call;
    call->conn = conn;
    call->out_off = 0;
    call->got_bytes = 0;
    call->complete = call->keep_alive = 0;
    rs_http_header_acc_reset(&conn->hdr);
    rs_kvlist_free(&call->resp.headers);
    rs_buf_reset(&call->resp.body);
    http_parser_init(&call->parser, HTTP_RESPONSE);
    call->parser.data = call;
    if (conn->connected) write_request(conn, from_send);
    else event_add(&conn->on_write, NULL); /* connect() in progress */
}

static void on_writable(evutil_socket_t fd, short what, void *arg) {
    h1_conn_t *conn = arg;
    (void)what;
    if (!conn->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err) {
            if (conn->call) fail(conn->call, RS_HTTP_ERR_CONNECT, 0, "connect: %s", strerror(err));
            else close_conn(conn);
            return;
        }
        conn->connected = 1;
    }
    if (conn->call) write_request(conn, 0);
}

/* The response is complete: the connection goes back to the pool (or is closed), then the caller hears. */
static void complete_call(h1_call_t *call, int leftover) {
    h1_conn_t *conn = call->conn;
    call->resp.result = RS_HTTP_OK;
    call->resp.status = (int)call->parser.status_code;
    if (conn) {
        conn->served++;
        if (call->keep_alive && !leftover && call->out_off == call->out_len &&
            conn->peer->nidle < IDLE_MAX_PER_PEER) {
            conn->call = NULL;
            call->conn = NULL;
            conn->next_idle = conn->peer->idle;
            conn->peer->idle = conn;
            conn->peer->nidle++;
        } else {
            close_conn(conn);
        }
    }
    finish(call);
}

static void on_readable(evutil_socket_t fd, short what, void *arg) {
    h1_conn_t *conn = arg;
    char buf[READ_CHUNK];
    (void)what;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    h1_call_t *call = conn->call;
    if (!call) { /* idle: the server closed it (or spoke out of turn) */
        close_conn(conn);
        return;
    }
    if (n < 0) {
        int err = errno;
        if (!conn->connected) {
            fail(call, RS_HTTP_ERR_CONNECT, 0, "connect: %s", strerror(err));
        } else if (!resend_if_stale(conn, 0)) {
            fail(call, RS_HTTP_ERR_TRANSPORT, 0, "recv: %s", strerror(err));
        }
        return;
    }
    if (n == 0) {
        http_parser_execute(&call->parser, &parser_settings, NULL, 0); /* EOF ends a close-delimited body */
        if (call->complete) {
            complete_call(call, 1);
        } else if (call->too_large) {
            fail(call, RS_HTTP_ERR_TOO_LARGE, 0, "response larger than %zu bytes", call->resp.body.cap);
        } else if (!resend_if_stale(conn, 0)) {
            fail(call, RS_HTTP_ERR_TRANSPORT, 0, "connection closed before the response was complete");
        }
        return;
    }
    call->got_bytes = 1;
    size_t used = http_parser_execute(&call->parser, &parser_settings, buf, (size_t)n);
    enum http_errno e = HTTP_PARSER_ERRNO(&call->parser);
    if (call->complete) { /* the parser pauses itself on the final response */
        complete_call(call, used < (size_t)n);
    } else if (call->too_large) {
        fail(call, RS_HTTP_ERR_TOO_LARGE, 0, "response larger than %zu bytes", call->resp.body.cap);
    } else if (e != HPE_OK) {
        fail(call, RS_HTTP_ERR_TRANSPORT, 0, "bad response: %s", http_errno_description(e));
    }
}

/* ---------- response parsing (http-parser callbacks) ---------- */

static int on_header_field(http_parser *p, const char *at, size_t len) {
    h1_call_t *call = p->data;
    return rs_http_header_acc_field(&call->conn->hdr, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    h1_call_t *call = p->data;
    return rs_http_header_acc_value(&call->conn->hdr, at, len);
}

static int on_headers_complete(http_parser *p) {
    h1_call_t *call = p->data;
    /* http-parser reads any digits as the status ("HTTP/1.1 010"); a status is three digits from 100 (RFC 9110
     * §15), as Go's client requires. Anything else is a malformed response, not a status to hand on. */
    if (p->status_code < 100 || p->status_code > 999) return -1;
    if (rs_http_header_acc_copy(&call->conn->hdr, &call->resp.headers) != 0) return -1;
    /* 1 tells http-parser there is no body: HEAD, and 204/304 even when they carry a Content-Length */
    return call->head || p->status_code == 204 || p->status_code == 304 ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
    h1_call_t *call = p->data;
    if (rs_buf_append(&call->resp.body, at, len) != 0) {
        call->too_large = 1;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p) {
    h1_call_t *call = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
        rs_kvlist_free(&call->resp.headers); /* interim (e.g. 100 Continue): wait for the final one */
        return 0;
    }
    call->complete = 1;
    call->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1);
    return 0;
}

static http_parser_settings parser_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---------- requests ---------- */

/* Headers the transport writes itself (framing and connection management). */
static rs_name_set_t framing_headers =
    RS_NAME_SET("content-length", "transfer-encoding", "connection", "keep-alive", "expect", "upgrade", "te");

static int format_request(h1_call_t *call, const rs_h1_dest_t *d, const rs_http_request_t *req) {
    const char *method = req->method ? req->method : "GET";
    rs_buf_t b;
    rs_buf_init(&b, SIZE_MAX);
    /* sized up front and written with appends, not printf: this runs for every proxied request */
    size_t size = strlen(method) + strlen(d->target) + 16 + sizeof "Host: \r\n" + strlen(d->host) +
                  sizeof "Content-Length: 18446744073709551615\r\n\r\n" + req->body_len +
                  rs_http_wire_headers_size(req->headers);
    int rc = rs_buf_reserve(&b, size);
    if (rc == 0) rc = rs_buf_puts(&b, method);
    if (rc == 0) rc = rs_buf_puts(&b, d->target[0] == '?' ? " /" : " ");
    if (rc == 0) rc = rs_buf_puts(&b, d->target);
    if (rc == 0) rc = rs_buf_puts(&b, " HTTP/1.1\r\n");
    int has_host = 0;
    if (req->headers) {
        for (size_t i = 0; i < req->headers->len && rc == 0; i++) {
            const rs_kv_t *h = &req->headers->items[i];
            if (rs_name_set_has(&framing_headers, h->key)) continue;
            if (!has_host && (h->key[0] | 0x20) == 'h' && strcasecmp(h->key, "host") == 0) has_host = 1;
            rc = rs_http_wire_header(&b, h->key, h->value);
        }
    }
    if (rc == 0 && !has_host) rc = rs_http_wire_header(&b, "Host", d->host);
    int wants_length = req->body_len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                       strcmp(method, "PATCH") == 0;
    if (rc == 0 && wants_length) rc = rs_http_wire_content_length(&b, req->body_len);
    if (rc == 0) rc = rs_buf_append(&b, "\r\n", 2);
    if (rc == 0 && req->body_len) rc = rs_buf_append(&b, req->body, req->body_len);
    if (rc != 0) {
        rs_buf_free(&b);
        return -1;
    }
    call->out = rs_buf_steal(&b, &call->out_len);
    return 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    h1_call_t *call = arg;
    (void)fd;
    (void)what;
    call->timer_set = 0;
    fail(call, RS_HTTP_ERR_TIMEOUT, 0, "no complete response within %lld ms",
         (long long)((rs_now_us() - call->start_us) / 1000));
}

rs_http_call_t *rs_h1_send(rs_h1_client_t *c, const rs_h1_dest_t *dest, const rs_http_request_t *req,
                           rs_http_done_fn done, void *arg) {
    h1_call_t *call = calloc(1, sizeof *call);
    if (!call) return NULL;
    call->base.via = RS_HTTP_VIA_H1;
    call->client = c;
    call->done = done;
    call->arg = arg;
    call->start_us = rs_now_us();
    call->head = req->method && strcmp(req->method, "HEAD") == 0;
    rs_buf_init(&call->resp.body, req->max_response ? req->max_response : RS_HTTP_DEFAULT_MAX_RESPONSE);
    event_assign(&call->later, c->base, -1, 0, on_later, call);
    evtimer_assign(&call->timer, c->base, on_timeout, call);
    call->peer = find_peer(c, dest);
    if (!call->peer || format_request(call, dest, req) != 0) {
        free_call(call);
        return NULL;
    }
    link_call(c, call);
    if (req->timeout_ms > 0) {
        struct timeval tv = {(time_t)(req->timeout_ms / 1000), (suseconds_t)((req->timeout_ms % 1000) * 1000)};
        evtimer_add(&call->timer, &tv);
        call->timer_set = 1;
    }
    h1_conn_t *conn = call->peer->idle;
    if (conn) {
        call->peer->idle = conn->next_idle;
        call->peer->nidle--;
        conn->next_idle = NULL;
    } else {
        int err = 0;
        conn = open_conn(c, call->peer, &err);
        if (!conn) {
            fail(call, RS_HTTP_ERR_CONNECT, 1, "connect: %s", strerror(err));
            return &call->base;
        }
    }
    start_on_conn(call, conn, 1);
    return &call->base;
}

void rs_h1_cancel(rs_http_call_t *handle) {
    h1_call_t *call = (h1_call_t *)handle;
    if (call->conn) close_conn(call->conn); /* mid-exchange: the connection cannot be reused */
    unlink_call(call->client, call);
    free_call(call);
}

rs_h1_client_t *rs_h1_client_new(struct event_base *base) {
    rs_h1_client_t *c = calloc(1, sizeof *c);
    if (c) c->base = base;
    return c;
}

void rs_h1_client_free(rs_h1_client_t *c) {
    if (!c) return;
    while (c->calls) rs_h1_cancel(&c->calls->base);
    while (c->peers) {
        h1_peer_t *p = c->peers;
        while (p->idle) close_conn(p->idle);
        c->peers = p->next;
        free(p);
    }
    free(c);
}

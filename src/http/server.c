/* SPDX-License-Identifier: MIT */
/* The inbound HTTP/1.1 server: connections accepted by a libevent listener,
 * requests parsed by Debian's http-parser, replies written straight to the
 * socket.
 *
 * Why not evhttp: a sidecar answers every request by making another one, so
 * per-request overhead counts twice. evhttp stops and restarts reading a
 * connection around every request, arms a write event for every reply, and
 * needs a second event to notice a client hanging up while an async handler
 * works; each of those is an epoll_ctl call. Here a connection's read event is
 * registered once for its whole life: it reads requests, and while a request
 * is with the handlers it notices the client going away (EOF) and keeps any
 * pipelined bytes for later. A reply is one writev(); only a reply that does
 * not fit the socket buffer waits for a write event.
 *
 * Every request is finished exactly once (server.h). A connection whose
 * client hangs up while its request is pending is closed at once; the
 * request is marked gone and keeps only a NULL connection until the handler
 * replies. */
#include "http/server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/log.h"
#include "http/wire.h"

#define MAX_HANDLERS 32
#define MAX_LISTENERS 8
#define READ_CHUNK 16384
/* Request line + headers; larger is answered 431 (http-parser's own cap is 80 KiB). */
#define MAX_HEADERS_SIZE (64 * 1024)
/* Descriptors kept back from the connection cap for listeners, logs, Redis, Kafka and the like. */
#define FD_RESERVE 64
/* Accept back-off after the process or system ran out of descriptors or memory: first, and longest, wait. */
#define ACCEPT_BACKOFF_MIN_MS 50
#define ACCEPT_BACKOFF_MAX_MS 1000
/* A repeated accept failure is logged at most once per this many seconds, with the count since. */
#define ACCEPT_WARN_EVERY_S 10
/* After a reply that closes the connection, unread input is drained this long so the client reads the reply
 * instead of a reset. */
#define LINGER_S 5
/* Pipelined bytes held while a request is with the handlers; more stops reading until the reply. */
#define MAX_PENDING (1024 * 1024)

typedef struct rs_http_conn conn_t;

struct handler {
    rs_http_handler_fn fn;
    void *ctx;
};

struct rs_http_server {
    struct event_base *base;
    size_t max_body;
    struct evconnlistener *listeners[MAX_LISTENERS];
    int nlisteners;
    struct handler handlers[MAX_HANDLERS];
    int nhandlers;
    rs_http_observer_fn observer;
    rs_http_hooks_t hooks; /* all NULL unless tracing is on */
    void *observer_arg;
    rs_http_limits_t limits;
    conn_t *conns; /* every open connection, closed on free */
    int nconns;
    int accept_paused;          /* listeners disabled: at the connection cap, or backing off */
    struct event *accept_retry; /* re-enables the listeners after an accept failure */
    int backoff_ms;
    time_t warned_at;           /* last accept-failure warning */
    unsigned long unwarned;     /* failures since, not logged */
    struct req_private *reqs; /* every request not yet finished, told when the server is freed */
    time_t date_at;
    char date[40]; /* the Date header, formatted once a second */
};

struct req_private {
    rs_http_req_t pub;
    char *path_decoded;  /* pub.path when it had escapes; else pub.path shares raw_path's block */
    char *header_block;  /* the strings pub.headers points at (a list in reference mode) */
    char empty_body[1];  /* pub.body when there is none: no allocation for the usual GET */
    const char *route;
    int in_dispatch; /* the handler chain is running: finish() must not free yet */
    int finished;
    int keep_alive;  /* the client allows another request on this connection */
    int http10;
    struct req_private *prev, *next;
};

struct rs_http_conn {
    rs_http_server_t *srv;
    int fd;
    struct event on_read;  /* EV_READ|EV_PERSIST, for the connection's life */
    struct event timer;    /* the deadline of the current phase (see enum phase) */
    int phase;
    int started;           /* a byte of the next request has arrived */
    struct event on_write; /* only while a reply waits for room in the socket */
    struct event resume;   /* parses pipelined bytes after a reply, from the loop */
    char peer[64];
    http_parser parser;
    /* the request being parsed */
    rs_buf_t url, body;
    rs_http_header_acc_t hdr; /* the headers being assembled */
    rs_kvlist_t headers;      /* once complete: a list in reference mode into header_block */
    char *header_block;
    size_t header_bytes; /* request line + headers so far (http-parser counts too late to cap them) */
    int in_body;         /* headers done: header callbacks now bring chunked trailers, which are dropped */
    int reject; /* 413/431/405 decided while parsing */
    struct req_private *cur; /* handed to the handlers, not answered yet */
    rs_buf_t pending;        /* bytes that arrived while `cur` was pending */
    int read_paused;
    /* the reply being written */
    char *out;
    size_t out_len, out_off;
    int closing;   /* close once `out` is written */
    int lingering; /* reply written; draining input until EOF */
    conn_t *prev, *next;
};

/* What a connection waits for, and so which deadline its timer holds. Deadlines are not moved by each byte
 * that arrives: a client sending one byte a second cannot keep a connection forever. */
enum phase {
    PHASE_HEAD,    /* a request's line and headers (from accept, or from its first byte): header timeout */
    PHASE_BODY,    /* its body: body timeout */
    PHASE_HANDLER, /* with the handlers, which time themselves: no deadline */
    PHASE_IDLE,    /* keep-alive, between requests: idle timeout */
    PHASE_LINGER,  /* reply sent, draining input before close: LINGER_S */
};

static http_parser_settings parser_settings;
static void conn_feed(conn_t *c, const char *data, size_t len);
static void listeners_enable(rs_http_server_t *s, int on);

static void conn_set_phase(conn_t *c, enum phase ph) {
    const rs_http_limits_t *l = &c->srv->limits;
    int ms = ph == PHASE_HEAD ? l->header_timeout_ms
             : ph == PHASE_BODY ? l->body_timeout_ms
             : ph == PHASE_IDLE ? l->idle_timeout_ms
             : ph == PHASE_LINGER ? LINGER_S * 1000
                                  : 0;
    c->phase = ph;
    if (ms <= 0) {
        event_del(&c->timer);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(&c->timer, &tv);
}

/* ---------- connections ---------- */

static void free_req(rs_http_req_t *r) {
    struct req_private *p = (struct req_private *)r;
    if (r->srv_) { /* unlink from the server's list */
        if (p->prev) p->prev->next = p->next;
        else r->srv_->reqs = p->next;
        if (p->next) p->next->prev = p->prev;
    }
    free(r->raw_path); /* with path and query in the same block */
    free(p->path_decoded);
    free(p->header_block); /* after the list (reference mode) that points into it */
    if (r->body != p->empty_body) free(r->body);
    rs_kvlist_free(&r->query_args);
    rs_kvlist_free(&r->headers);
    rs_kvlist_free(&r->reply_headers);
    free(r);
}

static void reset_parse_state(conn_t *c) {
    rs_buf_reset(&c->url);
    rs_http_header_acc_reset(&c->hdr);
    rs_buf_reset(&c->body);
    rs_kvlist_free(&c->headers);
    free(c->header_block);
    c->header_block = NULL;
    c->header_bytes = 0;
    c->in_body = 0;
    c->reject = 0;
}

/* Closes the connection. A request still with the handlers is marked gone and told, once. */
static void conn_close(conn_t *c) {
    rs_http_server_t *s = c->srv;
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    event_del(&c->on_read);
    event_del(&c->on_write);
    event_del(&c->resume);
    event_del(&c->timer);
    close(c->fd);
    s->nconns--;
    /* at the cap the listeners were paused; a free slot lets them go on (unless backing off) */
    if (s->accept_paused && s->nconns < s->limits.max_connections && !evtimer_pending(s->accept_retry, NULL))
        listeners_enable(s, 1);
    struct req_private *p = c->cur;
    c->cur = NULL;
    reset_parse_state(c);
    rs_buf_free(&c->url);
    rs_http_header_acc_free(&c->hdr);
    rs_buf_free(&c->body);
    rs_buf_free(&c->pending);
    free(c->out);
    free(c);
    if (p) {
        rs_http_req_t *r = &p->pub;
        r->gone = 1;
        r->conn_ = NULL;
        if (r->on_close_) r->on_close_(r, r->on_close_arg_); /* may reply, which then only frees r */
    }
}

/* Stops sending: the peer gets the reply, then EOF; its remaining input is read and dropped. */
static void conn_linger(conn_t *c) {
    shutdown(c->fd, SHUT_WR);
    c->lingering = 1;
    c->read_paused = 0;
    event_add(&c->on_read, NULL);
    conn_set_phase(c, PHASE_LINGER);
}

/* The reply is all out: close, or go on reading (a paused read resumes) and parse what is waiting. */
static void conn_reply_written(conn_t *c) {
    if (c->closing) {
        conn_linger(c);
        return;
    }
    if (c->read_paused) {
        c->read_paused = 0;
        event_add(&c->on_read, NULL);
    }
    conn_set_phase(c, PHASE_IDLE); /* pipelined bytes start the next request, and its head deadline */
    if (c->pending.len) event_active(&c->resume, 0, 0);
}

/* Writes what is left of `out`; afterwards resumes reading or closes. Returns -1 if the connection is gone. */
static int conn_flush(conn_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(&c->on_write, NULL);
            return 0;
        } else {
            conn_close(c);
            return -1;
        }
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    conn_reply_written(c);
    return 0;
}

/* Queues bytes for the client: sent at once when nothing is waiting, else after what is. */
static int conn_send(conn_t *c, const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    size_t skip = 0;
    if (!c->out) { /* the usual case: the socket has room for the whole reply */
        ssize_t w;
        do w = writev(c->fd, iov, n);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        skip = w > 0 ? (size_t)w : 0;
        if (skip == total) return 0;
    }
    char *grown = realloc(c->out, c->out_len + (total - skip));
    if (!grown) return -1;
    c->out = grown;
    for (int i = 0; i < n; i++) {
        const char *b = iov[i].iov_base;
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(c->out + c->out_len, b + skip, l - skip);
        c->out_len += l - skip;
        skip = 0;
    }
    event_add(&c->on_write, NULL);
    return 0;
}

static void on_writable(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    conn_flush(arg);
}

static void on_resume(evutil_socket_t fd, short what, void *arg) {
    conn_t *c = arg;
    (void)fd;
    (void)what;
    if (c->cur || c->closing || !c->pending.len) return;
    size_t len = 0;
    char *data = rs_buf_steal(&c->pending, &len);
    rs_buf_init(&c->pending, SIZE_MAX);
    conn_feed(c, data, len);
    free(data);
}

static void conn_reject(conn_t *c, int status, const char *msg);

/* The phase's deadline passed. A request that is late in arriving gets 408; idle and lingering ones just close. */
static void on_deadline(evutil_socket_t fd, short what, void *arg) {
    conn_t *c = arg;
    (void)fd;
    (void)what;
    if (c->cur) return; /* with the handlers: they time themselves */
    if ((c->phase == PHASE_HEAD && c->started) || c->phase == PHASE_BODY)
        conn_reject(c, 408, c->phase == PHASE_HEAD ? "request headers not received in time" : "request body not received in time");
    else
        conn_close(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg) {
    conn_t *c = arg;
    char buf[READ_CHUNK];
    (void)what;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) { /* EOF or reset: with a request pending, the client has hung up */
        conn_close(c);
        return;
    }
    if (c->lingering) return;
    if (c->cur || c->out || c->pending.len) { /* pipelined: keep it, in order, until the reply is out */
        if (rs_buf_append(&c->pending, buf, (size_t)n) != 0) {
            conn_close(c);
            return;
        }
        if (!c->cur && !c->out) event_active(&c->resume, 0, 0);
        else if (c->pending.len > MAX_PENDING) { /* stop reading (and so noticing hang-ups) until the reply */
            event_del(&c->on_read);
            c->read_paused = 1;
        }
        return;
    }
    conn_feed(c, buf, (size_t)n);
}

/* ---------- replies ---------- */

static const char *reason_phrase(int status) {
    const char *s = http_status_str((enum http_status)status);
    return s && s[0] != '<' ? s : "Status";
}

static const char *http_date(rs_http_server_t *s) {
    time_t now = time(NULL);
    if (now != s->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->date, sizeof s->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        s->date_at = now;
    }
    return s->date;
}

/* Headers the server writes itself. */
static rs_name_set_t framing_headers =
    RS_NAME_SET("content-length", "transfer-encoding", "connection", "keep-alive", "date");

/* Formats and sends one response. `close_after` ends the connection once it is written. */
static void conn_respond(conn_t *c, int status, const rs_kvlist_t *headers, const rs_kvlist_t *extra,
                         const void *body, size_t len, int head, int keep_alive, int http10) {
    rs_buf_t h;
    rs_buf_init(&h, SIZE_MAX);
    /* sized up front and written with appends, not printf: this runs for every reply */
    size_t size = 128 + sizeof "Content-Length: 18446744073709551615\r\nConnection: keep-alive\r\n\r\n" +
                  rs_http_wire_headers_size(headers) + (extra ? rs_http_wire_headers_size(extra) : 0);
    int rc = rs_buf_reserve(&h, size);
    if (rc == 0) rc = rs_buf_puts(&h, "HTTP/1.1 ");
    if (rc == 0) rc = rs_buf_put_uint(&h, (unsigned)status);
    if (rc == 0) rc = rs_buf_puts(&h, " ");
    if (rc == 0) rc = rs_buf_puts(&h, reason_phrase(status));
    if (rc == 0) rc = rs_buf_puts(&h, "\r\nDate: ");
    if (rc == 0) rc = rs_buf_puts(&h, http_date(c->srv));
    if (rc == 0) rc = rs_buf_puts(&h, "\r\n");
    if (headers) {
        for (size_t i = 0; i < headers->len && rc == 0; i++) {
            const rs_kv_t *kv = &headers->items[i];
            if (rs_name_set_has(&framing_headers, kv->key)) continue;
            rc = rs_http_wire_header(&h, kv->key, kv->value);
        }
    }
    for (size_t i = 0; extra && i < extra->len && rc == 0; i++)
        if (!rs_name_set_has(&framing_headers, extra->items[i].key))
            rc = rs_http_wire_header(&h, extra->items[i].key, extra->items[i].value);
    int bodyless = (status >= 100 && status < 200) || status == 204 || status == 304;
    if (rc == 0 && !bodyless) rc = rs_http_wire_content_length(&h, len);
    if (rc == 0 && !keep_alive) rc = rs_buf_puts(&h, "Connection: close\r\n");
    else if (rc == 0 && http10) rc = rs_buf_puts(&h, "Connection: keep-alive\r\n");
    if (rc == 0) rc = rs_buf_puts(&h, "\r\n");
    struct iovec iov[2] = {{h.data, h.len}, {(void *)body, (bodyless || head) ? 0 : len}};
    if (!keep_alive) c->closing = 1;
    if (rc != 0 || conn_send(c, iov, iov[1].iov_len ? 2 : 1) != 0) {
        rs_buf_free(&h);
        conn_close(c);
        return;
    }
    rs_buf_free(&h);
    if (!c->out) conn_reply_written(c);
}

const char *rs_http_error_code(int status) {
    switch (status) {
    case 400: return "ERR_MALFORMED_REQUEST";
    case 404: return "ERR_NOT_FOUND";
    case 405: return "ERR_METHOD_NOT_ALLOWED";
    case 408: return "ERR_REQUEST_TIMEOUT";
    case 413: return "ERR_REQUEST_TOO_LARGE";
    case 431: return "ERR_HEADERS_TOO_LARGE";
    case 501: return "ERR_NOT_IMPLEMENTED";
    case 505: return "ERR_HTTP_VERSION";
    default: return "ERR_INTERNAL";
    }
}

/* Answers a request the parser rejected before any handler saw it, and ends the connection. */
static void conn_reject(conn_t *c, int status, const char *msg) {
    char body[512];
    int n = snprintf(body, sizeof body, "{\"errorCode\":\"%s\",\"message\":\"%s\"}", rs_http_error_code(status), msg);
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    rs_http_server_t *s = c->srv;
    /* always with the body: after a parse error the parser's idea of the method is only a guess */
    conn_respond(c, status, &h, NULL, body, (size_t)n, 0, 0, 0);
    rs_kvlist_free(&h);
    if (s->observer) s->observer(s->observer_arg, "other", "other", status, 0, 0, (size_t)n);
}

/* Reports the request to the observer (metrics). Called before the reply is written: the write wakes the
 * client, which the kernel often runs on this CPU next (a sync wake-up), so work after it delays the client. */
static void observe(rs_http_req_t *r, int status, size_t resp_bytes) {
    struct req_private *p = (struct req_private *)r;
    if (r->srv_ && r->srv_->hooks.end && r->trace) r->srv_->hooks.end(r->srv_->hooks.arg, r, r->gone ? 499 : status);
    if (r->srv_ && r->srv_->observer)
        r->srv_->observer(r->srv_->observer_arg, r->method, p->route ? p->route : "other", r->gone ? 499 : status,
                          rs_now_us() - r->start_us_, r->body_len, resp_bytes);
}

static void finish(rs_http_req_t *r) {
    struct req_private *p = (struct req_private *)r;
    if (r->conn_) r->conn_->cur = NULL;
    r->conn_ = NULL;
    if (p->in_dispatch) { /* answered synchronously: dispatch frees it after the chain returns */
        p->finished = 1;
        return;
    }
    free_req(r);
}

/* ---------- requests ---------- */

static int method_allowed(enum http_method m) {
    return m == HTTP_GET || m == HTTP_POST || m == HTTP_HEAD || m == HTTP_PUT || m == HTTP_DELETE ||
           m == HTTP_OPTIONS || m == HTTP_PATCH;
}

/* Splits the query at '&' and decodes keys and values ('+' is a space), as Go's url.ParseQuery: a pair with a
 * malformed escape or a ';' is skipped. Returns -1 when a key or value decodes to a NUL byte, which would cut
 * the C string short and so make two different names one. */
static int parse_query(rs_http_req_t *r) {
    if (!r->query) return 0;
    for (const char *seg = r->query; *seg;) {
        size_t n = strcspn(seg, "&");
        const char *eq = memchr(seg, '=', n);
        size_t klen = eq ? (size_t)(eq - seg) : n, vlen = eq ? n - klen - 1 : 0;
        if (n && !memchr(seg, ';', klen)) {
            size_t kd = 0, vd = 0;
            char *k = rs_percent_decode(seg, klen, 1, &kd);
            char *v = k ? rs_percent_decode(eq ? eq + 1 : "", vlen, 1, &vd) : NULL;
            int nul = k && v && (strlen(k) != kd || strlen(v) != vd);
            if (k && v && !nul) rs_kvlist_add_n(&r->query_args, k, kd, v, vd);
            free(k);
            free(v);
            if (nul) return -1;
        }
        seg += n;
        if (*seg == '&') seg++;
    }
    return 0;
}

/* Builds the request from the parse state and runs the handler chain. */
static void dispatch(conn_t *c) {
    rs_http_server_t *s = c->srv;
    struct req_private *p = calloc(1, sizeof *p);
    if (!p) {
        conn_reject(c, 500, "out of memory");
        return;
    }
    rs_http_req_t *r = &p->pub;
    r->srv_ = s;
    r->conn_ = c;
    p->next = s->reqs;
    if (s->reqs) s->reqs->prev = p;
    s->reqs = p;
    r->start_us_ = rs_now_us();
    r->method = http_method_str((enum http_method)c->parser.method);
    p->keep_alive = http_should_keep_alive(&c->parser);
    p->http10 = c->parser.http_major == 1 && c->parser.http_minor == 0;
    if (c->parser.upgrade) p->keep_alive = 0; /* no protocol switches here: answer, then close */
    const char *uri = c->url.data ? c->url.data : "/";
    if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) { /* absolute form */
        const char *slash = strchr(strstr(uri, "//") + 2, '/');
        uri = slash ? slash : "/";
    }
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri), qlen = q ? strlen(q + 1) : 0;
    /* One block "raw_path\0path\0query\0" (path only when it has no escapes to decode). */
    const char *bad = NULL; /* why the request line is refused */
    for (const unsigned char *u = (const unsigned char *)uri; *u && !bad; u++)
        if (*u < 0x20 || *u == 0x7f) bad = "control character in the request target"; /* (Go's server: 400) */
    char *block = malloc(2 * plen + qlen + 3);
    if (block) {
        r->raw_path = memcpy(block, uri, plen);
        block[plen] = '\0';
        if (!memchr(uri, '%', plen)) {
            r->path = memcpy(block + plen + 1, uri, plen);
            r->path[plen] = '\0';
        } else {
            size_t dlen = 0;
            r->path = p->path_decoded = rs_percent_decode(r->raw_path, plen, 0, &dlen);
            if (!r->path) bad = "invalid URL escape in the path";
            else if (strlen(r->path) != dlen) bad = "the path holds a NUL byte (%00)";
        }
        if (q) r->query = memcpy(block + 2 * plen + 2, q + 1, qlen + 1);
        if (!bad && parse_query(r) != 0) bad = "the query holds a NUL byte (%00)";
    }
    r->headers = c->headers;
    memset(&c->headers, 0, sizeof c->headers);
    p->header_block = c->header_block;
    c->header_block = NULL;
    if (c->body.len) {
        size_t blen = 0;
        r->body = rs_buf_steal(&c->body, &blen);
        rs_buf_init(&c->body, s->max_body);
        r->body_len = blen;
    } else {
        r->body = p->empty_body;
    }
    memcpy(r->peer, c->peer, sizeof r->peer);
    c->cur = p;
    if (bad || !r->path || !r->raw_path || !r->body) {
        if (!r->path) r->path = r->raw_path ? r->raw_path : p->empty_body; /* for the observer and handlers' logs */
        rs_http_reply_error(r, 400, rs_http_error_code(400), "malformed request line: %s", bad ? bad : "no memory");
        return;
    }
    p->in_dispatch = 1;
    int taken = s->hooks.begin ? s->hooks.begin(s->hooks.arg, r) : 0;
    for (int i = 0; i < s->nhandlers && !taken; i++) taken = s->handlers[i].fn(r, s->handlers[i].ctx);
    if (!taken) rs_http_reply_error(r, 404, rs_http_error_code(404), "no route for %s %s", r->method, r->path);
    if (s->hooks.dispatched) s->hooks.dispatched(s->hooks.arg, r);
    p->in_dispatch = 0;
    if (p->finished) free_req(r);
}

/* Parses bytes from the client; dispatches at most one request, then waits for its reply. */
static void conn_feed(conn_t *c, const char *data, size_t len) {
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) http_parser_pause(&c->parser, 0);
    size_t used = http_parser_execute(&c->parser, &parser_settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (c->reject) {
        int st = c->reject;
        conn_reject(c, st,
                    st == 413   ? "request body too large"
                    : st == 431 ? "request headers too large"
                    : st == 505 ? "only HTTP/1.x is served"
                    : st == 501 ? "only the chunked transfer coding is implemented"
                                : "method not allowed");
        return;
    }
    if (e == HPE_PAUSED) { /* a whole request: keep what follows it for after the reply */
        if (used < len && rs_buf_append(&c->pending, data + used, len - used) != 0) {
            conn_close(c);
            return;
        }
        dispatch(c);
        return;
    }
    if (e == HPE_HEADER_OVERFLOW) {
        conn_reject(c, 431, "request headers too large");
    } else if (e != HPE_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "malformed request: %s", http_errno_description(e));
        conn_reject(c, 400, msg);
    }
}

/* ---------- http-parser callbacks ---------- */

static int on_message_begin(http_parser *p) {
    conn_t *c = p->data;
    reset_parse_state(c);
    c->started = 1;
    conn_set_phase(c, PHASE_HEAD);
    return 0;
}

/* Counts request line and header bytes; 4 covers each line's ": " / CRLF. Over the cap means 431. */
static int count_header_bytes(conn_t *c, size_t len) {
    c->header_bytes += len + 4;
    if (c->header_bytes > MAX_HEADERS_SIZE) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
    conn_t *c = p->data;
    if (count_header_bytes(c, len) != 0) return -1;
    if (rs_buf_append(&c->url, at, len) != 0) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
    conn_t *c = p->data;
    if (c->in_body) return 0;
    if (count_header_bytes(c, len) != 0) return -1;
    if (rs_http_header_acc_field(&c->hdr, at, len) != 0) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    conn_t *c = p->data;
    if (c->in_body) return 0;
    if (count_header_bytes(c, len) != 0) return -1;
    if (rs_http_header_acc_value(&c->hdr, at, len) != 0) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

/* Only "chunked" alone is decoded here; "gzip, chunked" and the like would hand the handlers coded bytes. */
static int transfer_coding_supported(const rs_kvlist_t *headers) {
    for (size_t i = 0; i < headers->len; i++) {
        if (strcasecmp(headers->items[i].key, "transfer-encoding") != 0) continue;
        const char *v = headers->items[i].value;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
        if (n != 7 || strncasecmp(v, "chunked", 7) != 0) return 0;
    }
    return 1;
}

static int on_headers_complete(http_parser *p) {
    conn_t *c = p->data;
    c->header_block = rs_http_header_acc_take(&c->hdr, &c->headers);
    if (!c->header_block) return -1;
    c->in_body = 1;
    if (p->http_major != 1) {
        c->reject = 505;
        return -1;
    }
    if (!method_allowed((enum http_method)p->method)) {
        c->reject = 405;
        return -1;
    }
    if (!transfer_coding_supported(&c->headers)) { /* RFC 9112 §6.1: an unknown coding is answered 501 */
        c->reject = 501;
        return -1;
    }
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX && p->content_length > c->srv->max_body) {
        c->reject = 413;
        return -1;
    }
    const char *expect = rs_kvlist_get_ci(&c->headers, "expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && p->http_minor >= 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        struct iovec iov = {(void *)cont, sizeof cont - 1};
        if (conn_send(c, &iov, 1) != 0) return -1;
    }
    conn_set_phase(c, PHASE_BODY);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
    conn_t *c = p->data;
    if (rs_buf_append(&c->body, at, len) != 0) {
        c->reject = 413;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p) {
    conn_t *c = p->data;
    http_parser_pause(p, 1); /* one request at a time: the next waits for this one's reply */
    c->started = 0;
    conn_set_phase(c, PHASE_HANDLER);
    return 0;
}

static http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---------- listening ---------- */

static void listeners_enable(rs_http_server_t *s, int on) {
    for (int i = 0; i < s->nlisteners; i++) {
        if (on) evconnlistener_enable(s->listeners[i]);
        else evconnlistener_disable(s->listeners[i]);
    }
    s->accept_paused = !on;
}

/* A new connection on fd (from the listener, or handed over by rs_http_server_adopt). */
static int conn_start(rs_http_server_t *s, evutil_socket_t fd, const char *peer) {
    conn_t *c = s->nconns < s->limits.max_connections ? calloc(1, sizeof *c) : NULL;
    if (!c) { /* over the cap (a burst accepted before the pause took effect), or out of memory */
        close(fd);
        return -1;
    }
    evutil_make_socket_nonblocking(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->srv = s;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    rs_buf_init(&c->url, MAX_HEADERS_SIZE);
    rs_http_header_acc_init(&c->hdr, MAX_HEADERS_SIZE);
    rs_buf_init(&c->body, s->max_body);
    rs_buf_init(&c->pending, SIZE_MAX);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    event_assign(&c->on_read, s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    event_assign(&c->on_write, s->base, fd, EV_WRITE, on_writable, c);
    event_assign(&c->resume, s->base, -1, 0, on_resume, c);
    event_assign(&c->timer, s->base, -1, 0, on_deadline, c);
    event_add(&c->on_read, NULL);
    conn_set_phase(c, PHASE_HEAD); /* the first request's head is due from the connect on */
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    if (++s->nconns >= s->limits.max_connections) listeners_enable(s, 0); /* resumes when one closes */
    return 0;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    rs_http_server_t *s = arg;
    (void)l;
    s->backoff_ms = 0;
    char host[INET6_ADDRSTRLEN] = "";
    if (getnameinfo(sa, (socklen_t)salen, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0) host[0] = '\0';
    conn_start(s, fd, host);
}

int rs_http_server_adopt(rs_http_server_t *s, int fd, const char *peer) { return conn_start(s, fd, peer ? peer : ""); }

static void on_accept_retry(evutil_socket_t fd, short what, void *arg) {
    rs_http_server_t *s = arg;
    (void)fd;
    (void)what;
    if (s->nconns < s->limits.max_connections) listeners_enable(s, 1);
}

/* Out of descriptors (EMFILE/ENFILE) or memory, the pending connection stays in the queue and the listener
 * would be woken for it again at once: a busy loop. So pause accepting for a growing while, and log the
 * failures at most once per ACCEPT_WARN_EVERY_S with their count. */
static void on_accept_error(struct evconnlistener *l, void *arg) {
    rs_http_server_t *s = arg;
    int err = errno;
    (void)l;
    time_t now = time(NULL);
    if (now - s->warned_at >= ACCEPT_WARN_EVERY_S) {
        if (s->unwarned)
            RS_WARN("http", "accept: %s (%lu more failures since the last warning)", strerror(err), s->unwarned);
        else
            RS_WARN("http", "accept: %s; pausing new connections briefly", strerror(err));
        s->warned_at = now;
        s->unwarned = 0;
    } else {
        s->unwarned++;
    }
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : ACCEPT_BACKOFF_MIN_MS;
    if (s->backoff_ms > ACCEPT_BACKOFF_MAX_MS) s->backoff_ms = ACCEPT_BACKOFF_MAX_MS;
    listeners_enable(s, 0);
    struct timeval tv = {s->backoff_ms / 1000, (s->backoff_ms % 1000) * 1000};
    evtimer_add(s->accept_retry, &tv);
}

void rs_http_limits_defaults(rs_http_limits_t *l) {
    *l = (rs_http_limits_t){
        .max_connections = 10000, .header_timeout_ms = 10000, .body_timeout_ms = 60000, .idle_timeout_ms = 300000};
}

rs_http_server_t *rs_http_server_new(struct event_base *base, size_t max_body) {
    rs_http_server_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base = base;
    s->max_body = max_body;
    s->accept_retry = evtimer_new(base, on_accept_retry, s);
    if (!s->accept_retry) {
        free(s);
        return NULL;
    }
    rs_http_limits_t l;
    rs_http_limits_defaults(&l);
    rs_http_server_set_limits(s, &l);
    return s;
}

void rs_http_server_set_limits(rs_http_server_t *s, const rs_http_limits_t *l) {
    s->limits = *l;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        long fit = rl.rlim_cur > 2 * FD_RESERVE ? (long)(rl.rlim_cur - FD_RESERVE) / 2 : 1;
        if (s->limits.max_connections > fit) {
            RS_DEBUG("http", "connection cap %d lowered to %ld to fit RLIMIT_NOFILE %llu", s->limits.max_connections,
                    fit, (unsigned long long)rl.rlim_cur);
            s->limits.max_connections = (int)fit;
        }
    }
    if (s->limits.max_connections < 1) s->limits.max_connections = 1;
}

rs_http_limits_t rs_http_server_limits(const rs_http_server_t *s) { return s->limits; }

int rs_http_server_connections(const rs_http_server_t *s) { return s->nconns; }

int rs_http_server_listen(rs_http_server_t *s, const char *addr, int port) {
    if (s->nlisteners == MAX_LISTENERS) return -1;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    if (getaddrinfo(addr, portstr, &hints, &ai) != 0 || !ai) return -1;
    /* SOMAXCONN, not libevent's usual 128: a burst of thousands of connects (5,000 waiting invocations) would
     * otherwise overflow the accept queue and clients would wait out SYN retransmits (1 s, 3 s, 7 s...). */
    struct evconnlistener *l =
        evconnlistener_new_bind(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                SOMAXCONN, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!l) return -1;
    evconnlistener_set_error_cb(l, on_accept_error);
    s->listeners[s->nlisteners++] = l;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

void rs_http_server_add(rs_http_server_t *s, rs_http_handler_fn fn, void *ctx) {
    if (s->nhandlers == MAX_HANDLERS) {
        RS_ERROR("http", "too many handlers");
        abort();
    }
    s->handlers[s->nhandlers++] = (struct handler){fn, ctx};
}

void rs_http_server_set_hooks(rs_http_server_t *s, const rs_http_hooks_t *h) {
    if (h) s->hooks = *h;
    else memset(&s->hooks, 0, sizeof s->hooks);
}

void rs_http_server_set_observer(rs_http_server_t *s, rs_http_observer_fn fn, void *arg) {
    s->observer = fn;
    s->observer_arg = arg;
}

void rs_http_server_free(rs_http_server_t *s) {
    if (!s) return;
    for (int i = 0; i < s->nlisteners; i++) evconnlistener_free(s->listeners[i]);
    s->nlisteners = 0;
    while (s->conns) conn_close(s->conns); /* pending requests are told they are gone */
    event_free(s->accept_retry);
    for (struct req_private *p = s->reqs; p; p = p->next) p->pub.srv_ = NULL; /* they finish after the server */
    free(s);
}

/* ---------- the request API ---------- */

const char *rs_http_req_header(const rs_http_req_t *r, const char *name) { return rs_kvlist_get_ci(&r->headers, name); }

void rs_http_req_on_close(rs_http_req_t *r, rs_http_close_fn fn, void *arg) {
    r->on_close_ = fn;
    r->on_close_arg_ = arg;
}

void rs_http_req_set_route(rs_http_req_t *r, const char *route) { ((struct req_private *)r)->route = route; }

void rs_http_reply(rs_http_req_t *r, int status, const rs_kvlist_t *headers, const void *body, size_t len) {
    struct req_private *p = (struct req_private *)r;
    conn_t *c = r->gone ? NULL : r->conn_;
    observe(r, status, len);
    if (c) {
        c->cur = NULL;
        r->conn_ = NULL;
        conn_respond(c, status, headers, &r->reply_headers, body, len, strcmp(r->method, "HEAD") == 0, p->keep_alive,
                     p->http10);
    }
    finish(r);
}

void rs_http_reply_json(rs_http_req_t *r, int status, json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    json_decref(v);
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "application/json");
    rs_http_reply(r, status, &h, s, s ? strlen(s) : 0);
    rs_kvlist_free(&h);
    free(s);
}

void rs_http_reply_error(rs_http_req_t *r, int status, const char *code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message quoting a client's bytes may not be UTF-8, which JSON cannot carry: U+FFFD stands in for them,
     * as in Go's encoding/json, so the body always has its errorCode */
    char *clean = rs_utf8_valid(msg, strlen(msg)) ? NULL : rs_utf8_sanitize(msg, strlen(msg), NULL);
    rs_http_reply_json(r, status, json_pack("{s:s, s:s}", "errorCode", code, "message", clean ? clean : msg));
    free(clean);
}

void rs_http_reply_empty(rs_http_req_t *r, int status) { rs_http_reply(r, status, NULL, NULL, 0); }

/* SPDX-License-Identifier: MIT */
/* evhttp glue: turns an evhttp_request into an rs_http_req_t, runs the
 * handler chain, and guarantees exactly one completion per request even when
 * the client disconnects while a handler is still working (async replies). */
#include "http/server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/log.h"

#define MAX_HANDLERS 32
#define MAX_HEADERS_SIZE (64 * 1024)

struct handler {
    rs_http_handler_fn fn;
    void *ctx;
};

struct rs_http_server {
    struct event_base *base;
    struct evhttp *http;
    struct handler handlers[MAX_HANDLERS];
    int nhandlers;
    rs_http_observer_fn observer;
    void *observer_arg;
};

struct req_private {
    rs_http_req_t pub;
    const char *route;
    struct event *watch; /* notices the client hanging up while a handler works */
    int in_dispatch;     /* the handler chain is running: finish() must not free yet */
    int finished;
};

static void free_req(rs_http_req_t *r) {
    free(r->path);
    free(r->raw_path);
    free(r->query);
    free(r->body);
    rs_kvlist_free(&r->query_args);
    rs_kvlist_free(&r->headers);
    free(r);
}

/* The connection went away before we replied: libevent frees its request
 * right after this, so forget it and let the handler know. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg) {
    rs_http_req_t *r = arg;
    struct req_private *p = (struct req_private *)r;
    (void)evcon;
    if (p->watch) event_free(p->watch); /* before the fd is closed and its number reused */
    p->watch = NULL;
    r->gone = 1;
    r->ev_ = NULL;
    if (r->on_close_) r->on_close_(r, r->on_close_arg_);
}

/* evhttp stops reading a connection while its request is being handled, so
 * it would notice a hang-up only when the reply is written. Peek at the
 * socket instead: EOF or an error means the client is gone, and freeing the
 * connection runs on_conn_close. Pipelined bytes end the watch. */
static void on_client_readable(evutil_socket_t fd, short what, void *arg) {
    rs_http_req_t *r = arg;
    struct req_private *p = (struct req_private *)r;
    char c;
    (void)what;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        event_add(p->watch, NULL);
        return;
    }
    if (r->ev_) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev_);
        if (evcon) evhttp_connection_free(evcon); /* calls on_conn_close: r may be freed by the handler */
    }
}

static void finish(rs_http_req_t *r, int status) {
    struct req_private *p = (struct req_private *)r;
    if (p->watch) event_free(p->watch);
    p->watch = NULL;
    if (r->ev_) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev_);
        if (evcon) evhttp_connection_set_closecb(evcon, NULL, NULL);
    }
    if (r->srv_->observer)
        r->srv_->observer(r->srv_->observer_arg, r->method, p->route ? p->route : "other", r->gone ? 499 : status,
                          rs_now_us() - r->start_us_);
    if (p->in_dispatch) { /* answered synchronously: on_request frees it after the chain returns */
        p->finished = 1;
        return;
    }
    free_req(r);
}

static const char *method_name(enum evhttp_cmd_type t) {
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "GET";
}

static void parse_query(rs_http_req_t *r) {
    if (!r->query) return;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (evhttp_parse_query_str(r->query, &q) == 0) {
        for (struct evkeyval *kv = q.tqh_first; kv; kv = kv->next.tqe_next) rs_kvlist_add(&r->query_args, kv->key, kv->value);
    }
    evhttp_clear_headers(&q);
}

static void on_request(struct evhttp_request *ev, void *arg) {
    rs_http_server_t *s = arg;
    struct req_private *p = calloc(1, sizeof *p);
    if (!p) {
        evhttp_send_error(ev, 500, "out of memory");
        return;
    }
    rs_http_req_t *r = &p->pub;
    r->ev_ = ev;
    r->srv_ = s;
    r->start_us_ = rs_now_us();
    r->method = method_name(evhttp_request_get_command(ev));

    const char *uri = evhttp_request_get_uri(ev);
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    r->raw_path = strndup(uri, plen);
    r->path = evhttp_uridecode(r->raw_path, 0, NULL);
    if (q) r->query = strdup(q + 1);
    parse_query(r);

    struct evkeyvalq *hdrs = evhttp_request_get_input_headers(ev);
    for (struct evkeyval *kv = hdrs->tqh_first; kv; kv = kv->next.tqe_next) rs_kvlist_add(&r->headers, kv->key, kv->value);

    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    r->body_len = evbuffer_get_length(in);
    r->body = malloc(r->body_len + 1);
    if (r->body) {
        evbuffer_remove(in, r->body, r->body_len);
        r->body[r->body_len] = '\0';
    }

    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    if (evcon) {
        char *addr = NULL;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(evcon, &addr, &port);
        snprintf(r->peer, sizeof r->peer, "%s", addr ? addr : "");
        evhttp_connection_set_closecb(evcon, on_conn_close, r);
    }

    if (!r->path || !r->raw_path || !r->body) {
        rs_http_reply_error(r, 400, "ERR_MALFORMED_REQUEST", "malformed request line");
        return;
    }
    p->in_dispatch = 1;
    int taken = 0;
    for (int i = 0; i < s->nhandlers && !taken; i++) taken = s->handlers[i].fn(r, s->handlers[i].ctx);
    if (!taken) rs_http_reply_error(r, 404, "ERR_NOT_FOUND", "no route for %s %s", r->method, r->path);
    p->in_dispatch = 0;
    if (p->finished) {
        free_req(r);
        return;
    }
    /* An asynchronous handler holds the request: watch for the client going away meanwhile. */
    if (evcon && r->ev_) {
        struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
        evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
        if (fd >= 0) {
            p->watch = event_new(s->base, fd, EV_READ, on_client_readable, r);
            if (p->watch) event_add(p->watch, NULL);
        }
    }
}

rs_http_server_t *rs_http_server_new(struct event_base *base, size_t max_body) {
    rs_http_server_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base = base;
    s->http = evhttp_new(base);
    if (!s->http) {
        free(s);
        return NULL;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)max_body);
    evhttp_set_max_headers_size(s->http, MAX_HEADERS_SIZE);
    evhttp_set_timeout(s->http, 3600); /* idle keep-alive connections; handlers time themselves */
    evhttp_set_gencb(s->http, on_request, s);
    return s;
}

int rs_http_server_listen(rs_http_server_t *s, const char *addr, int port) {
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(s->http, addr, (ev_uint16_t)port);
    if (!sock) return -1;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);
    /* libevent listens with a backlog of 128: a burst of thousands of connects (5,000 waiting invocations)
     * then overflows the accept queue and clients wait out SYN retransmits (1 s, 3 s, 7 s...). Listening
     * again only raises the queue's length, as Go's net package does (somaxconn). */
    if (listen(fd, SOMAXCONN) != 0) RS_WARN("http", "cannot raise the listen backlog: %s", strerror(errno));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
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

void rs_http_server_set_observer(rs_http_server_t *s, rs_http_observer_fn fn, void *arg) {
    s->observer = fn;
    s->observer_arg = arg;
}

void rs_http_server_free(rs_http_server_t *s) {
    if (!s) return;
    evhttp_free(s->http);
    free(s);
}

const char *rs_http_req_header(const rs_http_req_t *r, const char *name) { return rs_kvlist_get_ci(&r->headers, name); }

void rs_http_req_on_close(rs_http_req_t *r, rs_http_close_fn fn, void *arg) {
    r->on_close_ = fn;
    r->on_close_arg_ = arg;
}

void rs_http_req_set_route(rs_http_req_t *r, const char *route) { ((struct req_private *)r)->route = route; }

void rs_http_reply(rs_http_req_t *r, int status, const rs_kvlist_t *headers, const void *body, size_t len) {
    if (!r->gone && r->ev_) {
        struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev_);
        if (headers)
            for (size_t i = 0; i < headers->len; i++) evhttp_add_header(out, headers->items[i].key, headers->items[i].value);
        struct evbuffer *b = evbuffer_new();
        if (b && body && len) evbuffer_add(b, body, len);
        evhttp_send_reply(r->ev_, status, NULL, b);
        if (b) evbuffer_free(b);
    }
    finish(r, status);
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
    rs_http_reply_json(r, status, json_pack("{s:s, s:s}", "errorCode", code, "message", msg));
}

void rs_http_reply_empty(rs_http_req_t *r, int status) { rs_http_reply(r, status, NULL, NULL, 0); }

/* SPDX-License-Identifier: MIT */
/* The unary gRPC client (grpc_client.h): one nghttp2 client session per
 * connection, one stream per call.
 *
 * Three objects:
 *   - a call (rs_grpc_ccall_t) is the caller's: its response and its timer;
 *   - a stream record (strm_t) is the connection's: the request bytes nghttp2
 *     pulls and a pointer back to the call, cleared when the call finishes or
 *     is cancelled, so nghttp2 may go on referring to a stream whose call is
 *     gone (a late reply is dropped, the request bytes stay valid);
 *   - a connection (conn_t): bufferevent + session, and its stream records.
 *
 * A call ends by `finish`, which detaches it from its stream (resetting the
 * stream when it is still open) and wakes the call's event; the event's
 * callback runs `done` from the loop, never from inside nghttp2 or from
 * rs_grpc_client_call. The same event is the call's deadline. */
#include "http/grpc_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/grpc_wire.h"

#define OUT_HIGH (1024 * 1024)
#define MAX_METADATA (64 * 1024)
/* As the server: windows larger than HTTP/2's 64 KiB so a large reply needs no round trip per 64 KiB. */
#define STREAM_WINDOW (1024 * 1024)
#define CONN_WINDOW (16 * 1024 * 1024)

typedef struct conn conn_t;
typedef struct strm strm_t;

struct rs_grpc_client {
    struct event_base *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char authority[300];
    char resolve_error[128]; /* set when the address could not be resolved */
    size_t max_reply;
    conn_t *cur;             /* where new calls go; NULL: dial on the next call */
    conn_t *conns;           /* every open connection (cur and those draining after a GOAWAY) */
    rs_grpc_ccall_t *calls;  /* every call not yet delivered or cancelled */
};

struct conn {
    rs_grpc_client_t *cl;
    struct bufferevent *bev;
    nghttp2_session *h2;
    int connected;
    int in_recv;             /* inside nghttp2_session_mem_recv: do not send or free */
    strm_t *streams;
    conn_t *prev, *next;
};

struct strm {
    conn_t *conn;
    rs_grpc_ccall_t *call;   /* NULL once the call finished or was cancelled */
    int32_t id;
    uint8_t *out;            /* the prefixed request message */
    size_t out_len, out_off;
    strm_t *prev, *next;
};

struct rs_grpc_ccall {
    rs_grpc_client_t *cl;
    strm_t *s;               /* NULL when not (or no longer) on a stream */
    rs_grpc_done_fn done;
    void *arg;
    struct event *ev;        /* the deadline, then the wake-up that delivers the response */
    int finished;
    int http_status;
    int have_status;
    size_t metadata_bytes;
    rs_buf_t in;             /* the prefixed reply */
    rs_grpc_response_t resp;
    rs_grpc_ccall_t *prev, *next;
};

static int conn_flush(conn_t *c);

/* ---- calls ---- */

/* Takes the call off its stream; an open stream is reset so the app can stop. */
static void call_detach(rs_grpc_ccall_t *call, int reset) {
    strm_t *s = call->s;
    if (!s) return;
    call->s = NULL;
    s->call = NULL;
    if (reset && s->id > 0) nghttp2_submit_rst_stream(s->conn->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
}

/* Ends the call with result (and a reason when it is not RS_HTTP_OK); done runs from the loop. */
static void finish(rs_grpc_ccall_t *call, rs_http_result_t result, int reset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finish(rs_grpc_ccall_t *call, rs_http_result_t result, int reset, const char *fmt, ...) {
    if (call->finished) return;
    call->finished = 1;
    call->resp.result = result;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(call->resp.error, sizeof call->resp.error, fmt, ap);
        va_end(ap);
    }
    call_detach(call, reset);
    event_del(call->ev);
    event_active(call->ev, EV_TIMEOUT, 0);
}

static void call_free(rs_grpc_ccall_t *call) {
    rs_grpc_client_t *cl = call->cl;
    if (call->prev) call->prev->next = call->next;
    else cl->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    event_free(call->ev);
    rs_buf_free(&call->in);
    rs_buf_free(&call->resp.reply);
    rs_kvlist_free(&call->resp.metadata);
    free(call);
}

static void on_call_event(evutil_socket_t fd, short what, void *arg) {
    rs_grpc_ccall_t *call = arg;
    (void)fd;
    (void)what;
    if (!call->finished) {
        conn_t *conn = call->s ? call->s->conn : NULL;
        finish(call, RS_HTTP_ERR_TIMEOUT, 1, "context deadline exceeded");
        if (conn) conn_flush(conn); /* sends the reset */
        return;
    }
    call->done(call->arg, &call->resp);
    call_free(call);
}

/* The stream ended: judge what arrived. */
static void complete(rs_grpc_ccall_t *call, uint32_t error_code) {
    if (!call->have_status) {
        if (error_code != NGHTTP2_NO_ERROR)
            finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app reset the stream (%s)", nghttp2_http2_strerror(error_code));
        else if (call->http_status != 200)
            finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app answered HTTP status %d, not a gRPC reply",
                   call->http_status);
        else finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app ended the stream without a grpc-status");
        return;
    }
    if (call->resp.code != 0) {
        rs_buf_free(&call->in);
        finish(call, RS_HTTP_OK, 0, "%s", "");
        return;
    }
    if (call->in.len < RS_GRPC_PREFIX_LEN) {
        finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app's reply has no message");
        return;
    }
    int compressed;
    uint32_t len;
    rs_grpc_prefix_read((const uint8_t *)call->in.data, &compressed, &len);
    if (compressed) {
        finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app's reply is compressed (only identity is accepted)");
        return;
    }
    if (call->in.len != RS_GRPC_PREFIX_LEN + (size_t)len) {
        finish(call, RS_HTTP_ERR_TRANSPORT, 0, "the app's reply is not exactly one message (%zu bytes for %u)",
               call->in.len - RS_GRPC_PREFIX_LEN, len);
        return;
    }
    rs_buf_t *r = &call->resp.reply;
    rs_buf_init(r, len + 1);
    rs_buf_append(r, call->in.data + RS_GRPC_PREFIX_LEN, len);
    rs_buf_free(&call->in);
    finish(call, RS_HTTP_OK, 0, "%s", "");
}

/* ---- connections ---- */

static void strm_free(strm_t *s) {
    conn_t *c = s->conn;
    if (s->prev) s->prev->next = s->next;
    else c->streams = s->next;
    if (s->next) s->next->prev = s->prev;
    free(s->out);
    free(s);
}

/* Closes the connection; its calls fail with result and why. */
static void conn_free(conn_t *c, rs_http_result_t result, const char *why) {
    rs_grpc_client_t *cl = c->cl;
    if (cl->cur == c) cl->cur = NULL;
    while (c->streams) {
        strm_t *s = c->streams;
        if (s->call) finish(s->call, result, 0, "%s", why);
        strm_free(s);
    }
    if (c->prev) c->prev->next = c->next;
    else cl->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    nghttp2_session_del(c->h2);
    bufferevent_free(c->bev);
    free(c);
}

/* Hands what nghttp2 has queued to the bufferevent (at most OUT_HIGH waiting); closes the connection when nghttp2
 * is done with it. Returns -1 if the connection was freed. */
static int conn_flush(conn_t *c) {
    if (c->in_recv) return 0; /* the read path flushes when nghttp2 returns */
    if (!nghttp2_session_check_request_allowed(c->h2) && c->cl->cur == c) c->cl->cur = NULL; /* GOAWAY: drain */
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (evbuffer_get_length(out) < OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0) {
            conn_free(c, RS_HTTP_ERR_TRANSPORT, nghttp2_strerror((int)n));
            return -1;
        }
        if (n == 0) break;
        evbuffer_add(out, data, (size_t)n);
    }
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2) && evbuffer_get_length(out) == 0) {
        conn_free(c, RS_HTTP_ERR_TRANSPORT, "the app closed the HTTP/2 session");
        return -1;
    }
    return 0;
}

static ssize_t read_request(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                            nghttp2_data_source *src, void *user) {
    strm_t *s = src->ptr;
    (void)h2;
    (void)id;
    (void)user;
    size_t n = s->out_len - s->out_off;
    if (n > length) n = length;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    if (s->out_off == s->out_len) *flags |= NGHTTP2_DATA_FLAG_EOF; /* one message, then END_STREAM */
    return (ssize_t)n;
}

static rs_grpc_ccall_t *call_of(nghttp2_session *h2, int32_t id) {
    strm_t *s = nghttp2_session_get_stream_user_data(h2, id);
    return s ? s->call : NULL;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)flags;
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    rs_grpc_ccall_t *call = call_of(h2, f->hd.stream_id);
    if (!call) return 0;
    call->metadata_bytes += namelen + valuelen + 32;
    if (call->metadata_bytes > MAX_METADATA) {
        finish(call, RS_HTTP_ERR_TOO_LARGE, 1, "the app's reply metadata is larger than %d bytes", MAX_METADATA);
        return 0;
    }
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        call->http_status = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++) call->http_status = call->http_status * 10 + (value[i] - '0');
    } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        int code = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++) {
            if (value[i] < '0' || value[i] > '9') code = 2; /* UNKNOWN, as grpc-go for a malformed status */
            else code = code * 10 + (value[i] - '0');
        }
        call->resp.code = valuelen ? code : 2;
        call->have_status = 1;
    } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        rs_grpc_message_decode((const char *)value, valuelen, call->resp.message, sizeof call->resp.message);
    } else if (name[0] != ':') {
        rs_kvlist_add_n(&call->resp.metadata, (const char *)name, namelen, (const char *)value, valuelen);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user) {
    (void)flags;
    (void)user;
    rs_grpc_ccall_t *call = call_of(h2, id);
    if (!call) return 0; /* finished or cancelled: the rest is dropped */
    if (rs_buf_append(&call->in, data, len) != 0) {
        finish(call, RS_HTTP_ERR_TOO_LARGE, 1, "response larger than %zu bytes", call->cl->max_reply);
        return 0;
    }
    if (call->in.len >= RS_GRPC_PREFIX_LEN) {
        int compressed;
        uint32_t mlen;
        rs_grpc_prefix_read((const uint8_t *)call->in.data, &compressed, &mlen);
        if (mlen > call->cl->max_reply) /* refused as soon as the prefix says so, before the bytes arrive */
            finish(call, RS_HTTP_ERR_TOO_LARGE, 1, "response larger than %zu bytes", call->cl->max_reply);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t id, uint32_t error_code, void *user) {
    (void)user;
    strm_t *s = nghttp2_session_get_stream_user_data(h2, id);
    if (!s) return 0;
    rs_grpc_ccall_t *call = s->call;
    if (call) {
        call_detach(call, 0);
        complete(call, error_code);
    }
    strm_free(s);
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg) {
    conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v;
    while (evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
        c->in_recv = 1;
        ssize_t n = nghttp2_session_mem_recv(c->h2, v.iov_base, v.iov_len);
        c->in_recv = 0;
        if (n < 0) {
            char why[160];
            snprintf(why, sizeof why, "bad HTTP/2 from the app: %s", nghttp2_strerror((int)n));
            conn_free(c, RS_HTTP_ERR_TRANSPORT, why);
            return;
        }
        evbuffer_drain(in, v.iov_len);
    }
    conn_flush(c);
}

static void on_write(struct bufferevent *bev, void *arg) {
    (void)bev;
    conn_flush(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    conn_t *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->connected = 1;
        conn_flush(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[160];
        int err = EVUTIL_SOCKET_ERROR();
        if (!c->connected) {
            snprintf(why, sizeof why, "connect: %s", strerror(err ? err : ECONNREFUSED));
            conn_free(c, RS_HTTP_ERR_CONNECT, why);
        } else {
            snprintf(why, sizeof why, "the app closed the connection%s%s", what & BEV_EVENT_ERROR ? ": " : "",
                     what & BEV_EVENT_ERROR ? strerror(err) : "");
            conn_free(c, RS_HTTP_ERR_TRANSPORT, why);
        }
    }
}

/* Dials the app. Returns the connection, or NULL with a reason in why. */
static conn_t *conn_open(rs_grpc_client_t *cl, char *why, size_t whylen) {
    if (cl->resolve_error[0]) {
        snprintf(why, whylen, "%s", cl->resolve_error);
        return NULL;
    }
    conn_t *c = rs_xcalloc(1, sizeof *c);
    c->cl = cl;
    c->bev = bufferevent_socket_new(cl->base, -1, BEV_OPT_CLOSE_ON_FREE);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int rv = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (!c->bev || rv != 0) {
        snprintf(why, whylen, "cannot start an HTTP/2 session: %s", rv ? nghttp2_strerror(rv) : "no socket");
        if (c->h2) nghttp2_session_del(c->h2);
        if (c->bev) bufferevent_free(c->bev);
        free(c);
        return NULL;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&cl->addr, (int)cl->addrlen) != 0) {
        snprintf(why, whylen, "connect: %s", strerror(errno ? errno : ECONNREFUSED));
        nghttp2_session_del(c->h2);
        bufferevent_free(c->bev);
        free(c);
        return NULL;
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
                                   {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_METADATA}};
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    c->next = cl->conns;
    if (c->next) c->next->prev = c;
    cl->conns = c;
    return c;
}

/* ---- the client ---- */

rs_grpc_client_t *rs_grpc_client_new(struct event_base *base, const char *host, int port, size_t max_reply) {
    rs_grpc_client_t *cl = rs_xcalloc(1, sizeof *cl);
    cl->base = base;
    cl->max_reply = max_reply;
    int v6 = strchr(host, ':') != NULL;
    snprintf(cl->authority, sizeof cl->authority, v6 ? "[%s]:%d" : "%s:%d", host, port);
    /* Resolved once, here (start-up), so no call ever waits for a resolver on the loop. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    int rv = getaddrinfo(host, ps, &hints, &ai);
    if (rv != 0 || !ai) {
        snprintf(cl->resolve_error, sizeof cl->resolve_error, "cannot resolve %s: %s", host, gai_strerror(rv));
    } else {
        memcpy(&cl->addr, ai->ai_addr, ai->ai_addrlen);
        cl->addrlen = ai->ai_addrlen;
    }
    if (ai) freeaddrinfo(ai);
    return cl;
}

void rs_grpc_client_free(rs_grpc_client_t *cl) {
    if (!cl) return;
    while (cl->calls) {
        rs_grpc_ccall_t *call = cl->calls;
        call_detach(call, 0);
        call_free(call);
    }
    while (cl->conns) conn_free(cl->conns, RS_HTTP_ERR_TRANSPORT, "client freed");
    free(cl);
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

rs_grpc_ccall_t *rs_grpc_client_call(rs_grpc_client_t *cl, const rs_grpc_request_t *req, rs_grpc_done_fn done,
                                     void *arg) {
    rs_grpc_ccall_t *call = rs_xcalloc(1, sizeof *call);
    call->cl = cl;
    call->done = done;
    call->arg = arg;
    call->ev = evtimer_new(cl->base, on_call_event, call);
    if (!call->ev) abort(); /* out of memory */
    rs_buf_init(&call->in, RS_GRPC_PREFIX_LEN + cl->max_reply);
    call->next = cl->calls;
    if (call->next) call->next->prev = call;
    cl->calls = call;
    if (req->timeout_ms > 0) {
        struct timeval tv = {(time_t)(req->timeout_ms / 1000), (suseconds_t)(req->timeout_ms % 1000) * 1000};
        evtimer_add(call->ev, &tv);
    }
    char why[160];
    if (!cl->cur) cl->cur = conn_open(cl, why, sizeof why);
    if (!cl->cur) {
        finish(call, RS_HTTP_ERR_CONNECT, 0, "%s", why);
        return call;
    }
    conn_t *c = cl->cur;
    strm_t *s = rs_xcalloc(1, sizeof *s);
    s->conn = c;
    s->call = call;
    s->out_len = RS_GRPC_PREFIX_LEN + req->message_len;
    s->out = rs_xmalloc(s->out_len);
    rs_grpc_prefix_write(s->out, (uint32_t)req->message_len);
    if (req->message_len) memcpy(s->out + RS_GRPC_PREFIX_LEN, req->message, req->message_len);
    s->next = c->streams;
    if (s->next) s->next->prev = s;
    c->streams = s;
    call->s = s;

    size_t nmd = req->metadata ? req->metadata->len : 0;
    nghttp2_nv *nv = rs_xcalloc(8 + nmd, sizeof *nv);
    size_t n = 0;
    char tmo[12];
    nv[n++] = (nghttp2_nv)NV(":method", "POST");
    nv[n++] = (nghttp2_nv)NV(":scheme", "http");
    nv[n++] = (nghttp2_nv)NV(":path", req->path);
    nv[n++] = (nghttp2_nv)NV(":authority", cl->authority);
    nv[n++] = (nghttp2_nv)NV("content-type", "application/grpc");
    nv[n++] = (nghttp2_nv)NV("te", "trailers");
    nv[n++] = (nghttp2_nv)NV("user-agent", "ripstopd-grpc");
    if (req->timeout_ms > 0) nv[n++] = (nghttp2_nv)NV("grpc-timeout", rs_grpc_timeout_format(req->timeout_ms, tmo));
    for (size_t i = 0; i < nmd; i++) {
        const rs_kv_t *kv = &req->metadata->items[i];
        nv[n++] = (nghttp2_nv){(uint8_t *)kv->key, (uint8_t *)kv->value, strlen(kv->key), strlen(kv->value),
                               NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = read_request};
    int32_t id = nghttp2_submit_request(c->h2, NULL, nv, n, &dp, s);
    free(nv);
    if (id < 0) {
        finish(call, RS_HTTP_ERR_TRANSPORT, 0, "cannot start the request: %s", nghttp2_strerror(id));
        strm_free(s);
        return call;
    }
    s->id = id;
    conn_flush(c);
    return call;
}

void rs_grpc_client_cancel(rs_grpc_ccall_t *call) {
    conn_t *conn = call->s ? call->s->conn : NULL;
    call_detach(call, 1);
    call_free(call);
    if (conn) conn_flush(conn);
}

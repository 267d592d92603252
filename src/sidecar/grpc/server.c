/* SPDX-License-Identifier: MIT */
/* The gRPC server's HTTP/2 side (server.h): connections on plain non-blocking
 * sockets, one nghttp2 server session each, streams turned into calls.
 *
 * Input is read straight into a stack buffer and fed to nghttp2
 * (nghttp2_session_mem_recv); the read event is registered once for the
 * connection's life. Output is pulled from nghttp2 (nghttp2_session_mem_send)
 * into the connection's buffer, at most OUT_HIGH bytes queued, and sent at
 * once with one send(): a reply's HEADERS, DATA and trailers leave in one
 * system call in the loop turn that produced them. Only what the socket does
 * not take waits for a write event. A call finished inside nghttp2's
 * callbacks only submits its frames; the read path sends them when nghttp2
 * returns. A connection is closed when nghttp2 wants
 * neither to read nor to write (GOAWAY sent or received) and its output has
 * drained, or at once when the peer goes.
 *
 * The per-call cost is kept near the HTTP API's (docs/performance.md): a call
 * struct is reused from its connection's spares and carries a small block
 * for its short-lived memory (pseudo-headers, the request message, the
 * decoded request through rs_grpc_call_allocator, the reply); nghttp2 takes
 * its memory from the server's block pool (http/h2_pool.h); nghttp2's
 * general HTTP checks are off and on_header checks what a gRPC request's
 * header fields may be. */
#include "sidecar/grpc/server.h"

#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "http/grpc_wire.h"
#include "http/h2_pool.h"
#include "http/wire.h"

#define MAX_LISTENERS 8
#define OUT_HIGH (1024 * 1024)
#define READ_CHUNK (16 * 1024)
#define OUT_KEEP (64 * 1024) /* an idle connection keeps an output buffer up to this size */
#define MAX_METADATA (64 * 1024)
/* Larger windows than HTTP/2's 64 KiB default let a large message arrive without a round trip per 64 KiB. */
#define STREAM_WINDOW (1024 * 1024)
#define CONN_WINDOW (16 * 1024 * 1024)
/* Each call carries a small block for its own short-lived memory (its :path, :method, content-type, the decoded
 * request message, the reply), so a usual call needs no allocation for them; what does not fit is malloc'd. */
#define CALL_ARENA 768
#define SPARE_CALLS 8 /* a connection keeps up to this many freed calls for its next streams */
#define SPARE_METADATA 32 /* and each its metadata array, up to this many entries */

typedef struct conn conn_t;

struct rs_grpc_server {
    struct event_base *base;
    size_t max_msg;
    rs_grpc_handler_fn handler;
    void *ctx;
    struct evconnlistener *listeners[MAX_LISTENERS];
    int nlisteners;
    conn_t *conns;
    int nconns;
    rs_h2_pool_t *pool;       /* nghttp2's memory for every connection */
    nghttp2_session_callbacks *callbacks; /* the same for every connection's session (nghttp2 copies them) */
    nghttp2_option *options;
};

struct conn {
    rs_grpc_server_t *srv;
    evutil_socket_t fd;
    struct event *rev, *wev;  /* read: always registered; write: only while output waits for the socket */
    int wev_added;            /* wev is registered */
    uint8_t *out;             /* output nghttp2 produced that the socket has not taken yet: [out_off, out_len) */
    size_t out_off, out_len, out_cap;
    nghttp2_session *h2;
    char peer[64];
    size_t buffered;          /* request bytes held by this connection's streams */
    int in_recv;              /* inside nghttp2_session_mem_recv: do not send or free */
    rs_grpc_call_t *streams;  /* every open stream */
    rs_grpc_call_t *recent;   /* the call of the latest request HEADERS: the header fields, DATA and end of a
                                 unary call mostly follow it, so most frames need no lookup (call_of) */
    rs_grpc_call_t *spare;    /* freed calls kept for reuse (linked by next), nspare of them */
    int nspare;
    conn_t *prev, *next;
};

enum stage { RECEIVING, DISPATCHED, FINISHED };

/* The public call is the stream. */
/* Reply headers a call may add (rs_grpc_call_add_reply_header): grpc-trace-bin and baggage today. */
#define REPLY_HEADERS_MAX 4

struct rs_grpc_call {
    conn_t *conn;
    int32_t id;
    enum stage stage;
    char *path, *method, *content_type;
    rs_kvlist_t metadata;      /* by reference: each key starts a call_alloc block "key\0value\0" */
    size_t metadata_bytes;
    int regular_seen;          /* a header field other than a pseudo-header has arrived */
    uint8_t *in;               /* the prefixed request message: in_len bytes of in_cap (call_alloc) */
    size_t in_len, in_cap;
    rs_kvlist_t reply_headers; /* sent with the reply's headers, or in a trailers-only status */
    rs_grpc_cancel_fn cancel;
    void *cancel_arg;
    rs_grpc_finish_fn finish; /* the observer of the call's end, once */
    void *finish_arg;
    struct event *deadline;
    uint8_t *out;              /* the prefixed reply message */
    size_t out_len, out_off;
    rs_grpc_call_t *prev, *next;
    ProtobufCAllocator pb;     /* rs_grpc_call_allocator: call_alloc and call_release */
    size_t arena_used;
    _Alignas(16) uint8_t arena[CALL_ARENA];
};

/* ---- calls ---- */

/* n bytes from the call's block, or from malloc when it is full. Block memory is not reused before the call ends. */
static void *call_alloc(rs_grpc_call_t *c, size_t n) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need >= n && need <= CALL_ARENA - c->arena_used) {
        void *p = c->arena + c->arena_used;
        c->arena_used += need;
        return p;
    }
    return rs_xmalloc(n ? n : 1);
}

/* Gives back what call_alloc returned (NULL is ignored). */
static void call_release(rs_grpc_call_t *c, void *p) {
    if (p && ((uint8_t *)p < c->arena || (uint8_t *)p >= c->arena + CALL_ARENA)) free(p);
}

static void *pb_alloc(void *c, size_t n) { return call_alloc(c, n); }
static void pb_free(void *c, void *p) { call_release(c, p); }

ProtobufCAllocator *rs_grpc_call_allocator(rs_grpc_call_t *c) { return &c->pb; }

void *rs_grpc_call_scratch(rs_grpc_call_t *c, size_t n) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n || need > CALL_ARENA - c->arena_used) return NULL;
    void *p = call_alloc(c, n);
    memset(p, 0, n);
    return p;
}

const char *rs_grpc_call_path(const rs_grpc_call_t *c) { return c->path ? c->path : ""; }
const char *rs_grpc_call_metadata(const rs_grpc_call_t *c, const char *name) { return rs_kvlist_get(&c->metadata, name); }
const char *rs_grpc_call_peer(const rs_grpc_call_t *c) { return c->conn->peer; }

/* A metadata entry whose name and value are copied into one call_alloc block ("name\0value\0"). */
static rs_kv_t metadata_entry(rs_grpc_call_t *c, const char *name, size_t namelen, const char *value,
                              size_t valuelen) {
    char *key = call_alloc(c, namelen + valuelen + 2), *val = key + namelen + 1;
    memcpy(key, name, namelen);
    key[namelen] = '\0';
    memcpy(val, value, valuelen);
    val[valuelen] = '\0';
    return (rs_kv_t){key, val};
}

void rs_grpc_call_set_metadata(rs_grpc_call_t *c, const char *name, const char *value) {
    rs_kv_t e = metadata_entry(c, name, strlen(name), value, strlen(value));
    for (size_t i = 0; i < c->metadata.len; i++)
        if (strcmp(c->metadata.items[i].key, name) == 0) { /* replaced: its block goes, the entry keeps its place */
            call_release(c, c->metadata.items[i].key);
            c->metadata.items[i] = e;
            return;
        }
    rs_kvlist_add(&c->metadata, e.key, e.value);
}

void rs_grpc_call_add_reply_header(rs_grpc_call_t *c, const char *name, const char *value) {
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return; /* never a header that splits the message */
    if (c->reply_headers.len < REPLY_HEADERS_MAX || rs_kvlist_get(&c->reply_headers, name))
        rs_kvlist_set(&c->reply_headers, name, value);
}

/* Appends the call's reply headers to nv[0..n) (room for REPLY_HEADERS_MAX more); returns the new count. nghttp2
 * copies them at submission. */
static size_t with_reply_headers(const rs_grpc_call_t *c, nghttp2_nv *nv, size_t n) {
    for (size_t i = 0; i < c->reply_headers.len; i++) {
        const rs_kv_t *kv = &c->reply_headers.items[i];
        nv[n++] = (nghttp2_nv){(uint8_t *)kv->key, (uint8_t *)kv->value, strlen(kv->key), strlen(kv->value),
                               NGHTTP2_NV_FLAG_NONE};
    }
    return n;
}

void rs_grpc_call_copy_metadata(const rs_grpc_call_t *c, int (*skip)(const char *name), rs_kvlist_t *out) {
    for (size_t i = 0; i < c->metadata.len; i++)
        if (!skip(c->metadata.items[i].key)) rs_kvlist_add(out, c->metadata.items[i].key, c->metadata.items[i].value);
}

const uint8_t *rs_grpc_call_message(const rs_grpc_call_t *c, size_t *len) {
    *len = c->in_len - RS_GRPC_PREFIX_LEN;
    return c->in + RS_GRPC_PREFIX_LEN;
}

void rs_grpc_call_on_cancel(rs_grpc_call_t *c, rs_grpc_cancel_fn fn, void *arg) {
    c->cancel = fn;
    c->cancel_arg = arg;
}

void rs_grpc_call_on_finish(rs_grpc_call_t *c, rs_grpc_finish_fn fn, void *arg) {
    c->finish = fn;
    c->finish_arg = arg;
}

/* Tells the observer how the call ended (once). */
static void call_notify(rs_grpc_call_t *c, rs_grpc_code_t code, const char *message, size_t reply_bytes) {
    rs_grpc_finish_fn fn = c->finish;
    c->finish = NULL;
    if (fn) fn(c->finish_arg, code, message, reply_bytes);
}

static void call_release_input(rs_grpc_call_t *c) {
    c->conn->buffered -= c->in_len;
    call_release(c, c->in); /* len 0 from here on; nothing more is appended after the call is answered */
    c->in = NULL;
    c->in_len = c->in_cap = 0;
}

/* Drops the call's work if it is still running; the work's callback will not run. */
static void call_cancel(rs_grpc_call_t *c) {
    rs_grpc_cancel_fn fn = c->cancel;
    c->cancel = NULL;
    if (fn) fn(c->cancel_arg);
}

static void call_free(rs_grpc_call_t *c) {
    if (c->stage == DISPATCHED) call_cancel(c);
    call_notify(c, RS_GRPC_CANCELLED, "context canceled", 0); /* dropped before it was answered */
    conn_t *conn = c->conn;
    if (c->prev) c->prev->next = c->next;
    else conn->streams = c->next;
    if (c->next) c->next->prev = c->prev;
    call_release_input(c);
    if (c->deadline) event_free(c->deadline);
    if (conn->recent == c) conn->recent = NULL;
    for (size_t i = 0; i < c->metadata.len; i++) call_release(c, c->metadata.items[i].key);
    c->metadata.len = 0;
    rs_kvlist_free(&c->reply_headers); /* empty again for a reuse */
    call_release(c, c->path);
    call_release(c, c->method);
    call_release(c, c->content_type);
    call_release(c, c->out);
    int keep = conn->nspare < SPARE_CALLS;
    /* a spare keeps its metadata array (on_begin_headers), unless a request made it large */
    if (!keep || c->metadata.alloc > SPARE_METADATA) rs_kvlist_free(&c->metadata);
    if (keep) {
        c->next = conn->spare;
        conn->spare = c;
        conn->nspare++;
    } else {
        free(c);
    }
}

/* ---- connections ---- */

static void conn_free(conn_t *c) {
    rs_grpc_server_t *s = c->srv;
    while (c->streams) call_free(c->streams);
    while (c->spare) {
        rs_grpc_call_t *next = c->spare->next;
        rs_kvlist_free(&c->spare->metadata);
        free(c->spare);
        c->spare = next;
    }
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    nghttp2_session_del(c->h2);
    event_free(c->rev);
    event_free(c->wev);
    evutil_closesocket(c->fd);
    free(c->out);
    free(c);
}

static void out_append(conn_t *c, const uint8_t *data, size_t n) {
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n) cap *= 2;
        c->out = rs_xrealloc(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

/* Sends what nghttp2 has queued, as far as OUT_HIGH allows; closes the connection when it is done with it.
 * Returns -1 if the connection was freed. */
static int conn_flush(conn_t *c) {
    if (c->in_recv) return 0; /* the read path flushes when nghttp2 returns */
    while (c->out_len - c->out_off < OUT_HIGH && nghttp2_session_want_write(c->h2)) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0) {
            RS_DEBUG("grpc", "%s: %s", c->peer, nghttp2_strerror((int)n));
            conn_free(c);
            return -1;
        }
        if (n == 0) break;
        out_append(c, data, (size_t)n);
    }
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        RS_DEBUG("grpc", "%s: send: %s; closing", c->peer, strerror(errno));
        conn_free(c);
        return -1;
    }
    int pending = c->out_off < c->out_len;
    if (!pending && c->out_cap > OUT_KEEP) { /* a large reply went out: do not hold its buffer while idle */
        free(c->out);
        c->out = NULL;
        c->out_cap = c->out_off = c->out_len = 0;
    }
    if (pending != c->wev_added) {
        if (pending) event_add(c->wev, NULL);
        else event_del(c->wev);
        c->wev_added = pending;
    }
    if (!pending && !nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) {
        conn_free(c);
        return -1;
    }
    return 0;
}

/* ---- replies ---- */

static ssize_t read_reply(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                          nghttp2_data_source *src, void *user) {
    rs_grpc_call_t *c = src->ptr;
    size_t n = c->out_len - c->out_off;
    if (n > length) n = length;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len) {
        /* the message is out: end the stream with the trailers */
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        static const nghttp2_nv ok[] = {{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1,
                                         NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}};
        if (nghttp2_submit_trailer(h2, id, ok, 1) != 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
/* a header of literals: nghttp2 need not copy them */
#define NVS(n, v)                                                                                                   \
    {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,                                                  \
     NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}

/* Marks the call finished: no cancel, no deadline, no request bytes. */
static void call_finish(rs_grpc_call_t *c) {
    c->stage = FINISHED;
    c->cancel = NULL;
    if (c->deadline) {
        event_free(c->deadline);
        c->deadline = NULL;
    }
    call_release_input(c);
}

void rs_grpc_call_reply(rs_grpc_call_t *c, const ProtobufCMessage *m) {
    size_t len = protobuf_c_message_get_packed_size(m);
    c->out = call_alloc(c, RS_GRPC_PREFIX_LEN + len);
    rs_grpc_prefix_write(c->out, (uint32_t)len);
    protobuf_c_message_pack(m, c->out + RS_GRPC_PREFIX_LEN);
    c->out_len = RS_GRPC_PREFIX_LEN + len;
    call_notify(c, RS_GRPC_OK, "", len);
    call_finish(c);
    nghttp2_nv hdrs[2 + REPLY_HEADERS_MAX] = {NVS(":status", "200"), NVS("content-type", "application/grpc")};
    nghttp2_data_provider dp = {.source.ptr = c, .read_callback = read_reply};
    if (nghttp2_submit_response(c->conn->h2, c->id, hdrs, with_reply_headers(c, hdrs, 2), &dp) != 0)
        RS_WARN("grpc", "cannot submit the reply of stream %d", c->id);
    conn_flush(c->conn);
}

/* A trailers-only response: the HTTP status (200 for every gRPC status), the gRPC status and its message. */
static void submit_status(rs_grpc_call_t *c, const char *http_status, rs_grpc_code_t code, const char *message,
                          const void *details, size_t details_len) {
    char num[12], enc[RS_DAPR_MSG_MAX * 3 + 1];
    snprintf(num, sizeof num, "%d", (int)code);
    rs_grpc_message_encode(message ? message : "", enc, sizeof enc);
    nghttp2_nv nv[5 + REPLY_HEADERS_MAX] = {NV(":status", http_status), NV("content-type", "application/grpc"), NV("grpc-status", num),
                        NV("grpc-message", enc)};
    size_t n = 4;
    char *b64 = NULL;
    if (details && details_len) {
        b64 = rs_xmalloc(4 * ((details_len + 2) / 3) + 1);
        int bl = EVP_EncodeBlock((unsigned char *)b64, details, (int)details_len);
        while (bl > 0 && b64[bl - 1] == '=') b64[--bl] = '\0'; /* gRPC sends -bin values unpadded */
        nv[n++] = (nghttp2_nv)NV("grpc-status-details-bin", b64);
    }
    call_notify(c, code, message ? message : "", 0);
    call_finish(c);
    n = with_reply_headers(c, nv, n); /* a trailers-only reply carries them too */
    if (nghttp2_submit_response(c->conn->h2, c->id, nv, n, NULL) != 0)
        RS_WARN("grpc", "cannot submit the status of stream %d", c->id);
    free(b64);
}

void rs_grpc_call_fail(rs_grpc_call_t *c, rs_grpc_code_t code, const char *message, const void *details,
                       size_t details_len) {
    submit_status(c, "200", code, message, details, details_len);
    conn_flush(c->conn);
}

/* ---- requests ---- */

static void on_deadline(evutil_socket_t fd, short what, void *arg) {
    rs_grpc_call_t *c = arg;
    call_cancel(c);
    rs_grpc_call_fail(c, RS_GRPC_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
}

/* The request has ended: check it as a gRPC unary request and hand it to the handler. */
static void dispatch(rs_grpc_call_t *c) {
    rs_grpc_server_t *s = c->conn->srv;
    char why[160];
    if (!c->method || strcmp(c->method, "POST") != 0 || !c->path) {
        submit_status(c, "405", RS_GRPC_INTERNAL, "gRPC requires a POST with a :path", NULL, 0);
        return;
    }
    if (!c->content_type || strncmp(c->content_type, "application/grpc", 16) != 0 ||
        (c->content_type[16] && c->content_type[16] != '+' && c->content_type[16] != ';')) {
        snprintf(why, sizeof why, "invalid gRPC request content-type \"%s\"", c->content_type ? c->content_type : "");
        submit_status(c, "415", RS_GRPC_INTERNAL, why, NULL, 0);
        return;
    }
    if (c->in_len < RS_GRPC_PREFIX_LEN) {
        submit_status(c, "200", RS_GRPC_INTERNAL, "grpc: the request has no message", NULL, 0);
        return;
    }
    int compressed;
    uint32_t len;
    rs_grpc_prefix_read(c->in, &compressed, &len);
    if (compressed) {
        submit_status(c, "200", RS_GRPC_UNIMPLEMENTED, "grpc: compressed messages are not supported (send identity)",
                      NULL, 0);
        return;
    }
    if (c->in_len != RS_GRPC_PREFIX_LEN + (size_t)len) { /* longer was refused as it arrived */
        submit_status(c, "200", RS_GRPC_INTERNAL, "grpc: the request message is cut short", NULL, 0);
        return;
    }
    const char *timeout = rs_kvlist_get(&c->metadata, "grpc-timeout");
    if (timeout) {
        int64_t ms;
        if (rs_grpc_timeout_parse(timeout, &ms) != 0) {
            snprintf(why, sizeof why, "malformed grpc-timeout: %s", timeout);
            submit_status(c, "200", RS_GRPC_INTERNAL, why, NULL, 0);
            return;
        }
        if (ms > 86400000LL * 365) ms = 86400000LL * 365;
        c->deadline = evtimer_new(s->base, on_deadline, c);
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        evtimer_add(c->deadline, &tv);
    }
    c->stage = DISPATCHED;
    s->handler(c, s->ctx);
}

/* Fails a stream whose request is still arriving; the rest of it is discarded. */
static void refuse_input(rs_grpc_call_t *c, rs_grpc_code_t code, const char *message) {
    submit_status(c, "200", code, message, NULL, 0);
}

/* The call of stream id, or NULL. */
static rs_grpc_call_t *call_of(conn_t *conn, int32_t id) {
    if (conn->recent && conn->recent->id == id) return conn->recent;
    return nghttp2_session_get_stream_user_data(conn->h2, id);
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    conn_t *conn = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    rs_grpc_call_t *c = conn->spare;
    rs_kvlist_t metadata = {0}; /* a spare's empty metadata array is used again */
    if (c) {
        conn->spare = c->next;
        conn->nspare--;
        metadata = c->metadata;
    } else {
        c = rs_xmalloc(sizeof *c);
    }
    memset(c, 0, offsetof(rs_grpc_call_t, arena)); /* the block needs no zeroing */
    c->conn = conn;
    c->id = f->hd.stream_id;
    c->metadata = metadata;
    c->metadata.refs = 1;
    conn->recent = c;
    c->pb = (ProtobufCAllocator){pb_alloc, pb_free, c};
    c->next = conn->streams;
    if (c->next) c->next->prev = c;
    conn->streams = c;
    nghttp2_session_set_stream_user_data(h2, c->id, c);
    return 0;
}

/* 1 if the request header field may be in a request (RFC 9113 section 8.2 and 8.3.1): a valid lower-case name
 * and a value without NUL, CR or LF; a pseudo-header only of a request's and before every other field; no
 * connection-specific field. (nghttp2's HTTP messaging checks are off, see rs_grpc_server_new.) */
static int header_ok(rs_grpc_call_t *c, const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen) {
    if (!rs_http_field_value_ok(value, valuelen)) return 0;
    if (namelen && name[0] == ':') {
        if (c->regular_seen) return 0;
        return (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen > 0) ||
               (namelen == 7 && (memcmp(name, ":method", 7) == 0 || memcmp(name, ":scheme", 7) == 0)) ||
               (namelen == 10 && memcmp(name, ":authority", 10) == 0);
    }
    c->regular_seen = 1;
    if (!nghttp2_check_header_name(name, namelen)) return 0;
    switch (namelen) {
    case 2: return memcmp(name, "te", 2) != 0 || (valuelen == 8 && memcmp(value, "trailers", 8) == 0);
    case 7: return memcmp(name, "upgrade", 7) != 0;
    case 10: return memcmp(name, "connection", 10) != 0 && memcmp(name, "keep-alive", 10) != 0;
    case 16: return memcmp(name, "proxy-connection", 16) != 0;
    case 17: return memcmp(name, "transfer-encoding", 17) != 0;
    default: return 1;
    }
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0; /* trailers: ignored */
    conn_t *conn = user;
    rs_grpc_call_t *c = call_of(conn, f->hd.stream_id);
    if (!c) return 0;
    c->metadata_bytes += namelen + valuelen + 32;
    if (c->metadata_bytes > MAX_METADATA) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    if (!header_ok(c, name, namelen, value, valuelen)) { /* a malformed request: the stream is reset */
        nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_PROTOCOL_ERROR);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    char **slot = NULL;
    if (namelen == 5 && memcmp(name, ":path", 5) == 0) slot = &c->path;
    else if (namelen == 7 && memcmp(name, ":method", 7) == 0) slot = &c->method;
    else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) slot = &c->content_type;
    if (slot) {
        call_release(c, *slot);
        *slot = call_alloc(c, valuelen + 1);
        memcpy(*slot, value, valuelen);
        (*slot)[valuelen] = '\0';
    } else if (name[0] != ':' && !(namelen == 2 && memcmp(name, "te", 2) == 0)) { /* te: HTTP/2's, checked above */
        rs_kv_t e = metadata_entry(c, (const char *)name, namelen, (const char *)value, valuelen);
        rs_kvlist_add(&c->metadata, e.key, e.value);
    }
    return 0;
}

/* Appends request bytes; -1 past one whole message of at most max bytes and the next prefix (room enough to see,
 * and refuse, a second message). Once the prefix is in, the buffer is sized for the whole message at once. */
static int input_append(rs_grpc_call_t *c, const uint8_t *data, size_t len, size_t max) {
    size_t limit = RS_GRPC_PREFIX_LEN + max + RS_GRPC_PREFIX_LEN, need = c->in_len + len;
    if (len > limit || need > limit) return -1;
    if (need > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap * 2 : 256;
        if (c->in_len + len >= RS_GRPC_PREFIX_LEN) { /* the prefix is known: the message's size (and one more prefix) */
            uint8_t p[RS_GRPC_PREFIX_LEN];
            size_t have = c->in_len < RS_GRPC_PREFIX_LEN ? c->in_len : RS_GRPC_PREFIX_LEN;
            if (have) memcpy(p, c->in, have);
            memcpy(p + have, data, RS_GRPC_PREFIX_LEN - have);
            int compressed;
            uint32_t mlen;
            rs_grpc_prefix_read(p, &compressed, &mlen);
            if ((size_t)mlen <= max && RS_GRPC_PREFIX_LEN + (size_t)mlen + RS_GRPC_PREFIX_LEN > cap)
                cap = RS_GRPC_PREFIX_LEN + (size_t)mlen + RS_GRPC_PREFIX_LEN;
        }
        while (cap < need) cap *= 2;
        if (cap > limit) cap = limit;
        uint8_t *in = call_alloc(c, cap);
        if (c->in_len) memcpy(in, c->in, c->in_len);
        call_release(c, c->in);
        c->in = in;
        c->in_cap = cap;
    }
    if (len) memcpy(c->in + c->in_len, data, len);
    c->in_len = need;
    return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user) {
    conn_t *conn = user;
    rs_grpc_call_t *c = call_of(conn, id);
    if (!c || c->stage != RECEIVING) return 0; /* already answered: the rest is dropped */
    size_t max = conn->srv->max_msg;
    if (conn->buffered + len > 4 * max) {
        refuse_input(c, RS_GRPC_RESOURCE_EXHAUSTED, "grpc: too many request bytes in flight on this connection");
        return 0;
    }
    if (input_append(c, data, len, max) != 0) {
        refuse_input(c, RS_GRPC_INTERNAL, "grpc: more than one request message on a unary call");
        return 0;
    }
    conn->buffered += len;
    if (c->in_len >= RS_GRPC_PREFIX_LEN) {
        int compressed;
        uint32_t mlen;
        rs_grpc_prefix_read(c->in, &compressed, &mlen);
        if (mlen > max) {
            char why[128];
            snprintf(why, sizeof why, "grpc: received message larger than max (%u vs. %zu)", mlen, max);
            refuse_input(c, RS_GRPC_RESOURCE_EXHAUSTED, why);
        } else if (c->in_len > RS_GRPC_PREFIX_LEN + (size_t)mlen) {
            refuse_input(c, RS_GRPC_INTERNAL, "grpc: more than one request message on a unary call");
        }
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    rs_grpc_call_t *c = call_of(user, f->hd.stream_id);
    if (c && c->stage == RECEIVING) dispatch(c);
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t id, uint32_t error_code, void *user) {
    rs_grpc_call_t *c = call_of(user, id);
    if (!c) return 0;
    if (c->stage == DISPATCHED) RS_DEBUG("grpc", "%s: stream %d of %s cancelled by the client", c->conn->peer, id, c->path);
    call_free(c); /* cancels the work of a call not yet finished */
    return 0;
}

/* ---- connection events ---- */

static void on_readable(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    conn_t *c = arg;
    uint8_t buf[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) { /* the peer is gone (or the socket failed): its streams' work is cancelled */
            /* What is answered already goes out first, as the HTTP/1.1 server writes a reply when it is made:
             * input that ends exactly at a read's size is followed by EOF in this same loop (found by
             * fuzz/grpc_methods). The flush may close the connection itself. */
            if (n == 0 && conn_flush(c) != 0) return;
            conn_free(c);
            return;
        }
        c->in_recv = 1;
        ssize_t used = nghttp2_session_mem_recv(c->h2, buf, (size_t)n);
        c->in_recv = 0;
        if (used < 0) {
            RS_DEBUG("grpc", "%s: %s; closing", c->peer, nghttp2_strerror((int)used));
            conn_free(c);
            return;
        }
        if ((size_t)n < sizeof buf) break; /* the socket is drained: no recv just to hear EAGAIN */
    }
    conn_flush(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    conn_flush(arg);
}

/* A new connection on fd (from the listener, or handed over by rs_grpc_server_adopt). */
static int conn_start(rs_grpc_server_t *s, evutil_socket_t fd, const char *peer) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_t *c = rs_xcalloc(1, sizeof *c);
    c->srv = s;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->fd = fd;
    evutil_make_socket_nonblocking(fd);
    c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    int rv = nghttp2_session_server_new3(&c->h2, s->callbacks, c, s->options, rs_h2_pool_mem(s->pool));
    if (rv != 0 || !c->rev || !c->wev) {
        RS_WARN("grpc", "cannot start an HTTP/2 session: %s", nghttp2_strerror(rv));
        if (c->h2) nghttp2_session_del(c->h2);
        if (c->rev) event_free(c->rev);
        if (c->wev) event_free(c->wev);
        evutil_closesocket(fd);
        free(c);
        return -1;
    }
    c->next = s->conns;
    if (c->next) c->next->prev = c;
    s->conns = c;
    s->nconns++;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, RS_GRPC_MAX_STREAMS},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
                                   {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_METADATA},
                                   {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}};
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    event_add(c->rev, NULL);
    conn_flush(c);
    return 0;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    (void)l, (void)salen;
    char peer[INET6_ADDRSTRLEN] = "client";
    if (sa->sa_family == AF_INET) evutil_inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof peer);
    conn_start(arg, fd, peer);
}

int rs_grpc_server_adopt(rs_grpc_server_t *s, int fd, const char *peer) {
    return conn_start(s, fd, peer ? peer : "client");
}

/* ---- the server ---- */

rs_grpc_server_t *rs_grpc_server_new(struct event_base *base, size_t max_msg, rs_grpc_handler_fn handler, void *ctx) {
    rs_grpc_server_t *s = rs_xcalloc(1, sizeof *s);
    s->base = base;
    s->max_msg = max_msg;
    s->handler = handler;
    s->ctx = ctx;
    s->pool = rs_h2_pool_new();
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&s->options) != 0) {
        fputs("fatal: out of memory\n", stderr); /* as rs_xmalloc */
        abort();
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    s->callbacks = cb;
    /* on_header checks what the request's header fields may be (a gRPC call needs only a part of HTTP's rules):
     * nghttp2's general HTTP checks cost more than the rest of reading a request */
    nghttp2_option_set_no_http_messaging(s->options, 1);
    return s;
}

int rs_grpc_server_listen(rs_grpc_server_t *s, const char *addr, int port) {
    if (s->nlisteners == MAX_LISTENERS) {
        errno = EMFILE;
        return -1;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = EVUTIL_AI_PASSIVE};
    struct evutil_addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    if (evutil_getaddrinfo(addr, ps, &hints, &ai) != 0 || !ai) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    struct evconnlistener *l = evconnlistener_new_bind(s->base, on_accept, s,
                                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, ai->ai_addr,
                                                       (int)ai->ai_addrlen);
    evutil_freeaddrinfo(ai);
    if (!l) return -1;
    s->listeners[s->nlisteners++] = l;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl);
    return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int rs_grpc_server_connections(const rs_grpc_server_t *s) { return s->nconns; }

void rs_grpc_server_free(rs_grpc_server_t *s) {
    if (!s) return;
    for (int i = 0; i < s->nlisteners; i++) evconnlistener_free(s->listeners[i]);
    while (s->conns) conn_free(s->conns);
    rs_h2_pool_free(s->pool);
    nghttp2_session_callbacks_del(s->callbacks);
    nghttp2_option_del(s->options);
    free(s);
}

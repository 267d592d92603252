/* SPDX-License-Identifier: MIT */
/* The outbound HTTP client (src/http/client.h) against a scripted raw-socket
 * HTTP server living on the same event loop. The server parses requests just
 * enough to record them (request line, header block, Content-Length body) and
 * answers with exact bytes, optionally paced over several writes, closed, reset
 * or never answered, so each case controls what goes on the wire and counts the
 * TCP connections the client opens.
 *
 * Every case runs once per URL form: IP literals (127.0.0.1 and, when the
 * machine has it, [::1]) and a DNS name (localhost). The client may route those
 * through different transports; the contract is the same for all of them.
 *
 * Across every case a done callback that runs inside rs_http_send fails the
 * case, and the loop is only ever driven with deadlines (WAIT_FOR / run_for);
 * alarm() guards against a hang that the deadlines cannot catch. */
#include <arpa/inet.h>
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/client.h"
#include "http_test_util.h"
#include "test.h"

#define BIG (2u * 1024 * 1024)
#define MAX_PIECES 64
#define MAX_HELD 16

/* ---------------------------------------------------------------- server -- */

typedef struct sconn sconn_t;

typedef struct {
    char line[2048]; /* request line, without CRLF */
    char *head;      /* the header lines after the request line, CRLFs kept */
    char *body;
    size_t body_len;
    long clen;       /* Content-Length, -1 when absent */
    int index;       /* 0-based over the server's life */
    int conn_nreq;   /* 0-based on its connection */
    int conn_id;     /* accept order */
} sreq_t;

typedef void (*handler_fn)(sconn_t *c, const sreq_t *r);

struct sconn {
    struct bufferevent *bev;
    int id, nreq;
    int have_head;
    sreq_t cur;
    struct {
        char *data;
        size_t len;
    } pieces[MAX_PIECES];
    int npieces, next_piece;
    struct event *pace;
    int close_when_done, rst, ignore_rest;
    sconn_t *prev, *next;
};

static struct {
    struct evconnlistener *l4, *l6;
    int port;
    int accepts, open, closed, nreq;
    handler_fn handler;
    sreq_t last; /* the last complete request (owns head/body) */
    sconn_t *conns;
    sconn_t *held[MAX_HELD];
    int nheld;
} srv;

static int have_v6;

/* -------------------------------------------------------------- fixture -- */

typedef struct rec {
    int calls;
    rs_http_result_t result;
    int status;
    char *body;
    size_t body_len;
    rs_kvlist_t headers;
    char error[256];
    int64_t latency_us;
    int index;
    /* for cancel-from-done: the other call of a pair */
    struct rec *other;
    rs_http_call_t *other_call;
    struct rec *next;
} rec_t;

static struct {
    rs_http_client_t *client;
    const char *host;
    int in_send;   /* set around rs_http_send */
    int sync_done; /* done callbacks that ran inside rs_http_send */
    int dones;     /* every done callback */
    rec_t *recs;   /* freed at teardown */
    rs_kvlist_t hdrs;
} fx;

/* ---------------------------------------------------------- server impl -- */

static void conn_free(sconn_t *c) {
    if (c->rst) ht_set_rst_on_close(bufferevent_getfd(c->bev));
    bufferevent_free(c->bev);
    event_free(c->pace);
    for (int i = c->next_piece; i < c->npieces; i++) free(c->pieces[i].data);
    free(c->cur.head);
    free(c->cur.body);
    for (int i = 0; i < srv.nheld; i++)
        if (srv.held[i] == c) srv.held[i] = NULL;
    if (c->prev) c->prev->next = c->next;
    else srv.conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv.open--;
    srv.closed++;
    free(c);
}

/* Closes c once everything queued is on the wire. Returns 1 if c was freed. */
static int maybe_close(sconn_t *c) {
    if (c->close_when_done && c->next_piece == c->npieces && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_free(c);
        return 1;
    }
    return 0;
}

static void write_next_piece(sconn_t *c) {
    bufferevent_write(c->bev, c->pieces[c->next_piece].data, c->pieces[c->next_piece].len);
    free(c->pieces[c->next_piece].data);
    c->next_piece++;
}

static void on_pace(evutil_socket_t fd, short what, void *arg) {
    sconn_t *c = arg;
    (void)fd;
    (void)what;
    if (c->next_piece < c->npieces) write_next_piece(c);
}

static void on_write(struct bufferevent *bev, void *arg) {
    sconn_t *c = arg;
    (void)bev;
    if (c->next_piece < c->npieces) {
        /* the previous piece left the socket buffer: send the next one a moment later, as its own segment */
        struct timeval tv = {0, 3000};
        evtimer_add(c->pace, &tv);
        return;
    }
    maybe_close(c);
}

static void send_bytes(sconn_t *c, const void *p, size_t n) { bufferevent_write(c->bev, p, n); }
static void send_str(sconn_t *c, const char *s) { send_bytes(c, s, strlen(s)); }

/* Queues pieces that go out one write each, a few ms apart. */
static void send_paced(sconn_t *c, const char *const *pieces, int n) {
    int idle = c->next_piece == c->npieces;
    for (int i = 0; i < n && c->npieces < MAX_PIECES; i++) {
        size_t len = strlen(pieces[i]);
        c->pieces[c->npieces].data = malloc(len);
        memcpy(c->pieces[c->npieces].data, pieces[i], len);
        c->pieces[c->npieces].len = len;
        c->npieces++;
    }
    if (idle && c->next_piece < c->npieces) write_next_piece(c);
}

/* 200 with a Content-Length body, keep-alive. */
static void send_ok(sconn_t *c, const char *body) {
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(body));
    send_str(c, head);
    send_str(c, body);
}

/* The server finally answers every held request, after its caller gave up. */
static void answer_held_late(void) {
    for (int i = 0; i < srv.nheld; i++)
        if (srv.held[i]) send_str(srv.held[i], "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nLATE");
}

static void close_after(sconn_t *c) { c->close_when_done = 1; }

static void hold(sconn_t *c) {
    if (srv.nheld < MAX_HELD) srv.held[srv.nheld++] = c;
}

static void on_read(struct bufferevent *bev, void *arg) {
    sconn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        if (c->close_when_done || c->ignore_rest) {
            evbuffer_drain(in, evbuffer_get_length(in));
            return;
        }
        if (!c->have_head) {
            struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (p.pos < 0) return;
            size_t n = (size_t)p.pos + 4;
            char *h = malloc(n + 1);
            evbuffer_remove(in, h, n);
            h[n] = '\0';
            char *eol = strstr(h, "\r\n");
            snprintf(c->cur.line, sizeof c->cur.line, "%.*s", (int)(eol - h), h);
            c->cur.head = strdup(eol + 2);
            free(h);
            c->cur.clen = head_clen(c->cur.head);
            c->have_head = 1;
            char v[64];
            if (head_get(c->cur.head, "Expect", v, sizeof v, HT_TRIM) && strcasecmp(v, "100-continue") == 0)
                send_str(c, "HTTP/1.1 100 Continue\r\n\r\n");
        }
        size_t need = c->cur.clen > 0 ? (size_t)c->cur.clen : 0;
        if (evbuffer_get_length(in) < need) return;
        c->cur.body = malloc(need + 1);
        evbuffer_remove(in, c->cur.body, need);
        c->cur.body[need] = '\0';
        c->cur.body_len = need;
        c->have_head = 0;
        c->cur.index = srv.nreq++;
        c->cur.conn_nreq = c->nreq++;
        c->cur.conn_id = c->id;
        free(srv.last.head);
        free(srv.last.body);
        srv.last = c->cur;
        memset(&c->cur, 0, sizeof c->cur);
        srv.handler(c, &srv.last);
        if (maybe_close(c)) return;
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    (void)l;
    (void)sa;
    (void)salen;
    (void)arg;
    sconn_t *c = calloc(1, sizeof *c);
    c->id = srv.accepts++;
    srv.open++;
    ht_set_nodelay(fd); /* paced pieces leave as separate segments */
    c->bev = bufferevent_socket_new(ht_base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->pace = evtimer_new(ht_base, on_pace, c);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = srv.conns;
    if (srv.conns) srv.conns->prev = c;
    srv.conns = c;
}

/* Listens on 127.0.0.1 and, when available, [::1] on the same free port. */
static int srv_start(void) {
    for (int attempt = 0; attempt < 20; attempt++) {
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        srv.l4 = evconnlistener_new_bind(ht_base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                         (struct sockaddr *)&a4, sizeof a4);
        if (!srv.l4) return -1;
        socklen_t len = sizeof a4;
        getsockname(evconnlistener_get_fd(srv.l4), (struct sockaddr *)&a4, &len);
        srv.port = ntohs(a4.sin_port);
        if (!have_v6) return 0;
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)srv.port),
                                  .sin6_addr = in6addr_loopback};
        srv.l6 = evconnlistener_new_bind(ht_base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                         (struct sockaddr *)&a6, sizeof a6);
        if (srv.l6) return 0;
        evconnlistener_free(srv.l4); /* that port is taken on ::1: try another */
        srv.l4 = NULL;
    }
    return -1;
}

/* A port on which nothing listens, on either loopback address. */
static int closed_port(void) {
    for (int attempt = 0; attempt < 20; attempt++) {
        int f4 = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bind(f4, (struct sockaddr *)&a4, sizeof a4);
        socklen_t len = sizeof a4;
        getsockname(f4, (struct sockaddr *)&a4, &len);
        int port = ntohs(a4.sin_port), ok = 1;
        if (have_v6) {
            int f6 = socket(AF_INET6, SOCK_STREAM, 0);
            struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = a4.sin_port, .sin6_addr = in6addr_loopback};
            ok = bind(f6, (struct sockaddr *)&a6, sizeof a6) == 0;
            close(f6);
        }
        close(f4);
        if (ok) return port;
    }
    return 1;
}

/* ------------------------------------------------------------- client side -- */

static void on_done(void *arg, rs_http_response_t *resp) {
    rec_t *r = arg;
    if (fx.in_send) fx.sync_done++;
    fx.dones++;
    if (r->calls++) return; /* keep the first outcome; calls > 1 fails the test */
    r->result = resp->result;
    r->status = resp->status;
    r->body_len = resp->body.len;
    r->body = malloc(r->body_len + 1);
    if (r->body_len) memcpy(r->body, resp->body.data, r->body_len);
    r->body[r->body_len] = '\0';
    for (size_t i = 0; i < resp->headers.len; i++)
        rs_kvlist_add(&r->headers, resp->headers.items[i].key, resp->headers.items[i].value);
    snprintf(r->error, sizeof r->error, "%s", resp->error);
    r->latency_us = resp->latency_us;
    if (r->other && !r->other->calls) {
        rs_http_cancel(r->other_call); /* the other response may already be read: it must still be dropped */
        r->other_call = NULL;
    }
}

static rec_t *rec_new(void) {
    rec_t *r = calloc(1, sizeof *r);
    r->next = fx.recs;
    fx.recs = r;
    return r;
}

static const char *url_for(char *buf, size_t n, const char *path) {
    snprintf(buf, n, "http://%s:%d%s", fx.host, srv.port, path);
    return buf;
}

/* rs_http_send, noting that done callbacks running now would be synchronous. */
static rs_http_call_t *send_req(const rs_http_request_t *req, rec_t *r) {
    fx.in_send = 1;
    rs_http_call_t *call = rs_http_send(fx.client, req, on_done, r);
    fx.in_send = 0;
    return call;
}

static rs_http_call_t *send_full(const char *method, const char *path, const rs_kvlist_t *headers, const void *body,
                                 size_t body_len, int64_t timeout_ms, size_t max_response, rec_t *r) {
    char url[256];
    rs_http_request_t req = {.method = method, .url = url_for(url, sizeof url, path), .headers = headers,
                             .body = body, .body_len = body_len, .timeout_ms = timeout_ms,
                             .max_response = max_response};
    return send_req(&req, r);
}

static rs_http_call_t *send_get(const char *path, rec_t *r) { return send_full("GET", path, NULL, NULL, 0, 0, 0, r); }

/* Sends method path (body, timeout and cap as send_full takes them) with a fresh rec in r and
 * waits for its outcome. */
#define CALL_AND_WAIT(r, method, path, body, body_len, timeout_ms, max_response)                              \
    do {                                                                                                      \
        (r) = rec_new();                                                                                      \
        ASSERT_TRUE(send_full((method), (path), NULL, (body), (body_len), (timeout_ms), (max_response), (r))); \
        WAIT_FOR((r)->calls >= 1, 5000);                                                                      \
    } while (0)

#define GET_AND_WAIT(r, path) CALL_AND_WAIT(r, "GET", path, NULL, 0, 0, 0)

#define ASSERT_BODY(r, s)                                                                                     \
    do {                                                                                                      \
        ASSERT_EQ((r)->body_len, strlen(s));                                                                  \
        ASSERT_STREQ((r)->body, (s));                                                                         \
    } while (0)

#define ASSERT_OK_BODY(r, st, s)                                                                              \
    do {                                                                                                      \
        if ((r)->result != RS_HTTP_OK) TEST_FAIL_AT("call failed: %d %s", (int)(r)->result, (r)->error);      \
        ASSERT_EQ((r)->result, RS_HTTP_OK);                                                                   \
        ASSERT_EQ((r)->status, (st));                                                                         \
        ASSERT_BODY(r, s);                                                                                    \
        ASSERT_EQ((r)->calls, 1);                                                                             \
    } while (0)

/* GET path answers st with body s. */
#define GET_OK(path, st, s)                                                                                   \
    do {                                                                                                      \
        rec_t *ok_;                                                                                           \
        GET_AND_WAIT(ok_, path);                                                                              \
        ASSERT_OK_BODY(ok_, st, s);                                                                           \
    } while (0)

static int count_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* -------------------------------------------------------------- handlers -- */

static void h_hello(sconn_t *c, const sreq_t *r) {
    (void)r;
    send_ok(c, "hello");
}

static void h_hold(sconn_t *c, const sreq_t *r) {
    (void)r;
    hold(c);
}

/* ------------------------------------------------------------------ cases -- */

static void h_get1(sconn_t *c, const sreq_t *r) {
    if (strncmp(r->line, "GET /missing", 12) == 0) {
        send_str(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        return;
    }
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Reply-Header: MiXeD Value\r\n"
                               "Content-Type: text/plain\r\nx-lower: yes\r\n\r\nhello\0world";
    send_bytes(c, resp, sizeof resp - 1);
}

/* 1. GET with a Content-Length answer: what arrives on each side. */
TEST(get_content_length) {
    srv.handler = h_get1;
    rs_kvlist_add(&fx.hdrs, "X-Test-Header", "Hello World");
    rs_kvlist_add(&fx.hdrs, "x-lower-case", "v");
    rs_kvlist_add(&fx.hdrs, "X-Multi", "one");
    rs_kvlist_add(&fx.hdrs, "X-Multi", "two");
    rs_kvlist_add(&fx.hdrs, "X-Empty", "");
    rec_t *r = rec_new();
    ASSERT_TRUE(send_full("GET", "/path/x?q=1&r=%20z", &fx.hdrs, NULL, 0, 0, 0, r) != NULL);
    WAIT_FOR(r->calls == 1, 5000);
    ASSERT_EQ(r->result, RS_HTTP_OK);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->body_len, 11);
    ASSERT_TRUE(memcmp(r->body, "hello\0world", 11) == 0);
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "X-Reply-Header"), "MiXeD Value");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "Content-Type"), "text/plain");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "x-lower"), "yes");
    ASSERT_STREQ(rs_kvlist_get_ci(&r->headers, "content-length"), "11");
    ASSERT_TRUE(r->latency_us > 0);

    ASSERT_STREQ(srv.last.line, "GET /path/x?q=1&r=%20z HTTP/1.1");
    ASSERT_TRUE(head_has_line(srv.last.head, "X-Test-Header: Hello World"));
    ASSERT_TRUE(head_has_line(srv.last.head, "x-lower-case: v"));
    ASSERT_TRUE(head_has_line(srv.last.head, "X-Multi: one"));
    ASSERT_TRUE(head_has_line(srv.last.head, "X-Multi: two"));
    ASSERT_EQ(head_count(srv.last.head, "X-Empty"), 1);
    char v[256], want[256];
    ASSERT_TRUE(head_get(srv.last.head, "X-Empty", v, sizeof v, HT_TRIM));
    ASSERT_STREQ(v, "");
    ASSERT_EQ(head_count(srv.last.head, "Host"), 1);
    ASSERT_TRUE(head_get(srv.last.head, "Host", v, sizeof v, HT_TRIM));
    snprintf(want, sizeof want, "%s:%d", fx.host, srv.port);
    ASSERT_STREQ(v, want);
    ASSERT_EQ(srv.last.body_len, 0);

    /* any status is a response */
    rec_t *r2;
    GET_AND_WAIT(r2, "/missing");
    ASSERT_OK_BODY(r2, 404, "nope");
    run_for(50);
    ASSERT_EQ(r->calls, 1);
    ASSERT_EQ(r2->calls, 1);
}

static void h_echo_method(sconn_t *c, const sreq_t *r) {
    char body[256];
    snprintf(body, sizeof body, "%.*s|%ld|%s", (int)(strchr(r->line, ' ') - r->line), r->line, r->clen, r->body);
    send_ok(c, body);
}

/* Other methods: the method is sent as given, bodies with a Content-Length. */
TEST(methods) {
    srv.handler = h_echo_method;
    rec_t *r;
    CALL_AND_WAIT(r, "DELETE", "/d/1", NULL, 0, 0, 0);
    ASSERT_OK_BODY(r, 200, "DELETE|-1|");
    ASSERT_STREQ(srv.last.line, "DELETE /d/1 HTTP/1.1");
    CALL_AND_WAIT(r, "PATCH", "/p", "patch-body", 10, 0, 0);
    ASSERT_OK_BODY(r, 200, "PATCH|10|patch-body");
    CALL_AND_WAIT(r, "POST", "/small", "{\"a\":1}", 7, 0, 0);
    ASSERT_OK_BODY(r, 200, "POST|7|{\"a\":1}");
    ASSERT_STREQ(srv.last.line, "POST /small HTTP/1.1");
    ASSERT_EQ(srv.accepts, 1);
}

static void h_close(sconn_t *c, const sreq_t *r) {
    (void)r;
    send_str(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nclose");
    close_after(c);
}

/* HTTP/1.0 without keep-alive means the connection ends with this response. The
 * server does not close it (it would, later); it ignores anything more sent on it,
 * so a client that reuses it hangs. */
static void h_http10(sconn_t *c, const sreq_t *r) {
    (void)r;
    send_str(c, "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!");
    c->ignore_rest = 1;
}

/* 2. keep-alive reuse; Connection: close and HTTP/1.0 answers are not reused. */
TEST(keepalive_reuse) {
    for (int i = 0; i < 20; i++) GET_OK("/ka", 200, "hello");
    ASSERT_EQ(srv.nreq, 20);
    ASSERT_EQ(srv.accepts, 1);

    srv.handler = h_close;
    int before = srv.accepts;
    for (int i = 0; i < 20; i++) GET_OK("/close", 200, "close");
    ASSERT_EQ(srv.nreq, 40);
    ASSERT_TRUE(srv.accepts - before >= 19);

    srv.handler = h_hello; /* back to keep-alive: one more connection, reused */
    before = srv.accepts;
    for (int i = 0; i < 5; i++) GET_OK("/ka2", 200, "hello");
    ASSERT_EQ(srv.accepts - before, 1);

    srv.handler = h_http10;
    for (int i = 0; i < 3; i++) {
        rec_t *r;
        CALL_AND_WAIT(r, "GET", "/old", NULL, 0, 2000, 0);
        ASSERT_OK_BODY(r, 200, "old!");
    }
}

static void h_chunked(sconn_t *c, const sreq_t *r) {
    if (r->index == 0) {
        static const char *const p[] = {
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n",
            "5\r\nhello\r\n",
            "6\r\n wor",
            "ld\r\n",
            "1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n",
            "0\r\n",
            "\r\n",
        };
        send_paced(c, p, 7);
    } else if (r->index == 1) {
        send_str(c, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n");
    } else {
        send_ok(c, "after");
    }
}

/* 3a. chunked bodies (paced, with an extension, with a trailer) and the connection
 * is still usable after them. */
TEST(chunked_body) {
    srv.handler = h_chunked;
    rec_t *r;
    GET_AND_WAIT(r, "/c1");
    ASSERT_OK_BODY(r, 200, "hello worldabcdefghijklmnopqrstuvwxyz");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "X-Kind"), "chunked");
    GET_OK("/c2", 200, "abc");
    GET_OK("/c3", 200, "after");
    ASSERT_EQ(srv.accepts, 1);
}

static void h_eof_body(sconn_t *c, const sreq_t *r) {
    if (r->index == 0) {
        static const char *const p[] = {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "first,", "second,",
                                        "third"};
        send_paced(c, p, 4);
        close_after(c);
    } else {
        send_ok(c, "next");
    }
}

/* GET p1 and then p2 answer 200 with b1 and b2, the second on a new connection. */
static void two_gets_two_connections(const char *p1, const char *b1, const char *p2, const char *b2) {
    GET_OK(p1, 200, b1);
    GET_OK(p2, 200, b2);
    ASSERT_EQ(srv.accepts, 2);
}

/* 3b. a body without length is read until the server closes. */
TEST(close_delimited_body) {
    srv.handler = h_eof_body;
    two_gets_two_connections("/eof", "first,second,third", "/next", "next");
}

static void h_nobody(sconn_t *c, const sreq_t *r) {
    switch (r->index) {
    case 0: send_str(c, "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n"); break;
    case 1: send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n"); break;
    case 2: send_str(c, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n\r\n"); break;
    default: send_ok(c, "after"); break;
    }
}

/* 3c. 204, HEAD and 304 answers have no body whatever their headers say; they
 * neither hang nor desynchronise the connection. */
TEST(no_body_responses) {
    srv.handler = h_nobody;
    rec_t *r;
    CALL_AND_WAIT(r, "GET", "/204", NULL, 0, 3000, 0);
    ASSERT_OK_BODY(r, 204, "");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "X-A"), "b");
    CALL_AND_WAIT(r, "HEAD", "/head", NULL, 0, 3000, 0);
    ASSERT_OK_BODY(r, 200, "");
    ASSERT_STREQ(srv.last.line, "HEAD /head HTTP/1.1");
    ASSERT_STREQ(rs_kvlist_get_ci(&r->headers, "Content-Length"), "1234");
    CALL_AND_WAIT(r, "GET", "/304", NULL, 0, 3000, 0);
    ASSERT_OK_BODY(r, 304, "");
    CALL_AND_WAIT(r, "GET", "/after", NULL, 0, 3000, 0);
    ASSERT_OK_BODY(r, 200, "after");
    ASSERT_EQ(srv.accepts, 1);
}

static void h_continue(sconn_t *c, const sreq_t *r) {
    if (r->index == 0) {
        static const char *const p[] = {"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n",
                                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok"};
        send_paced(c, p, 2);
    } else {
        send_str(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-Final: two\r\n\r\nnew");
    }
}

/* 4. interim 1xx answers are skipped: the final status and only its headers. */
TEST(interim_100_continue) {
    srv.handler = h_continue;
    rec_t *r;
    CALL_AND_WAIT(r, "POST", "/c", "payload", 7, 3000, 0);
    ASSERT_OK_BODY(r, 200, "ok");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "X-Final"), "yes");
    ASSERT_TRUE(rs_kvlist_get_ci(&r->headers, "X-Interim") == NULL);
    ASSERT_STREQ(srv.last.body, "payload");
    CALL_AND_WAIT(r, "POST", "/c", "again", 5, 3000, 0);
    ASSERT_OK_BODY(r, 201, "new");
    ASSERT_STREQ(rs_kvlist_get(&r->headers, "X-Final"), "two");
    ASSERT_TRUE(rs_kvlist_get_ci(&r->headers, "Link") == NULL);
    ASSERT_TRUE(rs_kvlist_get_ci(&r->headers, "X-Interim") == NULL);
}

static void h_big(sconn_t *c, const sreq_t *r) {
    char *b = malloc(BIG);
    fill_pattern(b, BIG, 7);
    if (strstr(r->line, "/bigchunked")) {
        send_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (size_t off = 0; off < BIG; off += 65536) {
            char sz[32];
            snprintf(sz, sizeof sz, "%x\r\n", 65536);
            send_str(c, sz);
            send_bytes(c, b + off, 65536);
            send_str(c, "\r\n");
        }
        send_str(c, "0\r\n\r\n");
    } else {
        char head[128];
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", BIG);
        send_str(c, head);
        send_bytes(c, b, BIG);
    }
    free(b);
}

/* 5. 2 MiB request bodies arrive exactly; 2 MiB response bodies arrive intact. */
TEST(large_bodies) {
    srv.handler = h_big;
    char *want = malloc(BIG), *body = malloc(BIG), *sent = malloc(BIG);
    fill_pattern(want, BIG, 7);
    const char *methods[] = {"POST", "PUT"};
    int ok = 1;
    for (int m = 0; m < 2 && ok; m++) {
        ok = 0;
        fill_pattern(body, BIG, 40u + (unsigned)m);
        memcpy(sent, body, BIG);
        rec_t *r = rec_new();
        if (!send_full(methods[m], "/upload", NULL, body, BIG, 0, 0, r)) break;
        memset(body, 0, BIG); /* the client copied it */
        LOOP_WHILE(!r->calls, 10000);
        char line[64], v[64];
        snprintf(line, sizeof line, "%s /upload HTTP/1.1", methods[m]);
        if (r->calls != 1 || r->result != RS_HTTP_OK || r->status != 200) {
            TEST_FAIL_AT("%s: calls %d result %d status %d (%s)", methods[m], r->calls, r->result, r->status, r->error);
        } else if (strcmp(srv.last.line, line) != 0) {
            TEST_FAIL_AT("request line %s", srv.last.line);
        } else if (!head_get(srv.last.head, "Content-Length", v, sizeof v, HT_TRIM) || strcmp(v, "2097152") != 0) {
            TEST_FAIL_AT("Content-Length %s", v);
        } else if (srv.last.body_len != BIG || memcmp(srv.last.body, sent, BIG) != 0) {
            TEST_FAIL_AT("request body differs (%zu bytes arrived)", srv.last.body_len);
        } else if (r->body_len != BIG || memcmp(r->body, want, BIG) != 0) {
            TEST_FAIL_AT("response body differs (%zu bytes)", r->body_len);
        } else {
            ok = 1;
        }
    }
    if (ok) {
        rec_t *r = rec_new();
        if (send_get("/bigchunked", r)) LOOP_WHILE(!r->calls, 10000);
        if (r->calls != 1 || r->result != RS_HTTP_OK || r->body_len != BIG || memcmp(r->body, want, BIG) != 0)
            TEST_FAIL_AT("chunked 2 MiB: calls %d result %d len %zu", r->calls, r->result, r->body_len);
    }
    free(want);
    free(body);
    free(sent);
}

/* 6a. nothing listening. */
TEST(error_connect_refused) {
    int port = closed_port();
    char url[256];
    snprintf(url, sizeof url, "http://%s:%d/x", fx.host, port);
    rec_t *r = rec_new();
    rs_http_request_t req = {.method = "GET", .url = url, .timeout_ms = 3000};
    ASSERT_TRUE(send_req(&req, r) != NULL);
    WAIT_FOR(r->calls, 5000);
    ASSERT_EQ(r->result, RS_HTTP_ERR_CONNECT);
    ASSERT_TRUE(r->error[0] != '\0');
    run_for(50);
    ASSERT_EQ(r->calls, 1);
}

static void h_timeout(sconn_t *c, const sreq_t *r) {
    if (strstr(r->line, "/partial")) send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    else if (strstr(r->line, "/after")) {
        send_ok(c, "B");
        return;
    }
    hold(c);
}

/* 6b. timeout_ms bounds the whole call, whether nothing or part of the answer
 * came; the timed-out connection's late answer never reaches another call. */
TEST(error_timeout) {
    srv.handler = h_timeout;
    rec_t *r = rec_new();
    int64_t t0 = rs_now_ms();
    ASSERT_TRUE(send_full("GET", "/never", NULL, NULL, 0, 200, 0, r));
    WAIT_FOR(r->calls, 5000);
    int64_t took = rs_now_ms() - t0;
    ASSERT_EQ(r->result, RS_HTTP_ERR_TIMEOUT);
    ASSERT_TRUE(r->error[0] != '\0');
    ASSERT_TRUE(took >= 180 && took < 2000);
    ASSERT_TRUE(r->latency_us >= 180000);
    run_for(300);
    ASSERT_EQ(r->calls, 1);

    CALL_AND_WAIT(r, "GET", "/partial", NULL, 0, 200, 0);
    ASSERT_EQ(r->result, RS_HTTP_ERR_TIMEOUT);
    run_for(100);
    ASSERT_EQ(r->calls, 1);

    /* the server finally answers the held requests; a new call must not see those answers */
    answer_held_late();
    CALL_AND_WAIT(r, "GET", "/after", NULL, 0, 3000, 0);
    ASSERT_OK_BODY(r, 200, "B");
}

static void h_sized(sconn_t *c, const sreq_t *r) {
    char b[1000];
    memset(b, 'x', sizeof b);
    if (strstr(r->line, "/cl1000")) {
        send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        send_bytes(c, b, 1000);
    } else if (strstr(r->line, "/cl100")) {
        send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        send_bytes(c, b, 100);
    } else if (strstr(r->line, "/chunked1000")) {
        send_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 10; i++) {
            send_str(c, "64\r\n");
            send_bytes(c, b, 100);
            send_str(c, "\r\n");
        }
        send_str(c, "0\r\n\r\n");
    } else {
        send_ok(c, "small");
    }
}

/* 6c. max_response caps the body: exactly the cap is fine, one byte more is not. */
TEST(error_too_large) {
    srv.handler = h_sized;
    const char *over[] = {"/cl1000", "/chunked1000"}; /* 1000 bytes against a cap of 100, either framing */
    rec_t *r;
    for (int i = 0; i < 2; i++) {
        CALL_AND_WAIT(r, "GET", over[i], NULL, 0, 3000, 100);
        ASSERT_EQ(r->result, RS_HTTP_ERR_TOO_LARGE);
        ASSERT_TRUE(r->error[0] != '\0');
    }
    CALL_AND_WAIT(r, "GET", "/cl100", NULL, 0, 3000, 100);
    ASSERT_EQ(r->result, RS_HTTP_OK);
    ASSERT_EQ(r->body_len, 100);
    CALL_AND_WAIT(r, "GET", "/cl1000", NULL, 0, 3000, 999);
    ASSERT_EQ(r->result, RS_HTTP_ERR_TOO_LARGE);
    CALL_AND_WAIT(r, "GET", "/small", NULL, 0, 3000, 100);
    ASSERT_OK_BODY(r, 200, "small");
    run_for(50);
    ASSERT_EQ(fx.dones, 5);
}

static void h_bad(sconn_t *c, const sreq_t *r) {
    if (strstr(r->line, "/garbage")) {
        send_str(c, "XYZ\r\n\r\n"); /* and the connection stays open: the client must notice from the bytes */
    } else if (strstr(r->line, "/midbody")) {
        send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        close_after(c);
    } else if (strstr(r->line, "/midchunk")) {
        send_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc");
        close_after(c);
    } else if (strstr(r->line, "/nothing")) {
        close_after(c);
    } else if (strstr(r->line, "/badlen")) {
        send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello");
    } else {
        send_ok(c, "fine");
    }
}

/* 6d. a peer that speaks garbage or hangs up early is a transport error, not a
 * timeout, and not a success with a short body. */
TEST(error_transport) {
    srv.handler = h_bad;
    const char *paths[] = {"/garbage", "/midbody", "/midchunk", "/nothing", "/badlen"};
    for (int i = 0; i < 5; i++) {
        rec_t *r;
        CALL_AND_WAIT(r, "GET", paths[i], NULL, 0, 3000, 0);
        if (r->result != RS_HTTP_ERR_TRANSPORT)
            TEST_FAIL_AT("%s: result %d status %d body %zu (%s)", paths[i], r->result, r->status, r->body_len,
                         r->error);
        ASSERT_EQ(r->result, RS_HTTP_ERR_TRANSPORT);
        ASSERT_TRUE(r->error[0] != '\0');
    }
    GET_OK("/fine", 200, "fine");
}

static int stale_rst;

static void h_stale(sconn_t *c, const sreq_t *r) {
    send_ok(c, r->conn_id == 0 ? "first" : "fresh");
    if (r->conn_id == 0) {
        c->rst = stale_rst;
        close_after(c); /* without saying so: the client only learns it from the socket */
    }
}

static void stale_case(int rst) {
    stale_rst = rst;
    srv.handler = h_stale;
    GET_OK("/1", 200, "first");
    WAIT_FOR(srv.closed == 1, 5000);
    GET_OK("/2", 200, "fresh");
    ASSERT_EQ(srv.accepts, 2);
}

/* 7a. the server closed an idle keep-alive connection (FIN): the next call works. */
TEST(stale_keepalive_fin) { stale_case(0); }

/* 7b. the same with a reset. */
TEST(stale_keepalive_rst) { stale_case(1); }

static void h_race(sconn_t *c, const sreq_t *r) {
    if (r->conn_id == 0 && r->conn_nreq == 1) {
        close_after(c); /* read the request, then hang up without a byte: the idle-close race */
        return;
    }
    send_ok(c, r->conn_id == 0 ? "first" : "retried");
}

/* 7c. the server closes a reused connection just as the next request arrives (the
 * race between its idle timeout and our send): no byte of an answer came, so the
 * GET is retried on a fresh connection instead of failing. */
TEST(reused_connection_closed_before_answer_is_retried) {
    srv.handler = h_race;
    two_gets_two_connections("/1", "first", "/2", "retried");
}

static void h_hold_or_b(sconn_t *c, const sreq_t *r) {
    if (strstr(r->line, "/after")) send_ok(c, "B");
    else hold(c);
}

/* 8a. a cancelled call's done never runs, and its late answer reaches nobody. */
TEST(cancel_in_flight) {
    srv.handler = h_hold_or_b;
    rec_t *a = rec_new();
    rs_http_call_t *ca = send_get("/held", a);
    ASSERT_TRUE(ca != NULL);
    WAIT_FOR(srv.nreq == 1, 5000);
    rs_http_cancel(ca);
    run_for(100);
    answer_held_late();
    GET_OK("/after", 200, "B");
    run_for(100);
    ASSERT_EQ(a->calls, 0);
    ASSERT_EQ(fx.dones, 1);
}

/* 8b. cancelled before the loop ever ran: nothing runs, the client stays usable. */
TEST(cancel_before_loop) {
    rec_t *a = rec_new();
    rs_http_call_t *ca = send_get("/x", a);
    ASSERT_TRUE(ca != NULL);
    rs_http_cancel(ca);
    run_for(200);
    ASSERT_EQ(a->calls, 0);
    GET_OK("/y", 200, "hello");
    ASSERT_EQ(a->calls, 0);
}

static void h_pair(sconn_t *c, const sreq_t *r) {
    (void)r;
    hold(c);
    if (srv.nheld < 2) return;
    /* both answers leave together, so both may be read in the same loop turn */
    for (int i = 0; i < srv.nheld; i++)
        if (srv.held[i]) send_ok(srv.held[i], "pair");
}

/* 8c. cancelling a call from another call's done, when its answer is already in. */
TEST(cancel_other_from_done) {
    srv.handler = h_pair;
    rec_t *a = rec_new(), *b = rec_new();
    rs_http_call_t *ca = send_get("/a", a);
    rs_http_call_t *cb = send_get("/b", b);
    ASSERT_TRUE(ca && cb);
    a->other = b;
    a->other_call = cb;
    b->other = a;
    b->other_call = ca;
    WAIT_FOR(a->calls || b->calls, 5000);
    run_for(200);
    ASSERT_EQ(a->calls + b->calls, 1);
    rec_t *won = a->calls ? a : b;
    ASSERT_OK_BODY(won, 200, "pair");
    ASSERT_EQ(fx.dones, 1);
}

/* 8d. freeing the client with calls in every state: nothing runs, nothing leaks
 * (ASan), every socket is closed. */
TEST(free_with_pending) {
    srv.handler = h_hold;
    int fds_before = count_fds();
    rec_t *r[9];
    rs_http_call_t *calls[9];
    for (int i = 0; i < 5; i++) {
        r[i] = rec_new();
        calls[i] = send_get("/held", r[i]);
        ASSERT_TRUE(calls[i] != NULL);
    }
    WAIT_FOR(srv.nreq == 5, 5000);
    for (int i = 5; i < 8; i++) { /* not started yet */
        r[i] = rec_new();
        calls[i] = send_get("/late", r[i]);
        ASSERT_TRUE(calls[i] != NULL);
    }
    r[8] = rec_new();
    calls[8] = send_full("POST", "/post", NULL, "body", 4, 0, 0, r[8]);
    ASSERT_TRUE(calls[8] != NULL);
    rs_http_cancel(calls[2]);
    rs_http_cancel(calls[6]);
    rs_http_client_free(fx.client);
    fx.client = NULL;
    run_for(200);
    ASSERT_EQ(fx.dones, 0);
    WAIT_FOR(srv.open == 0, 5000);
    ASSERT_TRUE(count_fds() <= fds_before);
}

/* 9. done never runs inside rs_http_send, on any path (checked in every case too). */
TEST(done_never_synchronous) {
    GET_OK("/warm", 200, "hello"); /* a pooled connection for the next call */
    rec_t *r = rec_new();
    ASSERT_TRUE(send_get("/pooled", r));
    ASSERT_EQ(r->calls, 0);
    WAIT_FOR(r->calls, 5000);
    ASSERT_OK_BODY(r, 200, "hello");

    char url[256];
    snprintf(url, sizeof url, "http://%s:%d/refused", fx.host, closed_port());
    const char *urls[] = {url, "notaurl", "ftp://127.0.0.1:1/x", "http://[::1/x"};
    for (int i = 0; i < 4; i++) {
        rec_t *e = rec_new();
        rs_http_request_t req = {.method = "GET", .url = urls[i], .timeout_ms = 3000};
        rs_http_call_t *call = send_req(&req, e);
        ASSERT_EQ(e->calls, 0);
        if (!call) { /* refused at once: done is not called then */
            run_for(50);
            ASSERT_EQ(e->calls, 0);
            continue;
        }
        WAIT_FOR(e->calls, 5000);
        ASSERT_TRUE(e->result != RS_HTTP_OK);
        ASSERT_TRUE(e->error[0] != '\0');
    }
    ASSERT_EQ(fx.sync_done, 0);
}

/* The request struct, URL string, header list and body need not outlive rs_http_send. */
TEST(request_is_copied) {
    srv.handler = h_echo_method;
    char url[256], *body = strdup("copied-body");
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "X-Copied", "yes");
    snprintf(url, sizeof url, "http://%s:%d/copy", fx.host, srv.port);
    rec_t *r = rec_new();
    rs_http_request_t req = {.method = "PUT", .url = url, .headers = &h, .body = body, .body_len = 11};
    rs_http_call_t *call = send_req(&req, r);
    memset(url, 'Z', sizeof url - 1);
    memset(&req, 0, sizeof req);
    rs_kvlist_free(&h);
    free(body);
    ASSERT_TRUE(call != NULL);
    WAIT_FOR(r->calls, 5000);
    ASSERT_OK_BODY(r, 200, "PUT|11|copied-body");
    ASSERT_STREQ(srv.last.line, "PUT /copy HTTP/1.1");
    ASSERT_TRUE(head_has_line(srv.last.head, "X-Copied: yes"));
}

static void h_index(sconn_t *c, const sreq_t *r) {
    int i = -1;
    sscanf(r->line, "GET /item/%d", &i);
    char b[32];
    snprintf(b, sizeof b, "item-%d", i);
    send_ok(c, b);
}

/* 10. 500 calls in flight at once to one server all complete, each with its own body. */
TEST(concurrent_500) {
    srv.handler = h_index;
    enum { N = 500 };
    rec_t *r[N];
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof path, "/item/%d", i);
        r[i] = rec_new();
        r[i]->index = i;
        ASSERT_TRUE(send_get(path, r[i]) != NULL);
    }
    WAIT_FOR(fx.dones >= N, 30000);
    run_for(50);
    ASSERT_EQ(fx.dones, N);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "item-%d", i);
        if (r[i]->calls != 1 || r[i]->result != RS_HTTP_OK || strcmp(r[i]->body, want) != 0) {
            TEST_FAIL_AT("call %d: calls %d result %d body %s (%s)", i, r[i]->calls, r[i]->result, r[i]->body,
                         r[i]->error);
            return;
        }
    }
    ASSERT_EQ(srv.nreq, N);
    ASSERT_TRUE(srv.accepts >= 1 && srv.accepts <= N);
}

/* ----------------------------------------------------------------- main -- */

static int setup(const char *host) {
    memset(&fx, 0, sizeof fx);
    memset(&srv, 0, sizeof srv);
    fx.host = host;
    ht_loop_new();
    srv.handler = h_hello;
    if (srv_start() != 0) return -1;
    fx.client = rs_http_client_new(ht_base);
    return fx.client ? 0 : -1;
}

static void teardown(void) {
    if (fx.client) rs_http_client_free(fx.client);
    while (srv.conns) conn_free(srv.conns);
    if (srv.l4) evconnlistener_free(srv.l4);
    if (srv.l6) evconnlistener_free(srv.l6);
    free(srv.last.head);
    free(srv.last.body);
    while (fx.recs) {
        rec_t *r = fx.recs;
        fx.recs = r->next;
        rs_kvlist_free(&r->headers);
        free(r->body);
        free(r);
    }
    rs_kvlist_free(&fx.hdrs);
    ht_loop_free();
}

/* RUN with the URL form in the line, plus the never-synchronous check. */
#define RUN_HOST(name)                                                                                        \
    do {                                                                                                      \
        test_current_failed = 0;                                                                              \
        test_##name();                                                                                        \
        if (fx.sync_done) TEST_FAIL_AT("%d done callback(s) ran inside rs_http_send", fx.sync_done);          \
        if (test_current_failed) {                                                                            \
            test_failed_total++;                                                                              \
            printf("FAIL %s [%s]\n", #name, host);                                                            \
        } else {                                                                                              \
            test_passed_total++;                                                                              \
            printf("ok   %s [%s]\n", #name, host);                                                            \
        }                                                                                                     \
    } while (0)

#define RUN_CASE(name) HT_RUN_CASE(name, setup(host), teardown(), 60, RUN_HOST(name))

int main(void) {
    ht_main_init(4096); /* 500 connections, both ends in this process */
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
    have_v6 = s6 >= 0 && bind(s6, (struct sockaddr *)&a6, sizeof a6) == 0;
    if (s6 >= 0) close(s6);

    const char *hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    int nhosts = have_v6 ? 3 : 2;
    for (int h = 0; h < nhosts; h++) {
        const char *host = hosts[h];
        RUN_CASE(get_content_length);
        RUN_CASE(methods);
        RUN_CASE(keepalive_reuse);
        RUN_CASE(chunked_body);
        RUN_CASE(close_delimited_body);
        RUN_CASE(no_body_responses);
        RUN_CASE(interim_100_continue);
        RUN_CASE(large_bodies);
        RUN_CASE(error_connect_refused);
        RUN_CASE(error_timeout);
        RUN_CASE(error_too_large);
        RUN_CASE(error_transport);
        RUN_CASE(stale_keepalive_fin);
        RUN_CASE(stale_keepalive_rst);
        RUN_CASE(reused_connection_closed_before_answer_is_retried);
        RUN_CASE(cancel_in_flight);
        RUN_CASE(cancel_before_loop);
        RUN_CASE(cancel_other_from_done);
        RUN_CASE(free_with_pending);
        RUN_CASE(done_never_synchronous);
        RUN_CASE(request_is_copied);
        RUN_CASE(concurrent_500);
    }
    return TEST_SUMMARY();
}

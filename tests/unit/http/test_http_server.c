/* SPDX-License-Identifier: MIT */
/* The inbound HTTP/1.1 server (src/http/server.h) driven by raw client sockets
 * on the same event loop. The client side writes exact bytes (split, pipelined,
 * malformed, oversized) and parses the replies itself, so each case sees what
 * the server really puts on the wire: status line, framing headers, body bytes,
 * and whether the connection stays open, ends with FIN, or is reset.
 *
 * The handler chain records what the handlers saw; async handlers keep requests
 * and answer them from a timer, from an event_active callback, or from the test
 * body. The loop is only ever driven with deadlines (read_resp, WAIT_FOR,
 * run_for); alarm() guards against a hang that the deadlines cannot catch. */
#define _GNU_SOURCE /* memmem, strptime */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/server.h"
#include "http_test_util.h"
#include "test.h"

#define DEFAULT_MAX_BODY (32u * 1024 * 1024)
#define MAX_HELD 1024
#define MAX_OBS 4096

/* ------------------------------------------------------------ client side -- */

typedef struct cli {
    int fd;
    struct event *rev, *wev;
    char *in; /* everything received; `off` is where the next response starts */
    size_t in_len, in_cap, off;
    char *out; /* bytes queued for the server, written as the socket takes them */
    size_t out_len, out_off;
    int eof, reset, werr;
    int id, nsent, ndone; /* for the many-connection case */
    struct cli *next;
} cli_t;

typedef struct resp {
    int status;
    char line[256]; /* status line without CRLF */
    char *head;     /* header lines after the status line, CRLFs kept */
    char *body;
    size_t body_len;
    long clen; /* Content-Length, -1 when absent */
    struct resp *next;
} resp_t;

enum { HOLD_MANUAL, HOLD_TIMER, HOLD_KICK };

typedef struct {
    rs_http_req_t *r;
    int kind;
} held_t;

typedef struct {
    char method[16];
    const char *route;
    int status;
    int64_t latency_us;
} obs_t;

static struct {
    struct event *timer, *kick;
    rs_http_server_t *srv;
    int port;
    cli_t *clis;
    resp_t *resps;
    int timer_ms;
    /* what the handlers saw */
    int first_calls, main_calls;
    char method[16], path[512], raw_path[512], query[512], peer[64];
    int has_query;
    rs_kvlist_t args, headers;
    char *body;
    size_t body_len;
    int body_was_null;
    /* async */
    held_t held[MAX_HELD];
    int nheld;
    int closes, close_gone;
    rs_http_req_t *close_req;
    /* observer */
    obs_t obs[MAX_OBS];
    int nobs;
} fx;

static void on_cli_read(evutil_socket_t fd, short what, void *arg) {
    cli_t *c = arg;
    (void)what;
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
            c->in = realloc(c->in, c->in_cap + 1);
        }
        ssize_t n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->in[c->in_len] = '\0';
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) c->eof = 1;
        else c->reset = 1;
        event_del(c->rev);
        return;
    }
}

static void cli_flush(cli_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(c->wev, NULL);
            return;
        } else {
            c->werr = errno ? errno : EPIPE;
            event_del(c->wev);
            return;
        }
    }
    event_del(c->wev);
}

static void on_cli_write(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    cli_flush(arg);
}

static cli_t *cli_connect(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { /* loopback: completes against the backlog */
        close(fd);
        return NULL;
    }
    ht_set_nodelay(fd);
    evutil_make_socket_nonblocking(fd);
    cli_t *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->rev = event_new(ht_base, fd, EV_READ | EV_PERSIST, on_cli_read, c);
    c->wev = event_new(ht_base, fd, EV_WRITE | EV_PERSIST, on_cli_write, c);
    event_add(c->rev, NULL);
    c->next = fx.clis;
    fx.clis = c;
    return c;
}

/* Queues bytes; what the socket does not take at once goes out as the loop runs. */
static void cli_send(cli_t *c, const void *p, size_t n) {
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    c->out = realloc(c->out, c->out_len + n + 1);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    cli_flush(c);
}

static void cli_sends(cli_t *c, const char *s) { cli_send(c, s, strlen(s)); }

/* Closes the client's end; with rst, as a reset instead of a FIN. */
static void cli_close(cli_t *c, int rst) {
    if (c->fd < 0) return;
    if (rst) ht_set_rst_on_close(c->fd);
    event_del(c->rev);
    event_del(c->wev);
    close(c->fd);
    c->fd = -1;
}

/* Parses one response at c->off. Returns 1 (and *out), 0 if more bytes are needed, -1 if malformed. */
static int try_parse(cli_t *c, int head_req, resp_t **out) {
    const char *start = c->in + c->off;
    size_t avail = c->in_len - c->off;
    if (!avail) return 0;
    const char *end = memmem(start, avail, "\r\n\r\n", 4);
    if (!end) return avail > 200000 ? -1 : 0;
    size_t hlen = (size_t)(end - start) + 4;
    const char *eol = memmem(start, hlen, "\r\n", 2);
    int status = 0;
    if (strncmp(start, "HTTP/1.1 ", 9) != 0 || sscanf(start + 9, "%3d", &status) != 1 || eol - start >= 256)
        return -1;
    resp_t *r = calloc(1, sizeof *r);
    r->next = fx.resps;
    fx.resps = r;
    r->status = status;
    snprintf(r->line, sizeof r->line, "%.*s", (int)(eol - start), start);
    r->head = strndup(eol + 2, (size_t)(end + 2 - (eol + 2)));
    r->clen = head_clen(r->head);
    size_t blen = 0;
    if ((status >= 100 && status < 200) || status == 204 || status == 304 || head_req) {
        blen = 0;
    } else if (r->clen >= 0) {
        if (avail - hlen < (size_t)r->clen) return 0;
        blen = (size_t)r->clen;
    } else { /* the server always frames; read to EOF only to show what came */
        if (!c->eof && !c->reset) return 0;
        blen = avail - hlen;
    }
    r->body = malloc(blen + 1);
    memcpy(r->body, start + hlen, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    c->off += hlen + blen;
    *out = r;
    return 1;
}

/* Waits for the next response on c; NULL (with a note printed) on timeout, EOF, reset or garbage. */
static resp_t *read_resp(cli_t *c, int head_req, int ms) {
    int64_t dl = rs_now_ms() + ms;
    for (;;) {
        resp_t *r = NULL;
        int rc = try_parse(c, head_req, &r);
        if (rc == 1) return r;
        if (rc < 0 || c->eof || c->reset || rs_now_ms() >= dl) {
            printf("  no response: %s eof=%d reset=%d, %zu bytes left: %.200s\n",
                   rc < 0 ? "malformed" : "incomplete", c->eof, c->reset, c->in_len - c->off, c->in ? c->in + c->off : "");
            return NULL;
        }
        event_base_loop(ht_base, EVLOOP_ONCE);
    }
}

/* Waits until the server ends the connection: 1 for FIN, -1 for a reset, 0 at the deadline. */
static int wait_end(cli_t *c, int ms) {
    LOOP_WHILE(!c->eof && !c->reset, ms);
    return c->eof ? 1 : c->reset ? -1 : 0;
}

/* Waits until everything queued on c has been written. */
static int wait_flushed(cli_t *c, int ms) {
    LOOP_WHILE(c->out_off < c->out_len && !c->werr, ms);
    return c->out_off == c->out_len;
}

/* ------------------------------------------------------------- handlers -- */

static void observer(void *arg, const char *method, const char *route, int status, int64_t latency_us,
                     size_t req_bytes, size_t resp_bytes) {
    (void)arg;
    (void)req_bytes;
    (void)resp_bytes;
    if (fx.nobs == MAX_OBS) return;
    obs_t *o = &fx.obs[fx.nobs++];
    snprintf(o->method, sizeof o->method, "%s", method ? method : "(null)");
    o->route = route;
    o->status = status;
    o->latency_us = latency_us;
}

static void record(rs_http_req_t *r) {
    snprintf(fx.method, sizeof fx.method, "%s", r->method);
    snprintf(fx.path, sizeof fx.path, "%s", r->path);
    snprintf(fx.raw_path, sizeof fx.raw_path, "%s", r->raw_path);
    fx.has_query = r->query != NULL;
    snprintf(fx.query, sizeof fx.query, "%s", r->query ? r->query : "");
    snprintf(fx.peer, sizeof fx.peer, "%s", r->peer);
    rs_kvlist_free(&fx.args);
    rs_kvlist_free(&fx.headers);
    for (size_t i = 0; i < r->query_args.len; i++)
        rs_kvlist_add(&fx.args, r->query_args.items[i].key, r->query_args.items[i].value);
    for (size_t i = 0; i < r->headers.len; i++)
        rs_kvlist_add(&fx.headers, r->headers.items[i].key, r->headers.items[i].value);
    free(fx.body);
    fx.body_was_null = r->body == NULL;
    fx.body_len = r->body_len;
    fx.body = malloc(r->body_len + 1);
    if (r->body) memcpy(fx.body, r->body, r->body_len + 1);
}

static void hold(rs_http_req_t *r, int kind) {
    if (fx.nheld < MAX_HELD) fx.held[fx.nheld++] = (held_t){r, kind};
}

static void unhold(rs_http_req_t *r) {
    for (int i = 0; i < fx.nheld; i++)
        if (fx.held[i].r == r) {
            memmove(&fx.held[i], &fx.held[i + 1], (size_t)(fx.nheld - i - 1) * sizeof fx.held[0]);
            fx.nheld--;
            return;
        }
}

/* rs_http_reply with headers given as a NULL-terminated name, value, name, value... list. */
static void reply_with(rs_http_req_t *r, int status, const char *const *kv, const void *body, size_t len) {
    rs_kvlist_t h = {0};
    for (; kv[0]; kv += 2) rs_kvlist_add(&h, kv[0], kv[1]);
    rs_http_reply(r, status, &h, body, len);
    rs_kvlist_free(&h);
}

/* Answers every held request of `kind`, oldest first, with "async:<path>". */
static void reply_kind(int kind) {
    for (int i = 0; i < fx.nheld;) {
        if (fx.held[i].kind != kind) {
            i++;
            continue;
        }
        rs_http_req_t *r = fx.held[i].r;
        memmove(&fx.held[i], &fx.held[i + 1], (size_t)(fx.nheld - i - 1) * sizeof fx.held[0]);
        fx.nheld--;
        char body[600];
        int n = snprintf(body, sizeof body, "async:%s", r->path);
        reply_with(r, 200, (const char *[]){"X-Async", kind == HOLD_TIMER ? "timer" : "kick", NULL}, body, (size_t)n);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    reply_kind(HOLD_TIMER);
}

static void on_kick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    reply_kind(HOLD_KICK);
}

static void on_req_close(rs_http_req_t *r, void *arg) {
    (void)arg;
    fx.closes++;
    fx.close_gone = r->gone;
    fx.close_req = r;
    if (strcmp(r->path, "/hold/reply-in-close") == 0) { /* allowed: the reply then only frees r */
        unhold(r);
        rs_http_reply_empty(r, 200);
    }
}

/* First in the chain: takes only /first. */
static int h_first(rs_http_req_t *r, void *ctx) {
    (void)ctx;
    fx.first_calls++;
    if (strcmp(r->path, "/first") != 0) return 0;
    rs_http_req_set_route(r, "/first");
    static const char b[] = "first";
    rs_http_reply(r, 200, NULL, b, sizeof b - 1);
    return 1;
}

static int h_main(rs_http_req_t *r, void *ctx) {
    (void)ctx;
    if (strncmp(r->path, "/none", 5) == 0) return 0;
    fx.main_calls++;
    record(r);
    if (strncmp(r->path, "/hold", 5) == 0) {
        rs_http_req_set_route(r, "/hold");
        rs_http_req_on_close(r, on_req_close, NULL);
        hold(r, HOLD_MANUAL);
        return 1;
    }
    if (strncmp(r->path, "/async/t/", 9) == 0) {
        rs_http_req_set_route(r, "/async/t");
        hold(r, HOLD_TIMER);
        if (!evtimer_pending(fx.timer, NULL)) {
            struct timeval tv = {0, fx.timer_ms * 1000};
            evtimer_add(fx.timer, &tv);
        }
        return 1;
    }
    if (strncmp(r->path, "/async/k/", 9) == 0) {
        rs_http_req_set_route(r, "/async/k");
        hold(r, HOLD_KICK);
        event_active(fx.kick, 0, 0);
        return 1;
    }
    if (strcmp(r->path, "/status/204") == 0) {
        rs_http_reply_empty(r, 204);
        return 1;
    }
    if (strcmp(r->path, "/status/204body") == 0) { /* a body on a 204 must not reach the wire */
        rs_http_reply(r, 204, NULL, "junk", 4);
        return 1;
    }
    if (strcmp(r->path, "/status/304") == 0) {
        reply_with(r, 304, (const char *[]){"ETag", "\"v1\"", NULL}, "junk", 4);
        return 1;
    }
    if (strcmp(r->path, "/inject") == 0) {
        static const char *const h[] = {
            "X-Before", "1",
            "X-Split", "ok\r\nX-Injected: 1",
            "X-Split-Lf", "ok\nX-Injected-Lf: 1",
            "X-Split-Cr", "ok\rX-Injected-Cr: 1",
            "X-Name\r\nX-Injected-Name", "1",
            "X-Body", "x\r\n\r\nHTTP/1.1 200 OK\r\nX-Smuggled: 1\r\nContent-Length: 0",
            /* framing is the server's: these must not replace its own */
            "Content-Length", "999",
            "Transfer-Encoding", "chunked",
            "Connection", "close",
            "X-After", "2",
            NULL,
        };
        reply_with(r, 200, h, "clean", 5);
        return 1;
    }
    if (strcmp(r->path, "/echo") == 0) {
        reply_with(r, 200, (const char *[]){"Content-Type", "application/octet-stream", NULL}, r->body, r->body_len);
        return 1;
    }
    rs_http_req_set_route(r, "/main/{x}");
    char body[600];
    int n = snprintf(body, sizeof body, "%s %s", r->method, r->path);
    reply_with(r, 200, (const char *[]){"X-Handler", "main", "x-lower-reply", "MiXeD", NULL}, body, (size_t)n);
    return 1;
}

/* (Re)creates the server with max_body, listening on 127.0.0.1 on a free port. */
static int start_server(size_t max_body) {
    if (fx.srv) rs_http_server_free(fx.srv);
    fx.srv = rs_http_server_new(ht_base, max_body);
    if (!fx.srv) return -1;
    fx.port = rs_http_server_listen(fx.srv, "127.0.0.1", 0);
    if (fx.port <= 0) return -1;
    rs_http_server_add(fx.srv, h_first, NULL);
    rs_http_server_add(fx.srv, h_main, NULL);
    rs_http_server_set_observer(fx.srv, observer, NULL);
    return 0;
}

/* Declares c, a fresh connection; fails the case without one. */
#define CONNECT(c)                                                                                            \
    cli_t *c = cli_connect();                                                                                 \
    ASSERT_TRUE(c != NULL)

/* The next reply on c into r (head_req as read_resp takes it); fails the case without one. */
#define READ_RESP(r, c, head_req)                                                                             \
    do {                                                                                                      \
        (r) = read_resp((c), (head_req), 5000);                                                               \
        ASSERT_TRUE((r) != NULL);                                                                             \
    } while (0)

/* Sends the request string req on c and reads its reply into r. */
#define EXCHANGE(r, c, req)                                                                                   \
    do {                                                                                                      \
        cli_sends((c), (req));                                                                                \
        READ_RESP(r, c, 0);                                                                                   \
    } while (0)

/* r answered st with body s. */
#define ASSERT_REPLY(r, st, s)                                                                                \
    do {                                                                                                      \
        ASSERT_EQ((r)->status, (st));                                                                         \
        ASSERT_STREQ((r)->body, (s));                                                                         \
    } while (0)

/* One GET on a fresh connection answers 200: the server still serves. */
#define ASSERT_STILL_SERVES()                                                                                 \
    do {                                                                                                      \
        CONNECT(c_);                                                                                          \
        resp_t *r_;                                                                                           \
        EXCHANGE(r_, c_, "GET /alive HTTP/1.1\r\nHost: t\r\n\r\n");                                             \
        ASSERT_REPLY(r_, 200, "GET /alive");                                                                  \
        cli_close(c_, 0);                                                                                     \
    } while (0)

static int obs_find(const char *route, int status) {
    for (int i = 0; i < fx.nobs; i++)
        if ((!route || (fx.obs[i].route && strcmp(fx.obs[i].route, route) == 0)) && fx.obs[i].status == status)
            return i;
    return -1;
}

/* A JSON error reply: Content-Type and the errorCode. */
static int is_json_error(const resp_t *r, const char *code) {
    char ct[128];
    if (!head_get(r->head, "Content-Type", ct, sizeof ct, HT_RAW) || strncmp(ct, "application/json", 16) != 0) return 0;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j) return 0;
    const char *got = json_string_value(json_object_get(j, "errorCode"));
    int ok = got && (!code || strcmp(got, code) == 0) && json_is_string(json_object_get(j, "message"));
    json_decref(j);
    return ok;
}

/* ---------------------------------------------------------------- cases -- */

/* 1. GET with a query string: what the handler sees, and the reply on the wire. */
TEST(get_with_query) {
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /a%20b/c+d?x=1&y=a%20b&z=c+d&x=2 HTTP/1.1\r\n"
                   "Host: test\r\n"
                   "X-Mixed-Case: Value One\r\n"
                   "x-lower: v\r\n"
                   "X-Dup: 1\r\n"
                   "X-Dup: 2\r\n"
                   "X-Pad:   padded \t\r\n"
                   "\r\n");
    time_t now = time(NULL);

    ASSERT_EQ(fx.main_calls, 1);
    ASSERT_STREQ(fx.method, "GET");
    ASSERT_STREQ(fx.path, "/a b/c+d");
    ASSERT_STREQ(fx.raw_path, "/a%20b/c+d");
    ASSERT_TRUE(fx.has_query);
    ASSERT_STREQ(fx.query, "x=1&y=a%20b&z=c+d&x=2");
    ASSERT_EQ(fx.args.len, 4);
    ASSERT_STREQ(fx.args.items[0].key, "x");
    ASSERT_STREQ(fx.args.items[0].value, "1");
    ASSERT_STREQ(fx.args.items[1].key, "y");
    ASSERT_STREQ(fx.args.items[1].value, "a b");
    ASSERT_STREQ(fx.args.items[2].key, "z");
    ASSERT_STREQ(fx.args.items[2].value, "c d");
    ASSERT_STREQ(fx.args.items[3].key, "x");
    ASSERT_STREQ(fx.args.items[3].value, "2");
    ASSERT_STREQ(rs_kvlist_get(&fx.headers, "X-Mixed-Case"), "Value One"); /* exact case, as sent */
    ASSERT_STREQ(rs_kvlist_get(&fx.headers, "x-lower"), "v");
    ASSERT_TRUE(rs_kvlist_get(&fx.headers, "x-mixed-case") == NULL);
    ASSERT_STREQ(rs_kvlist_get(&fx.headers, "X-Pad"), "padded");
    ASSERT_STREQ(rs_kvlist_get(&fx.headers, "Host"), "test");
    int dups = 0;
    for (size_t i = 0; i < fx.headers.len; i++) dups += strcmp(fx.headers.items[i].key, "X-Dup") == 0;
    ASSERT_EQ(dups, 2);
    ASSERT_STREQ(fx.headers.items[0].key, "Host"); /* in order */
    ASSERT_STREQ(fx.peer, "127.0.0.1");
    ASSERT_EQ(fx.body_was_null, 0);
    ASSERT_EQ(fx.body_len, 0);
    /* server.h: the body is NUL-terminated, also when empty (handlers parse it as a string) */
    if (fx.body[0] != '\0') TEST_FAIL_AT("empty request body is not NUL-terminated: first byte 0x%02x", fx.body[0] & 0xff);

    ASSERT_STREQ(r->line, "HTTP/1.1 200 OK");
    ASSERT_EQ(r->clen, (long)strlen("GET /a b/c+d"));
    ASSERT_STREQ(r->body, "GET /a b/c+d");
    ASSERT_TRUE(head_has_line(r->head, "X-Handler: main"));
    ASSERT_TRUE(head_has_line(r->head, "x-lower-reply: MiXeD"));
    ASSERT_EQ(head_count(r->head, "Content-Length"), 1);
    ASSERT_EQ(head_count(r->head, "Date"), 1);
    ASSERT_EQ(head_count(r->head, "Connection"), 0); /* HTTP/1.1 keep-alive is the default */
    char date[64];
    ASSERT_TRUE(head_get(r->head, "Date", date, sizeof date, HT_RAW));
    struct tm tm = {0};
    const char *end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ASSERT_TRUE(end != NULL && *end == '\0');
    time_t t = timegm(&tm);
    ASSERT_TRUE(t >= now - 5 && t <= now + 5);
    ASSERT_EQ(c->in_len, c->off); /* nothing after the body */

    /* the same connection, no query string at all */
    EXCHANGE(r, c, "GET /plain HTTP/1.1\r\nHost: test\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /plain");
    if (fx.body[0] != '\0') TEST_FAIL_AT("empty request body is not NUL-terminated: first byte 0x%02x", fx.body[0] & 0xff);
    ASSERT_EQ(fx.has_query, 0);
    ASSERT_EQ(fx.args.len, 0);
    ASSERT_STREQ(fx.raw_path, "/plain");
}

/* 2. The handler chain, the 404 fallback, routes and the observer. */
TEST(handler_chain_and_observer) {
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /first HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_REPLY(r, 200, "first");
    ASSERT_EQ(fx.first_calls, 1);
    ASSERT_EQ(fx.main_calls, 0); /* taken: the chain stops */

    EXCHANGE(r, c, "POST /x/42 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    ASSERT_STREQ(r->body, "POST /x/42");
    ASSERT_EQ(fx.first_calls, 2); /* declined, then the second took it */
    ASSERT_EQ(fx.main_calls, 1);

    EXCHANGE(r, c, "DELETE /none/here HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_EQ(r->status, 404);
    ASSERT_STREQ(r->line, "HTTP/1.1 404 Not Found");
    ASSERT_TRUE(is_json_error(r, "ERR_NOT_FOUND"));
    ASSERT_EQ(fx.first_calls, 3);
    ASSERT_EQ(fx.main_calls, 1);

    /* async, answered 30 ms later by a timer: the latency covers the wait */
    fx.timer_ms = 30;
    EXCHANGE(r, c, "GET /async/t/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_STREQ(r->body, "async:/async/t/1");

    ASSERT_EQ(fx.nobs, 4);
    ASSERT_STREQ(fx.obs[0].method, "GET");
    ASSERT_STREQ(fx.obs[0].route, "/first");
    ASSERT_EQ(fx.obs[0].status, 200);
    ASSERT_STREQ(fx.obs[1].method, "POST");
    ASSERT_STREQ(fx.obs[1].route, "/main/{x}");
    ASSERT_EQ(fx.obs[1].status, 200);
    ASSERT_STREQ(fx.obs[2].method, "DELETE");
    ASSERT_STREQ(fx.obs[2].route, "other"); /* no route set */
    ASSERT_EQ(fx.obs[2].status, 404);
    ASSERT_STREQ(fx.obs[3].route, "/async/t");
    ASSERT_EQ(fx.obs[3].status, 200);
    for (int i = 0; i < 3; i++) ASSERT_TRUE(fx.obs[i].latency_us >= 0 && fx.obs[i].latency_us < 5000000);
    ASSERT_TRUE(fx.obs[3].latency_us >= 25000 && fx.obs[3].latency_us < 5000000);
}

/* 3. Keep-alive: reuse, Connection: close, HTTP/1.0 with and without keep-alive. */
TEST(keep_alive) {
    CONNECT(c);
    for (int i = 0; i < 3; i++) {
        char req[128], want[64];
        snprintf(req, sizeof req, "GET /ka/%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
        snprintf(want, sizeof want, "GET /ka/%d", i);
        resp_t *r;
        EXCHANGE(r, c, req);
        ASSERT_STREQ(r->body, want);
        ASSERT_EQ(head_count(r->head, "Connection"), 0);
    }
    ASSERT_EQ(c->eof, 0);
    ASSERT_EQ(fx.main_calls, 3);

    /* Connection: close is answered with Connection: close, then FIN */
    resp_t *r;
    EXCHANGE(r, c, "GET /ka/close HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /ka/close");
    ASSERT_TRUE(head_has_line(r->head, "Connection: close"));
    ASSERT_EQ(wait_end(c, 5000), 1);
    ASSERT_EQ(c->in_len, c->off);

    /* HTTP/1.0 without keep-alive: closed after the reply */
    CONNECT(c10);
    EXCHANGE(r, c10, "GET /ka/10 HTTP/1.0\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /ka/10");
    ASSERT_TRUE(r->clen == (long)strlen("GET /ka/10"));
    ASSERT_EQ(wait_end(c10, 5000), 1);

    /* HTTP/1.0 with Connection: keep-alive stays open and is told so */
    CONNECT(k10);
    for (int i = 0; i < 2; i++) {
        EXCHANGE(r, k10, "GET /ka/10k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        ASSERT_STREQ(r->body, "GET /ka/10k");
        ASSERT_TRUE(head_has_line(r->head, "Connection: keep-alive"));
    }
    run_for(50);
    ASSERT_EQ(k10->eof, 0);
    ASSERT_EQ(k10->reset, 0);
    /* and a later HTTP/1.0 request without it ends that connection */
    EXCHANGE(r, k10, "GET /ka/10end HTTP/1.0\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /ka/10end");
    ASSERT_EQ(wait_end(k10, 5000), 1);
}

static const char pipeline3[] = "GET /p/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                                "GET /p/3 HTTP/1.1\r\nHost: t\r\n\r\n";

/* Sends pre-formatted requests in one send and checks the replies' bodies, in order. */
static void pipeline_check(const char *reqs, const char *const *want, int n, size_t piece) {
    CONNECT(c);
    size_t len = strlen(reqs);
    if (!piece) {
        cli_send(c, reqs, len);
    } else { /* split at every `piece` bytes, with the loop running in between */
        for (size_t o = 0; o < len; o += piece) {
            cli_send(c, reqs + o, len - o < piece ? len - o : piece);
            ASSERT_TRUE(wait_flushed(c, 5000));
            event_base_loop(ht_base, EVLOOP_NONBLOCK);
        }
    }
    for (int i = 0; i < n; i++) {
        resp_t *r = read_resp(c, 0, 5000);
        if (!r) TEST_FAIL_AT("reply %d of %d missing", i + 1, n);
        ASSERT_TRUE(r != NULL);
        ASSERT_REPLY(r, 200, want[i]);
    }
    run_for(30);
    ASSERT_EQ(c->in_len, c->off); /* nothing more */
    ASSERT_EQ(c->eof, 0);
}

/* pipeline_check, and the case ends at its first failure. */
#define PIPELINE(reqs, want, piece)                                                                           \
    do {                                                                                                      \
        pipeline_check((reqs), (want), (int)(sizeof(want) / sizeof(want)[0]), (piece));                       \
        if (test_current_failed) return;                                                                      \
    } while (0)

/* 4. Pipelining: three requests in one send, answered in order, sync and async. */
TEST(pipelining) {
    const char *sync_want[] = {"GET /p/1", "hello", "GET /p/3"};
    PIPELINE(pipeline3, sync_want, 0);
    PIPELINE(pipeline3, sync_want, 7);

    fx.timer_ms = 10;
    const char *timer_reqs = "GET /async/t/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                             "POST /async/t/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                             "GET /async/t/3 HTTP/1.1\r\nHost: t\r\n\r\n";
    const char *timer_want[] = {"async:/async/t/1", "async:/async/t/2", "async:/async/t/3"};
    PIPELINE(timer_reqs, timer_want, 0);
    ASSERT_STREQ(fx.path, "/async/t/3");

    const char *kick_reqs = "GET /async/k/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                            "GET /async/k/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                            "GET /async/k/3 HTTP/1.1\r\nHost: t\r\n\r\n";
    const char *kick_want[] = {"async:/async/k/1", "async:/async/k/2", "async:/async/k/3"};
    PIPELINE(kick_reqs, kick_want, 0);

    const char *mixed_reqs = "GET /async/k/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /m/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /async/t/3 HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /m/4 HTTP/1.1\r\nHost: t\r\n\r\n";
    const char *mixed_want[] = {"async:/async/k/1", "GET /m/2", "async:/async/t/3", "GET /m/4"};
    PIPELINE(mixed_reqs, mixed_want, 0);
    PIPELINE(mixed_reqs, mixed_want, 5);

    /* Connection: close in the middle: the third is never answered */
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /p/a HTTP/1.1\r\nHost: t\r\n\r\n"
                   "GET /p/b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                   "GET /p/c HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /p/a");
    READ_RESP(r, c, 0);
    ASSERT_STREQ(r->body, "GET /p/b");
    ASSERT_TRUE(head_has_line(r->head, "Connection: close"));
    ASSERT_EQ(wait_end(c, 5000), 1);
    ASSERT_EQ(c->in_len, c->off);
    ASSERT_STREQ(fx.path, "/p/b");
}

/* 4b. A pipelined request larger than the server's pending-bytes bound (1 MiB), queued behind an async request:
 * the server stops reading while it waits, and must start again once the first reply is out. */
TEST(pipelined_big_body_behind_async) {
    enum { BODY = 8 * 1024 * 1024 };
    CONNECT(c);
    char head[160];
    snprintf(head, sizeof head, "GET /hold/first HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\n"
                                "Content-Length: %d\r\n\r\n", (int)BODY);
    char *body = malloc(BODY);
    fill_pattern(body, BODY, 3);
    cli_sends(c, head);
    cli_send(c, body, BODY);
    WAIT_FOR(fx.nheld == 1, 5000);
    /* let the client write until the server stops taking bytes (or everything is written) */
    int64_t dl = rs_now_ms() + 5000;
    size_t last = (size_t)-1;
    while (c->out_off < c->out_len && rs_now_ms() < dl) {
        last = c->out_off;
        run_for(100);
        if (c->out_off == last) break;
    }
    rs_http_req_t *first = fx.held[0].r;
    unhold(first);
    rs_http_reply(first, 200, NULL, "one", 3);
    resp_t *r = read_resp(c, 0, 10000);
    ASSERT_TRUE(r != NULL);
    ASSERT_STREQ(r->body, "one");
    r = read_resp(c, 0, 15000);
    if (!r) {
        TEST_FAIL_AT("second reply missing: client wrote %zu of %zu bytes, server answered nothing", c->out_off,
                     c->out_len);
        free(body);
        return;
    }
    ASSERT_EQ(r->body_len, BODY);
    int same = memcmp(r->body, body, BODY) == 0;
    free(body);
    ASSERT_TRUE(same);
}

/* 5. Bodies: 1 MiB Content-Length, chunked, Expect: 100-continue. */
TEST(bodies) {
    enum { MIB = 1024 * 1024 };
    char *big = malloc(MIB);
    fill_pattern(big, MIB, 11);
    CONNECT(c);
    char head[128];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", MIB);
    cli_sends(c, head);
    cli_send(c, big, MIB);
    resp_t *r = read_resp(c, 0, 15000);
    int ok = r && fx.body_len == MIB && memcmp(fx.body, big, MIB) == 0 && r->body_len == MIB &&
             memcmp(r->body, big, MIB) == 0;
    free(big);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(fx.body_len, MIB);
    ASSERT_EQ(r->body_len, MIB);
    ASSERT_TRUE(ok);
    ASSERT_EQ(fx.body[MIB], '\0'); /* NUL-terminated */

    /* chunked, with an extension and a trailer, arriving in small pieces */
    static const char chunked[] = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n"
                                  "1;ext=1\r\n,\r\n"
                                  "B\r\n 0123456789\r\n"
                                  "0\r\nX-Trailer: t\r\n\r\n";
    for (size_t o = 0; o < sizeof chunked - 1; o += 9) {
        cli_send(c, chunked + o, sizeof chunked - 1 - o < 9 ? sizeof chunked - 1 - o : 9);
        event_base_loop(ht_base, EVLOOP_NONBLOCK);
    }
    READ_RESP(r, c, 0);
    ASSERT_EQ(fx.body_len, 17);
    ASSERT_STREQ(fx.body, "hello, 0123456789");
    ASSERT_STREQ(r->body, "hello, 0123456789");

    /* Expect: 100-continue: the interim reply comes before the body is sent */
    int calls = fx.main_calls;
    EXCHANGE(r, c, "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
    ASSERT_STREQ(r->line, "HTTP/1.1 100 Continue");
    ASSERT_EQ(fx.main_calls, calls);
    EXCHANGE(r, c, "hello world");
    ASSERT_REPLY(r, 200, "hello world");
    ASSERT_STREQ(fx.method, "PUT");
    run_for(20);
    ASSERT_EQ(c->in_len, c->off); /* one 100, not two */
    ASSERT_EQ(c->eof, 0);
}

/* Sends raw bytes on a fresh connection and returns the reply to them; the connection then ends with FIN. */
static resp_t *reject_roundtrip(const void *bytes, size_t len, int head_req, int *ended) {
    cli_t *c = cli_connect();
    if (!c) return NULL;
    cli_send(c, bytes, len);
    resp_t *r = read_resp(c, head_req, 10000);
    *ended = wait_end(c, 10000);
    if (!wait_flushed(c, 1) && !c->werr) *ended = 2; /* the server stopped reading before all was sent */
    if (c->werr) printf("  send failed: %s\n", strerror(c->werr));
    return r;
}

/* 6. Limits and malformed requests: each is answered, the connection ends cleanly, the server goes on. */
TEST(limits) {
    ASSERT_EQ(start_server(1024), 0);
    int ended = 0;
    char buf[4096];

    /* at the limit: fine, both framings */
    char body[4096];
    memset(body, 'b', sizeof body);
    int n = snprintf(buf, sizeof buf, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n");
    memcpy(buf + n, body, 1024);
    CONNECT(c);
    cli_send(c, buf, (size_t)n + 1024);
    resp_t *r;
    READ_RESP(r, c, 0);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->body_len, 1024);
    n = snprintf(buf, sizeof buf, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n");
    memcpy(buf + n, body, 1024);
    n += 1024;
    n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n0\r\n\r\n");
    cli_send(c, buf, (size_t)n);
    READ_RESP(r, c, 0);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->body_len, 1024);
    int calls = fx.main_calls;

    /* 2048-byte Content-Length body, all of it sent: 413, readable, then FIN (not a reset) */
    n = snprintf(buf, sizeof buf, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n");
    memcpy(buf + n, body, 2048);
    r = reject_roundtrip(buf, (size_t)n + 2048, 0, &ended);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(r->status, 413);
    ASSERT_TRUE(is_json_error(r, NULL));
    ASSERT_TRUE(head_has_line(r->head, "Connection: close"));
    ASSERT_EQ(ended, 1);
    ASSERT_STILL_SERVES();

    /* a much larger body in flight when the 413 goes out: still a readable reply, not a reset */
    {
        size_t big = 512 * 1024;
        char *p = malloc(big + 200);
        int h = snprintf(p, 200, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", big);
        memset(p + h, 'x', big);
        r = reject_roundtrip(p, (size_t)h + big, 0, &ended);
        free(p);
        ASSERT_TRUE(r != NULL);
        ASSERT_EQ(r->status, 413);
        ASSERT_EQ(ended, 1);
    }

    /* Expect: 100-continue over the limit: 413 and no 100 */
    static const char expect_big[] = "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n";
    r = reject_roundtrip(expect_big, sizeof expect_big - 1, 0, &ended);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(r->status, 413);

    /* chunked over the limit */
    n = snprintf(buf, sizeof buf, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 4; i++) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "200\r\n");
        memcpy(buf + n, body, 512);
        n += 512;
        n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "0\r\n\r\n");
    r = reject_roundtrip(buf, (size_t)n, 0, &ended);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(r->status, 413);
    ASSERT_TRUE(is_json_error(r, NULL));
    ASSERT_EQ(ended, 1);
    ASSERT_STILL_SERVES();

    /* headers over 64 KiB: one huge value, many medium ones, a huge URL */
    size_t hcap = 200 * 1024;
    char *hb = malloc(hcap);
    for (int variant = 0; variant < 4; variant++) {
        size_t o = 0;
        if (variant == 2) {
            o += (size_t)snprintf(hb, hcap, "GET /");
            memset(hb + o, 'u', 70 * 1024);
            o += 70 * 1024;
            o += (size_t)snprintf(hb + o, hcap - o, " HTTP/1.1\r\nHost: t\r\n\r\n");
        } else {
            o += (size_t)snprintf(hb, hcap, "GET /big HTTP/1.1\r\nHost: t\r\n");
            if (variant == 0 || variant == 3) { /* one value of 70 KiB, or 150 KiB (past http-parser's own cap) */
                size_t vlen = variant == 0 ? 70 * 1024 : 150 * 1024;
                o += (size_t)snprintf(hb + o, hcap - o, "X-Big: ");
                memset(hb + o, 'v', vlen);
                o += vlen;
                o += (size_t)snprintf(hb + o, hcap - o, "\r\n");
            } else { /* 18 headers of ~3.8 KiB: each small, together over 64 KiB, under 80 KiB */
                for (int i = 0; i < 18; i++) {
                    o += (size_t)snprintf(hb + o, hcap - o, "X-H%d: ", i);
                    memset(hb + o, 'h', 3800);
                    o += 3800;
                    o += (size_t)snprintf(hb + o, hcap - o, "\r\n");
                }
            }
            o += (size_t)snprintf(hb + o, hcap - o, "\r\n");
        }
        r = reject_roundtrip(hb, o, 0, &ended);
        if (!r) TEST_FAIL_AT("no reply to oversized headers, variant %d", variant);
        if (r && r->status != 431 && r->status != 400 && r->status != 414)
            TEST_FAIL_AT("oversized headers, variant %d: status %d", variant, r->status);
        if (ended != 1) TEST_FAIL_AT("oversized headers, variant %d: connection end %d", variant, ended);
    }
    free(hb); /* a failure above is kept; the remaining limits are still checked */
    ASSERT_STILL_SERVES();

    /* methods the server does not serve */
    const char *bad_methods[] = {"TRACE / HTTP/1.1\r\nHost: t\r\n\r\n",
                                 "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                                 "PROPFIND / HTTP/1.1\r\nHost: t\r\n\r\n"};
    for (int i = 0; i < 3; i++) {
        r = reject_roundtrip(bad_methods[i], strlen(bad_methods[i]), 0, &ended);
        if (!r || (r->status != 405 && r->status != 400)) {
            TEST_FAIL_AT("%.20s: status %d", bad_methods[i], r ? r->status : -1);
            return;
        }
        ASSERT_TRUE(is_json_error(r, NULL));
        ASSERT_EQ(ended, 1);
    }
    ASSERT_STILL_SERVES();

    /* garbage: 400 with a JSON error */
    /* the first starts like "HEAD": the 400 must still carry its body */
    const char *garbage[] = {"HELLO THERE\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nbad header line\r\n\r\n",
                             "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                             "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                             /* one element split over two lines: the parentheses say so (clang's -Wstring-concatenation) */
                             ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\n\r\n")};
    for (int i = 0; i < (int)(sizeof garbage / sizeof garbage[0]); i++) {
        r = reject_roundtrip(garbage[i], strlen(garbage[i]), 0, &ended);
        if (!r || r->status != 400) { /* a failure is kept; the other inputs are still tried */
            TEST_FAIL_AT("garbage %d: no complete 400 reply (status %d)", i, r ? r->status : -1);
            continue;
        }
        if (!is_json_error(r, NULL)) TEST_FAIL_AT("garbage %d: not a JSON error: %s", i, r->body);
        if (ended != 1) TEST_FAIL_AT("garbage %d: connection end %d", i, ended);
    }
    ASSERT_EQ(fx.main_calls, calls + 4); /* only the ASSERT_STILL_SERVES requests reached the handlers */
    ASSERT_STILL_SERVES();
}

/* 7. HEAD gets Content-Length without the body; 204 and 304 get neither; the connection goes on. */
TEST(head_and_bodyless) {
    CONNECT(c);
    /* pipelined, so any stray body byte would be read as the start of the next reply */
    cli_sends(c, "HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /status/204 HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /status/204body HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /status/304 HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    resp_t *r;
    READ_RESP(r, c, 1);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->clen, (long)strlen("HEAD /h"));
    ASSERT_STREQ(fx.obs[0].method, "HEAD");
    for (int i = 0; i < 3; i++) {
        READ_RESP(r, c, 0);
        ASSERT_EQ(r->status, i < 2 ? 204 : 304);
        ASSERT_EQ(head_count(r->head, "Content-Length"), 0);
        ASSERT_EQ(head_count(r->head, "Transfer-Encoding"), 0);
        if (i == 2) ASSERT_TRUE(head_has_line(r->head, "ETag: \"v1\""));
    }
    READ_RESP(r, c, 0);
    ASSERT_REPLY(r, 200, "GET /after");
    run_for(30);
    ASSERT_EQ(c->in_len, c->off);
    ASSERT_EQ(c->eof, 0);

    /* a HEAD to a 404 (JSON body) is framed the same way */
    cli_sends(c, "HEAD /none HTTP/1.1\r\nHost: t\r\n\r\nGET /after2 HTTP/1.1\r\nHost: t\r\n\r\n");
    READ_RESP(r, c, 1);
    ASSERT_EQ(r->status, 404);
    ASSERT_TRUE(r->clen > 0);
    READ_RESP(r, c, 0);
    ASSERT_STREQ(r->body, "GET /after2");
}

/* 8. The client hangs up while a handler holds its request. */
TEST(async_hangup) {
    for (int variant = 0; variant < 3; variant++) { /* FIN, reset, reply from inside on_close */
        fx.closes = 0;
        fx.nobs = 0;
        CONNECT(c);
        cli_sends(c, variant == 2 ? "GET /hold/reply-in-close HTTP/1.1\r\nHost: t\r\n\r\n"
                                  : "GET /hold/x HTTP/1.1\r\nHost: t\r\n\r\n");
        WAIT_FOR(fx.nheld == 1, 5000);
        rs_http_req_t *req = fx.held[0].r;
        ASSERT_EQ(req->gone, 0);
        run_for(20);
        ASSERT_EQ(fx.closes, 0); /* nothing happens while the client waits */
        ASSERT_EQ(fx.nobs, 0);
        cli_close(c, variant == 1);
        WAIT_FOR(fx.closes >= 1, 5000);
        run_for(20);
        ASSERT_EQ(fx.closes, 1);
        ASSERT_EQ(fx.close_gone, 1);
        ASSERT_TRUE(fx.close_req == req);
        if (variant < 2) {
            ASSERT_EQ(req->gone, 1);
            ASSERT_EQ(fx.nobs, 0);
            unhold(req);
            rs_http_reply(req, 200, NULL, "late", 4); /* only frees it */
        } else {
            ASSERT_EQ(fx.nheld, 0);
        }
        ASSERT_EQ(fx.nobs, 1);
        ASSERT_EQ(obs_find("/hold", 499), 0);
        ASSERT_STREQ(fx.obs[0].method, "GET");
        run_for(20);
        ASSERT_EQ(fx.closes, 1);
    }
    /* a pipelined request behind the held one does not outlive the hang-up either */
    fx.closes = 0;
    int calls = fx.main_calls;
    CONNECT(c);
    cli_sends(c, "GET /hold/p HTTP/1.1\r\nHost: t\r\n\r\nGET /behind HTTP/1.1\r\nHost: t\r\n\r\n");
    WAIT_FOR(fx.nheld == 1, 5000);
    cli_close(c, 0);
    WAIT_FOR(fx.closes == 1, 5000);
    rs_http_req_t *req = fx.held[0].r;
    unhold(req);
    rs_http_reply_empty(req, 204);
    run_for(30);
    ASSERT_EQ(fx.main_calls, calls + 1);
    ASSERT_STILL_SERVES();
}

/* 9. The server is freed while a handler holds a request. */
TEST(free_with_pending) {
    CONNECT(c);
    cli_sends(c, "GET /hold/free HTTP/1.1\r\nHost: t\r\n\r\n");
    WAIT_FOR(fx.nheld == 1, 5000);
    rs_http_req_t *req = fx.held[0].r;
    int nobs = fx.nobs;
    rs_http_server_free(fx.srv);
    fx.srv = NULL;
    ASSERT_EQ(fx.closes, 1);
    ASSERT_EQ(fx.close_gone, 1);
    ASSERT_EQ(req->gone, 1);
    unhold(req);
    rs_http_reply(req, 200, NULL, "late", 4); /* must not touch the freed server */
    ASSERT_EQ(fx.nobs, nobs);
    ASSERT_EQ(wait_end(c, 5000) != 0, 1); /* the client sees its connection end */
    ASSERT_EQ(c->in_len, 0);
}

/* 9b. As 9, but the client had already hung up before the server was freed: the request is gone, its
 * connection already closed, and the handler replies only after the server is freed. */
TEST(free_after_hangup_with_pending) {
    CONNECT(c);
    cli_sends(c, "GET /hold/free2 HTTP/1.1\r\nHost: t\r\n\r\n");
    WAIT_FOR(fx.nheld == 1, 5000);
    rs_http_req_t *req = fx.held[0].r;
    cli_close(c, 0);
    WAIT_FOR(fx.closes == 1, 5000);
    ASSERT_EQ(req->gone, 1);
    int nobs = fx.nobs;
    rs_http_server_free(fx.srv);
    fx.srv = NULL;
    ASSERT_EQ(fx.closes, 1);
    unhold(req);
    rs_http_reply(req, 200, NULL, "late", 4); /* must not touch the freed server (observer, stats) */
    if (fx.nobs != nobs)
        TEST_FAIL_AT("the observer of the freed server ran for a reply after rs_http_server_free (status %d)",
                     fx.obs[fx.nobs - 1].status);
    ASSERT_EQ(fx.nobs, nobs);
}

/* 10. A handler header that would split the reply is left out. */
TEST(header_injection) {
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /inject HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_REPLY(r, 200, "clean");
    ASSERT_TRUE(head_has_line(r->head, "X-Before: 1"));
    ASSERT_TRUE(head_has_line(r->head, "X-After: 2"));
    ASSERT_TRUE(strstr(r->head, "Injected") == NULL);
    ASSERT_TRUE(strstr(r->head, "Smuggled") == NULL);
    ASSERT_TRUE(strstr(r->head, "X-Name") == NULL);
    ASSERT_EQ(head_count(r->head, "Content-Length"), 1);
    ASSERT_TRUE(head_has_line(r->head, "Content-Length: 5"));
    ASSERT_EQ(head_count(r->head, "Transfer-Encoding"), 0);
    ASSERT_EQ(head_count(r->head, "Connection"), 0);
    /* every line of the head is "Name: value" with no bare CR or LF */
    for (const char *p = r->head; *p;) {
        const char *e = strstr(p, "\r\n");
        ASSERT_TRUE(e != NULL);
        if (e == p) break;
        ASSERT_TRUE(memchr(p, ':', (size_t)(e - p)) != NULL);
        ASSERT_TRUE(memchr(p, '\n', (size_t)(e - p)) == NULL && memchr(p, '\r', (size_t)(e - p)) == NULL);
        p = e + 2;
    }
    run_for(30);
    ASSERT_EQ(c->in_len, c->off);
    ASSERT_EQ(c->eof, 0); /* the handler's Connection: close did not end it */
    EXCHANGE(r, c, "GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_STREQ(r->body, "GET /next");
}

/* 11. 300 connections at once, each making 3 requests in turn, a third of them answered by timer and a
 * third by event_active. */
TEST(concurrent_300) {
    enum { N = 300, PER = 3 };
    fx.timer_ms = 2;
    cli_t *cs[N];
    for (int i = 0; i < N; i++) {
        cs[i] = cli_connect();
        ASSERT_TRUE(cs[i] != NULL);
        cs[i]->id = i;
    }
    static const char *kinds[] = {"/c", "/async/t", "/async/k"};
    for (int i = 0; i < N; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET %s/%d/0 HTTP/1.1\r\nHost: t\r\n\r\n", kinds[i % 3], i);
        cli_sends(cs[i], req);
        cs[i]->nsent = 1;
    }
    int done = 0;
    int64_t dl = rs_now_ms() + 30000;
    while (done < N * PER) {
        if (rs_now_ms() >= dl) {
            TEST_FAIL_AT("timed out: %d of %d replies", done, N * PER);
            return;
        }
        event_base_loop(ht_base, EVLOOP_ONCE);
        for (int i = 0; i < N; i++) {
            cli_t *c = cs[i];
            resp_t *r = NULL;
            int rc;
            while ((rc = try_parse(c, 0, &r)) == 1) {
                char want[128];
                snprintf(want, sizeof want, "%s%s/%d/%d", i % 3 == 0 ? "GET " : "async:", kinds[i % 3], i, c->ndone);
                if (r->status != 200 || strcmp(r->body, want) != 0) {
                    TEST_FAIL_AT("conn %d reply %d: %d %s (want %s)", i, c->ndone, r->status, r->body, want);
                    return;
                }
                c->ndone++;
                done++;
                if (c->nsent < PER) {
                    char req[128];
                    snprintf(req, sizeof req, "GET %s/%d/%d HTTP/1.1\r\nHost: t\r\n\r\n", kinds[i % 3], i, c->nsent);
                    cli_sends(c, req);
                    c->nsent++;
                }
            }
            if (rc < 0 || c->eof || c->reset || c->werr) {
                TEST_FAIL_AT("conn %d: rc %d eof %d reset %d werr %d after %d replies", i, rc, c->eof, c->reset,
                             c->werr, c->ndone);
                return;
            }
        }
    }
    ASSERT_EQ(fx.main_calls, N * PER);
    ASSERT_EQ(fx.nobs, N * PER);
    ASSERT_EQ(fx.nheld, 0);
    for (int i = 0; i < N; i++) ASSERT_EQ(cs[i]->in_len, cs[i]->off);
}

/* What the request line may hold: query keys are decoded as values are; a NUL byte (%00) in the path or the
 * query, or a malformed escape in the path, is refused with 400 before any handler sees it; an error message
 * quoting bytes that are not UTF-8 still has its JSON body and errorCode. */
TEST(request_line_encoding) {
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /q?a%20b=c+d&e%3D=%3D&bad=%zz&k HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(fx.args.len, 3);
    ASSERT_STREQ(fx.args.items[0].key, "a b");
    ASSERT_STREQ(fx.args.items[0].value, "c d");
    ASSERT_STREQ(fx.args.items[1].key, "e=");
    ASSERT_STREQ(fx.args.items[1].value, "=");
    ASSERT_STREQ(fx.args.items[2].key, "k");
    ASSERT_STREQ(fx.args.items[2].value, "");
    int calls = fx.main_calls;
    const char *refused[] = {"GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n", "GET /q?k%00=v HTTP/1.1\r\nHost: t\r\n\r\n",
                             "GET /q?k=v%00w HTTP/1.1\r\nHost: t\r\n\r\n", "GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        EXCHANGE(r, c, refused[i]);
        ASSERT_EQ(r->status, 400);
        ASSERT_TRUE(is_json_error(r, "ERR_MALFORMED_REQUEST"));
    }
    ASSERT_EQ(fx.main_calls, calls);
    EXCHANGE(r, c, "GET /none%FF%FE HTTP/1.1\r\nHost: t\r\n\r\n"); /* 404 quoting the path */
    ASSERT_EQ(r->status, 404);
    ASSERT_TRUE(is_json_error(r, "ERR_NOT_FOUND"));
    ASSERT_TRUE(strstr(r->body, "/none\xef\xbf\xbd\xef\xbf\xbd") != NULL);
}

/* ------------------------------------------------- limits and deadlines -- */

/* Restarts the server with short deadlines (and a connection cap) for the cases below. */
static int start_with_limits(int max_conns, int header_ms, int body_ms, int idle_ms) {
    if (start_server(DEFAULT_MAX_BODY) != 0) return -1;
    rs_http_limits_t l = {.max_connections = max_conns, .header_timeout_ms = header_ms, .body_timeout_ms = body_ms,
                          .idle_timeout_ms = idle_ms};
    rs_http_server_set_limits(fx.srv, &l);
    return 0;
}

/* A client that trickles its headers a byte at a time cannot hold the connection past the header deadline,
 * however often bytes arrive; one that sends nothing is closed at the same deadline, without a reply. */
TEST(header_deadline) {
    ASSERT_EQ(start_with_limits(100, 300, 5000, 60000), 0);
    CONNECT(slow);
    CONNECT(silent);
    const char *req = "GET /alive HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    int64_t start = rs_now_ms();
    for (size_t i = 0; req[i] && !slow->eof && rs_now_ms() - start < 3000; i++) {
        cli_send(slow, req + i, 1);
        run_for(40); /* the trickle itself: a byte every 40 ms keeps any per-byte timer alive */
    }
    resp_t *r;
    READ_RESP(r, slow, 0);
    ASSERT_EQ(r->status, 408);
    ASSERT_TRUE(is_json_error(r, "ERR_REQUEST_TIMEOUT"));
    ASSERT_EQ(wait_end(slow, 2000), 1);
    ASSERT_TRUE(rs_now_ms() - start < 2500);
    ASSERT_EQ(wait_end(silent, 2000), 1);
    ASSERT_EQ(silent->in_len, 0); /* closed without a reply */
    ASSERT_EQ(fx.main_calls, 0);
    ASSERT_STILL_SERVES();
}

/* The body has its own deadline from the end of the headers. */
TEST(body_deadline) {
    ASSERT_EQ(start_with_limits(100, 5000, 300, 60000), 0);
    CONNECT(c);
    cli_sends(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
    resp_t *r;
    READ_RESP(r, c, 0);
    ASSERT_EQ(r->status, 408);
    ASSERT_TRUE(is_json_error(r, "ERR_REQUEST_TIMEOUT"));
    ASSERT_EQ(wait_end(c, 2000), 1);
    ASSERT_EQ(fx.main_calls, 0);
    ASSERT_STILL_SERVES();
}

/* A keep-alive connection with no next request is closed after the idle deadline; a request in progress
 * with a handler is never cut by it. */
TEST(idle_deadline) {
    ASSERT_EQ(start_with_limits(100, 5000, 5000, 300), 0);
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "GET /alive HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_EQ(r->status, 200);
    int64_t t0 = rs_now_ms();
    ASSERT_EQ(wait_end(c, 3000), 1);
    ASSERT_TRUE(rs_now_ms() - t0 >= 250);
    CONNECT(held);
    cli_sends(held, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    WAIT_FOR(fx.nheld == 1, 2000);
    run_for(700); /* past both deadlines: the held request's connection stays */
    ASSERT_EQ(held->eof, 0);
    rs_http_req_t *hr = fx.held[0].r;
    unhold(hr);
    rs_http_reply_empty(hr, 204);
    READ_RESP(r, held, 0);
    ASSERT_EQ(r->status, 204);
}

/* At the connection cap the listener pauses: further clients wait in the kernel's queue (no reset) and are
 * served once a connection closes. */
TEST(connection_cap) {
    ASSERT_EQ(start_with_limits(4, 60000, 60000, 60000), 0);
    cli_t *open_[4];
    for (int i = 0; i < 4; i++) {
        open_[i] = cli_connect();
        ASSERT_TRUE(open_[i] != NULL);
    }
    WAIT_FOR(rs_http_server_connections(fx.srv) == 4, 2000);
    CONNECT(late);
    cli_sends(late, "GET /alive HTTP/1.1\r\nHost: t\r\n\r\n");
    run_for(300);
    ASSERT_EQ(rs_http_server_connections(fx.srv), 4);
    ASSERT_EQ(late->in_len, 0);
    ASSERT_EQ(late->reset, 0);
    cli_close(open_[0], 0);
    resp_t *r;
    READ_RESP(r, late, 0);
    ASSERT_REPLY(r, 200, "GET /alive");
}

static long cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L;
}

/* Out of descriptors, a pending connection makes accept() fail at once, every time the listener is woken: the
 * server must back off instead of spinning, and serve the waiting clients once descriptors are free again. */
TEST(accept_backoff_out_of_fds) {
    CONNECT(waiting);
    cli_sends(waiting, "GET /alive HTTP/1.1\r\nHost: t\r\n\r\n");
    int lowest = dup(0); /* the lowest free descriptor: a limit at it makes the next accept() fail EMFILE */
    ASSERT_TRUE(lowest >= 0);
    close(lowest);
    struct rlimit saved, tight;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    tight = saved;
    tight.rlim_cur = (rlim_t)lowest;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
    long cpu0 = cpu_ms();
    run_for(600);
    long spent = cpu_ms() - cpu0;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
    printf("  600 ms out of descriptors: %ld ms of CPU\n", spent);
    ASSERT_TRUE(spent < 300); /* a spinning accept loop takes the whole 600 ms */
    ASSERT_EQ(waiting->in_len, 0);
    resp_t *r;
    READ_RESP(r, waiting, 0); /* served after the back-off (at most ACCEPT_BACKOFF_MAX_MS) */
    ASSERT_REPLY(r, 200, "GET /alive");
}

/* Only "chunked" is decoded; any other transfer coding is 501 (RFC 9112 §6.1), never handed on still coded. */
TEST(transfer_codings) {
    int ended = 0;
    const char *reqs[] = {
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        resp_t *r = reject_roundtrip(reqs[i], strlen(reqs[i]), 0, &ended);
        ASSERT_TRUE(r != NULL);
        ASSERT_EQ(r->status, 501);
        ASSERT_TRUE(is_json_error(r, "ERR_NOT_IMPLEMENTED"));
    }
    CONNECT(c);
    resp_t *r;
    EXCHANGE(r, c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n");
    ASSERT_REPLY(r, 200, "ok");
    ASSERT_EQ(fx.main_calls, 1);
}

/* ----------------------------------------------------------------- main -- */

static int setup(void) {
    memset(&fx, 0, sizeof fx);
    ht_loop_new();
    fx.timer = evtimer_new(ht_base, on_timer, NULL);
    fx.kick = event_new(ht_base, -1, 0, on_kick, NULL);
    fx.timer_ms = 5;
    return start_server(DEFAULT_MAX_BODY);
}

static void teardown(void) {
    /* held requests are answered (and so freed) while the server still exists */
    while (fx.nheld) {
        rs_http_req_t *r = fx.held[0].r;
        unhold(r);
        rs_http_reply_empty(r, 503);
    }
    if (fx.srv) rs_http_server_free(fx.srv);
    while (fx.clis) {
        cli_t *c = fx.clis;
        fx.clis = c->next;
        cli_close(c, 0);
        event_free(c->rev);
        event_free(c->wev);
        free(c->in);
        free(c->out);
        free(c);
    }
    while (fx.resps) {
        resp_t *r = fx.resps;
        fx.resps = r->next;
        free(r->head);
        free(r->body);
        free(r);
    }
    rs_kvlist_free(&fx.args);
    rs_kvlist_free(&fx.headers);
    free(fx.body);
    event_free(fx.timer);
    event_free(fx.kick);
    ht_loop_free();
}

#define RUN_CASE(name) HT_RUN_CASE(name, setup(), teardown(), 90, RUN(name))

int main(void) {
    ht_main_init(2048); /* 300 connections, both ends in this process */
    RUN_CASE(get_with_query);
    RUN_CASE(handler_chain_and_observer);
    RUN_CASE(keep_alive);
    RUN_CASE(pipelining);
    RUN_CASE(pipelined_big_body_behind_async);
    RUN_CASE(bodies);
    RUN_CASE(limits);
    RUN_CASE(head_and_bodyless);
    RUN_CASE(async_hangup);
    RUN_CASE(free_with_pending);
    RUN_CASE(header_injection);
    RUN_CASE(concurrent_300);
    RUN_CASE(request_line_encoding);
    RUN_CASE(header_deadline);
    RUN_CASE(body_deadline);
    RUN_CASE(idle_deadline);
    RUN_CASE(connection_cap);
    RUN_CASE(accept_backoff_out_of_fds);
    RUN_CASE(transfer_codings);
    RUN_CASE(free_after_hangup_with_pending); /* last: under ASan a use-after-free here ends the run */
    return TEST_SUMMARY();
}

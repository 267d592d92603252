/* SPDX-License-Identifier: MIT */
/* The fault proxy: connections are pairs of bufferevents; every byte read from
 * one side becomes a chunk in that direction's queue with a release time, and
 * one timer per direction writes chunks out when they are due. Latency and
 * bandwidth only move release times, so byte order is always preserved.
 *
 * The two directions end independently, as TCP's do (and Toxiproxy's): when one
 * side sends FIN, everything it sent is delivered, then the proxy shuts down its
 * write side towards the other peer, whose reply still flows back. The
 * connection is freed once both directions have ended, or at once on an error
 * (reset), a timeout/reset_peer toxic or a partition. */
#include "tools/ripstop/chaos_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json_util.h"
#include "core/log.h"
#include "core/str.h"
#include "http/server.h"

#define NAME_MAX_LEN 128
#define MAX_QUEUED (4u << 20)  /* bytes held per direction before we stop reading the source */
#define HELD INT64_MAX         /* release time of data held by a timeout toxic */

enum toxic_type { T_LATENCY, T_BANDWIDTH, T_TIMEOUT, T_RESET, T_SLICER, T_NTYPES };
static const char *const type_names[] = {"latency", "bandwidth", "timeout", "reset_peer", "slicer"};

struct toxic {
    char name[NAME_MAX_LEN];
    enum toxic_type type;
    int downstream;
    double toxicity;
    long long latency, jitter, rate, timeout;
    long long average_size, size_variation, delay; /* slicer: bytes, bytes, microseconds */
    uint64_t id;
    int64_t added_ms;
    struct toxic *next;
};

struct chunk {
    struct chunk *next;
    int64_t release_ms;
    size_t len;
    char data[];
};

struct conn;
struct dir {
    struct conn *conn;
    int downstream;
    struct chunk *head, *tail;
    size_t queued;
    int64_t last_release;
    struct event *timer;
    int src_eof;   /* the source sent FIN */
    int done;      /* ... and it was passed on: shutdown(SHUT_WR) towards the destination */
    int paused;    /* reading from the source is stopped: too much waiting for the destination */
};

struct proxy;
struct conn {
    struct proxy *p;
    uint64_t id;
    int64_t start_ms;
    struct bufferevent *client, *server;
    struct dir up, down;
    struct event *deadline;
    int connected; /* the upstream connection is established */
    struct conn *next, *prev;
};

struct proxy {
    rs_chaos_t *c;
    char name[NAME_MAX_LEN];
    char listen_host[64];
    int listen_port;
    char upstream[300];
    struct sockaddr_storage up_addr;
    socklen_t up_len;
    int enabled;
    struct evconnlistener *lis;
    struct toxic *toxics;
    struct conn *conns;
    struct proxy *next;
};

struct rs_chaos {
    struct event_base *base;
    rs_http_server_t *api;
    struct proxy *proxies;
    uint64_t rng;
    unsigned long seed;
    uint64_t next_conn_id, next_toxic_id;
    int nconns;
};

/* ---------- helpers ---------- */

static uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static double rng_unit(rs_chaos_t *c) {
    c->rng = mix64(c->rng);
    return (double)(c->rng >> 11) / 9007199254740992.0;
}

/* Toxicity is decided per (connection, toxic) without storing anything: a hash of both ids. */
static int toxic_applies(const struct conn *cn, const struct toxic *t) {
    if (t->toxicity >= 1.0) return 1;
    if (t->toxicity <= 0.0) return 0;
    uint64_t h = mix64(cn->p->c->seed ^ mix64(cn->id) ^ (t->id << 32));
    return (double)(h >> 11) / 9007199254740992.0 < t->toxicity;
}

static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

/* Splits "host:port" / "[::1]:port" and resolves it; only loopback addresses pass. */
static int resolve_loopback(const char *hostport, struct sockaddr_storage *out, socklen_t *outlen, char *host,
                            size_t hostlen, int *port, char *err, size_t errlen) {
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1]) {
        snprintf(err, errlen, "address '%s' is not host:port", hostport);
        return -1;
    }
    char h[256];
    size_t hl = (size_t)(colon - hostport);
    if (hl >= sizeof h) {
        snprintf(err, errlen, "host too long");
        return -1;
    }
    memcpy(h, hostport, hl);
    h[hl] = 0;
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
        memmove(h, h + 1, hl - 2);
        h[hl - 2] = 0;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) {
        snprintf(err, errlen, "bad port in '%s'", hostport);
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    if (getaddrinfo(h, NULL, &hints, &res) != 0 || !res) {
        snprintf(err, errlen, "cannot resolve '%s'", h);
        return -1;
    }
    struct addrinfo *pick = NULL;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (is_loopback(a->ai_addr) && (!pick || a->ai_family == AF_INET)) pick = a;
    if (!pick) {
        freeaddrinfo(res);
        snprintf(err, errlen, "'%s' is not a loopback address (the chaos proxy is loopback only)", h);
        return -1;
    }
    memcpy(out, pick->ai_addr, pick->ai_addrlen);
    *outlen = pick->ai_addrlen;
    if (out->ss_family == AF_INET) ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)p);
    else ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)p);
    freeaddrinfo(res);
    if (host) snprintf(host, hostlen, "%s", h);
    if (port) *port = (int)p;
    return 0;
}

static struct proxy *find_proxy(rs_chaos_t *c, const char *name) {
    for (struct proxy *p = c->proxies; p; p = p->next)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

static struct toxic *find_toxic(struct proxy *p, const char *name) {
    for (struct toxic *t = p->toxics; t; t = t->next)
        if (strcmp(t->name, name) == 0) return t;
    return NULL;
}

/* ---------- connections ---------- */

static void conn_free(struct conn *cn, int reset) {
    struct proxy *p = cn->p;
    if (reset) {
        /* SO_LINGER 0 makes close() send RST instead of FIN. */
        struct linger lg = {1, 0};
        if (cn->client) setsockopt(bufferevent_getfd(cn->client), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (cn->server) setsockopt(bufferevent_getfd(cn->server), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    if (cn->client) bufferevent_free(cn->client);
    if (cn->server) bufferevent_free(cn->server);
    struct dir *dirs[2] = {&cn->up, &cn->down};
    for (int i = 0; i < 2; i++) {
        struct chunk *ch = dirs[i]->head;
        while (ch) {
            struct chunk *n = ch->next;
            free(ch);
            ch = n;
        }
        if (dirs[i]->timer) event_free(dirs[i]->timer);
    }
    if (cn->deadline) event_free(cn->deadline);
    if (cn->prev) cn->prev->next = cn->next;
    else p->conns = cn->next;
    if (cn->next) cn->next->prev = cn->prev;
    p->c->nconns--;
    free(cn);
}

static struct bufferevent *dir_src(struct dir *d) { return d->downstream ? d->conn->server : d->conn->client; }
static struct bufferevent *dir_dst(struct dir *d) { return d->downstream ? d->conn->client : d->conn->server; }

/* Once the source hung up and everything it sent was written out, passes the FIN on (shutdown of the write
 * side towards the destination); frees the connection when the other direction has ended too. Returns 1 when
 * the connection was freed. Called again from the write callback while the destination's output drains. */
static int dir_maybe_finish(struct dir *d) {
    struct conn *cn = d->conn;
    if (!d->src_eof || d->done || d->head) return 0;
    struct bufferevent *dst = dir_dst(d);
    if (evbuffer_get_length(bufferevent_get_output(dst)) > 0) return 0;
    if (dst == cn->server && !cn->connected) return 0; /* BEV_EVENT_CONNECTED calls us again */
    shutdown(bufferevent_getfd(dst), SHUT_WR);
    d->done = 1;
    struct dir *other = d == &cn->up ? &cn->down : &cn->up;
    if (!other->done) return 0;
    conn_free(cn, 0);
    return 1;
}

/* Backpressure: stop reading the source while more than MAX_QUEUED bytes wait in this direction (its queue or the
 * destination's output buffer); read again once they are down to half. */
static void dir_update_pause(struct dir *d) {
    size_t waiting = d->queued + evbuffer_get_length(bufferevent_get_output(dir_dst(d)));
    if (!d->paused && waiting > MAX_QUEUED) {
        d->paused = 1;
        bufferevent_disable(dir_src(d), EV_READ);
    } else if (d->paused && waiting <= MAX_QUEUED / 2) {
        d->paused = 0;
        if (!d->src_eof) bufferevent_enable(dir_src(d), EV_READ);
    }
}

static void dir_schedule(struct dir *d) {
    if (!d->head || d->head->release_ms == HELD) return;
    int64_t wait = d->head->release_ms - rs_now_ms();
    if (wait < 0) wait = 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
    evtimer_add(d->timer, &tv);
}

static void dir_flush(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct dir *d = arg;
    int64_t now = rs_now_ms();
    struct bufferevent *dst = dir_dst(d);
    while (d->head && d->head->release_ms <= now) {
        struct chunk *ch = d->head;
        d->head = ch->next;
        if (!d->head) d->tail = NULL;
        bufferevent_write(dst, ch->data, ch->len);
        d->queued -= ch->len;
        free(ch);
    }
    dir_update_pause(d);
    if (d->head) dir_schedule(d);
    else dir_maybe_finish(d);
}

static void enqueue(struct dir *d, const char *data, size_t len, int64_t release) {
    struct chunk *ch = rs_xmalloc(sizeof *ch + len);
    ch->next = NULL;
    ch->len = len;
    ch->release_ms = release;
    memcpy(ch->data, data, len);
    if (d->tail) d->tail->next = ch;
    else d->head = ch;
    d->tail = ch;
    d->queued += len;
    if (release != HELD && release > d->last_release) d->last_release = release;
}

/* Moves what the source sent into the direction's queue, with release times from the active toxics. */
static void dir_read(struct dir *d) {
    struct conn *cn = d->conn;
    rs_chaos_t *c = cn->p->c;
    struct evbuffer *in = bufferevent_get_input(dir_src(d));
    size_t n = evbuffer_get_length(in);
    if (n == 0) return;
    int held = 0;
    long long delay = 0, rate = 0, slice = 0, slice_var = 0, slice_delay_us = 0;
    for (struct toxic *t = cn->p->toxics; t; t = t->next) {
        if (t->downstream != d->downstream || !toxic_applies(cn, t)) continue;
        if (t->type == T_TIMEOUT) held = 1;
        else if (t->type == T_LATENCY) {
            long long j = t->jitter > 0 ? (long long)((rng_unit(c) * 2.0 - 1.0) * (double)t->jitter) : 0;
            long long v = t->latency + j;
            delay += v > 0 ? v : 0;
        } else if (t->type == T_BANDWIDTH && t->rate > 0) {
            rate = (rate == 0 || t->rate < rate) ? t->rate : rate;
        } else if (t->type == T_SLICER && t->average_size > 0) {
            slice = t->average_size;
            slice_var = t->size_variation < t->average_size ? t->size_variation : t->average_size - 1;
            slice_delay_us = t->delay;
        }
    }
    /* Fast path: nothing to do and nothing queued before us. */
    if (!held && delay == 0 && rate == 0 && slice == 0 && !d->head) {
        bufferevent_write_buffer(dir_dst(d), in);
        dir_update_pause(d);
        return;
    }
    int64_t now = rs_now_ms();
    char *buf = rs_xmalloc(n);
    evbuffer_remove(in, buf, n);
    if (held) {
        enqueue(d, buf, n, HELD);
    } else if (rate == 0 && slice == 0) {
        int64_t rel = now + delay;
        if (rel < d->last_release) rel = d->last_release;
        enqueue(d, buf, n, rel);
    } else {
        /* rate KB/s == rate bytes per ms; pieces of ~50 ms keep the output smooth. A slicer cuts pieces of
         * average_size ± size_variation bytes, each delay µs after the one before. */
        int64_t t0 = now + delay;
        if (t0 < d->last_release) t0 = d->last_release;
        double at = (double)t0;
        for (size_t off = 0; off < n;) {
            size_t len = n - off;
            if (rate > 0 && len > (size_t)(rate * 50)) len = (size_t)(rate * 50);
            if (slice > 0) {
                long long sz = slice + (slice_var > 0 ? (long long)((rng_unit(c) * 2.0 - 1.0) * (double)slice_var) : 0);
                if (sz < 1) sz = 1;
                if (len > (size_t)sz) len = (size_t)sz;
                at += (double)slice_delay_us / 1000.0;
            }
            if (len < 1) len = 1;
            if (rate > 0) at += (double)len / (double)rate;
            enqueue(d, buf + off, len, (int64_t)at);
            off += len;
        }
    }
    free(buf);
    dir_update_pause(d);
    if (!evtimer_pending(d->timer, NULL)) dir_schedule(d);
}

static void on_read(struct bufferevent *bev, void *arg) {
    struct conn *cn = arg;
    dir_read(bev == cn->client ? &cn->up : &cn->down);
}

/* bev's output drained (libevent calls this when it is empty): the direction writing into it may read again,
 * or pass its FIN on. */
static void on_write(struct bufferevent *bev, void *arg) {
    struct conn *cn = arg;
    struct dir *d = bev == cn->server ? &cn->up : &cn->down;
    dir_update_pause(d);
    dir_maybe_finish(d);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    struct conn *cn = arg;
    if (what & BEV_EVENT_CONNECTED) {
        cn->connected = 1;
        dir_maybe_finish(&cn->up); /* the client may have hung up while we were connecting */
        return;
    }
    struct dir *d = bev == cn->client ? &cn->up : &cn->down;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        dir_read(d); /* anything that came with the FIN */
        d->src_eof = 1;
        bufferevent_disable(bev, EV_READ);
        dir_maybe_finish(d);
        return;
    }
    conn_free(cn, 0); /* error: connect refused, reset, ... */
}

/* The earliest close/reset deadline from timeout and reset_peer toxics. */
static void on_deadline(evutil_socket_t fd, short what, void *arg);
static void conn_update_deadline(struct conn *cn) {
    int64_t best = INT64_MAX;
    for (struct toxic *t = cn->p->toxics; t; t = t->next) {
        if (!toxic_applies(cn, t)) continue;
        if (t->type == T_RESET || (t->type == T_TIMEOUT && t->timeout > 0)) {
            int64_t since = t->added_ms > cn->start_ms ? t->added_ms : cn->start_ms;
            int64_t dl = since + t->timeout;
            if (dl < best) best = dl;
        }
    }
    if (best == INT64_MAX) {
        evtimer_del(cn->deadline);
        return;
    }
    int64_t wait = best - rs_now_ms();
    if (wait < 0) wait = 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
    evtimer_add(cn->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct conn *cn = arg;
    /* The toxic with the earliest deadline decides how we close (the timer may fire a little early, so
     * do not compare with the clock). */
    int reset = 0;
    int64_t best = INT64_MAX;
    for (struct toxic *t = cn->p->toxics; t; t = t->next) {
        if (!toxic_applies(cn, t) || !(t->type == T_RESET || (t->type == T_TIMEOUT && t->timeout > 0))) continue;
        int64_t since = t->added_ms > cn->start_ms ? t->added_ms : cn->start_ms;
        if (since + t->timeout < best || (since + t->timeout == best && t->type == T_RESET)) {
            best = since + t->timeout;
            reset = t->type == T_RESET;
        }
    }
    conn_free(cn, reset);
}

/* Held chunks (timeout toxic, timeout 0) are released once no timeout toxic applies any more. */
static void conn_rethink(struct conn *cn) {
    struct dir *dirs[2] = {&cn->up, &cn->down};
    for (int i = 0; i < 2; i++) {
        struct dir *d = dirs[i];
        int held = 0;
        for (struct toxic *t = cn->p->toxics; t; t = t->next)
            if (t->type == T_TIMEOUT && t->downstream == d->downstream && toxic_applies(cn, t)) held = 1;
        if (held) continue;
        int64_t now = rs_now_ms();
        for (struct chunk *ch = d->head; ch; ch = ch->next)
            if (ch->release_ms == HELD) ch->release_ms = now;
        if (d->head) dir_schedule(d);
    }
    conn_update_deadline(cn);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    (void)lis;
    (void)sa;
    (void)salen;
    struct proxy *p = arg;
    rs_chaos_t *c = p->c;
    struct conn *cn = rs_xcalloc(1, sizeof *cn);
    cn->p = p;
    cn->id = ++c->next_conn_id;
    cn->start_ms = rs_now_ms();
    cn->client = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
    /* Close-on-exec, as the listener's accepted sockets (LEV_OPT_CLOSE_ON_EXEC): a process the runner starts
     * meanwhile must not hold them, or closing one here would send nothing to its peer. */
    int up_fd = socket(p->up_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    cn->server = bufferevent_socket_new(c->base, up_fd, BEV_OPT_CLOSE_ON_FREE);
    cn->up = (struct dir){.conn = cn, .downstream = 0};
    cn->down = (struct dir){.conn = cn, .downstream = 1};
    cn->up.timer = evtimer_new(c->base, dir_flush, &cn->up);
    cn->down.timer = evtimer_new(c->base, dir_flush, &cn->down);
    cn->deadline = evtimer_new(c->base, on_deadline, cn);
    cn->next = p->conns;
    if (p->conns) p->conns->prev = cn;
    p->conns = cn;
    c->nconns++;
    bufferevent_setcb(cn->client, on_read, on_write, on_event, cn);
    bufferevent_setcb(cn->server, on_read, on_write, on_event, cn);
    if (up_fd < 0 || bufferevent_socket_connect(cn->server, (struct sockaddr *)&p->up_addr, (int)p->up_len) != 0) {
        conn_free(cn, 0);
        return;
    }
    bufferevent_enable(cn->client, EV_READ | EV_WRITE);
    bufferevent_enable(cn->server, EV_READ | EV_WRITE);
    conn_update_deadline(cn);
}

/* ---------- proxies ---------- */

static void proxy_close_all(struct proxy *p) {
    while (p->conns) conn_free(p->conns, 0);
}

static int proxy_listen(struct proxy *p, char *err, size_t errlen) {
    char hp[128];
    snprintf(hp, sizeof hp, "%s:%d", p->listen_host, p->listen_port);
    struct sockaddr_storage ss;
    socklen_t len;
    if (resolve_loopback(hp, &ss, &len, NULL, 0, NULL, err, errlen) != 0) return -1;
    p->lis = evconnlistener_new_bind(p->c->base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
                                     128,
                                     (struct sockaddr *)&ss, (int)len);
    if (!p->lis) {
        snprintf(err, errlen, "cannot listen on %s: %s", hp, strerror(errno));
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(evconnlistener_get_fd(p->lis), (struct sockaddr *)&bound, &blen);
    p->listen_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                      : ((struct sockaddr_in6 *)&bound)->sin6_port);
    return 0;
}

static void proxy_set_enabled(struct proxy *p, int on) {
    char err[256];
    if (on && !p->lis) {
        if (proxy_listen(p, err, sizeof err) != 0) RS_WARN("chaos", "proxy %s: %s", p->name, err);
    } else if (!on && p->lis) {
        evconnlistener_free(p->lis);
        p->lis = NULL;
        proxy_close_all(p);
    }
    p->enabled = on;
}

static json_t *toxic_json(const struct toxic *t) {
    json_t *attrs = json_object();
    switch (t->type) {
    case T_LATENCY:
        json_object_set_new(attrs, "latency", json_integer(t->latency));
        json_object_set_new(attrs, "jitter", json_integer(t->jitter));
        break;
    case T_BANDWIDTH: json_object_set_new(attrs, "rate", json_integer(t->rate)); break;
    case T_TIMEOUT:
    case T_RESET: json_object_set_new(attrs, "timeout", json_integer(t->timeout)); break;
    case T_SLICER:
        json_object_set_new(attrs, "average_size", json_integer(t->average_size));
        json_object_set_new(attrs, "size_variation", json_integer(t->size_variation));
        json_object_set_new(attrs, "delay", json_integer(t->delay));
        break;
    case T_NTYPES: break;
    }
    return json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", t->name, "type", type_names[t->type], "stream",
                     t->downstream ? "downstream" : "upstream", "toxicity", t->toxicity, "attributes", attrs);
}

static json_t *proxy_json(const struct proxy *p) {
    json_t *toxics = json_array();
    for (const struct toxic *t = p->toxics; t; t = t->next) json_array_append_new(toxics, toxic_json(t));
    char listen[128];
    snprintf(listen, sizeof listen, "%s:%d", p->listen_host, p->listen_port);
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", p->name, "listen", listen, "upstream", p->upstream,
                     "enabled", p->enabled, "toxics", toxics);
}

static int set_upstream(struct proxy *p, const char *up, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (strlen(up) >= sizeof p->upstream) {
        snprintf(err, errlen, "upstream too long");
        return -1;
    }
    if (resolve_loopback(up, &ss, &len, NULL, 0, NULL, err, errlen) != 0) return -1;
    p->up_addr = ss;
    p->up_len = len;
    snprintf(p->upstream, sizeof p->upstream, "%s", up);
    return 0;
}

#define FAIL(code, ...)                                                                                                \
    do {                                                                                                               \
        *status = code;                                                                                                \
        snprintf(err, errlen, __VA_ARGS__);                                                                            \
        return NULL;                                                                                                   \
    } while (0)

json_t *rs_chaos_proxy_create(rs_chaos_t *c, const json_t *spec, int *status, char *err, size_t errlen) {
    if (!json_is_object(spec)) FAIL(400, "body must be a JSON object");
    const char *name = rs_json_str(spec, "name"), *listen = rs_json_str(spec, "listen"),
               *up = rs_json_str(spec, "upstream");
    if (!name || !*name || strlen(name) >= NAME_MAX_LEN) FAIL(400, "missing or bad field: name");
    if (!up) FAIL(400, "missing required field: upstream");
    if (find_proxy(c, name)) FAIL(409, "proxy already exists");
    json_t *en = json_object_get(spec, "enabled");
    struct proxy *p = rs_xcalloc(1, sizeof *p);
    p->c = c;
    snprintf(p->name, sizeof p->name, "%s", name);
    if (set_upstream(p, up, err, errlen) != 0) {
        free(p);
        *status = 400;
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    if (resolve_loopback(listen ? listen : "127.0.0.1:0", &ss, &len, p->listen_host, sizeof p->listen_host,
                         &p->listen_port, err, errlen) != 0) {
        free(p);
        *status = 400;
        return NULL;
    }
    p->enabled = !en || json_is_true(en);
    if (p->enabled && proxy_listen(p, err, errlen) != 0) {
        free(p);
        *status = 500;
        return NULL;
    }
    p->next = c->proxies;
    c->proxies = p;
    RS_INFO("chaos", "proxy %s listening on %s:%d -> %s", p->name, p->listen_host, p->listen_port, p->upstream);
    return proxy_json(p);
}

json_t *rs_chaos_proxy_update(rs_chaos_t *c, const char *name, const json_t *spec, int *status, char *err,
                              size_t errlen) {
    struct proxy *p = find_proxy(c, name);
    if (!p) FAIL(404, "proxy not found");
    if (!json_is_object(spec)) FAIL(400, "body must be a JSON object");
    const char *up = rs_json_str(spec, "upstream"), *listen = rs_json_str(spec, "listen");
    if (up && strcmp(up, p->upstream) != 0) {
        if (set_upstream(p, up, err, errlen) != 0) {
            *status = 400;
            return NULL;
        }
    }
    if (listen) {
        char host[64];
        int port;
        struct sockaddr_storage ss;
        socklen_t len;
        if (resolve_loopback(listen, &ss, &len, host, sizeof host, &port, err, errlen) != 0) {
            *status = 400;
            return NULL;
        }
        if (port != 0 && port != p->listen_port) {
            int was = p->enabled;
            proxy_set_enabled(p, 0);
            snprintf(p->listen_host, sizeof p->listen_host, "%s", host);
            p->listen_port = port;
            proxy_set_enabled(p, was);
        }
    }
    json_t *en = json_object_get(spec, "enabled");
    if (json_is_boolean(en)) proxy_set_enabled(p, json_is_true(en));
    return proxy_json(p);
}

static void proxy_free(struct proxy *p) {
    if (p->lis) evconnlistener_free(p->lis);
    proxy_close_all(p);
    while (p->toxics) {
        struct toxic *t = p->toxics;
        p->toxics = t->next;
        free(t);
    }
    free(p);
}

int rs_chaos_proxy_delete(rs_chaos_t *c, const char *name) {
    for (struct proxy **pp = &c->proxies; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            struct proxy *p = *pp;
            *pp = p->next;
            proxy_free(p);
            return 0;
        }
    }
    return -1;
}

json_t *rs_chaos_proxy_json(rs_chaos_t *c, const char *name) {
    struct proxy *p = find_proxy(c, name);
    return p ? proxy_json(p) : NULL;
}

json_t *rs_chaos_proxies_json(rs_chaos_t *c) {
    json_t *o = json_object();
    for (struct proxy *p = c->proxies; p; p = p->next) json_object_set_new(o, p->name, proxy_json(p));
    return o;
}

int rs_chaos_proxy_port(rs_chaos_t *c, const char *name) {
    struct proxy *p = find_proxy(c, name);
    return p && p->lis ? p->listen_port : -1;
}

/* ---------- toxics ---------- */

static int attr_int(const json_t *attrs, const char *key, long long *out, char *err, size_t errlen) {
    json_t *v = json_object_get(attrs, key);
    if (!v) return 0;
    /* checked before the cast (1e300 would not fit a long long); 1e12 is far above any latency in ms or rate */
    if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1e12)) {
        snprintf(err, errlen, "attribute %s must be a number from 0 to 1e12", key);
        return -1;
    }
    *out = (long long)json_number_value(v);
    return 0;
}

static int apply_toxic_fields(struct toxic *t, const json_t *spec, char *err, size_t errlen) {
    json_t *tox = json_object_get(spec, "toxicity");
    if (tox) {
        if (!json_is_number(tox) || json_number_value(tox) < 0 || json_number_value(tox) > 1) {
            snprintf(err, errlen, "toxicity must be a number in [0,1]");
            return -1;
        }
        t->toxicity = json_number_value(tox);
    }
    json_t *attrs = json_object_get(spec, "attributes");
    if (attrs && !json_is_object(attrs)) {
        snprintf(err, errlen, "attributes must be an object");
        return -1;
    }
    if (!attrs) return 0;
    if (attr_int(attrs, "latency", &t->latency, err, errlen) || attr_int(attrs, "jitter", &t->jitter, err, errlen) ||
        attr_int(attrs, "rate", &t->rate, err, errlen) || attr_int(attrs, "timeout", &t->timeout, err, errlen) ||
        attr_int(attrs, "average_size", &t->average_size, err, errlen) ||
        attr_int(attrs, "size_variation", &t->size_variation, err, errlen) ||
        attr_int(attrs, "delay", &t->delay, err, errlen))
        return -1;
    return 0;
}

static void proxy_rethink(struct proxy *p) {
    for (struct conn *cn = p->conns; cn; cn = cn->next) conn_rethink(cn);
}

json_t *rs_chaos_toxic_add(rs_chaos_t *c, const char *proxy, const json_t *spec, int *status, char *err,
                           size_t errlen) {
    struct proxy *p = find_proxy(c, proxy);
    if (!p) FAIL(404, "proxy not found");
    if (!json_is_object(spec)) FAIL(400, "body must be a JSON object");
    const char *type = rs_json_str(spec, "type"), *stream = rs_json_str(spec, "stream"),
               *name = rs_json_str(spec, "name");
    if (!type) FAIL(400, "missing required field: type");
    int ti = -1;
    for (int i = 0; i < T_NTYPES; i++)
        if (strcmp(type, type_names[i]) == 0) ti = i;
    if (ti < 0) FAIL(400, "unsupported toxic type '%s' (latency, bandwidth, timeout, reset_peer, slicer)", type);
    if (stream && strcmp(stream, "upstream") != 0 && strcmp(stream, "downstream") != 0)
        FAIL(400, "stream must be upstream or downstream");
    struct toxic tmp = {.type = (enum toxic_type)ti, .toxicity = 1.0};
    tmp.downstream = !stream || strcmp(stream, "downstream") == 0;
    if (name && *name) {
        if (strlen(name) >= NAME_MAX_LEN) FAIL(400, "toxic name too long");
        snprintf(tmp.name, sizeof tmp.name, "%s", name);
    } else {
        snprintf(tmp.name, sizeof tmp.name, "%s_%s", type, tmp.downstream ? "downstream" : "upstream");
    }
    if (find_toxic(p, tmp.name)) FAIL(409, "toxic already exists");
    if (apply_toxic_fields(&tmp, spec, err, errlen) != 0) {
        *status = 400;
        return NULL;
    }
    if (tmp.type == T_BANDWIDTH && !json_object_get(json_object_get(spec, "attributes"), "rate"))
        FAIL(400, "bandwidth needs attributes.rate (KB/s)");
    if (tmp.type == T_SLICER && tmp.average_size < 1) FAIL(400, "slicer needs attributes.average_size (bytes, >= 1)");
    struct toxic *t = rs_xmalloc(sizeof *t);
    *t = tmp;
    t->id = ++c->next_toxic_id;
    t->added_ms = rs_now_ms();
    /* Appended: toxics apply in the order they were added. */
    struct toxic **tail = &p->toxics;
    while (*tail) tail = &(*tail)->next;
    t->next = NULL;
    *tail = t;
    proxy_rethink(p);
    RS_INFO("chaos", "proxy %s: toxic %s added", p->name, t->name);
    return toxic_json(t);
}

json_t *rs_chaos_toxic_update(rs_chaos_t *c, const char *proxy, const char *toxic, const json_t *spec, int *status,
                              char *err, size_t errlen) {
    struct proxy *p = find_proxy(c, proxy);
    if (!p) FAIL(404, "proxy not found");
    struct toxic *t = find_toxic(p, toxic);
    if (!t) FAIL(404, "toxic not found");
    if (!json_is_object(spec)) FAIL(400, "body must be a JSON object");
    struct toxic tmp = *t;
    if (apply_toxic_fields(&tmp, spec, err, errlen) != 0) {
        *status = 400;
        return NULL;
    }
    tmp.next = t->next;
    *t = tmp;
    proxy_rethink(p);
    return toxic_json(t);
}

int rs_chaos_toxic_delete(rs_chaos_t *c, const char *proxy, const char *toxic) {
    struct proxy *p = find_proxy(c, proxy);
    if (!p) return -1;
    for (struct toxic **tt = &p->toxics; *tt; tt = &(*tt)->next) {
        if (strcmp((*tt)->name, toxic) == 0) {
            struct toxic *t = *tt;
            *tt = t->next;
            free(t);
            proxy_rethink(p);
            RS_INFO("chaos", "proxy %s: toxic %s removed", p->name, toxic);
            return 0;
        }
    }
    return -1;
}

void rs_chaos_reset(rs_chaos_t *c) {
    for (struct proxy *p = c->proxies; p; p = p->next) {
        while (p->toxics) {
            struct toxic *t = p->toxics;
            p->toxics = t->next;
            free(t);
        }
        proxy_rethink(p);
        proxy_set_enabled(p, 1);
    }
}

int rs_chaos_connections(rs_chaos_t *c) { return c->nconns; }

/* ---------- HTTP API ---------- */

static void reply_err(rs_http_req_t *r, int status, const char *msg) {
    rs_http_reply_json(r, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

static void reply_result(rs_http_req_t *r, json_t *v, int ok_status, int status, const char *err) {
    if (v) rs_http_reply_json(r, ok_status, v);
    else reply_err(r, status, err);
}

/* POST /populate [proxy...]: creates each proxy, replacing one of the same name whose listen or upstream
 * differs (an identical one is kept with its toxics), as Toxiproxy does. */
static void populate(rs_chaos_t *c, rs_http_req_t *r, const json_t *body) {
    if (!json_is_array(body)) {
        reply_err(r, 400, "populate wants a JSON array of proxies");
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *spec;
    json_array_foreach(body, i, spec) {
        const char *name = rs_json_str(spec, "name"), *up = rs_json_str(spec, "upstream"),
                   *listen = rs_json_str(spec, "listen");
        struct proxy *p = name ? find_proxy(c, name) : NULL;
        if (p && up && strcmp(up, p->upstream) == 0 && listen) {
            char cur[128];
            snprintf(cur, sizeof cur, "%s:%d", p->listen_host, p->listen_port);
            if (strcmp(cur, listen) == 0) {
                json_array_append_new(out, proxy_json(p));
                continue;
            }
        }
        if (p) rs_chaos_proxy_delete(c, name);
        char err[512];
        int status;
        json_t *v = rs_chaos_proxy_create(c, spec, &status, err, sizeof err);
        if (!v) {
            char msg[600];
            snprintf(msg, sizeof msg, "proxies[%zu]: %s", i, err);
            json_decref(out);
            reply_err(r, status, msg);
            return;
        }
        json_array_append_new(out, v);
    }
    rs_http_reply_json(r, 201, json_pack("{s:o}", "proxies", out));
}

static int api_handler(rs_http_req_t *r, void *ctx) {
    rs_chaos_t *c = ctx;
    char path[512];
    snprintf(path, sizeof path, "%s", r->path);
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/') path[--pl] = 0;
    char *seg[5] = {0};
    int nseg = 0;
    for (char *save = NULL, *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (nseg == 5) {
            reply_err(r, 404, "not found");
            return 1;
        }
        seg[nseg++] = s;
    }
    const char *m = r->method;
    /* Newer Toxiproxy clients update with PATCH; it means the same as POST on existing objects. */
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0,
        del = strcmp(m, "DELETE") == 0;
    char err[512] = "";
    int status = 500;
    json_t *body = NULL;
    if (post && r->body_len > 0) {
        json_error_t je;
        body = json_loadb(r->body, r->body_len, 0, &je);
        if (!body) {
            snprintf(err, sizeof err, "invalid JSON: %s", je.text);
            reply_err(r, 400, err);
            return 1;
        }
    } else if (post) {
        body = json_object();
    }
    if (nseg == 1 && strcmp(seg[0], "version") == 0 && get) {
        const char *v = "ripstop-chaos 2.5.0-compatible";
        rs_http_reply(r, 200, NULL, v, strlen(v));
    } else if (nseg == 1 && strcmp(seg[0], "reset") == 0 && post) {
        rs_chaos_reset(c);
        rs_http_reply_empty(r, 204);
    } else if (nseg == 1 && strcmp(seg[0], "populate") == 0 && post) {
        populate(c, r, body);
    } else if (nseg == 1 && strcmp(seg[0], "proxies") == 0 && get) {
        rs_http_reply_json(r, 200, rs_chaos_proxies_json(c));
    } else if (nseg == 1 && strcmp(seg[0], "proxies") == 0 && post) {
        json_t *v = rs_chaos_proxy_create(c, body, &status, err, sizeof err);
        reply_result(r, v, 201, status, err);
    } else if (nseg == 2 && strcmp(seg[0], "proxies") == 0) {
        if (get) {
            json_t *v = rs_chaos_proxy_json(c, seg[1]);
            reply_result(r, v, 200, 404, "proxy not found");
        } else if (post) {
            json_t *v = rs_chaos_proxy_update(c, seg[1], body, &status, err, sizeof err);
            reply_result(r, v, 200, status, err);
        } else if (del) {
            if (rs_chaos_proxy_delete(c, seg[1]) == 0) rs_http_reply_empty(r, 204);
            else reply_err(r, 404, "proxy not found");
        } else {
            reply_err(r, 405, "method not allowed");
        }
    } else if (nseg == 3 && strcmp(seg[0], "proxies") == 0 && strcmp(seg[2], "toxics") == 0) {
        struct proxy *p = find_proxy(c, seg[1]);
        if (!p) reply_err(r, 404, "proxy not found");
        else if (get) {
            json_t *arr = json_array();
            for (struct toxic *t = p->toxics; t; t = t->next) json_array_append_new(arr, toxic_json(t));
            rs_http_reply_json(r, 200, arr);
        }
        else if (post) {
            json_t *v = rs_chaos_toxic_add(c, seg[1], body, &status, err, sizeof err);
            reply_result(r, v, 200, status, err);
        } else reply_err(r, 405, "method not allowed");
    } else if (nseg == 4 && strcmp(seg[0], "proxies") == 0 && strcmp(seg[2], "toxics") == 0) {
        struct proxy *p = find_proxy(c, seg[1]);
        struct toxic *t = p ? find_toxic(p, seg[3]) : NULL;
        if (!p) reply_err(r, 404, "proxy not found");
        else if (!t) reply_err(r, 404, "toxic not found");
        else if (get) rs_http_reply_json(r, 200, toxic_json(t));
        else if (post) {
            json_t *v = rs_chaos_toxic_update(c, seg[1], seg[3], body, &status, err, sizeof err);
            reply_result(r, v, 200, status, err);
        } else if (del) {
            rs_chaos_toxic_delete(c, seg[1], seg[3]);
            rs_http_reply_empty(r, 204);
        } else reply_err(r, 405, "method not allowed");
    } else {
        reply_err(r, 404, "not found");
    }
    json_decref(body);
    return 1;
}

rs_chaos_t *rs_chaos_new(struct event_base *base, unsigned long seed) {
    rs_chaos_t *c = rs_xcalloc(1, sizeof *c);
    c->base = base;
    c->seed = seed;
    c->rng = mix64(seed + 1);
    return c;
}

int rs_chaos_api_listen(rs_chaos_t *c, const char *addr, int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    char hp[128], err[256];
    snprintf(hp, sizeof hp, "%s:%d", addr, port);
    if (resolve_loopback(hp, &ss, &len, NULL, 0, NULL, err, sizeof err) != 0) {
        RS_ERROR("chaos", "%s", err);
        return -1;
    }
    if (!c->api) {
        c->api = rs_http_server_new(c->base, 1 << 20);
        rs_http_server_add(c->api, api_handler, c);
    }
    return rs_http_server_listen(c->api, addr, port);
}

void rs_chaos_free(rs_chaos_t *c) {
    if (!c) return;
    while (c->proxies) {
        struct proxy *p = c->proxies;
        c->proxies = p->next;
        proxy_free(p);
    }
    if (c->api) rs_http_server_free(c->api);
    free(c);
}

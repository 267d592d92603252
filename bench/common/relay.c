/* SPDX-License-Identifier: MIT */
/* Byte relay: level-triggered epoll over non-blocking sockets. Each direction of
 * a connection pair has one buffer; a side is read only while the buffer it fills
 * is empty, and watched for writability only while bytes wait for it, so the
 * usual exchange (small request, small answer) costs one read and one write per
 * hop and no epoll_ctl. */
#define _GNU_SOURCE /* accept4, SCHED_BATCH */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 16384

typedef struct pair pair_t;

/* What an epoll event points at: one side of a pair, or (pair NULL) the listener or the stop signal. */
typedef struct {
    pair_t *pair;
    int side; /* 0 accepted (client) side, 1 target side; for pair NULL: 0 listener, 1 stop */
} end_t;

typedef struct {
    char data[BUF_SIZE];
    size_t off, len; /* bytes [off, len) are still to be written */
} dirbuf_t;

struct pair {
    int fd[2];
    uint32_t mask[2];   /* events currently registered for fd[i] */
    int connecting;     /* the target side's connect() has not completed */
    int eof[2];         /* fd[i] has read end-of-file */
    int shut[2];        /* fd[i]'s write side has been shut down */
    int closed;         /* freed at the end of the current batch of events */
    dirbuf_t buf[2];    /* buf[i]: read from fd[i], to be written to fd[1 - i] */
    end_t end[2];
    pair_t *prev, *next; /* every open pair, so that stop can close them */
};

struct relay {
    int listen_fd, stop_fd, ep;
    int port, target_port;
    pid_t pid;
    end_t listen_end, stop_end;
    pair_t *pairs;   /* open pairs */
    pair_t *garbage; /* closed during the current batch, chained through next */
};

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void pair_close(struct relay *r, pair_t *p) {
    if (p->closed) return;
    p->closed = 1;
    close(p->fd[0]); /* closing removes the fd from the epoll set */
    close(p->fd[1]);
    if (p->prev) p->prev->next = p->next;
    else r->pairs = p->next;
    if (p->next) p->next->prev = p->prev;
    /* Events for this pair may still follow in the batch being handled: free it afterwards. */
    p->next = r->garbage;
    r->garbage = p;
}

/* Registers exactly the events the pair's state needs for side i (epoll_ctl only on a change). */
static int update(struct relay *r, pair_t *p, int i) {
    uint32_t want = 0;
    if (!p->eof[i] && p->buf[i].len == 0 && !(i == 1 && p->connecting)) want |= EPOLLIN;
    if ((i == 1 && p->connecting) || p->buf[1 - i].len > 0) want |= EPOLLOUT;
    if (want == p->mask[i]) return 0;
    struct epoll_event ev = {.events = want, .data.ptr = &p->end[i]};
    if (epoll_ctl(r->ep, EPOLL_CTL_MOD, p->fd[i], &ev) != 0) return -1;
    p->mask[i] = want;
    return 0;
}

/* Writes what buf[i] holds to the other side. Returns -1 when the pair has to close. */
static int flush(pair_t *p, int i) {
    int o = 1 - i;
    dirbuf_t *b = &p->buf[i];
    if (o == 1 && p->connecting) return 0;
    while (b->off < b->len) {
        ssize_t n = send(p->fd[o], b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
        if (n > 0) b->off += (size_t)n;
        else if (n < 0 && errno == EINTR) continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        else return -1;
    }
    b->off = b->len = 0;
    if (p->eof[i] && !p->shut[o]) { /* pass the half-close on once everything before it is out */
        shutdown(p->fd[o], SHUT_WR);
        p->shut[o] = 1;
    }
    return 0;
}

static int on_readable(pair_t *p, int i) {
    dirbuf_t *b = &p->buf[i];
    ssize_t n = recv(p->fd[i], b->data, sizeof b->data, 0);
    if (n > 0) {
        b->off = 0;
        b->len = (size_t)n;
        return flush(p, i);
    }
    if (n == 0) {
        p->eof[i] = 1;
        return flush(p, i);
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

static int on_writable(pair_t *p, int o) {
    if (o == 1 && p->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return -1;
        p->connecting = 0;
    }
    return flush(p, 1 - o);
}

static void on_event(struct relay *r, end_t *e, uint32_t events) {
    pair_t *p = e->pair;
    int i = e->side;
    if (p->closed) return;
    int fail = 0;
    if (events & EPOLLERR) fail = 1;
    if (!fail && (events & (EPOLLIN | EPOLLHUP)) && (p->mask[i] & EPOLLIN)) fail = on_readable(p, i) != 0;
    if (!fail && (events & (EPOLLOUT | EPOLLHUP)) && (p->mask[i] & EPOLLOUT)) fail = on_writable(p, i) != 0;
    /* A hang-up with nothing left to read or write on this side: the connection is over. */
    if (!fail && (events & EPOLLHUP) && !(p->mask[i] & (EPOLLIN | EPOLLOUT))) fail = 1;
    if (!fail && p->eof[0] && p->eof[1] && p->buf[0].len == 0 && p->buf[1].len == 0) fail = 1; /* both done */
    if (!fail) fail = update(r, p, 0) != 0 || update(r, p, 1) != 0;
    if (fail) pair_close(r, p);
}

static void on_accept(struct relay *r) {
    for (;;) {
        int c = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) return; /* EAGAIN (all taken), or a transient error: the listener stays registered */
        int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (t < 0) {
            close(c);
            continue;
        }
        set_nodelay(c);
        set_nodelay(t);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->target_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int connecting = 0;
        if (connect(t, (struct sockaddr *)&a, sizeof a) != 0) {
            if (errno != EINPROGRESS) {
                close(c);
                close(t);
                continue;
            }
            connecting = 1;
        }
        pair_t *p = calloc(1, sizeof *p);
        if (!p) {
            close(c);
            close(t);
            continue;
        }
        p->fd[0] = c;
        p->fd[1] = t;
        p->connecting = connecting;
        for (int i = 0; i < 2; i++) {
            p->end[i].pair = p;
            p->end[i].side = i;
        }
        p->mask[0] = EPOLLIN;
        p->mask[1] = connecting ? EPOLLOUT : EPOLLIN;
        struct epoll_event e0 = {.events = p->mask[0], .data.ptr = &p->end[0]};
        struct epoll_event e1 = {.events = p->mask[1], .data.ptr = &p->end[1]};
        p->next = r->pairs;
        if (r->pairs) r->pairs->prev = p;
        r->pairs = p;
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c, &e0) != 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, t, &e1) != 0)
            pair_close(r, p);
    }
}

static void collect_garbage(struct relay *r) {
    while (r->garbage) {
        pair_t *p = r->garbage;
        r->garbage = p->next;
        free(p);
    }
}

static void *relay_loop(void *arg) {
    struct relay *r = arg;
    struct epoll_event evs[64];
    for (int running = 1; running;) {
        int n = epoll_wait(r->ep, evs, 64, -1);
        if (n < 0 && errno != EINTR) break;
        for (int k = 0; k < n; k++) {
            end_t *e = evs[k].data.ptr;
            if (e->pair) on_event(r, e, evs[k].events);
            else if (e->side == 0) on_accept(r);
            else running = 0;
        }
        collect_garbage(r);
    }
    while (r->pairs) pair_close(r, r->pairs);
    collect_garbage(r);
    return NULL;
}

relay_t *relay_start(int listen_port, int target_port, int sched_policy) {
    struct relay *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->target_port = target_port;
    r->listen_end.side = 0;
    r->stop_end.side = 1;
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    r->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    struct epoll_event el = {.events = EPOLLIN, .data.ptr = &r->listen_end};
    struct epoll_event es = {.events = EPOLLIN, .data.ptr = &r->stop_end};
    if (r->listen_fd < 0 || r->stop_fd < 0 || r->ep < 0 ||
        setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(r->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->listen_fd, 512) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, r->listen_fd, &el) != 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, r->stop_fd, &es) != 0 || (r->pid = fork()) < 0) {
        if (r->listen_fd >= 0) close(r->listen_fd);
        if (r->stop_fd >= 0) close(r->stop_fd);
        if (r->ep >= 0) close(r->ep);
        free(r);
        return NULL;
    }
    if (r->pid == 0) { /* the relay process: a sidecar is a process too, so it pays the same switches */
        struct sched_param none = {0};
        sched_setscheduler(0, sched_policy, &none);
        relay_loop(r);
        _exit(0);
    }
    r->port = ntohs(a.sin_port);
    return r;
}

int relay_port(const relay_t *r) {
    return r->port;
}

pid_t relay_pid(const relay_t *r) { return r->pid; }

void relay_stop(relay_t *r) {
    if (!r) return;
    uint64_t one = 1;
    while (write(r->stop_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
    while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR) { /* the eventfd is shared with the child: it stops */
    }
    close(r->listen_fd);
    close(r->stop_fd);
    close(r->ep);
    free(r);
}

/* SPDX-License-Identifier: MIT */
/* The chaos proxy with real loopback sockets: half-close (each direction ends on
 * its own), backpressure (a reader that does not read blocks the writer, then
 * everything arrives), and the proxy's own thread (it moves bytes while the
 * thread that owns it is busy, as `ripstop demo`'s loop is during its blocking
 * steps), and its sockets staying its own (a process started meanwhile, as the
 * runner starts Redis, Azurite or a sidecar, must not keep them open). Peers are
 * plain blocking sockets on threads; every wait is a poll() with a deadline. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "tools/ripstop/chaos_thread.h"

#define DEADLINE_MS 10000

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable (or writable), at most until the deadline. 1 = ready, 0 = deadline passed. */
static int wait_fd(int fd, short ev, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return 0;
    }
}

/* Reads until EOF into buf (NUL-terminated); -1 when the deadline passed first. */
static ssize_t read_to_eof(int fd, char *buf, size_t cap, int64_t deadline) {
    size_t len = 0;
    for (;;) {
        if (!wait_fd(fd, POLLIN, deadline)) return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        len += (size_t)n;
        if (len == cap - 1) break;
    }
    buf[len] = 0;
    return (ssize_t)len;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---------- the proxy, created through its thread ---------- */

struct create_op {
    int upstream_port;
    int port;
};

static void create_on_thread(rs_chaos_t *c, void *arg) {
    struct create_op *op = arg;
    char up[64], err[256];
    snprintf(up, sizeof up, "127.0.0.1:%d", op->upstream_port);
    json_t *spec = json_pack("{s:s, s:s, s:s}", "name", "p", "listen", "127.0.0.1:0", "upstream", up);
    int status = 0;
    json_t *r = rs_chaos_proxy_create(c, spec, &status, err, sizeof err);
    op->port = r ? rs_chaos_proxy_port(c, "p") : -1;
    if (!r) printf("  proxy create: %s\n", err);
    json_decref(r);
    json_decref(spec);
}

static rs_chaos_thread_t *start_proxy(int upstream_port, int *port) {
    char err[256];
    rs_chaos_thread_t *t = rs_chaos_thread_start(1, err, sizeof err);
    if (!t) return NULL;
    struct create_op op = {.upstream_port = upstream_port};
    rs_chaos_thread_call(t, create_on_thread, &op);
    *port = op.port;
    return t;
}

/* ---------- upstream peers (threads) ---------- */

struct server {
    int lfd;
    int mode;           /* 0: read to EOF, then answer "reply:<what came>" and close; 1: echo one read; 2: count;
                           3: read to EOF, then send 8 MB (to a client that has gone) */
    int go_fd;          /* mode 2: starts reading once this pipe end is readable */
    size_t counted;
    char got[256];
};

static void *server_main(void *arg) {
    struct server *s = arg;
    int64_t deadline = now_ms() + 4 * DEADLINE_MS;
    if (!wait_fd(s->lfd, POLLIN, deadline)) return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    if (s->mode == 0) {
        if (read_to_eof(fd, s->got, sizeof s->got, deadline) >= 0) {
            char out[300];
            int n = snprintf(out, sizeof out, "reply:%s", s->got);
            if (send(fd, out, (size_t)n, MSG_NOSIGNAL) < 0) {}
        }
    } else if (s->mode == 3) {
        static char big[1 << 16];
        if (read_to_eof(fd, s->got, sizeof s->got, deadline) >= 0)
            for (int i = 0; i < 128 && wait_fd(fd, POLLOUT, deadline); i++)
                if (send(fd, big, sizeof big, MSG_NOSIGNAL) < 0) break;
    } else if (s->mode == 1) {
        char buf[256];
        if (wait_fd(fd, POLLIN, deadline)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) {}
        }
    } else {
        static char buf[1 << 16];
        if (wait_fd(s->go_fd, POLLIN, deadline)) {
            for (;;) {
                if (!wait_fd(fd, POLLIN, deadline)) break;
                ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                s->counted += (size_t)n;
            }
            char out[64];
            int n = snprintf(out, sizeof out, "%zu", s->counted);
            if (send(fd, out, (size_t)n, MSG_NOSIGNAL) < 0) {}
        }
    }
    close(fd);
    return NULL;
}

/* An upstream peer on its thread, the proxy in front of it, a client connected to the proxy. */
struct fixture {
    struct server s;
    pthread_t th;
    int started;
    rs_chaos_thread_t *t;
    int client;
};

static int fixture_start(struct fixture *f, int mode, int go_fd) {
    int up_port = 0, port = -1;
    f->client = -1;
    f->s.mode = mode;
    f->s.go_fd = go_fd;
    f->s.lfd = listen_loopback(&up_port);
    if (f->s.lfd < 0 || pthread_create(&f->th, NULL, server_main, &f->s) != 0) return -1;
    f->started = 1;
    f->t = start_proxy(up_port, &port);
    if (!f->t || port <= 0) return -1;
    f->client = connect_loopback(port);
    return f->client >= 0 ? 0 : -1;
}

static void fixture_stop(struct fixture *f) {
    if (f->client >= 0) close(f->client);
    if (f->started) pthread_join(f->th, NULL);
    if (f->s.lfd >= 0) close(f->s.lfd);
    rs_chaos_thread_stop(f->t);
}

/* A client that sends its request and then shuts down its write side (as `curl -T`, HTTP/1.0 clients or
 * `nc -N` do) still gets the whole reply: the FIN travels on, the reply travels back. */
TEST(half_close_keeps_the_reply) {
    struct fixture f = {0};
    int ok = fixture_start(&f, 0, -1) == 0 && send(f.client, "hello", 5, MSG_NOSIGNAL) == 5 &&
             shutdown(f.client, SHUT_WR) == 0;
    char buf[256] = "";
    ssize_t n = ok ? read_to_eof(f.client, buf, sizeof buf, now_ms() + DEADLINE_MS) : -1;
    fixture_stop(&f);
    ASSERT_TRUE(ok);
    ASSERT_STREQ(f.s.got, "hello");
    ASSERT_TRUE(n >= 0);
    ASSERT_STREQ(buf, "reply:hello");
}

/* The thread that owns the proxy is busy (here: blocked in this exchange, never running a loop of its own, as
 * the demo's loop is during the broker read-back): an idle proxy still moves the bytes. */
TEST(proxy_moves_bytes_while_its_owner_is_busy) {
    struct event_base *owner = event_base_new(); /* the owner's loop: never run during the exchange */
    struct fixture f = {0};
    int ok = fixture_start(&f, 1, -1) == 0 && send(f.client, "ping", 4, MSG_NOSIGNAL) == 4;
    char buf[256] = "";
    ssize_t n = ok ? read_to_eof(f.client, buf, sizeof buf, now_ms() + DEADLINE_MS) : -1;
    fixture_stop(&f);
    event_base_free(owner);
    ASSERT_TRUE(ok);
    ASSERT_TRUE(n >= 0);
    ASSERT_STREQ(buf, "ping");
}

/* A peer that does not read pushes back on the writer (the proxy stops reading instead of holding everything
 * in memory); once the peer reads, every byte arrives. */
TEST(backpressure_pauses_then_everything_arrives) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    struct fixture f = {0};
    int ok = fixture_start(&f, 2, go[0]) == 0;
    const size_t cap = 64u << 20; /* far above what kernel buffers and the proxy's bound hold together */
    static char chunk[1 << 16];
    memset(chunk, 'x', sizeof chunk);
    size_t sent = 0;
    int blocked = 0;
    int64_t deadline = now_ms() + 3 * DEADLINE_MS;
    /* Non-blocking until the writer is blocked (for a while: the proxy may still be catching up). */
    while (ok && sent < cap && !blocked && now_ms() < deadline) {
        ssize_t n = send(f.client, chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) sent += (size_t)n;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) blocked = !wait_fd(f.client, POLLOUT, now_ms() + 500);
        else break;
    }
    if (write(go[1], "g", 1) != 1) ok = 0;
    /* Now the reader reads: the rest goes through. */
    size_t total = sent;
    while (ok && total < sent + sizeof chunk * 16 && wait_fd(f.client, POLLOUT, deadline)) {
        ssize_t n = send(f.client, chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) total += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
    }
    char buf[64] = "";
    ssize_t n = ok && shutdown(f.client, SHUT_WR) == 0 ? read_to_eof(f.client, buf, sizeof buf, deadline) : -1;
    fixture_stop(&f);
    close(go[0]);
    close(go[1]);
    ASSERT_TRUE(ok);
    ASSERT_TRUE(blocked);
    ASSERT_TRUE(sent < cap);
    ASSERT_TRUE(n > 0);
    ASSERT_EQ(strtoull(buf, NULL, 10), total);
}

static void count_on_thread(rs_chaos_t *c, void *arg) { *(int *)arg = rs_chaos_connections(c); }

/* The client sends its request and goes away altogether; the reply then meets a closed socket. The proxy's
 * writes fail (EPIPE) instead of raising SIGPIPE, which would end the whole process (the demo with it). */
TEST(reply_to_a_client_that_has_gone_is_dropped) {
    struct fixture f = {0};
    int ok = fixture_start(&f, 3, -1) == 0 && send(f.client, "bye", 3, MSG_NOSIGNAL) == 3;
    if (ok) {
        close(f.client);
        f.client = -1;
    }
    int open = -1;
    for (int64_t deadline = now_ms() + DEADLINE_MS; ok && open != 0 && now_ms() < deadline;) {
        rs_chaos_thread_call(f.t, count_on_thread, &open);
        if (open) poll(NULL, 0, 20); /* polling the count: a pause between looks, not a synchronisation */
    }
    fixture_stop(&f);
    ASSERT_TRUE(ok);
    ASSERT_STREQ(f.s.got, "bye");
    ASSERT_EQ(open, 0);
}

/* A process started while a connection is open (the runner restarting Redis, Azurite or a sidecar) must not
 * inherit the proxy's sockets: when the upstream resets, the proxy closes the client's connection, and the client
 * must see that at once. With the sockets inherited, the close sent nothing (the child still held them) and the
 * client waited for an answer until its own timeout: the demo's 60 s blob calls with every link proxied. */
TEST(a_child_process_does_not_keep_a_closed_connection_open) {
    int port = 0, up_port = 0, cfd = -1, ufd = -1;
    int lfd = listen_loopback(&up_port);
    rs_chaos_thread_t *t = lfd >= 0 ? start_proxy(up_port, &port) : NULL;
    int64_t deadline = now_ms() + DEADLINE_MS;
    if (t && port > 0) cfd = connect_loopback(port);
    if (cfd >= 0 && wait_fd(lfd, POLLIN, deadline)) ufd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    /* the proxy's two sockets exist now: start a child that lives on (exec, as the runner does) */
    pid_t child = ufd >= 0 ? fork() : -1;
    if (child == 0) {
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    int closed = 0;
    if (child > 0) {
        struct linger lg = {1, 0};
        setsockopt(ufd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(ufd); /* a reset from upstream: the proxy frees the connection */
        ufd = -1;
        char buf[16];
        closed = wait_fd(cfd, POLLIN, now_ms() + DEADLINE_MS) && recv(cfd, buf, sizeof buf, 0) <= 0;
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (ufd >= 0) close(ufd);
    if (cfd >= 0) close(cfd);
    if (t) rs_chaos_thread_stop(t);
    if (lfd >= 0) close(lfd);
    ASSERT_TRUE(child > 0);
    ASSERT_TRUE(closed);
}

int main(void) {
    RUN(half_close_keeps_the_reply);
    RUN(proxy_moves_bytes_while_its_owner_is_busy);
    RUN(backpressure_pauses_then_everything_arrives);
    RUN(reply_to_a_client_that_has_gone_is_dropped);
    RUN(a_child_process_does_not_keep_a_closed_connection_open);
    return TEST_SUMMARY();
}

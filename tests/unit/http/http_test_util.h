/* SPDX-License-Identifier: MIT */
/* Shared by the HTTP unit tests (test_http_client.c, test_http_server.c): the
 * event loop each case runs on, loop-driving with deadlines, the hang guard,
 * raw-socket options and header-block helpers. tests/unit/test.h stays the
 * assertion harness. Everything is static inline so that an include that uses
 * only part of it builds under -Wall -Werror. */
#ifndef RS_HTTP_TEST_UTIL_H
#define RS_HTTP_TEST_UTIL_H

#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "test.h"

/* ------------------------------------------------------------------ loop -- */

static struct event_base *ht_base; /* the running case's loop */
static struct event *ht_tick;

static inline void ht_on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg; /* only wakes EVLOOP_ONCE so deadlines are checked */
}

/* A fresh loop for one case, with a 20 ms tick so a deadline is never missed. */
static inline struct event_base *ht_loop_new(void) {
    ht_base = event_base_new();
    ht_tick = event_new(ht_base, -1, EV_PERSIST, ht_on_tick, NULL);
    struct timeval tv = {0, 20000};
    event_add(ht_tick, &tv);
    return ht_base;
}

/* Frees the loop; everything else on it must be freed first. */
static inline void ht_loop_free(void) {
    event_free(ht_tick);
    event_base_free(ht_base);
    ht_tick = NULL;
    ht_base = NULL;
}

/* Runs the loop while cond holds, up to ms; cond is false afterwards unless the deadline came. */
#define LOOP_WHILE(cond, ms)                                                                                  \
    do {                                                                                                      \
        int64_t lw_dl_ = rs_now_ms() + (ms);                                                                  \
        while ((cond) && rs_now_ms() < lw_dl_) event_base_loop(ht_base, EVLOOP_ONCE);                         \
    } while (0)

/* Runs the loop until cond holds; fails the test (and returns) at the deadline. */
#define WAIT_FOR(cond, ms)                                                                                    \
    do {                                                                                                      \
        LOOP_WHILE(!(cond), ms);                                                                              \
        if (!(cond)) {                                                                                        \
            TEST_FAIL_AT("timed out after %d ms waiting for %s", (int)(ms), #cond);                          \
            return;                                                                                           \
        }                                                                                                     \
    } while (0)

/* Runs the loop for a bounded time, to see that something does NOT happen. */
static inline void run_for(int ms) { LOOP_WHILE(1, ms); }

/* ------------------------------------------------------------ hang guard -- */

static const char *ht_current = ""; /* the running case, named when alarm() fires */

static inline void ht_on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: test hung (alarm): ";
    if (write(2, msg, sizeof msg - 1) < 0 || write(2, ht_current, strlen(ht_current)) < 0 || write(2, "\n", 1) < 0)
        _exit(2);
    _exit(2);
}

/* Process setup both tests share: no SIGPIPE (as ripstopd), the hang guard, line-buffered
 * output, and room for nofile descriptors (both ends of every connection live here). */
static inline void ht_main_init(rlim_t nofile) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, ht_on_alarm);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nofile) {
        rl.rlim_cur = rl.rlim_max < nofile ? rl.rlim_max : nofile;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* One case with its fixture under the hang guard: setup_call returns 0 or the case is a setup
 * failure; run_stmt runs the case and prints its ok/FAIL line. */
#define HT_RUN_CASE(name, setup_call, teardown_call, alarm_s, run_stmt)                                       \
    do {                                                                                                      \
        ht_current = #name;                                                                                   \
        if ((setup_call) != 0) {                                                                              \
            printf("FAIL %s (setup)\n", #name);                                                               \
            test_failed_total++;                                                                              \
            break;                                                                                            \
        }                                                                                                     \
        alarm(alarm_s);                                                                                       \
        run_stmt;                                                                                             \
        alarm(0);                                                                                             \
        teardown_call;                                                                                        \
        fflush(stdout);                                                                                       \
    } while (0)

/* ----------------------------------------------------------- raw sockets -- */

/* Small writes leave as their own segments. */
static inline void ht_set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The next close() of fd sends a reset instead of a FIN. */
static inline void ht_set_rst_on_close(int fd) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* --------------------------------------------------------- header blocks -- */
/* A header block is the lines after the request or status line, each ending in CRLF. */

#define HT_HEAD_FOREACH(p, head) for (const char *p = (head); p && *p; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)

enum { HT_RAW = 0, HT_TRIM = 1 };

/* Finds header `name` (case-insensitive) in a header block; copies its value without leading
 * blanks and, with HT_TRIM, without trailing ones. */
static inline int head_get(const char *head, const char *name, char *out, size_t n, int trim) {
    size_t nl = strlen(name);
    HT_HEAD_FOREACH(p, head) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            while (trim && len && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
            snprintf(out, n, "%.*s", (int)len, v);
            return 1;
        }
    }
    return 0;
}

/* 1 if the header block has exactly this line (case-sensitive). */
static inline int head_has_line(const char *head, const char *line) {
    size_t ll = strlen(line);
    HT_HEAD_FOREACH(p, head) {
        if (strncmp(p, line, ll) == 0 && p[ll] == '\r') return 1;
    }
    return 0;
}

/* How many lines of the header block are header `name` (case-insensitive). */
static inline int head_count(const char *head, const char *name) {
    int n = 0;
    size_t nl = strlen(name);
    HT_HEAD_FOREACH(p, head) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') n++;
    }
    return n;
}

/* Content-Length of a header block, -1 when absent. */
static inline long head_clen(const char *head) {
    char v[64];
    return head_get(head, "Content-Length", v, sizeof v, HT_TRIM) ? atol(v) : -1;
}

/* Deterministic, non-repeating-looking bytes, so a shifted or truncated body shows. */
static inline void fill_pattern(char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (char)((i * 131u + (i >> 9) * 7u + seed) & 0xff);
}

#endif

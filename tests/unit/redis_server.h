/* For unit tests that need a real redis-server: a free loopback port (rs_port_reserve), a
 * server started on it (no persistence, optional password) and waited for,
 * and running an event loop until a flag is set. Header-only, like test.h. */
#ifndef RS_TEST_REDIS_SERVER_H
#define RS_TEST_REDIS_SERVER_H

#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/port_reserve.h"
#include "sidecar/components/redis_conn.h"

/* Starts redis-server on port (with requirepass when password is not NULL) and waits (bounded) until it answers. */
static inline pid_t start_redis(int port, const char *password) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    fflush(NULL); /* or the child's freopen would flush a copy of our buffered output */
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        if (password)
            execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--requirepass", password, (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   (char *)NULL);
        _exit(127);
    }
    rs_redis_options_t o = {.host = "127.0.0.1", .port = port, .password = (char *)password};
    char err[200];
    for (int i = 0; i < 200; i++) {
        if (rs_redis_probe(&o, 200, NULL, err, sizeof err) == 0) return pid;
        usleep(20000);
    }
    return pid;
}

static inline void stop_redis(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Runs the loop until *flag is set or timeout_ms passes. Returns the flag. */
static inline int loop_until(struct event_base *base, volatile int *flag, int timeout_ms) {
    int64_t end = rs_now_ms() + timeout_ms;
    while (!*flag && rs_now_ms() < end) event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
    return *flag;
}

/* Runs the loop for ms (for "nothing more happens" checks). */
static inline void loop_for(struct event_base *base, int ms) {
    int64_t end = rs_now_ms() + ms;
    while (rs_now_ms() < end) event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
}

#endif

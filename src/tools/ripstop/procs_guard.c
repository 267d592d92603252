/* SPDX-License-Identifier: MIT */
/* The guard process (see procs_guard.h). After fork() it only uses
 * async-signal-safe calls and a fixed array, so it is safe even if the
 * runner's process has other threads. Messages are 4-byte ints (+pgid add,
 * -pgid remove) on a SOCK_SEQPACKET pair: message boundaries are kept, and
 * MSG_NOSIGNAL means a dead guard never raises SIGPIPE in the runner. */
#define _GNU_SOURCE /* close_range */
#include "procs_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_MAX 4096

static int g_wfd = -1;
static pid_t g_pid;

static void guard_main(int rfd) {
    signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the whole foreground group: the guard must outlive it */
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_NAME, "ripstop-guard");
    /* Hold nothing of the runner's (sockets, the read ends of output pipes) but our socket. */
    if (rfd != 3) {
        dup2(rfd, 3);
        rfd = 3;
    }
    close_range(4, ~0U, 0);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 3) close(devnull);
    }
    static int32_t groups[GUARD_MAX];
    size_t n = 0;
    for (;;) {
        int32_t v;
        ssize_t r = recv(rfd, &v, sizeof v, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r != (ssize_t)sizeof v) break; /* EOF: the runner is gone */
        if (v > 0 && n < GUARD_MAX) {
            groups[n++] = v;
        } else if (v < 0) {
            for (size_t i = 0; i < n; i++)
                if (groups[i] == -v) {
                    groups[i] = groups[--n];
                    break;
                }
        }
    }
    for (size_t i = 0; i < n; i++) kill(-(pid_t)groups[i], SIGKILL);
    _exit(0);
}

int rs_guard_start(void) {
    if (g_wfd >= 0) return 0;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[1]);
        guard_main(fds[0]);
    }
    close(fds[0]);
    g_wfd = fds[1];
    g_pid = pid;
    return 0;
}

static void send_msg(int32_t v) {
    if (g_wfd < 0) return;
    while (send(g_wfd, &v, sizeof v, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

void rs_guard_add(pid_t pgid) { send_msg((int32_t)pgid); }

void rs_guard_remove(pid_t pgid) { send_msg(-(int32_t)pgid); }

pid_t rs_guard_pid(void) { return g_pid; }

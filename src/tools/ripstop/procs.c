/* SPDX-License-Identifier: MIT */
/* Child processes of the runner. Everything the child needs (argv, envp, the
 * executable path) is prepared before fork(), so the child only makes
 * async-signal-safe calls before execve: the caller may be multi-threaded. */
#define _GNU_SOURCE /* pipe2, nftw flags, close_range */
#include "procs.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/str.h"
#include "procs_guard.h"

void rs_child_init(rs_child_t *c) {
    memset(c, 0, sizeof *c);
    c->log_fd = -1;
    c->out_fd = -1;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* console gone or disk full: drop the line rather than stall the loop */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void emit_line(rs_child_t *c, char *line, size_t len) {
    if (len && line[len - 1] == '\r') len--;
    line[len] = 0;
    if (c->log_fd >= 0) {
        line[len] = '\n';
        write_all(c->log_fd, line, len + 1);
        line[len] = 0;
    }
    if (c->console) {
        size_t pl = c->prefix ? strlen(c->prefix) : 0;
        char out[sizeof c->buf + 256];
        if (pl > 200) pl = 200;
        if (pl) memcpy(out, c->prefix, pl);
        memcpy(out + pl, line, len);
        out[pl + len] = '\n';
        write_all(STDOUT_FILENO, out, pl + len + 1);
    }
    if (c->on_line) c->on_line(c, line, c->line_arg);
}

/* Reads what is available; returns 1 at EOF or error (the pipe is done), else 0. */
static int drain(rs_child_t *c) {
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = read(c->out_fd, c->buf + c->blen, sizeof c->buf - 1 - c->blen);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n <= 0) {
            if (c->blen) emit_line(c, c->buf, c->blen);
            c->blen = 0;
            return 1;
        }
        c->blen += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < c->blen; i++) {
            if (c->buf[i] == '\n') {
                emit_line(c, c->buf + start, i - start);
                start = i + 1;
            }
        }
        memmove(c->buf, c->buf + start, c->blen - start);
        c->blen -= start;
        if (c->blen == sizeof c->buf - 1) { /* an over-long line: print what we have */
            emit_line(c, c->buf, c->blen);
            c->blen = 0;
        }
    }
    return 0; /* a very chatty child: give the loop a turn */
}

static void close_output(rs_child_t *c) {
    if (c->read_ev) {
        event_free(c->read_ev);
        c->read_ev = NULL;
    }
    if (c->out_fd >= 0) {
        close(c->out_fd);
        c->out_fd = -1;
    }
    c->blen = 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg) {
    rs_child_t *c = arg;
    if (drain(c)) close_output(c); /* EOF: the reaper notices the exit on its own tick */
}

char *rs_find_executable(const char *prog, const char *cwd, char *const *envp) {
    if (strchr(prog, '/')) {
        char *p;
        if (prog[0] == '/' || !cwd) p = rs_strdup(prog);
        else if (asprintf(&p, "%s/%s", cwd, prog) < 0) abort();
        if (access(p, X_OK) == 0) return p;
        free(p);
        return NULL;
    }
    const char *path = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (rs_has_prefix(*e, "PATH=")) path = *e + 5;
    if (!path) path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    const char *s = path;
    while (*s) {
        const char *colon = strchr(s, ':');
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        char *cand;
        if (asprintf(&cand, "%.*s/%s", (int)(n ? n : 1), n ? s : ".", prog) < 0) abort();
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) return cand;
        free(cand);
        if (!colon) break;
        s = colon + 1;
    }
    return NULL;
}

int rs_child_spawn(rs_child_t *c, struct event_base *base, char *err, size_t errlen) {
    char *exe = rs_find_executable(c->argv[0], c->cwd, c->envp);
    if (!exe) {
        snprintf(err, errlen, "command not found: %s%s%s", c->argv[0], c->cwd ? " (cwd " : "", c->cwd ? c->cwd : "");
        if (c->cwd) strncat(err, ")", errlen - strlen(err) - 1);
        return -1;
    }
    rs_guard_start(); /* best effort: without it, PR_SET_PDEATHSIG still covers the direct child */
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(exe);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        free(exe);
        return -1;
    }
    if (pid == 0) {
        /* Child: async-signal-safe calls only. */
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        int sigs[] = {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], SIG_DFL);
        setpgid(0, 0);
        /* Dies with the runner, even if the runner is killed with -9. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        /* Nothing else of the runner's: a socket a child holds stays open after the runner closes it (a chaos
         * proxy's connection would then end without its peer hearing of it). */
        close_range(3, ~0U, 0);
        if (c->cwd && chdir(c->cwd) < 0) {
            static const char m[] = "ripstop: cannot chdir to the app directory\n";
            write_all(STDERR_FILENO, m, sizeof m - 1);
            _exit(127);
        }
        execve(exe, c->argv, c->envp);
        static const char m[] = "ripstop: execve failed\n";
        write_all(STDERR_FILENO, m, sizeof m - 1);
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a signal sent right away reaches the group */
    rs_guard_add(pid);
    free(exe);
    close(fds[1]);
    c->pid = pid;
    c->started_ms = rs_now_ms();
    close_output(c);
    c->out_fd = fds[0];
    fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
    c->read_ev = event_new(base, c->out_fd, EV_READ | EV_PERSIST, on_readable, c);
    event_add(c->read_ev, NULL);
    return 0;
}

int rs_child_reap(rs_child_t *c, int *status) {
    if (c->pid <= 0) return 0;
    /* Look without reaping first: while it is a zombie its pid (= its process group id) cannot be
     * reused, so killing leftover grandchildren in the group is safe. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int st = 0, gone = 0;
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        if (errno == EINTR) return 0;
        gone = 1; /* ECHILD: someone else reaped it */
    } else if (si.si_pid == 0) {
        return 0;
    }
    if (!gone) {
        kill(-c->pid, SIGKILL);
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {}
    }
    rs_guard_remove(c->pid);
    if (c->out_fd >= 0) {
        drain(c);
        close_output(c);
    }
    c->pid = 0;
    if (status) *status = st;
    return 1;
}

int rs_child_signal(rs_child_t *c, int sig) {
    if (c->pid <= 0) return -1;
    kill(-c->pid, sig);
    return kill(c->pid, sig) == 0 || errno != ESRCH ? 0 : -1;
}

static void free_vec(char **v) {
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

void rs_child_free(rs_child_t *c) {
    close_output(c);
    if (c->log_fd >= 0) close(c->log_fd);
    c->log_fd = -1;
    free(c->prefix);
    free_vec(c->argv);
    free_vec(c->envp);
    free(c->cwd);
    c->prefix = NULL;
    c->argv = c->envp = NULL;
    c->cwd = NULL;
}

int rs_port_open(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

void rs_rmtree(const char *path) {
    if (path && *path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int rs_find_project_path(const char *rel, char *out, size_t outlen) {
    if (access(rel, R_OK) == 0) {
        snprintf(out, outlen, "%s", rel);
        return 0;
    }
    /* This file is src/tools/ripstop/procs.c in the source tree the binary was built from. */
    const char *me = __FILE__, *tail = strstr(me, "src/tools/ripstop/procs.c");
    if (tail && me[0] == '/') {
        snprintf(out, outlen, "%.*s%s", (int)(tail - me), me, rel);
        if (access(out, R_OK) == 0) return 0;
    }
    return -1;
}

/* SPDX-License-Identifier: MIT */
/* One child process of the runner: spawned in its own process group with
 * PR_SET_PDEATHSIG(SIGKILL), stdout+stderr read through a pipe on the event
 * loop, split into lines, each line prefixed on the console and appended to a
 * log file. Restart policy lives in runner.c; this file only spawns, reads,
 * signals and reaps. */
#ifndef RS_TOOLS_RIPSTOP_PROCS_H
#define RS_TOOLS_RIPSTOP_PROCS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct event;

typedef struct rs_child rs_child_t;
/** Called for every complete output line (without the newline). */
typedef void (*rs_child_line_fn)(rs_child_t *c, const char *line, void *arg);

struct rs_child {
    /* set by the owner before rs_child_spawn; owned (freed by rs_child_free) */
    char *prefix;        /* console prefix, e.g. "[app#1 daprd] " */
    char **argv;         /* NULL-terminated; argv[0] is an absolute path or found via PATH of envp */
    char **envp;         /* NULL-terminated "K=V" */
    char *cwd;           /* or NULL */
    int log_fd;          /* append-mode log file, or -1 (not owned: closed by rs_child_free too) */
    int console;         /* 1: print prefixed lines on stdout */
    rs_child_line_fn on_line;
    void *line_arg;
    /* state */
    pid_t pid;           /* 0 when not running */
    int64_t started_ms;  /* monotonic */
    int out_fd;          /* read end of the output pipe, -1 when closed */
    struct event *read_ev;
    char buf[8192];
    size_t blen;
};

/** Initialises an empty child (log_fd = out_fd = -1). */
void rs_child_init(rs_child_t *c);
/** Forks and execs. Returns 0 (c->pid set), or -1 with err (e.g. "command not found: x"). */
int rs_child_spawn(rs_child_t *c, struct event_base *base, char *err, size_t errlen);
/** Non-blocking reap. Returns 1 and *status if it exited (drains and closes its output), else 0. */
int rs_child_reap(rs_child_t *c, int *status);
/** Sends sig to the child's process group (and the child itself). Returns 0, or -1 if not running. */
int rs_child_signal(rs_child_t *c, int sig);
/** Releases everything (does not signal; call rs_child_reap/kill first). */
void rs_child_free(rs_child_t *c);

/** Finds an executable: a name with '/' is taken relative to cwd; otherwise searched in the PATH
 *  found in envp (or the process's PATH). Returns a new absolute/relative path, or NULL. */
char *rs_find_executable(const char *prog, const char *cwd, char *const *envp);

/** 1 if a TCP connect to 127.0.0.1:port succeeds right now. */
int rs_port_open(int port);

/** Removes a directory tree (for temp data dirs). */
void rs_rmtree(const char *path);

/** A project file by its path from the repository root (e.g. "deploy/local/scenario.yaml"): `rel` itself
 * when readable from the current directory, else the same path in the source tree this binary was built
 * from. 0 with out filled, or -1 when neither is readable. */
int rs_find_project_path(const char *rel, char *out, size_t outlen);

#endif

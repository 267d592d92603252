/* SPDX-License-Identifier: MIT */
/* Local infrastructure for `ripstop run`. The servers are started together and
 * waited for together (Azurite takes a second or two to boot on node), each on
 * a free port picked here, so parallel runs never collide on 6379/10000/9092. */
#define _GNU_SOURCE /* asprintf, mkdtemp */
#include "infra.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/port_reserve.h"
#include "procs.h"

enum { INF_REDIS = 0, INF_AZURITE, INF_KAFKA, INF_N };
static const char *const inf_names[INF_N] = {"redis", "azurite", "kafka-mock"};

typedef struct {
    int wanted;
    rs_child_t child;
    char *tmpdir;
    char *log_path;
    int port;
    char bootstrap[256];  /* kafka-mock: first line */
    char control[128];    /* kafka-mock: "control: URL" */
    int nlines;
    int restarting; /* stopped by rs_infra_stop_one: its exit is expected, a start follows */
} inf_proc_t;

struct rs_infra {
    struct event_base *base;
    inf_proc_t p[INF_N];
    rs_runner_event_fn on_event;
    void *on_event_arg;
    int stopping;   /* set by rs_infra_signal: exits are expected, not reported */
    int console;
    rs_infra_opts_t opts; /* kept for restarts; its strings are the copies below */
    char *redis_password, *log_dir, *timestamp, *search_dir, *bin_dir;
};

extern char **environ;

static void on_loop_timer(evutil_socket_t fd, short what, void *arg) { event_base_loopbreak(arg); }

void rs_loop_for(struct event_base *base, int ms) {
    /* A private timer (not event_base_loopexit, whose pending exit would cut a later loop short). */
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    struct event *t = evtimer_new(base, on_loop_timer, base);
    evtimer_add(t, &tv);
    int rc = event_base_loop(base, 0);
    event_free(t);
    /* Inside a callback of the same base the loop refuses to re-enter: just wait then. */
    if (rc < 0) usleep((useconds_t)ms * 1000);
}

static void emit(rs_infra_t *inf, rs_runner_event_kind_t kind, int i, pid_t pid, int status) {
    if (!inf->on_event) return;
    rs_runner_event_t ev = {.kind = kind, .proc = RS_PROC_INFRA, .app_id = inf_names[i], .instance = 1,
                            .pid = pid, .status = status, .wall_ms = rs_wall_ms()};
    inf->on_event(&ev, inf->on_event_arg);
}

static char **copy_environ(void) {
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **v = rs_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = rs_strdup(environ[i]);
    return v;
}

static char **make_argv(const char *const *items, size_t n) {
    char **v = rs_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = rs_strdup(items[i]);
    return v;
}

/* Looks for node_modules/.bin/azurite-blob in dir and its parents, then in $RIPSTOP_SRC. */
static char *find_azurite(const char *dir) {
    char cur[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", dir ? dir : ".");
    for (int depth = 0; depth < 12; depth++) {
        char *cand;
        if (asprintf(&cand, "%s/node_modules/.bin/azurite-blob", cur) < 0) abort();
        if (access(cand, X_OK) == 0) return cand;
        free(cand);
        char *slash = strrchr(cur, '/');
        if (!slash || slash == cur) break;
        *slash = 0;
    }
    return NULL;
}

/* The run file's tree first, then the ripstop binary's (a build dir inside the source tree), then
 * $RIPSTOP_SRC, then PATH. */
static char *locate_azurite(const rs_infra_opts_t *o, char **envp) {
    char *exe = find_azurite(o->search_dir);
    if (!exe && o->bin_dir) exe = find_azurite(o->bin_dir);
    if (!exe && getenv("RIPSTOP_SRC")) exe = find_azurite(getenv("RIPSTOP_SRC"));
    if (!exe) exe = rs_find_executable("azurite-blob", NULL, envp);
    return exe;
}

static void on_kafka_line(rs_child_t *c, const char *line, void *arg) {
    inf_proc_t *p = arg;
    if (p->nlines++ == 0 && strchr(line, ':')) snprintf(p->bootstrap, sizeof p->bootstrap, "%s", line);
    else if (rs_has_prefix(line, "control: ")) snprintf(p->control, sizeof p->control, "%s", line + 9);
}

static int open_log(const rs_infra_opts_t *o, inf_proc_t *p, const char *name, char *err, size_t errlen) {
    if (!p->log_path && asprintf(&p->log_path, "%s/%s_%s.log", o->log_dir, name, o->timestamp) < 0) abort();
    p->child.log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (p->child.log_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", p->log_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The last few lines of a log file, for an error message. */
static void log_tail(const char *path, char *out, size_t outlen) {
    out[0] = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long from = sz > (long)outlen - 1 ? sz - (long)outlen + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = 0;
    fclose(f);
}

static int spawn_one(rs_infra_t *inf, const rs_infra_opts_t *o, int i, char *err, size_t errlen) {
    inf_proc_t *p = &inf->p[i];
    rs_child_init(&p->child);
    if (open_log(o, p, inf_names[i], err, errlen)) return -1;
    char port[16];
    /* A restart keeps the port and the data directory of the first start. */
    if (i != INF_KAFKA && !p->port) {
        p->port = rs_port_reserve();
        if (!p->port) {
            snprintf(err, errlen, "%s: no free port", inf_names[i]);
            return -1;
        }
        char tmpl[] = "/tmp/ripstop-infra-XXXXXX";
        if (!mkdtemp(tmpl)) {
            snprintf(err, errlen, "%s: mkdtemp: %s", inf_names[i], strerror(errno));
            return -1;
        }
        p->tmpdir = rs_strdup(tmpl);
    }
    snprintf(port, sizeof port, "%d", p->port);
    if (i == INF_REDIS) {
        /* Append-only persistence (fsync every second, and all of it on a SIGTERM shutdown), so a restart
         * keeps every key; no RDB snapshots. */
        const char *a[] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly",
                           "yes", "--appendfsync", "everysec", "--dir", p->tmpdir, "--requirepass",
                           o->redis_password ? o->redis_password : ""};
        /* Without a password the last two are left off (an empty requirepass would still be "set"). */
        p->child.argv = make_argv(a, o->redis_password && *o->redis_password ? 15 : 13);
    } else if (i == INF_AZURITE) {
        char *exe = locate_azurite(o, environ);
        if (!exe) {
            snprintf(err, errlen,
                     "azurite: node_modules/.bin/azurite-blob not found above %s or %s, nor in PATH (run npm ci)",
                     o->search_dir ? o->search_dir : ".", o->bin_dir ? o->bin_dir : ".");
            return -1;
        }
        const char *a[] = {exe, "--blobHost", "127.0.0.1", "--blobPort", port, "--location", p->tmpdir,
                           "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"};
        p->child.argv = make_argv(a, sizeof a / sizeof *a);
        free(exe);
    } else {
        char *exe = NULL;
        if (o->bin_dir && asprintf(&exe, "%s/kafka-mock", o->bin_dir) < 0) abort();
        if (!exe || access(exe, X_OK) != 0) {
            free(exe);
            exe = rs_strdup("kafka-mock");
        }
        const char *a[] = {exe};
        p->child.argv = make_argv(a, sizeof a / sizeof *a);
        free(exe);
        p->child.on_line = on_kafka_line;
        p->child.line_arg = p;
    }
    p->child.envp = copy_environ();
    if (p->tmpdir) p->child.cwd = rs_strdup(p->tmpdir);
    if (rs_child_spawn(&p->child, inf->base, err, errlen)) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s: %s", inf_names[i], err);
        snprintf(err, errlen, "%s", tmp);
        return -1;
    }
    emit(inf, RS_RUNNER_EV_STARTED, i, p->child.pid, 0);
    if (inf->console) {
        printf("[ripstop] started %s (pid %d), log %s\n", inf_names[i], (int)p->child.pid, p->log_path);
        fflush(stdout);
    }
    return 0;
}

static int is_ready(inf_proc_t *p, int i) {
    if (i == INF_KAFKA) return p->bootstrap[0] && p->control[0];
    return rs_port_open(p->port);
}

rs_infra_t *rs_infra_start(struct event_base *base, const rs_infra_opts_t *o, rs_kvlist_t *env, char *err,
                           size_t errlen) {
    rs_infra_t *inf = rs_xcalloc(1, sizeof *inf);
    inf->base = base;
    inf->on_event = o->on_event;
    inf->on_event_arg = o->on_event_arg;
    inf->console = o->console;
    inf->opts = *o;
    inf->opts.redis_password = inf->redis_password = o->redis_password ? rs_strdup(o->redis_password) : NULL;
    inf->opts.log_dir = inf->log_dir = o->log_dir ? rs_strdup(o->log_dir) : NULL;
    inf->opts.timestamp = inf->timestamp = o->timestamp ? rs_strdup(o->timestamp) : NULL;
    inf->opts.search_dir = inf->search_dir = o->search_dir ? rs_strdup(o->search_dir) : NULL;
    inf->opts.bin_dir = inf->bin_dir = o->bin_dir ? rs_strdup(o->bin_dir) : NULL;
    inf->opts.cancel = NULL;
    int want[INF_N] = {o->redis, o->azurite, o->kafka};
    for (int i = 0; i < INF_N; i++) rs_child_init(&inf->p[i].child);
    if (want[0] || want[1] || want[2]) {
        if (mkdir(o->log_dir, 0755) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create log dir %s: %s", o->log_dir, strerror(errno));
            rs_infra_free(inf);
            return NULL;
        }
    }
    for (int i = 0; i < INF_N; i++) {
        inf->p[i].wanted = want[i];
        if (want[i] && spawn_one(inf, o, i, err, errlen)) {
            rs_infra_free(inf);
            return NULL;
        }
    }
    int64_t deadline = rs_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 30000);
    for (;;) {
        int pending = 0;
        for (int i = 0; i < INF_N; i++) {
            inf_proc_t *p = &inf->p[i];
            if (!p->wanted) continue;
            int st;
            if (rs_child_reap(&p->child, &st)) {
                char tail[600];
                log_tail(p->log_path, tail, sizeof tail);
                snprintf(err, errlen, "%s exited during start-up (status %d); log %s:\n%s", inf_names[i],
                         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), p->log_path, tail);
                rs_infra_free(inf);
                return NULL;
            }
            if (!is_ready(p, i)) pending++;
        }
        if (!pending) break;
        if (o->cancel && *o->cancel) {
            snprintf(err, errlen, "interrupted while starting the infrastructure");
            rs_infra_free(inf);
            return NULL;
        }
        if (rs_now_ms() > deadline) {
            snprintf(err, errlen, "infrastructure not ready after %d ms:", o->timeout_ms > 0 ? o->timeout_ms : 30000);
            for (int i = 0; i < INF_N; i++)
                if (inf->p[i].wanted && !is_ready(&inf->p[i], i))
                    strncat(err, i == INF_REDIS ? " redis" : i == INF_AZURITE ? " azurite" : " kafka-mock",
                            errlen - strlen(err) - 1);
            rs_infra_free(inf);
            return NULL;
        }
        rs_loop_for(base, 25);
    }
    char v[300];
    if (want[INF_REDIS]) {
        snprintf(v, sizeof v, "127.0.0.1:%d", inf->p[INF_REDIS].port);
        rs_kvlist_set(env, "RIPSTOP_REDIS_HOST", v);
    }
    if (want[INF_AZURITE]) {
        snprintf(v, sizeof v, "http://127.0.0.1:%d", inf->p[INF_AZURITE].port);
        rs_kvlist_set(env, "RIPSTOP_BLOB_ENDPOINT", v);
    }
    if (want[INF_KAFKA]) {
        rs_kvlist_set(env, "RIPSTOP_KAFKA_BROKERS", inf->p[INF_KAFKA].bootstrap);
        rs_kvlist_set(env, "RIPSTOP_KAFKA_CONTROL", inf->p[INF_KAFKA].control);
    }
    return inf;
}

void rs_infra_reap(rs_infra_t *inf) {
    if (!inf) return;
    for (int i = 0; i < INF_N; i++) {
        inf_proc_t *p = &inf->p[i];
        int st;
        pid_t pid = p->child.pid;
        if (p->wanted && rs_child_reap(&p->child, &st)) {
            if (inf->stopping) continue;
            if (p->restarting) {
                emit(inf, RS_RUNNER_EV_EXITED, i, pid, st);
                continue;
            }
            char msg[256];
            int n = snprintf(msg, sizeof msg, "[ripstop] %s (pid %d) exited with %s %d; it is not restarted\n",
                             inf_names[i], (int)pid, WIFEXITED(st) ? "status" : "signal",
                             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            if (write(STDERR_FILENO, msg, (size_t)n) < 0) {}
            emit(inf, RS_RUNNER_EV_EXITED, i, pid, st);
        }
    }
}

void rs_infra_signal(rs_infra_t *inf, int sig) {
    if (!inf) return;
    inf->stopping = 1;
    for (int i = 0; i < INF_N; i++) rs_child_signal(&inf->p[i].child, sig);
}

int rs_infra_running(rs_infra_t *inf) {
    int n = 0;
    for (int i = 0; inf && i < INF_N; i++) n += inf->p[i].child.pid > 0;
    return n;
}

int rs_infra_pid(rs_infra_t *inf, const char *name) {
    for (int i = 0; inf && i < INF_N; i++)
        if (!strcmp(name, inf_names[i]) && inf->p[i].child.pid > 0) return inf->p[i].child.pid;
    return -1;
}

static int inf_index(const char *name) {
    for (int i = 0; i < INF_N; i++)
        if (!strcmp(name, inf_names[i])) return i;
    return -1;
}

int rs_infra_stop_one(rs_infra_t *inf, const char *name) {
    int i = inf ? inf_index(name) : -1;
    if (i < 0 || i == INF_KAFKA || !inf->p[i].wanted || inf->p[i].child.pid <= 0) return -1;
    inf_proc_t *p = &inf->p[i];
    p->restarting = 1;
    pid_t pid = p->child.pid;
    rs_child_signal(&p->child, SIGCONT); /* a paused server could not act on SIGTERM */
    rs_child_signal(&p->child, SIGTERM);
    return pid;
}

int rs_infra_start_one(rs_infra_t *inf, const char *name, char *err, size_t errlen) {
    int i = inf ? inf_index(name) : -1;
    if (i < 0 || i == INF_KAFKA || !inf->p[i].wanted) {
        snprintf(err, errlen, "%s: not started by this run, or cannot be restarted", name);
        return -1;
    }
    inf_proc_t *p = &inf->p[i];
    if (p->child.pid > 0) {
        /* Still shutting down (redis writes its AOF first): give it a moment, then SIGKILL. The loop runs
         * meanwhile: what else lives on it (the children's output, the demo's timers) must not starve. */
        int64_t until = rs_now_ms() + 5000;
        while (p->child.pid > 0 && !rs_child_reap(&p->child, NULL) && rs_now_ms() < until) rs_loop_for(inf->base, 20);
        if (p->child.pid > 0) {
            rs_child_signal(&p->child, SIGKILL);
            for (int k = 0; k < 500 && !rs_child_reap(&p->child, NULL); k++) usleep(10000);
        }
    }
    rs_child_free(&p->child);
    p->restarting = 0;
    return spawn_one(inf, &inf->opts, i, err, errlen) == 0 ? (int)p->child.pid : -1;
}

int rs_infra_ready(rs_infra_t *inf, const char *name) {
    int i = inf ? inf_index(name) : -1;
    return i >= 0 && inf->p[i].wanted && inf->p[i].child.pid > 0 && is_ready(&inf->p[i], i);
}

void rs_infra_free(rs_infra_t *inf) {
    if (!inf) return;
    for (int i = 0; i < INF_N; i++) {
        inf_proc_t *p = &inf->p[i];
        if (p->child.pid > 0) {
            rs_child_signal(&p->child, SIGKILL);
            /* SIGKILL cannot be ignored: this wait is short. */
            for (int k = 0; k < 500 && !rs_child_reap(&p->child, NULL); k++) usleep(10000);
        }
        rs_child_free(&p->child);
        if (p->tmpdir) rs_rmtree(p->tmpdir);
        free(p->tmpdir);
        free(p->log_path);
    }
    free(inf->redis_password);
    free(inf->log_dir);
    free(inf->timestamp);
    free(inf->search_dir);
    free(inf->bin_dir);
    free(inf);
}

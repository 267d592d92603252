/* SPDX-License-Identifier: MIT */
/* The multi-app runner: instances, their environment and flags, the restart
 * policy with back-off, readiness probes, and an orderly stop. Process
 * mechanics are in procs.c, infrastructure in infra.c, the file in runfile.c. */
#define _GNU_SOURCE /* asprintf */
#include "runner.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fs.h"
#include "core/port_reserve.h"
#include "core/str.h"
#include "infra.h"
#include "procs.h"
#include "runfile.h"

#define REAP_INTERVAL_MS 50
#define PROBE_INTERVAL_MS 150
#define STABLE_UPTIME_MS 10000 /* a process that ran this long starts its back-off afresh */
#define STOP_GRACE_MS 5000
#define APP_WAIT_POLL_MS 50   /* a sidecar behind an app-link proxy: how often its app port is tried */

extern char **environ;

typedef struct inst inst_t;

typedef struct {
    inst_t *in;
    rs_proc_kind_t kind;
    rs_child_t child;
    int restarts;
    int64_t delay_ms;         /* next back-off */
    struct event *restart_ev;
    int stopping;             /* we stopped it on purpose: no restart, no EXITED event */
    int gave_up;
    int exits;
    int started_once;
    char *log_path;
    char last_line[200];      /* for start-up error messages */
} slot_t;

struct inst {
    rs_runner_t *r;
    rs_runfile_app_t *app;
    int instance;
    char label[96];           /* "app" or "app#2" */
    int app_port, http_port, metrics_port, grpc_port;
    int app_proxied;          /* the sidecar reaches its app through a chaos proxy (chaosLinks: app) */
    slot_t app_s, side_s;
    int ready;
    struct event *probe_ev;
    struct evhttp_connection *hc;
    int probe_inflight;
};

struct rs_runner {
    struct event_base *base;
    int own_base;
    rs_runfile_t rf;
    inst_t *insts;
    size_t ninst;
    rs_infra_t *infra;
    rs_kvlist_t infra_env;
    char *bin_dir;
    char *ripstopd;
    char *run_dir;            /* private temp dir of this run (name-resolution table) */
    struct event *reap_ev;
    rs_runner_event_fn on_event;
    void *on_event_arg;
    rs_runner_link_fn link_fn;
    void *link_arg;
    int console;
    int announce;
    int stopping;
    const volatile int *cancel;
    char ts[16];
};

/* ---------- small helpers ---------- */

static void say(rs_runner_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(rs_runner_t *r, const char *fmt, ...) {
    if (!r->announce) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    fputs("[ripstop] ", stdout);
    fwrite(line, 1, (size_t)n, stdout);
    fflush(stdout);
}

static void emit(rs_runner_t *r, rs_runner_event_kind_t kind, slot_t *s, pid_t pid, int status, int sig,
                 int64_t delay) {
    if (!r->on_event) return;
    rs_runner_event_t ev = {.kind = kind, .proc = s->kind, .app_id = s->in->app->app_id,
                            .instance = s->in->instance, .pid = pid, .status = status, .signal = sig,
                            .restarts = s->restarts, .delay_ms = delay, .wall_ms = rs_wall_ms()};
    r->on_event(&ev, r->on_event_arg);
}

static const char *kind_name(rs_proc_kind_t k) { return k == RS_PROC_APP ? "app" : "daprd"; }

static void describe_status(int st, char *out, size_t n) {
    if (WIFEXITED(st)) snprintf(out, n, "status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(out, n, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(out, n, "wait status %d", st);
}

/* "customer-order-service" -> "CUSTOMER_ORDER_SERVICE" */
static void env_suffix(const char *app_id, char *out, size_t n) {
    size_t i = 0;
    for (; app_id[i] && i + 1 < n; i++)
        out[i] = isalnum((unsigned char)app_id[i]) ? (char)toupper((unsigned char)app_id[i]) : '_';
    out[i] = 0;
}

/* Expands $$, ${NAME} and ${NAME:-default} from env. Unknown names without a default are an error. */
static int expand(const char *in, const rs_kvlist_t *env, char **out, char *err, size_t errlen) {
    size_t cap = strlen(in) + 64, len = 0;
    char *o = rs_xmalloc(cap);
    char name[256]; /* outlives each ${...}: the default value points into it */
    for (const char *p = in; *p;) {
        const char *piece = p;
        size_t plen = 1;
        if (p[0] == '$' && p[1] == '$') {
            plen = 1;
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            if (!end) {
                snprintf(err, errlen, "'%s': unterminated ${", in);
                free(o);
                return -1;
            }
            size_t nlen = (size_t)(end - p - 2);
            if (nlen >= sizeof name) nlen = sizeof name - 1;
            memcpy(name, p + 2, nlen);
            name[nlen] = 0;
            char *def = strstr(name, ":-");
            if (def) {
                *def = 0;
                def += 2;
            }
            const char *v = rs_kvlist_get(env, name);
            if ((!v || !*v) && def) v = def;
            if (!v) {
                snprintf(err, errlen, "'%s': unknown variable ${%s}", in, name);
                free(o);
                return -1;
            }
            piece = v;
            plen = strlen(v);
            p = end + 1;
        } else {
            p++;
        }
        if (len + plen + 1 > cap) {
            cap = (len + plen + 1) * 2;
            o = rs_xrealloc(o, cap);
        }
        memcpy(o + len, piece, plen);
        len += plen;
    }
    o[len] = 0;
    *out = o;
    return 0;
}

static char **env_vector(const rs_kvlist_t *env) {
    char **v = rs_xcalloc(env->len + 1, sizeof *v);
    for (size_t i = 0; i < env->len; i++)
        if (asprintf(&v[i], "%s=%s", env->items[i].key, env->items[i].value) < 0) abort();
    return v;
}

static char *self_dir(void) {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return rs_strdup(".");
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    return rs_strdup(buf);
}

static char *read_redis_password(const char *secrets_file) {
    if (!secrets_file) return NULL;
    json_error_t je;
    json_t *j = json_load_file(secrets_file, 0, &je);
    if (!j) return NULL;
    json_t *v = json_object_get(j, "redis-password");
    char *out = json_is_string(v) && *json_string_value(v) ? rs_strdup(json_string_value(v)) : NULL;
    json_decref(j);
    return out;
}

/* ---------- readiness ---------- */

static void set_ready(inst_t *in, int ready) {
    if (in->ready == ready) return;
    in->ready = ready;
    rs_runner_t *r = in->r;
    if (ready) {
        say(r, "%s is ready", in->label);
        slot_t *s = in->app->no_sidecar ? &in->app_s : &in->side_s;
        emit(r, RS_RUNNER_EV_READY, s, s->child.pid, 0, 0, 0);
    }
}

static void schedule_probe(inst_t *in) {
    if (in->r->stopping || in->ready) return;
    struct timeval tv = {0, PROBE_INTERVAL_MS * 1000};
    event_add(in->probe_ev, &tv);
}

static void on_probe_reply(struct evhttp_request *req, void *arg) {
    inst_t *in = arg;
    in->probe_inflight = 0;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    if (code == 204 || code == 200) set_ready(in, 1);
    else schedule_probe(in);
}

static void on_probe_timer(evutil_socket_t fd, short what, void *arg) {
    inst_t *in = arg;
    if (in->r->stopping || in->ready) return;
    if (in->app->no_sidecar) {
        /* A plain app: ready when its port accepts connections (loopback connect does not block). */
        int alive = in->app_s.child.pid > 0;
        if (alive && (in->app_port <= 0 || rs_port_open(in->app_port))) set_ready(in, 1);
        else schedule_probe(in);
        return;
    }
    if (in->side_s.child.pid <= 0 || in->probe_inflight) {
        schedule_probe(in);
        return;
    }
    if (!in->hc) {
        in->hc = evhttp_connection_base_new(in->r->base, NULL, "127.0.0.1", (unsigned short)in->http_port);
        evhttp_connection_set_timeout(in->hc, 2);
        evhttp_connection_set_retries(in->hc, 0);
    }
    struct evhttp_request *req = evhttp_request_new(on_probe_reply, in);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
    if (evhttp_make_request(in->hc, req, EVHTTP_REQ_GET, "/v1.0/healthz") == 0) in->probe_inflight = 1;
    else schedule_probe(in);
}

/* ---------- spawning and restarts ---------- */

static void on_child_line(rs_child_t *c, const char *line, void *arg) {
    slot_t *s = arg;
    snprintf(s->last_line, sizeof s->last_line, "%s", line);
}

static int spawn_slot(slot_t *s, char *err, size_t errlen) {
    rs_runner_t *r = s->in->r;
    if (rs_child_spawn(&s->child, r->base, err, errlen)) return -1;
    s->started_once = 1;
    if (s->child.log_fd >= 0 && s->restarts > 0) {
        char m[128];
        int n = snprintf(m, sizeof m, "----- ripstop: restart %d (pid %d) -----\n", s->restarts, (int)s->child.pid);
        if (write(s->child.log_fd, m, (size_t)n) < 0) {}
    }
    say(r, "started %s %s (pid %d)", s->in->label, kind_name(s->kind), (int)s->child.pid);
    emit(r, RS_RUNNER_EV_STARTED, s, s->child.pid, 0, 0, 0);
    return 0;
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg);

static void schedule_restart(slot_t *s) {
    rs_runner_t *r = s->in->r;
    int64_t delay = s->delay_ms;
    rs_runfile_app_t *a = s->in->app;
    s->delay_ms = delay * 2 > a->restart_max_delay_ms ? a->restart_max_delay_ms : delay * 2;
    struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
    event_add(s->restart_ev, &tv);
    say(r, "restarting %s %s in %lld ms", s->in->label, kind_name(s->kind), (long long)delay);
    emit(r, RS_RUNNER_EV_RESTARTING, s, 0, 0, 0, delay);
}

/* A sidecar whose app link goes through a chaos proxy starts only once the app itself accepts connections:
 * the proxy accepts for an app that is not listening yet, so the sidecar's own app-port probe (daprd's too)
 * would find "the app" at once and ask it for its subscriptions and input bindings before it is there (the
 * answer is a reset, and those input bindings stay off for the sidecar's lifetime). Returns 1 while waiting. */
static int sidecar_waits_for_app(slot_t *s) {
    inst_t *in = s->in;
    if (s->kind != RS_PROC_SIDECAR || !in->app_proxied || rs_port_open(in->app_port)) return 0;
    struct timeval tv = {0, APP_WAIT_POLL_MS * 1000};
    event_add(s->restart_ev, &tv);
    return 1;
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg) {
    slot_t *s = arg;
    rs_runner_t *r = s->in->r;
    if (r->stopping || s->child.pid > 0 || sidecar_waits_for_app(s)) return;
    if (!s->started_once) { /* its first start, delayed until the app listened */
        char err[512];
        if (spawn_slot(s, err, sizeof err)) say(r, "cannot start %s %s: %s", s->in->label, kind_name(s->kind), err);
        schedule_probe(s->in);
        return;
    }
    s->restarts++;
    char err[512];
    if (spawn_slot(s, err, sizeof err)) {
        say(r, "cannot restart %s %s: %s", s->in->label, kind_name(s->kind), err);
        schedule_restart(s);
        return;
    }
    schedule_probe(s->in);
}

static void handle_exit(slot_t *s, pid_t pid, int st) {
    rs_runner_t *r = s->in->r;
    if (s->stopping || r->stopping) return;
    s->exits++;
    char d[96];
    describe_status(st, d, sizeof d);
    say(r, "%s %s (pid %d) exited with %s", s->in->label, kind_name(s->kind), (int)pid, d);
    emit(r, RS_RUNNER_EV_EXITED, s, pid, st, 0, 0);
    set_ready(s->in, 0);
    schedule_probe(s->in);
    rs_runfile_app_t *a = s->in->app;
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (a->restart == RS_RESTART_NEVER || (a->restart == RS_RESTART_ON_FAILURE && clean)) {
        s->gave_up = 1;
        say(r, "%s %s stays down (restart: %s)", s->in->label, kind_name(s->kind),
            a->restart == RS_RESTART_NEVER ? "never" : "on-failure");
        emit(r, RS_RUNNER_EV_GAVE_UP, s, pid, st, 0, 0);
        return;
    }
    if (rs_now_ms() - s->child.started_ms >= STABLE_UPTIME_MS) s->delay_ms = a->restart_delay_ms;
    schedule_restart(s);
}

static void reap_all(rs_runner_t *r) {
    for (size_t i = 0; i < r->ninst; i++) {
        slot_t *slots[2] = {&r->insts[i].app_s, &r->insts[i].side_s};
        for (int k = 0; k < 2; k++) {
            slot_t *s = slots[k];
            pid_t pid = s->child.pid;
            int st;
            if (pid > 0 && rs_child_reap(&s->child, &st)) handle_exit(s, pid, st);
        }
    }
    rs_infra_reap(r->infra);
}

static void on_reap_timer(evutil_socket_t fd, short what, void *arg) { reap_all(arg); }

/* ---------- building instances ---------- */

static int open_log(rs_runner_t *r, slot_t *s, const char *log_dir, char *err, size_t errlen) {
    inst_t *in = s->in;
    char name[160];
    if (in->app->replicas > 1) snprintf(name, sizeof name, "%s-%d", in->app->app_id, in->instance);
    else snprintf(name, sizeof name, "%s", in->app->app_id);
    if (asprintf(&s->log_path, "%s/%s_%s_%s.log", log_dir, name, kind_name(s->kind), r->ts) < 0) abort();
    s->child.log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->child.log_fd < 0) {
        snprintf(err, errlen, "cannot open log file %s: %s", s->log_path, strerror(errno));
        return -1;
    }
    return 0;
}

static int alloc_port(int spec, int none_value, int *out, char *err, size_t errlen) {
    if (spec == RS_PORT_AUTO) {
        *out = rs_port_reserve();
        if (!*out) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
    } else if (spec == RS_PORT_NONE) {
        *out = none_value;
    } else {
        *out = spec;
    }
    return 0;
}

static void add_strv(rs_strlist_t *l, const char *a, const char *b) {
    rs_strlist_add(l, a);
    if (b) rs_strlist_add(l, b);
}

static char **strlist_to_vec(rs_strlist_t *l) {
    char **v = rs_xcalloc(l->len + 1, sizeof *v);
    for (size_t i = 0; i < l->len; i++) v[i] = l->items[i];
    free(l->items);
    memset(l, 0, sizeof *l);
    return v;
}

/* The port at the end of "127.0.0.1:6379" or "http://127.0.0.1:10000" (loopback only), or -1. */
static int loopback_port(const char *hostport) {
    const char *h = hostport;
    if (rs_has_prefix(h, "http://")) h += 7;
    if (!rs_has_prefix(h, "127.0.0.1:")) return -1;
    long long port;
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%.*s", (int)strcspn(h + 10, "/"), h + 10);
    return rs_parse_int64(tmp, &port) || port < 1 || port > 65535 ? -1 : (int)port;
}

/* chaosLinks: asks the hook for a proxy per link and points the sidecar at it (its --app-port, or the
 * RIPSTOP_REDIS_HOST / RIPSTOP_BLOB_ENDPOINT its components read). env is the sidecar's. */
static void link_sidecar(rs_runner_t *r, inst_t *in, rs_kvlist_t *env, int *app_port) {
    const rs_runfile_app_t *a = in->app;
    if (!r->link_fn || !a->chaos_links) return;
    if ((a->chaos_links & RS_LINK_APP) && *app_port > 0) {
        int p = r->link_fn(r->link_arg, a->app_id, in->instance, "app", *app_port);
        if (p > 0) {
            *app_port = p;
            in->app_proxied = 1;
        }
    }
    static const struct { int bit; const char *var, *prefix; } infra[] = {
        {RS_LINK_REDIS, "RIPSTOP_REDIS_HOST", ""}, {RS_LINK_BLOB, "RIPSTOP_BLOB_ENDPOINT", "http://"}};
    for (size_t i = 0; i < sizeof infra / sizeof infra[0]; i++) {
        const char *v = rs_kvlist_get(env, infra[i].var);
        int up = v && (a->chaos_links & infra[i].bit) ? loopback_port(v) : -1;
        if (up <= 0) continue;
        int p = r->link_fn(r->link_arg, a->app_id, in->instance, rs_runfile_link_name(infra[i].bit), up);
        char hp[64];
        snprintf(hp, sizeof hp, "%s127.0.0.1:%d", infra[i].prefix, p);
        if (p > 0) rs_kvlist_set(env, infra[i].var, hp);
    }
}

static int build_instance(rs_runner_t *r, inst_t *in, const rs_kvlist_t *base_env, const char *const *extra_env,
                          const char *log_dir_opt, char *err, size_t errlen) {
    rs_runfile_app_t *a = in->app;
    char e2[600];
    rs_kvlist_t env = {0};
    rs_kvlist_copy(&env, base_env);
    for (size_t i = 0; i < a->env.len; i++) {
        char *v;
        if (expand(a->env.items[i].value, &env, &v, e2, sizeof e2)) {
            snprintf(err, errlen, "%s: %s: env.%s: %s", r->rf.path, a->app_id, a->env.items[i].key, e2);
            rs_kvlist_free(&env);
            return -1;
        }
        rs_kvlist_set(&env, a->env.items[i].key, v);
        free(v);
    }
    char num[32];
    rs_kvlist_set(&env, "APP_ID", a->app_id);
    if (in->app_port > 0) {
        snprintf(num, sizeof num, "%d", in->app_port);
        rs_kvlist_set(&env, "APP_PORT", num);
    }
    if (!a->no_sidecar) {
        snprintf(num, sizeof num, "%d", in->http_port);
        rs_kvlist_set(&env, "DAPR_HTTP_PORT", num);
        if (in->grpc_port > 0) {
            snprintf(num, sizeof num, "%d", in->grpc_port);
            rs_kvlist_set(&env, "DAPR_GRPC_PORT", num);
        }
        snprintf(num, sizeof num, "%d", in->metrics_port);
        rs_kvlist_set(&env, "DAPR_METRICS_PORT", num);
    }
    rs_kvlist_set(&env, "APP_PROTOCOL", a->app_protocol);
    if (a->app_channel_address && strcmp(a->app_channel_address, "127.0.0.1"))
        rs_kvlist_set(&env, "APP_CHANNEL_ADDRESS", a->app_channel_address);
    snprintf(num, sizeof num, "%d", in->instance);
    rs_kvlist_set(&env, "RIPSTOP_INSTANCE", num);
    for (const char *const *e = extra_env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e) continue;
        char k[256];
        snprintf(k, sizeof k, "%.*s", (int)(eq - *e), *e);
        rs_kvlist_set(&env, k, eq + 1);
    }

    /* The app. */
    rs_strlist_t argv = {0};
    for (size_t i = 0; i < a->ncommand; i++) {
        char *v;
        if (expand(a->command[i], &env, &v, e2, sizeof e2)) {
            snprintf(err, errlen, "%s: %s: command[%zu]: %s", r->rf.path, a->app_id, i, e2);
            rs_strlist_free(&argv);
            rs_kvlist_free(&env);
            return -1;
        }
        rs_strlist_add(&argv, v);
        free(v);
    }
    in->app_s.child.argv = strlist_to_vec(&argv);
    in->app_s.child.envp = env_vector(&env);
    in->app_s.child.cwd = rs_strdup(a->dir);

    char *log_dir = NULL;
    if (log_dir_opt) log_dir = rs_strdup(log_dir_opt);
    else if (asprintf(&log_dir, "%s/.dapr/logs", a->dir) < 0) abort();
    if (rs_mkdir_p(log_dir, 0755)) {
        snprintf(err, errlen, "cannot create log dir %s: %s", log_dir, strerror(errno));
        free(log_dir);
        rs_kvlist_free(&env);
        return -1;
    }
    int rc = 0;
    char prefix[128];
    if (a->app_log_dest & RS_LOGDEST_FILE) rc = open_log(r, &in->app_s, log_dir, err, errlen);
    in->app_s.child.console = r->console && (a->app_log_dest & RS_LOGDEST_CONSOLE);
    snprintf(prefix, sizeof prefix, "[%s] ", in->label);
    in->app_s.child.prefix = rs_strdup(prefix);

    /* Its sidecar, with daprd's flags (spec §4.1). */
    if (!rc && !a->no_sidecar) {
        rs_strlist_t sv = {0};
        char p1[16], p2[16];
        int side_app_port = in->app_port;
        link_sidecar(r, in, &env, &side_app_port);
        rs_strlist_add(&sv, r->ripstopd);
        add_strv(&sv, "--app-id", a->app_id);
        if (side_app_port > 0) {
            snprintf(p1, sizeof p1, "%d", side_app_port);
            add_strv(&sv, "--app-port", p1);
        }
        snprintf(p1, sizeof p1, "%d", in->http_port);
        add_strv(&sv, "--dapr-http-port", p1);
        if (in->grpc_port > 0) {
            snprintf(p2, sizeof p2, "%d", in->grpc_port);
            add_strv(&sv, "--dapr-grpc-port", p2);
        }
        snprintf(p2, sizeof p2, "%d", in->metrics_port);
        add_strv(&sv, "--metrics-port", p2);
        for (size_t i = 0; i < a->resources_paths.len; i++) add_strv(&sv, "--resources-path", a->resources_paths.items[i]);
        if (a->config_path) add_strv(&sv, "--config", a->config_path);
        add_strv(&sv, "--app-protocol", a->app_protocol);
        if (a->app_channel_address) add_strv(&sv, "--app-channel-address", a->app_channel_address);
        if (a->log_level) add_strv(&sv, "--log-level", a->log_level);
        if (a->enable_api_logging) add_strv(&sv, "--enable-api-logging", NULL);
        if (a->enable_health_check) add_strv(&sv, "--enable-app-health-check", NULL);
        if (a->health_check_path) add_strv(&sv, "--app-health-check-path", a->health_check_path);
        const struct {
            const char *flag;
            int v;
        } tuning[] = {{"--app-health-probe-interval", a->health_interval_s},
                      {"--app-health-probe-timeout", a->health_timeout_ms},
                      {"--app-health-threshold", a->health_threshold}};
        for (size_t i = 0; i < sizeof tuning / sizeof tuning[0]; i++) {
            if (!tuning[i].v) continue;
            snprintf(p2, sizeof p2, "%d", tuning[i].v);
            add_strv(&sv, tuning[i].flag, p2);
        }
        in->side_s.child.argv = strlist_to_vec(&sv);
        in->side_s.child.envp = env_vector(&env);
        in->side_s.child.cwd = rs_strdup(a->dir);
        if (a->daprd_log_dest & RS_LOGDEST_FILE) rc = open_log(r, &in->side_s, log_dir, err, errlen);
        in->side_s.child.console = r->console && (a->daprd_log_dest & RS_LOGDEST_CONSOLE);
        snprintf(prefix, sizeof prefix, "[%s daprd] ", in->label);
        in->side_s.child.prefix = rs_strdup(prefix);
    }
    free(log_dir);
    rs_kvlist_free(&env);
    return rc;
}

static void init_slot(inst_t *in, slot_t *s, rs_proc_kind_t kind) {
    s->in = in;
    s->kind = kind;
    rs_child_init(&s->child);
    s->child.on_line = on_child_line;
    s->child.line_arg = s;
    s->delay_ms = in->app->restart_delay_ms;
    s->restart_ev = evtimer_new(in->r->base, on_restart_timer, s);
}

/* ---------- stopping ---------- */

static int any_running(rs_runner_t *r, rs_proc_kind_t kind) {
    for (size_t i = 0; i < r->ninst; i++) {
        slot_t *s = kind == RS_PROC_APP ? &r->insts[i].app_s : &r->insts[i].side_s;
        if (s->child.pid > 0) return 1;
    }
    return 0;
}

static void stop_group(rs_runner_t *r, rs_proc_kind_t kind, int sig) {
    for (size_t i = 0; i < r->ninst; i++) {
        slot_t *s = kind == RS_PROC_APP ? &r->insts[i].app_s : &r->insts[i].side_s;
        s->stopping = 1;
        rs_child_signal(&s->child, sig);
    }
}

static void wait_group(rs_runner_t *r, rs_proc_kind_t kind, int ms) {
    int64_t deadline = rs_now_ms() + ms;
    while (rs_now_ms() < deadline) {
        if (r->cancel && *r->cancel >= 2) return; /* asked twice: no more grace, SIGKILL follows */
        reap_all(r);
        if (kind == RS_PROC_INFRA ? !rs_infra_running(r->infra) : !any_running(r, kind)) return;
        rs_loop_for(r->base, 20);
    }
}

static void free_runner(rs_runner_t *r) {
    for (size_t i = 0; i < r->ninst; i++) {
        inst_t *in = &r->insts[i];
        slot_t *slots[2] = {&in->app_s, &in->side_s};
        for (int k = 0; k < 2; k++) {
            slot_t *s = slots[k];
            if (s->child.pid > 0) {
                rs_child_signal(&s->child, SIGKILL);
                for (int n = 0; n < 500 && !rs_child_reap(&s->child, NULL); n++) usleep(10000);
            }
            rs_child_free(&s->child);
            if (s->restart_ev) event_free(s->restart_ev);
            free(s->log_path);
        }
        if (in->probe_ev) event_free(in->probe_ev);
        if (in->hc) evhttp_connection_free(in->hc);
    }
    free(r->insts);
    rs_infra_free(r->infra);
    if (r->reap_ev) event_free(r->reap_ev);
    rs_kvlist_free(&r->infra_env);
    rs_runfile_free(&r->rf);
    free(r->bin_dir);
    free(r->ripstopd);
    if (r->run_dir) rs_rmtree(r->run_dir);
    free(r->run_dir);
    if (r->own_base) event_base_free(r->base);
    free(r);
}

void rs_runner_stop(rs_runner_t *r) {
    if (!r) return;
    r->stopping = 1;
    for (size_t i = 0; i < r->ninst; i++) {
        event_del(r->insts[i].app_s.restart_ev);
        event_del(r->insts[i].side_s.restart_ev);
        if (r->insts[i].probe_ev) event_del(r->insts[i].probe_ev);
    }
    /* Apps first (they may still flush through their sidecars), then sidecars, then the servers. */
    stop_group(r, RS_PROC_APP, SIGTERM);
    wait_group(r, RS_PROC_APP, STOP_GRACE_MS);
    stop_group(r, RS_PROC_APP, SIGKILL);
    stop_group(r, RS_PROC_SIDECAR, SIGTERM);
    wait_group(r, RS_PROC_SIDECAR, STOP_GRACE_MS);
    stop_group(r, RS_PROC_SIDECAR, SIGKILL);
    rs_infra_signal(r->infra, SIGTERM);
    wait_group(r, RS_PROC_INFRA, STOP_GRACE_MS);
    free_runner(r); /* SIGKILLs and reaps whatever is left */
}

/* ---------- start ---------- */

static void set_infra(rs_runner_t *r, const char *name, const char *opt) {
    const char *v = opt && *opt ? opt : getenv(name);
    if (v && *v) rs_kvlist_set(&r->infra_env, name, v);
}

static int wait_ready(rs_runner_t *r, const rs_runner_opts_t *o, char *err, size_t errlen) {
    int timeout = o->ready_timeout_ms ? o->ready_timeout_ms : 60000;
    int64_t deadline = rs_now_ms() + timeout;
    for (;;) {
        /* An instance whose process stays down by policy (restart: never / on-failure) is not waited for. */
        size_t pending = 0;
        for (size_t i = 0; i < r->ninst; i++)
            pending += !r->insts[i].ready && !r->insts[i].app_s.gave_up && !r->insts[i].side_s.gave_up;
        if (!pending) return 0;
        if (o->cancel && *o->cancel) {
            snprintf(err, errlen, "interrupted while waiting for the apps to become ready");
            return -1;
        }
        if (rs_now_ms() > deadline) {
            size_t n = (size_t)snprintf(err, errlen, "timed out after %d ms; not ready:", timeout);
            for (size_t i = 0; i < r->ninst && n < errlen; i++) {
                inst_t *in = &r->insts[i];
                if (in->ready) continue;
                /* Point at the log of whichever process failed (the sidecar's when neither did). */
                slot_t *s = in->app->no_sidecar || in->app_s.exits > in->side_s.exits ? &in->app_s : &in->side_s;
                n += (size_t)snprintf(err + n, errlen - n, "\n  %s: app exited %d times, daprd %d times; %s log %s, last line: %s",
                                      in->label, in->app_s.exits, in->side_s.exits, kind_name(s->kind),
                                      s->log_path ? s->log_path : "(console only)", s->last_line);
            }
            return -1;
        }
        rs_loop_for(r->base, 50);
    }
}

/* Phase 1: the runner object, its run file, event base, timestamp and private run directory. NULL on error. */
static rs_runner_t *new_runner(const rs_runner_opts_t *o, char *err, size_t errlen) {
    rs_runner_t *r = rs_xcalloc(1, sizeof *r);
    if (rs_runfile_load(&r->rf, o->run_file, err, errlen)) {
        free(r);
        return NULL;
    }
    r->console = o->console;
    r->announce = o->announce;
    r->cancel = o->cancel;
    r->on_event = o->on_event;
    r->on_event_arg = o->on_event_arg;
    r->link_fn = o->link_fn;
    r->link_arg = o->link_arg;
    for (size_t i = 0; i < r->rf.warnings.len; i++) say(r, "warning: %s", r->rf.warnings.items[i]);
    r->base = o->base;
    if (!r->base) {
        r->base = event_base_new();
        r->own_base = 1;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(r->ts, sizeof r->ts, "%Y%m%d%H%M%S", &tm);
    r->bin_dir = self_dir();
    char run_tmpl[] = "/tmp/ripstop-run-XXXXXX";
    if (!mkdtemp(run_tmpl)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        free_runner(r);
        return NULL;
    }
    r->run_dir = rs_strdup(run_tmpl);
    r->reap_ev = event_new(r->base, -1, EV_PERSIST, on_reap_timer, r);
    return r;
}

/* Phase 2: the sidecar binary, when any app has a sidecar: next to ripstop, then $RIPSTOPD, then PATH. */
static int find_ripstopd(rs_runner_t *r, const rs_runner_opts_t *o, char *err, size_t errlen) {
    int need_sidecar = 0;
    for (size_t i = 0; i < r->rf.napps; i++) need_sidecar |= !r->rf.apps[i].no_sidecar;
    if (!need_sidecar) return 0;
    if (o->ripstopd) r->ripstopd = rs_find_executable(o->ripstopd, NULL, NULL);
    else {
        char *cand;
        if (asprintf(&cand, "%s/ripstopd", r->bin_dir) < 0) abort();
        if (access(cand, X_OK) == 0) r->ripstopd = cand;
        else {
            free(cand);
            if (getenv("RIPSTOPD")) r->ripstopd = rs_find_executable(getenv("RIPSTOPD"), NULL, NULL);
            if (!r->ripstopd) r->ripstopd = rs_find_executable("ripstopd", NULL, NULL);
        }
    }
    if (!r->ripstopd) {
        snprintf(err, errlen, "ripstopd not found (looked for %s next to ripstop in %s, $RIPSTOPD and PATH)",
                 o->ripstopd ? o->ripstopd : "ripstopd", r->bin_dir);
        return -1;
    }
    return 0;
}

/* Phase 3: infrastructure. One given (flag or environment) wins over starting one. */
static int start_infra(rs_runner_t *r, const rs_runner_opts_t *o, char *err, size_t errlen) {
    set_infra(r, "RIPSTOP_REDIS_HOST", o->redis_host);
    set_infra(r, "RIPSTOP_KAFKA_BROKERS", o->kafka_brokers);
    set_infra(r, "RIPSTOP_KAFKA_CONTROL", o->kafka_control);
    set_infra(r, "RIPSTOP_BLOB_ENDPOINT", o->blob_endpoint);
    set_infra(r, "RIPSTOP_REDIS_PASSWORD", NULL);
    if (r->rf.secrets_file) rs_kvlist_set(&r->infra_env, "RIPSTOP_SECRETS_FILE", r->rf.secrets_file);
    char *password = read_redis_password(r->rf.secrets_file);
    if (!rs_kvlist_get(&r->infra_env, "RIPSTOP_REDIS_PASSWORD") && password)
        rs_kvlist_set(&r->infra_env, "RIPSTOP_REDIS_PASSWORD", password);
    int all = o->infra == RS_INFRA_ALL, file = o->infra == RS_INFRA_FROM_FILE;
    rs_infra_opts_t io = {
        .redis = !rs_kvlist_get(&r->infra_env, "RIPSTOP_REDIS_HOST") && (all || (file && r->rf.infra_redis)),
        .azurite = !rs_kvlist_get(&r->infra_env, "RIPSTOP_BLOB_ENDPOINT") && (all || (file && r->rf.infra_azurite)),
        .kafka = !rs_kvlist_get(&r->infra_env, "RIPSTOP_KAFKA_BROKERS") && (all || (file && r->rf.infra_kafka)),
        .redis_password = password,
        .timestamp = r->ts,
        .search_dir = r->rf.dir,
        .bin_dir = r->bin_dir,
        .console = r->announce,
        .cancel = o->cancel,
        .on_event = o->on_event,
        .on_event_arg = o->on_event_arg,
    };
    char *infra_log = NULL;
    if (o->log_dir) infra_log = rs_strdup(o->log_dir);
    else if (asprintf(&infra_log, "%s/.dapr/logs", r->rf.dir) < 0) abort();
    if ((io.redis || io.azurite || io.kafka) && rs_mkdir_p(infra_log, 0755)) {
        snprintf(err, errlen, "cannot create log dir %s: %s", infra_log, strerror(errno));
        free(infra_log);
        free(password);
        return -1;
    }
    io.log_dir = infra_log;
    if (io.redis || io.azurite || io.kafka)
        say(r, "starting infrastructure:%s%s%s", io.redis ? " redis" : "", io.azurite ? " azurite" : "",
            io.kafka ? " kafka-mock" : "");
    char ierr[1024];
    r->infra = rs_infra_start(r->base, &io, &r->infra_env, ierr, sizeof ierr);
    free(infra_log);
    free(password);
    if (!r->infra) {
        snprintf(err, errlen, "infrastructure: %s", ierr);
        return -1;
    }
    for (size_t i = 0; i < r->infra_env.len; i++)
        if (strcmp(r->infra_env.items[i].key, "RIPSTOP_REDIS_PASSWORD"))
            say(r, "%s=%s", r->infra_env.items[i].key, r->infra_env.items[i].value);
    return 0;
}

/* Phase 4: one instance per replica, with its ports (fixed for the runner's lifetime). */
static int plan_instances(rs_runner_t *r, char *err, size_t errlen) {
    for (size_t i = 0; i < r->rf.napps; i++) r->ninst += (size_t)r->rf.apps[i].replicas;
    r->insts = rs_xcalloc(r->ninst, sizeof *r->insts);
    size_t k = 0;
    for (size_t i = 0; i < r->rf.napps; i++) {
        rs_runfile_app_t *a = &r->rf.apps[i];
        for (int n = 1; n <= a->replicas; n++, k++) {
            inst_t *in = &r->insts[k];
            in->r = r;
            in->app = a;
            in->instance = n;
            if (a->replicas > 1) snprintf(in->label, sizeof in->label, "%s#%d", a->app_id, n);
            else snprintf(in->label, sizeof in->label, "%s", a->app_id);
            init_slot(in, &in->app_s, RS_PROC_APP);
            init_slot(in, &in->side_s, RS_PROC_SIDECAR);
            in->probe_ev = evtimer_new(r->base, on_probe_timer, in);
            int bad = alloc_port(a->app_port, 0, &in->app_port, err, errlen);
            if (!bad && !a->no_sidecar) {
                bad = alloc_port(a->http_port, 0, &in->http_port, err, errlen) ||
                      alloc_port(a->metrics_port, 0, &in->metrics_port, err, errlen) ||
                      alloc_port(a->grpc_port, 0, &in->grpc_port, err, errlen);
            }
            if (bad) {
                r->ninst = k + 1; /* free_runner releases only the instances set up so far */
                return -1;
            }
        }
    }
    return 0;
}

/* Phase 5: the environment every process starts from: ours, PATH with ripstop's directory first, the run's
 * private directories, the infrastructure, and every app's first instance's ports. */
static void base_environment(rs_runner_t *r, rs_kvlist_t *base_env) {
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        char key[512];
        snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
        rs_kvlist_set(base_env, key, eq + 1);
    }
    char *path;
    const char *old_path = rs_kvlist_get(base_env, "PATH");
    if (asprintf(&path, "%s:%s", r->bin_dir, old_path ? old_path : "/usr/local/bin:/usr/bin:/bin") < 0) abort();
    rs_kvlist_set(base_env, "PATH", path);
    free(path);
    rs_kvlist_set(base_env, "RIPSTOP_BIN_DIR", r->bin_dir);
    /* ripstopd keeps its default name-resolution table under XDG_RUNTIME_DIR: a private one per run
     * keeps two runs on one machine (or a run and a test) from routing calls into each other, the
     * same way each run has its own Redis and Kafka. --env XDG_RUNTIME_DIR=... overrides it. */
    rs_kvlist_set(base_env, "XDG_RUNTIME_DIR", r->run_dir);
    rs_kvlist_set(base_env, "RIPSTOP_RUN_DIR", r->run_dir);
    rs_kvlist_copy(base_env, &r->infra_env);
    for (size_t i = 0; i < r->ninst; i++) {
        inst_t *in = &r->insts[i];
        if (in->instance != 1) continue;
        char sfx[128], key[200], num[16];
        env_suffix(in->app->app_id, sfx, sizeof sfx);
        if (in->app_port > 0) {
            snprintf(key, sizeof key, "RIPSTOP_APP_PORT_%s", sfx);
            snprintf(num, sizeof num, "%d", in->app_port);
            rs_kvlist_set(base_env, key, num);
        }
        if (in->http_port > 0) {
            snprintf(key, sizeof key, "RIPSTOP_DAPR_HTTP_PORT_%s", sfx);
            snprintf(num, sizeof num, "%d", in->http_port);
            rs_kvlist_set(base_env, key, num);
        }
    }
}

/* Phase 6: every instance's command lines, then a check that every program exists before anything starts:
 * a typo is a bad file, not a crash loop. */
static int prepare_instances(rs_runner_t *r, const rs_runner_opts_t *o, char *err, size_t errlen) {
    rs_kvlist_t base_env = {0};
    base_environment(r, &base_env);
    int bad = 0;
    for (size_t i = 0; i < r->ninst && o->config_default; i++)
        if (!r->insts[i].app->config_path) r->insts[i].app->config_path = rs_strdup(o->config_default);
    for (size_t i = 0; i < r->ninst && !bad; i++)
        bad = build_instance(r, &r->insts[i], &base_env, o->extra_env, o->log_dir, err, errlen);
    rs_kvlist_free(&base_env);
    for (size_t i = 0; i < r->ninst && !bad; i++) {
        inst_t *in = &r->insts[i];
        char *exe = rs_find_executable(in->app_s.child.argv[0], in->app_s.child.cwd, in->app_s.child.envp);
        if (!exe) {
            snprintf(err, errlen, "%s: %s: cannot start the app: command not found: %s (cwd %s, PATH includes %s)",
                     r->rf.path, in->label, in->app_s.child.argv[0], in->app_s.child.cwd, r->bin_dir);
            bad = 1;
        }
        free(exe);
    }
    return bad ? -1 : 0;
}

/* Phase 7: sidecars first, as the Dapr CLI does, then the apps; then the reaper and the readiness probes. */
static int spawn_all(rs_runner_t *r, char *err, size_t errlen) {
    int bad = 0;
    for (int pass = 0; pass < 2 && !bad; pass++) {
        for (size_t i = 0; i < r->ninst && !bad; i++) {
            inst_t *in = &r->insts[i];
            slot_t *s = pass == 0 ? &in->side_s : &in->app_s;
            if (pass == 0 && in->app->no_sidecar) continue;
            if (pass == 0 && in->app_proxied) { /* started by its timer once the app listens */
                struct timeval tv = {0, APP_WAIT_POLL_MS * 1000};
                event_add(s->restart_ev, &tv);
                continue;
            }
            char e2[600];
            if (spawn_slot(s, e2, sizeof e2)) {
                snprintf(err, errlen, "%s: %s: cannot start the %s: %s", r->rf.path, in->label,
                         pass == 0 ? "sidecar" : "app", e2);
                bad = 1;
            }
        }
    }
    struct timeval tv = {0, REAP_INTERVAL_MS * 1000};
    event_add(r->reap_ev, &tv);
    for (size_t i = 0; i < r->ninst; i++) schedule_probe(&r->insts[i]);
    return bad ? -1 : 0;
}

rs_runner_t *rs_runner_start(const rs_runner_opts_t *o, char *err, size_t errlen) {
    if (!o || !o->run_file) {
        snprintf(err, errlen, "no run file given (-f)");
        return NULL;
    }
    rs_runner_t *r = new_runner(o, err, errlen);
    if (!r) return NULL;
    /* Nothing runs yet: a failure here only frees what was set up. */
    if (find_ripstopd(r, o, err, errlen) || start_infra(r, o, err, errlen) || plan_instances(r, err, errlen) ||
        prepare_instances(r, o, err, errlen)) {
        free_runner(r);
        return NULL;
    }
    /* From here processes may be running: a failure stops them in order. */
    if (spawn_all(r, err, errlen) || (o->ready_timeout_ms >= 0 && wait_ready(r, o, err, errlen))) {
        rs_runner_stop(r);
        return NULL;
    }
    return r;
}

int rs_runner_check_file(const char *run_file, char *err, size_t errlen) {
    rs_runfile_t rf;
    if (rs_runfile_load(&rf, run_file, err, errlen)) return -1;
    rs_runfile_free(&rf);
    return 0;
}

struct event_base *rs_runner_base(rs_runner_t *r) { return r->base; }

int rs_runner_run(rs_runner_t *r) {
    event_base_dispatch(r->base);
    return 0;
}

void rs_runner_poll(rs_runner_t *r, int timeout_ms) {
    if (timeout_ms <= 0) event_base_loop(r->base, EVLOOP_NONBLOCK);
    else rs_loop_for(r->base, timeout_ms);
}

void rs_runner_request_stop(rs_runner_t *r) { event_base_loopbreak(r->base); }

static inst_t *find_inst(rs_runner_t *r, const char *app_id, int instance) {
    for (size_t i = 0; i < r->ninst; i++)
        if (!strcmp(r->insts[i].app->app_id, app_id) && r->insts[i].instance == instance) return &r->insts[i];
    return NULL;
}

pid_t rs_runner_kill(rs_runner_t *r, const char *app_id, int instance, rs_proc_kind_t which, int sig) {
    if (which == RS_PROC_INFRA) {
        int pid = rs_infra_pid(r->infra, app_id);
        if (pid > 0 && kill(pid, sig) == 0) return pid;
        return -1;
    }
    inst_t *in = find_inst(r, app_id, instance);
    if (!in) return -1;
    slot_t *s = which == RS_PROC_APP ? &in->app_s : &in->side_s;
    pid_t pid = s->child.pid;
    if (pid <= 0 || rs_child_signal(&s->child, sig)) return -1;
    say(r, "sent signal %d to %s %s (pid %d)", sig, in->label, kind_name(s->kind), (int)pid);
    emit(r, RS_RUNNER_EV_KILLED, s, pid, 0, sig, 0);
    return pid;
}

pid_t rs_runner_infra_stop(rs_runner_t *r, const char *name) {
    int pid = rs_infra_stop_one(r->infra, name);
    if (pid > 0) say(r, "stopping %s (pid %d) for a restart", name, pid);
    return pid;
}

pid_t rs_runner_infra_start(rs_runner_t *r, const char *name, char *err, size_t errlen) {
    return rs_infra_start_one(r->infra, name, err, errlen);
}

int rs_runner_infra_ready(rs_runner_t *r, const char *name) { return rs_infra_ready(r->infra, name); }

const char *rs_runner_infra_env(rs_runner_t *r, const char *name) { return rs_kvlist_get(&r->infra_env, name); }

size_t rs_runner_count(rs_runner_t *r) { return r->ninst; }

static void fill_info(inst_t *in, rs_runner_instance_t *out) {
    memset(out, 0, sizeof *out);
    out->app_id = in->app->app_id;
    out->instance = in->instance;
    out->replicas = in->app->replicas;
    out->has_sidecar = !in->app->no_sidecar;
    out->app_port = in->app_port;
    out->http_port = in->http_port;
    out->metrics_port = in->metrics_port;
    out->app_pid = in->app_s.child.pid;
    out->sidecar_pid = in->side_s.child.pid;
    out->app_restarts = in->app_s.restarts;
    out->sidecar_restarts = in->side_s.restarts;
    out->ready = in->ready;
    out->app_log = in->app_s.log_path;
    out->sidecar_log = in->side_s.log_path;
}

int rs_runner_instance(rs_runner_t *r, size_t idx, rs_runner_instance_t *out) {
    if (idx >= r->ninst) return -1;
    fill_info(&r->insts[idx], out);
    return 0;
}

int rs_runner_find(rs_runner_t *r, const char *app_id, int instance, rs_runner_instance_t *out) {
    inst_t *in = find_inst(r, app_id, instance);
    if (!in) return -1;
    fill_info(in, out);
    return 0;
}

int rs_runner_app_port(rs_runner_t *r, const char *app_id, int instance) {
    inst_t *in = find_inst(r, app_id, instance);
    return in && in->app_port > 0 ? in->app_port : -1;
}

int rs_runner_sidecar_port(rs_runner_t *r, const char *app_id, int instance) {
    inst_t *in = find_inst(r, app_id, instance);
    return in && in->http_port > 0 ? in->http_port : -1;
}

/* SPDX-License-Identifier: MIT */
/* bench_invoke: what two ripstopd sidecars add to a small request.
 *
 * In one run it starts a tiny evhttp app (a thread of this process), a callee
 * ripstopd in front of it and a caller ripstopd, then drives GET /ping both
 * directly at the app and through caller -> callee -> app
 * (/v1.0/invoke/callee/method/ping), with keep-alive connections.
 *
 * The relay baseline. On a small shared machine much of what the via path adds
 * is not ripstopd's work but the price of two more processes on the path: each
 * hop is one more wake-up and one more loopback TCP round trip. So the same
 * request is also sent through two minimal TCP byte relays (relay.c: per
 * connection, one connection onward and a plain copy both ways, no HTTP; each
 * relay is a process of its own with one epoll loop, so a hop pays the same
 * process switches as a sidecar): driver -> relay A -> relay B -> app. That path is the floor any
 * two-hop proxy pays here; "relay - direct" is that floor and "via - relay" is
 * what ripstopd costs above it.
 *
 * Method. The machine is shared and noisy, so the paths are never compared
 * across a long gap: each load runs in rounds of six phases in a symmetric order
 * (direct, via, relay, relay, via, direct), so a slow drift in background load
 * hits every path alike, and a burst shows up as one odd round rather than a
 * skewed result. Every phase opens fresh connections, runs 1 s of unrecorded
 * warm-up, then S s measured.
 *   - open loop at a fixed rate (default 1,000 req/s, 64 connections): the
 *     latencies of all direct, of all via and of all relay phases are pooled;
 *     p50, p99 and p99.9 of each, "added" = via - direct at p50 and p99, and the
 *     floor split: "added by two relays (the floor)" = relay - direct and
 *     "ripstopd over the floor" = via - relay. Each round also prints its phases'
 *     p50/p99 and the p99 of its two via and of its two relay phases, to show
 *     the spread between rounds;
 *   - closed loop at saturation (C connections, each sending back to back): each
 *     phase's req/s; per round the ratio mean(via) / mean(direct) of that
 *     symmetric block; the headline "throughput ratio via/direct" is the median
 *     over rounds. Likewise "relay/direct" (the ceiling any two-hop proxy reaches
 *     here) and "via/relay" (ripstopd against that ceiling), medians over rounds.
 *     Sidecar CPU per request (from /proc/<pid>/stat) is summed over all
 *     via phases, warm-ups included, and divided by the requests they completed;
 *   - once, last: saturation through a third caller ripstopd whose calls run
 *     under a timeout + retry + circuit-breaker policy, against the mean via
 *     throughput above.
 * The 1-minute load average at start and end and the CPU count are printed so a
 * reader can judge how busy the machine was. Nothing is asserted; the figures go
 * to docs/performance.md. Defaults (2 rounds, 3 s) take about 100 s.
 *
 * Scheduling. The sidecars run under ripstopd's default policy, SCHED_BATCH (a
 * sidecar woken by a peer does not preempt it; see src/sidecar/main.c), or the
 * one --sched-policy names; the relays run under the same policy, so the floor
 * stays the cost of two more processes of the same kind. "--sched-policy normal"
 * measures both under the kernel's default.
 *
 * Tracing. "--tracing on" gives every sidecar spec.tracing with samplingRate 1 and a Zipkin endpoint served by
 * the app's evhttp (it answers every POST 200, a collector that accepts everything); "--tracing dead" points the
 * endpoint at a loopback port nobody listens on (refused: the exporter backs off); "off" (default) has no tracing
 * section. Compare runs to read tracing's cost (docs/performance.md).
 *
 * Usage: bench_invoke [--rate R] [--seconds S] [--concurrency C] [--rounds N] [--ripstopd PATH]
 *                     [--sched-policy batch|normal] [--tracing off|on|dead] */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/port_reserve.h"
#include "ping_app.h"
#include "relay.h"

extern char **environ;

#ifndef RIPSTOPD_PATH
#define RIPSTOPD_PATH "ripstopd"
#endif

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A loopback port for one of the bench's servers, reserved against races (core/port_reserve.h). */
static int free_port(void) {
    int port = rs_port_reserve();
    if (!port) {
        fprintf(stderr, "bench_invoke: no free loopback port\n");
        exit(1);
    }
    return port;
}

/* A blocking one-shot GET for readiness checks. Returns the status code, or -1. */
static int http_status(int port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512], buf[64] = "";
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got < 12) return -1;
    buf[got] = '\0';
    return atoi(buf + 9);
}

static int wait_status(int port, const char *path, int want, int seconds) {
    for (int i = 0; i < seconds * 20; i++) {
        if (http_status(port, path) == want) return 0;
        usleep(50 * 1000);
    }
    return -1;
}


/* ---------- sidecars ---------- */

static pid_t spawn(char *const argv[], const char *log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* ---------- load driver ---------- */

typedef struct driver driver_t;

typedef struct {
    driver_t *d;
    struct evhttp_connection *conn;
    int busy;
    int64_t sent_us; /* intended send time (open loop) or actual (closed loop) */
} conn_t;

struct driver {
    struct event_base *base;
    int port;
    const char *path;
    conn_t *conns;
    int nconns;
    int closed_loop;
    int64_t end_us;
    int64_t *lat; /* latencies in us */
    size_t nlat, alloclat;
    int64_t completed, errors;
    int64_t backlog; /* open loop: requests due but with no idle connection */
    int64_t backlog_since[1 << 16];
    size_t bl_head, bl_tail;
    struct event *tick;
    int64_t interval_us, next_us;
    int recording;
};

static void send_one(conn_t *c, int64_t intended);

static void on_done(struct evhttp_request *req, void *arg) {
    conn_t *c = arg;
    driver_t *d = c->d;
    int64_t t = now_us();
    c->busy = 0;
    if (!req || evhttp_request_get_response_code(req) != 200) d->errors++;
    else {
        d->completed++;
        if (d->recording) {
            if (d->nlat == d->alloclat) {
                d->alloclat = d->alloclat ? d->alloclat * 2 : 1 << 16;
                d->lat = realloc(d->lat, d->alloclat * sizeof *d->lat);
            }
            d->lat[d->nlat++] = t - c->sent_us;
        }
    }
    if (d->closed_loop) {
        if (t < d->end_us) send_one(c, t);
    } else if (d->bl_head != d->bl_tail) { /* a request that waited for a free connection */
        int64_t intended = d->backlog_since[d->bl_head++ & 0xffff];
        send_one(c, intended);
    }
    if (d->closed_loop ? t >= d->end_us : !d->tick) { /* the run is over once nothing is in flight */
        int any = 0;
        for (int i = 0; i < d->nconns; i++) any |= d->conns[i].busy;
        if (!any) event_base_loopbreak(d->base);
    }
}

static void send_one(conn_t *c, int64_t intended) {
    driver_t *d = c->d;
    struct evhttp_request *req = evhttp_request_new(on_done, c);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
    c->busy = 1;
    /* Latency is measured from the actual send: the 1ms-grained schedule of this driver would otherwise
     * dominate the figures. A request that had to wait for a free connection counts from when it was due. */
    c->sent_us = intended < now_us() - 1000 ? intended : now_us();
    if (evhttp_make_request(c->conn, req, EVHTTP_REQ_GET, d->path) != 0) {
        c->busy = 0;
        d->errors++;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    driver_t *d = arg;
    (void)fd;
    (void)what;
    int64_t t = now_us();
    while (d->next_us <= t && d->next_us < d->end_us) {
        conn_t *idle = NULL;
        for (int i = 0; i < d->nconns && !idle; i++)
            if (!d->conns[i].busy) idle = &d->conns[i];
        if (idle) send_one(idle, d->next_us); /* latency counts from when the request was due */
        else if (d->bl_tail - d->bl_head < (1 << 16)) d->backlog_since[d->bl_tail++ & 0xffff] = d->next_us;
        d->next_us += d->interval_us;
    }
    if (d->next_us >= d->end_us) {
        event_free(d->tick);
        d->tick = NULL;
        int any = 0;
        for (int i = 0; i < d->nconns; i++) any |= d->conns[i].busy;
        if (!any) event_base_loopbreak(d->base);
        return;
    }
    int64_t wait = d->next_us - now_us();
    struct timeval tv = {0, wait > 0 ? wait : 0};
    evtimer_add(d->tick, &tv);
}

/* One measured phase. `lat` holds its latencies, sorted, and is the caller's to free. */
typedef struct {
    double rps, seconds;
    int64_t completed, errors;
    int64_t total; /* requests completed including the warm-up, for CPU per request */
    int64_t *lat;
    size_t nlat;
} result_t;

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of n sorted samples (nearest rank below), 0 when there are none. */
static double pct(const int64_t *sorted, size_t n, double q) {
    if (n == 0) return 0.0;
    size_t i = (size_t)((double)n * q);
    return (double)sorted[i < n ? i : n - 1];
}

static result_t drive(int port, const char *path, int nconns, double rate, double seconds) {
    driver_t d = {0};
    result_t r = {0};
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    d.base = event_base_new_with_config(ec);
    event_config_free(ec);
    d.port = port;
    d.path = path;
    d.nconns = nconns;
    d.conns = calloc((size_t)nconns, sizeof *d.conns);
    for (int i = 0; i < nconns; i++) {
        d.conns[i].d = &d;
        d.conns[i].conn = evhttp_connection_base_new(d.base, NULL, "127.0.0.1", (ev_uint16_t)port);
        evhttp_connection_set_timeout(d.conns[i].conn, 30);
    }
    /* warm-up: one second of the same load, not recorded (connections, caches) */
    for (int phase = 0; phase < 2; phase++) {
        double secs = phase == 0 ? 1.0 : seconds;
        d.recording = phase == 1;
        d.completed = d.errors = 0;
        int64_t start = now_us();
        d.end_us = start + (int64_t)(secs * 1e6);
        if (rate > 0) {
            d.closed_loop = 0;
            d.interval_us = (int64_t)(1e6 / rate);
            d.next_us = start;
            d.bl_head = d.bl_tail = 0;
            d.tick = evtimer_new(d.base, on_tick, &d);
            on_tick(-1, 0, &d);
        } else {
            d.closed_loop = 1;
            for (int i = 0; i < nconns; i++) send_one(&d.conns[i], now_us());
        }
        event_base_dispatch(d.base);
        if (d.tick) {
            event_free(d.tick);
            d.tick = NULL;
        }
        r.total += d.completed;
        if (phase == 1) {
            r.seconds = (double)(now_us() - start) / 1e6;
            r.rps = (double)d.completed / r.seconds;
            r.completed = d.completed;
            r.errors = d.errors;
        }
    }
    qsort(d.lat, d.nlat, sizeof *d.lat, cmp64);
    r.lat = d.lat;
    r.nlat = d.nlat;
    for (int i = 0; i < nconns; i++) evhttp_connection_free(d.conns[i].conn);
    free(d.conns);
    event_base_free(d.base);
    return r;
}

/* Latency samples of several phases pooled together. */
typedef struct {
    int64_t *lat;
    size_t n;
    int64_t completed, errors;
    double seconds;
} pool_t;

static void pool_add(pool_t *p, const result_t *r) {
    p->lat = realloc(p->lat, (p->n + r->nlat + 1) * sizeof *p->lat);
    memcpy(p->lat + p->n, r->lat, r->nlat * sizeof *r->lat);
    p->n += r->nlat;
    p->completed += r->completed;
    p->errors += r->errors;
    p->seconds += r->seconds;
}

static double load1(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

#define VIA_PATH "/v1.0/invoke/callee/method/ping"

int main(int argc, char **argv) {
    double rate = 1000, seconds = 3;
    int concurrency = 32, rounds = 2;
    const char *ripstopd = getenv("RIPSTOPD") ? getenv("RIPSTOPD") : RIPSTOPD_PATH;
    const char *sched_name = "batch";
    const char *tracing = "off";
    for (int i = 1; i + 1 < argc; i += 2) {
        int bad = 0;
        if (strcmp(argv[i], "--rate") == 0) bad = bu_flag_number("bench_invoke", argv[i], argv[i + 1], 1, 1e6, 0, &rate);
        else if (strcmp(argv[i], "--seconds") == 0)
            bad = bu_flag_number("bench_invoke", argv[i], argv[i + 1], 0.1, 3600, 0, &seconds);
        else if (strcmp(argv[i], "--concurrency") == 0)
            bad = bu_flag_int("bench_invoke", argv[i], argv[i + 1], 1, 4096, &concurrency);
        else if (strcmp(argv[i], "--rounds") == 0) bad = bu_flag_int("bench_invoke", argv[i], argv[i + 1], 1, 100, &rounds);
        if (bad) return 2;
        else if (strcmp(argv[i], "--ripstopd") == 0) ripstopd = argv[i + 1];
        else if (strcmp(argv[i], "--sched-policy") == 0) sched_name = argv[i + 1];
        else if (strcmp(argv[i], "--tracing") == 0) tracing = argv[i + 1];
    }
    if (strcmp(tracing, "off") != 0 && strcmp(tracing, "on") != 0 && strcmp(tracing, "dead") != 0) {
        fprintf(stderr, "bench_invoke: --tracing is off, on or dead\n");
        return 2;
    }
    if (strcmp(sched_name, "batch") != 0 && strcmp(sched_name, "normal") != 0) {
        fprintf(stderr, "bench_invoke: --sched-policy is batch or normal\n");
        return 2;
    }
    int sched_policy = strcmp(sched_name, "batch") == 0 ? SCHED_BATCH : SCHED_OTHER;
    if (rounds < 1) rounds = 1;
    if (rate <= 0) rate = 1000;
    if (concurrency < 1) concurrency = 1;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress stays visible when redirected */
    double load_start = load1();
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/ripstop-bench-invoke-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char cfg[256], db[256], log1[256], log2[256], log3[256], resdir[256], resfile[300];
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    snprintf(db, sizeof db, "%s/nr.db", dir);
    snprintf(log1, sizeof log1, "%s/callee.log", dir);
    snprintf(log2, sizeof log2, "%s/caller.log", dir);
    snprintf(log3, sizeof log3, "%s/caller-policy.log", dir);
    snprintf(resdir, sizeof resdir, "%s/resources", dir);
    snprintf(resfile, sizeof resfile, "%s/resiliency.yaml", resdir);
    mkdir(resdir, 0755);
    /* A caller whose calls to `callee` run under timeout + retry + breaker: the engine's own cost. */
    FILE *rf = fopen(resfile, "w");
    fprintf(rf, "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: bench\nspec:\n  policies:\n"
                "    timeouts:\n      t: 5s\n    retries:\n      r:\n        policy: constant\n        duration: 100ms\n"
                "        maxRetries: 3\n    circuitBreakers:\n      cb:\n        trip: consecutiveFailures > 5\n"
                "  targets:\n    apps:\n      callee:\n        timeout: t\n        retry: r\n        circuitBreaker: cb\n");
    fclose(rf);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: bench\nspec:\n  nameResolution:\n"
            "    component: sqlite\n    configuration:\n      connectionString: %s\n",
            db);
    fclose(f);

    int app_port = free_port();
    bu_ping_app_start(app_port);
    if (wait_status(app_port, "/ping", 200, 10) != 0) {
        fprintf(stderr, "app did not start\n");
        return 1;
    }
    if (strcmp(tracing, "off") != 0) { /* the collector: the app itself (accepts all), or a port nobody serves */
        FILE *tf = fopen(cfg, "a");
        fprintf(tf, "  tracing:\n    samplingRate: \"1\"\n    zipkin:\n      endpointAddress: http://127.0.0.1:%d/api/v2/spans\n",
                strcmp(tracing, "on") == 0 ? app_port : free_port());
        fclose(tf);
    }
    int callee_port = free_port(), caller_port = free_port(), policy_port = free_port();
    char ap[16], cp1[16], cp2[16], cp3[16];
    snprintf(cp3, sizeof cp3, "%d", policy_port);
    snprintf(ap, sizeof ap, "%d", app_port);
    snprintf(cp1, sizeof cp1, "%d", callee_port);
    snprintf(cp2, sizeof cp2, "%d", caller_port);
    char *callee_argv[] = {(char *)ripstopd, "--app-id", "callee", "--app-port", ap, "--dapr-http-port", cp1,
                           "--metrics-port", "0", "--config", cfg, "--log-level", "warn", "--sched-policy", (char *)sched_name, NULL};
    char *caller_argv[] = {(char *)ripstopd, "--app-id", "caller", "--dapr-http-port", cp2, "--metrics-port", "0",
                           "--config", cfg, "--log-level", "warn", "--sched-policy", (char *)sched_name, NULL};
    char *policy_argv[] = {(char *)ripstopd, "--app-id", "caller2", "--dapr-http-port", cp3, "--metrics-port", "0",
                           "--config", cfg, "--resources-path", resdir, "--log-level", "warn", "--sched-policy", (char *)sched_name, NULL};
    pid_t callee = spawn(callee_argv, log1);
    pid_t caller = spawn(caller_argv, log2);
    pid_t caller2 = spawn(policy_argv, log3);
    int rc = 0;
    /* relay A -> relay B -> app: two hops that do nothing but copy bytes */
    relay_t *relay_b = relay_start(0, app_port, sched_policy);
    relay_t *relay_a = relay_b ? relay_start(0, relay_port(relay_b), sched_policy) : NULL;
    if (!relay_a || wait_status(relay_port(relay_a), "/ping", 200, 10) != 0) {
        fprintf(stderr, "relays did not come up\n");
        rc = 1;
        goto out;
    }
    if (wait_status(caller_port, VIA_PATH, 200, 20) != 0 || wait_status(policy_port, VIA_PATH, 200, 20) != 0) {
        fprintf(stderr, "sidecars did not come up (logs in %s)\n", dir);
        rc = 1;
        goto out;
    }

    printf("bench_invoke: GET /ping, %d-byte answer; app = evhttp thread; via = caller ripstopd -> callee ripstopd "
           "-> app\n",
           2);
    printf("relay = relay A -> relay B -> app: two TCP byte relays (child processes, one epoll loop each, "
           "no HTTP), the floor of any two-hop proxy\n");
    printf("tracing: %s\n", strcmp(tracing, "off") == 0 ? "off (no tracing section)"
                             : strcmp(tracing, "on") == 0 ? "samplingRate 1, Zipkin export to a collector that accepts"
                                                          : "samplingRate 1, Zipkin export to a dead collector (refused)");
    printf("scheduling: sidecars and relays under %s\n",
           sched_policy == SCHED_BATCH ? "SCHED_BATCH (ripstopd's default)" : "SCHED_OTHER (--sched-policy normal)");
    printf("method: %d round(s) of direct, via, relay, relay, via, direct per load; each phase 1 s warm-up + %.0f s "
           "measured\n",
           rounds, seconds);

    /* The paths, and the symmetric order of a round's phases (a drift in background load hits all alike). */
    enum { DIRECT, VIA, RELAY };
    static const char *const kind_name[3] = {"direct", "via", "relay"};
    const int kind_port[3] = {app_port, caller_port, relay_port(relay_a)};
    static const char *const kind_path[3] = {"/ping", VIA_PATH, "/ping"};
    static const int order[6] = {DIRECT, VIA, RELAY, RELAY, VIA, DIRECT};

    /* CPU used by a path's two hops (both sidecars, or both relays), to compare their work per request. */
    pid_t hop_pid[3][2] = {{0, 0}, {caller, callee}, {relay_pid(relay_a), relay_pid(relay_b)}};
#define HOPS_CPU(kind) (hop_pid[kind][0] ? bu_cpu_us(hop_pid[kind][0]) + bu_cpu_us(hop_pid[kind][1]) : 0)

    /* Fixed rate: latencies of all phases of one path are pooled. */
    pool_t fp[3] = {{0}};
    int64_t fixed_cpu[3] = {0, 0, 0}, fixed_total[3] = {0, 0, 0};
    printf("fixed rate %.0f req/s, 64 connections, %.0f s per phase:\n", rate, seconds);
    for (int r = 0; r < rounds; r++) {
        pool_t rv = {0}, rr = {0};
        printf("  round %d: p50/p99 us:", r + 1);
        fflush(stdout);
        for (int k = 0; k < 6; k++) {
            int kind = order[k];
            int64_t cpu0 = HOPS_CPU(kind);
            result_t x = drive(kind_port[kind], kind_path[kind], 64, rate, seconds);
            fixed_cpu[kind] += HOPS_CPU(kind) - cpu0;
            fixed_total[kind] += x.total;
            pool_add(&fp[kind], &x);
            if (kind == VIA) pool_add(&rv, &x);
            if (kind == RELAY) pool_add(&rr, &x);
            printf(" %s %.0f/%.0f", kind_name[kind], pct(x.lat, x.nlat, 0.50), pct(x.lat, x.nlat, 0.99));
            fflush(stdout);
            free(x.lat);
        }
        qsort(rv.lat, rv.n, sizeof *rv.lat, cmp64);
        qsort(rr.lat, rr.n, sizeof *rr.lat, cmp64);
        printf("; via p99 of the round %.1f us; relay p99 of the round %.1f us\n", pct(rv.lat, rv.n, 0.99),
               pct(rr.lat, rr.n, 0.99));
        free(rv.lat);
        free(rr.lat);
    }
    for (int k = 0; k < 3; k++) qsort(fp[k].lat, fp[k].n, sizeof *fp[k].lat, cmp64);
    static const char *const fixed_label[3] = {"direct      ", "via sidecars", "via relays  "};
    for (int k = 0; k < 3; k++) {
        const pool_t *p = &fp[k];
        printf("  %s p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us  (%zu samples, %.0f req/s, %lld errors)\n",
               fixed_label[k], pct(p->lat, p->n, 0.50), pct(p->lat, p->n, 0.99), pct(p->lat, p->n, 0.999), p->n,
               p->seconds > 0 ? (double)p->completed / p->seconds : 0.0, (long long)p->errors);
    }
    double p50[3], p99[3];
    for (int k = 0; k < 3; k++) {
        p50[k] = pct(fp[k].lat, fp[k].n, 0.50);
        p99[k] = pct(fp[k].lat, fp[k].n, 0.99);
    }
    printf("  added        p50 %7.3f ms  p99 %7.3f ms\n", (p50[VIA] - p50[DIRECT]) / 1000.0,
           (p99[VIA] - p99[DIRECT]) / 1000.0);
    printf("  added by two relays (the floor) p50 %7.3f ms  p99 %7.3f ms  (relay - direct)\n",
           (p50[RELAY] - p50[DIRECT]) / 1000.0, (p99[RELAY] - p99[DIRECT]) / 1000.0);
    printf("  ripstopd over the floor         p50 %7.3f ms  p99 %7.3f ms  (via - relay)\n",
           (p50[VIA] - p50[RELAY]) / 1000.0, (p99[VIA] - p99[RELAY]) / 1000.0);
    printf("  CPU per request and hop at this rate: sidecar %.1f us, relay %.1f us (user + system, warm-ups "
           "included)\n",
           fixed_total[VIA] > 0 ? (double)fixed_cpu[VIA] / 2.0 / (double)fixed_total[VIA] : 0.0,
           fixed_total[RELAY] > 0 ? (double)fixed_cpu[RELAY] / 2.0 / (double)fixed_total[RELAY] : 0.0);
    for (int k = 0; k < 3; k++) free(fp[k].lat);

    /* Saturation: each round's ratios compare phases run next to each other; the headlines are medians. */
    printf("saturation, %d connections, %.0f s per phase:\n", concurrency, seconds);
    double *ratios = calloc((size_t)rounds, sizeof *ratios);
    double *relay_ratios = calloc((size_t)rounds, sizeof *relay_ratios); /* relay / direct */
    double *over_ratios = calloc((size_t)rounds, sizeof *over_ratios);   /* via / relay */
    pool_t sp[3] = {{0}};
    int64_t cpu_caller = 0, cpu_callee = 0, via_total = 0, cpu_relays = 0, relay_total = 0;
    for (int r = 0; r < rounds; r++) {
        double sum[3] = {0, 0, 0};
        printf("  round %d: req/s:", r + 1);
        fflush(stdout);
        for (int k = 0; k < 6; k++) {
            int kind = order[k], via = kind == VIA;
            int64_t c0 = via ? bu_cpu_us(caller) : 0, e0 = via ? bu_cpu_us(callee) : 0, r0 = HOPS_CPU(kind);
            result_t x = drive(kind_port[kind], kind_path[kind], concurrency, 0, seconds);
            if (kind == RELAY) {
                cpu_relays += HOPS_CPU(kind) - r0;
                relay_total += x.total;
            }
            if (via) {
                cpu_caller += bu_cpu_us(caller) - c0;
                cpu_callee += bu_cpu_us(callee) - e0;
                via_total += x.total; /* the warm-up ran the same load on the same sidecars */
            }
            sum[kind] += x.rps;
            pool_add(&sp[kind], &x);
            printf(" %s %.0f", kind_name[kind], x.rps);
            fflush(stdout);
            free(x.lat);
        }
        /* the means of two phases each: the halves cancel */
        ratios[r] = sum[DIRECT] > 0 ? sum[VIA] / sum[DIRECT] : 0.0;
        relay_ratios[r] = sum[DIRECT] > 0 ? sum[RELAY] / sum[DIRECT] : 0.0;
        over_ratios[r] = sum[RELAY] > 0 ? sum[VIA] / sum[RELAY] : 0.0;
        printf("; ratio %.1f %%; relay/direct %.1f %%; via/relay %.1f %%\n", 100.0 * ratios[r],
               100.0 * relay_ratios[r], 100.0 * over_ratios[r]);
    }
    double s_rps[3];
    for (int k = 0; k < 3; k++) {
        qsort(sp[k].lat, sp[k].n, sizeof *sp[k].lat, cmp64);
        s_rps[k] = sp[k].seconds > 0 ? (double)sp[k].completed / sp[k].seconds : 0.0;
    }
    double sv_rps = s_rps[VIA];
    printf("  direct       %8.0f req/s  p50 %7.1f us  p99 %7.1f us  (all direct phases; %lld errors)\n", s_rps[DIRECT],
           pct(sp[DIRECT].lat, sp[DIRECT].n, 0.50), pct(sp[DIRECT].lat, sp[DIRECT].n, 0.99),
           (long long)sp[DIRECT].errors);
    printf("  via sidecars %8.0f req/s  p50 %7.1f us  p99 %7.1f us  (all via phases; %lld errors)\n", sv_rps,
           pct(sp[VIA].lat, sp[VIA].n, 0.50), pct(sp[VIA].lat, sp[VIA].n, 0.99), (long long)sp[VIA].errors);
    printf("  via relays   %8.0f req/s  p50 %7.1f us  p99 %7.1f us  (all relay phases; %lld errors)\n", s_rps[RELAY],
           pct(sp[RELAY].lat, sp[RELAY].n, 0.50), pct(sp[RELAY].lat, sp[RELAY].n, 0.99),
           (long long)sp[RELAY].errors);
    double *all_ratios[3] = {ratios, relay_ratios, over_ratios};
    double lo[3], hi[3];
    for (int k = 0; k < 3; k++) {
        lo[k] = 1e9;
        hi[k] = 0;
        for (int r = 0; r < rounds; r++) {
            lo[k] = all_ratios[k][r] < lo[k] ? all_ratios[k][r] : lo[k];
            hi[k] = all_ratios[k][r] > hi[k] ? all_ratios[k][r] : hi[k];
        }
    }
    printf("  throughput ratio via/direct: %.1f %% (median of %d round(s); rounds range %.1f-%.1f %%)\n",
           100.0 * bu_median(ratios, rounds), rounds, 100.0 * lo[0], 100.0 * hi[0]);
    printf("  relay/direct: %.1f %% (the ceiling any two-hop proxy reaches here; median of %d round(s); rounds range "
           "%.1f-%.1f %%)\n",
           100.0 * bu_median(relay_ratios, rounds), rounds, 100.0 * lo[1], 100.0 * hi[1]);
    printf("  via/relay: %.1f %% (ripstopd against that ceiling; median of %d round(s); rounds range %.1f-%.1f %%)\n",
           100.0 * bu_median(over_ratios, rounds), rounds, 100.0 * lo[2], 100.0 * hi[2]);
    free(ratios);
    free(relay_ratios);
    free(over_ratios);
    for (int k = 0; k < 3; k++) free(sp[k].lat);
    int64_t cpu_policy = bu_cpu_us(caller2);
    result_t p2 = drive(policy_port, VIA_PATH, concurrency, 0, seconds);
    cpu_policy = bu_cpu_us(caller2) - cpu_policy;
    printf("  via sidecars, caller with timeout+retry+breaker policy: %8.0f req/s  p50 %7.1f us  p99 %7.1f us "
           "(%lld errors; %.1f %% of no-policy; caller CPU %.1f us/request)\n",
           p2.rps, pct(p2.lat, p2.nlat, 0.50), pct(p2.lat, p2.nlat, 0.99), (long long)p2.errors,
           sv_rps > 0 ? 100.0 * p2.rps / sv_rps : 0.0, p2.total > 0 ? (double)cpu_policy / (double)p2.total : 0.0);
    free(p2.lat);
    printf("  sidecar CPU per request: caller %.1f us, callee %.1f us (all via phases incl. warm-up; other load on "
           "the machine lowers the ratio)\n",
           via_total > 0 ? (double)cpu_caller / (double)via_total : 0.0,
           via_total > 0 ? (double)cpu_callee / (double)via_total : 0.0);
    printf("  relay CPU per request: %.1f us each (all relay phases incl. warm-up): a hop's kernel work alone\n",
           relay_total > 0 ? (double)cpu_relays / 2.0 / (double)relay_total : 0.0);
    printf("machine: %ld CPUs; 1-min load average %.2f at start, %.2f at end\n", sysconf(_SC_NPROCESSORS_ONLN),
           load_start, load1());
out:
    relay_stop(relay_a);
    relay_stop(relay_b);
    kill(caller, SIGTERM);
    kill(caller2, SIGTERM);
    kill(callee, SIGTERM);
    waitpid(caller, NULL, 0);
    waitpid(caller2, NULL, 0);
    waitpid(callee, NULL, 0);
    return rc;
}

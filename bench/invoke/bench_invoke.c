/* SPDX-License-Identifier: MIT */
/* bench_invoke: what two ripstopd sidecars add to a small request.
 *
 * In one run it starts a tiny evhttp app (a thread of this process), a callee
 * ripstopd in front of it and a caller ripstopd, then drives GET /ping both
 * directly at the app and through caller -> callee -> app
 * (/v1.0/invoke/callee/method/ping), with keep-alive connections:
 *   - open loop at a fixed rate (default 1,000 req/s): latency p50/p99 each way
 *     and the difference ("added");
 *   - closed loop at saturation (C connections, each sending back to back):
 *     throughput each way and the ratio.
 * Nothing is asserted; the figures go to docs/performance.md.
 *
 * Usage: bench_invoke [--rate R] [--seconds S] [--concurrency C] [--ripstopd PATH] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

extern char **environ;

#ifndef RIPSTOPD_PATH
#define RIPSTOPD_PATH "ripstopd"
#endif

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free_port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
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

/* ---------- the app: evhttp answering "ok" on its own thread ---------- */

static void app_cb(struct evhttp_request *req, void *arg) {
    (void)arg;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "ok", 2);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void *app_thread(void *arg) {
    int port = *(int *)arg;
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, app_cb, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "app: cannot bind %d\n", port);
        exit(1);
    }
    event_base_dispatch(base);
    return NULL;
}

/* ---------- sidecars ---------- */

/* CPU time (user + system) a process has used, in microseconds. */
static int64_t cpu_us(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return 0;
    return (int64_t)((ut + st) * 1000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

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

typedef struct {
    double p50_us, p99_us, rps;
    int64_t errors;
} result_t;

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static result_t drive(int port, const char *path, int nconns, double rate, double seconds) {
    driver_t d = {0};
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
        if (phase == 1) {
            double took = (double)(now_us() - start) / 1e6;
            result_t r = {0};
            r.rps = (double)d.completed / took;
            r.errors = d.errors;
            if (d.nlat) {
                qsort(d.lat, d.nlat, sizeof *d.lat, cmp64);
                r.p50_us = (double)d.lat[d.nlat / 2];
                r.p99_us = (double)d.lat[(size_t)((double)d.nlat * 0.99)];
            }
            for (int i = 0; i < nconns; i++) evhttp_connection_free(d.conns[i].conn);
            free(d.conns);
            free(d.lat);
            event_base_free(d.base);
            return r;
        }
    }
    return (result_t){0};
}

int main(int argc, char **argv) {
    double rate = 1000, seconds = 5;
    int concurrency = 32;
    const char *ripstopd = getenv("RIPSTOPD") ? getenv("RIPSTOPD") : RIPSTOPD_PATH;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rate") == 0) rate = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--concurrency") == 0) concurrency = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ripstopd") == 0) ripstopd = argv[i + 1];
    }
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
    pthread_t th;
    pthread_create(&th, NULL, app_thread, &app_port);
    if (wait_status(app_port, "/ping", 200, 10) != 0) {
        fprintf(stderr, "app did not start\n");
        return 1;
    }
    int callee_port = free_port(), caller_port = free_port(), policy_port = free_port();
    char ap[16], cp1[16], cp2[16], cp3[16];
    snprintf(cp3, sizeof cp3, "%d", policy_port);
    snprintf(ap, sizeof ap, "%d", app_port);
    snprintf(cp1, sizeof cp1, "%d", callee_port);
    snprintf(cp2, sizeof cp2, "%d", caller_port);
    char *callee_argv[] = {(char *)ripstopd, "--app-id", "callee", "--app-port", ap, "--dapr-http-port", cp1,
                           "--metrics-port", "0", "--config", cfg, "--log-level", "warn", NULL};
    char *caller_argv[] = {(char *)ripstopd, "--app-id", "caller", "--dapr-http-port", cp2, "--metrics-port", "0",
                           "--config", cfg, "--log-level", "warn", NULL};
    char *policy_argv[] = {(char *)ripstopd, "--app-id", "caller2", "--dapr-http-port", cp3, "--metrics-port", "0",
                           "--config", cfg, "--resources-path", resdir, "--log-level", "warn", NULL};
    pid_t callee = spawn(callee_argv, log1);
    pid_t caller = spawn(caller_argv, log2);
    pid_t caller2 = spawn(policy_argv, log3);
    int rc = 0;
    if (wait_status(caller_port, "/v1.0/invoke/callee/method/ping", 200, 20) != 0 ||
        wait_status(policy_port, "/v1.0/invoke/callee/method/ping", 200, 20) != 0) {
        fprintf(stderr, "sidecars did not come up (logs in %s)\n", dir);
        rc = 1;
        goto out;
    }

    printf("bench_invoke: GET /ping, %d-byte answer; app = evhttp thread; via = caller ripstopd -> callee ripstopd "
           "-> app\n",
           2);
    result_t d1 = drive(app_port, "/ping", 64, rate, seconds);
    result_t s1 = drive(caller_port, "/v1.0/invoke/callee/method/ping", 64, rate, seconds);
    printf("fixed rate %.0f req/s for %.0fs:\n", rate, seconds);
    printf("  direct       p50 %7.1f us  p99 %7.1f us  (%.0f req/s, %lld errors)\n", d1.p50_us, d1.p99_us, d1.rps,
           (long long)d1.errors);
    printf("  via sidecars p50 %7.1f us  p99 %7.1f us  (%.0f req/s, %lld errors)\n", s1.p50_us, s1.p99_us, s1.rps,
           (long long)s1.errors);
    printf("  added        p50 %7.3f ms  p99 %7.3f ms\n", (s1.p50_us - d1.p50_us) / 1000.0,
           (s1.p99_us - d1.p99_us) / 1000.0);
    result_t d2 = drive(app_port, "/ping", concurrency, 0, seconds);
    int64_t cpu_caller = cpu_us(caller), cpu_callee = cpu_us(callee);
    result_t s2 = drive(caller_port, "/v1.0/invoke/callee/method/ping", concurrency, 0, seconds);
    cpu_caller = cpu_us(caller) - cpu_caller;
    cpu_callee = cpu_us(callee) - cpu_callee;
    double nreq = s2.rps * (seconds + 1.0); /* the warm-up second ran the same load */
    printf("saturation, %d connections for %.0fs:\n", concurrency, seconds);
    printf("  direct       %8.0f req/s  p50 %7.1f us  p99 %7.1f us  (%lld errors)\n", d2.rps, d2.p50_us, d2.p99_us,
           (long long)d2.errors);
    printf("  via sidecars %8.0f req/s  p50 %7.1f us  p99 %7.1f us  (%lld errors)\n", s2.rps, s2.p50_us, s2.p99_us,
           (long long)s2.errors);
    printf("  throughput ratio via/direct: %.1f %%\n", d2.rps > 0 ? 100.0 * s2.rps / d2.rps : 0.0);
    int64_t cpu_policy = cpu_us(caller2);
    result_t p2 = drive(policy_port, "/v1.0/invoke/callee/method/ping", concurrency, 0, seconds);
    cpu_policy = cpu_us(caller2) - cpu_policy;
    double npol = p2.rps * (seconds + 1.0);
    printf("  via sidecars, caller with timeout+retry+breaker policy: %8.0f req/s  p50 %7.1f us  p99 %7.1f us "
           "(%lld errors; %.1f %% of no-policy; caller CPU %.1f us/request)\n",
           p2.rps, p2.p50_us, p2.p99_us, (long long)p2.errors, s2.rps > 0 ? 100.0 * p2.rps / s2.rps : 0.0,
           npol > 0 ? (double)cpu_policy / npol : 0.0);
    printf("  sidecar CPU per request: caller %.1f us, callee %.1f us (%ld CPUs; other load on the machine "
           "lowers the ratio)\n",
           nreq > 0 ? (double)cpu_caller / nreq : 0.0, nreq > 0 ? (double)cpu_callee / nreq : 0.0,
           sysconf(_SC_NPROCESSORS_ONLN));
out:
    kill(caller, SIGTERM);
    kill(caller2, SIGTERM);
    kill(callee, SIGTERM);
    waitpid(caller, NULL, 0);
    waitpid(caller2, NULL, 0);
    waitpid(callee, NULL, 0);
    return rc;
}

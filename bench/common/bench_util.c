/* SPDX-License-Identifier: MIT */
#include "bench_util.h"

#include "core/port_reserve.h"
#include "core/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t bu_spawn(const char *const *argv, const char *logpath) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

void bu_stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int64_t bu_cpu_us(pid_t pid) {
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

int bu_free_port(void) {
    int port = rs_port_reserve();
    return port ? port : -1;
}

int bu_read_file(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t r = fread(out, 1, n - 1, f);
    fclose(f);
    out[r] = 0;
    while (r && (out[r - 1] == '\n' || out[r - 1] == '\r')) out[--r] = 0;
    return r ? 0 : -1;
}

void bu_self_dir(char *out, size_t n) {
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0) len = 0;
    self[len] = 0;
    snprintf(out, n, "%s", dirname(self));
}

int64_t bu_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int bu_connect(bu_conn_t *c, int port) {
    c->port = port;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {30, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void bu_close(bu_conn_t *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int bu_request(bu_conn_t *c, const char *method, const char *path, const char *ctype, const char *body, size_t len) {
    /* Head and body in one write when they fit, as a buffered client sends them: the server sees one segment. */
    char head[4096];
    int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                      method, path, ctype ? ctype : "application/json", len);
    if (hn < 0 || (size_t)hn >= sizeof head) return -1;
    if (len && len <= sizeof head - (size_t)hn) {
        memcpy(head + hn, body, len);
        hn += (int)len;
        len = 0;
    }
    if (write_all(c->fd, head, (size_t)hn) || (len && write_all(c->fd, body, len))) return -1;
    /* Read headers, then Content-Length bytes of body (ripstopd always sends a length). */
    char buf[8192];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        if (got == sizeof buf - 1) return -1;
        ssize_t r = read(c->fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) return -1;
        got += (size_t)r;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    size_t clen = 0;
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0) clen = strtoul(h + 17, NULL, 10);
    size_t have = got - (size_t)(end + 4 - buf);
    while (have < clen) {
        ssize_t r = read(c->fd, buf, sizeof buf < clen - have ? sizeof buf : clen - have);
        if (r <= 0) return -1;
        have += (size_t)r;
    }
    return status;
}

int bu_request_once(int port, const char *method, const char *path, const char *ctype, const char *body) {
    bu_conn_t c;
    if (bu_connect(&c, port)) return -1;
    int st = bu_request(&c, method, path, ctype, body, body ? strlen(body) : 0);
    bu_close(&c);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

bu_stats_t bu_stats(int64_t *lat_us, size_t n, int64_t wall_us) {
    bu_stats_t s = {0};
    s.n = n;
    if (!n) return s;
    qsort(lat_us, n, sizeof *lat_us, cmp_i64);
    s.rate = wall_us > 0 ? (double)n * 1e6 / (double)wall_us : 0;
    s.p50_ms = (double)lat_us[n / 2] / 1000.0;
    size_t i99 = (size_t)((double)n * 0.99);
    if (i99 >= n) i99 = n - 1;
    s.p99_ms = (double)lat_us[i99] / 1000.0;
    s.max_ms = (double)lat_us[n - 1] / 1000.0;
    return s;
}

struct client_thread {
    bu_client_fn fn;
    void *ctx;
    int id, n, failed;
    int64_t *lat;
};

static void *client_main(void *arg) {
    struct client_thread *t = arg;
    t->failed = t->fn(t->ctx, t->id, t->n, t->lat);
    return NULL;
}

bu_stats_t bu_run_clients(int threads, int per_thread, bu_client_fn fn, void *ctx, int *failed) {
    pthread_t th[256];
    struct client_thread ts[256];
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    int64_t *lat = calloc((size_t)per_thread * threads, sizeof *lat);
    int64_t t0 = bu_now_us();
    for (int i = 0; i < threads; i++) {
        ts[i] = (struct client_thread){fn, ctx, i, per_thread, 0, lat + (size_t)i * per_thread};
        pthread_create(&th[i], NULL, client_main, &ts[i]);
    }
    *failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        *failed += ts[i].failed;
    }
    bu_stats_t s = bu_stats(lat, (size_t)per_thread * threads, bu_now_us() - t0);
    free(lat);
    return s;
}

int bu_wait_status(int port, const char *path, int want, int timeout_s) {
    int64_t end = bu_now_us() + (int64_t)timeout_s * 1000000;
    while (bu_now_us() < end) {
        if (bu_request_once(port, "GET", path, NULL, NULL) == want) return 0;
        usleep(20000);
    }
    return -1;
}

double bu_redis_benchmark(int port, int conc, int n, const char *cmd) {
    char line[4096];
    snprintf(line, sizeof line, "/usr/bin/redis-benchmark -p %d -c %d -n %d --csv %s 2>/dev/null", port, conc, n, cmd);
    FILE *p = popen(line, "r");
    if (!p) return 0;
    double rps = 0;
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, "\"test\"", 6) == 0) continue;
        /* "<name>","rps","avg",...: the name may hold commas, so count the 7 numeric fields from the end */
        const char *seps[16];
        int k = 0;
        for (const char *q = line; (q = strstr(q, "\",\"")) && k < 16; q += 3) seps[k++] = q;
        if (k >= 7) rps = atof(seps[k - 7] + 3);
    }
    pclose(p);
    return rps;
}

int bu_state_env_start(bu_state_env_t *e) { return bu_state_env_start_wrapped(e, NULL, NULL); }

int bu_state_env_start_wrapped(bu_state_env_t *e, const char *const *wrap, const char *const *wrap_redis) {
    memset(e, 0, sizeof *e);
    char self[1024], path[1200], log[1200], exe[1200];
    bu_self_dir(self, sizeof self);
    snprintf(e->dir, sizeof e->dir, "/tmp/rs-bench-state-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    e->redis_port = bu_free_port();
    char rp[16], hp[16], gp[16];
    snprintf(rp, sizeof rp, "%d", e->redis_port);
    snprintf(log, sizeof log, "%s/redis.log", e->dir);
    const char *rargs[] = {"/usr/bin/redis-server", "--port", rp, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", NULL};
    const char *rargv[64];
    size_t k = 0;
    for (; wrap_redis && wrap_redis[k] && k < 40; k++) rargv[k] = wrap_redis[k];
    memcpy(rargv + k, rargs, sizeof rargs);
    e->redis = bu_spawn(rargv, log);
    bu_conn_t probe;
    for (int i = 0; i < (wrap_redis ? 3000 : 250) && bu_connect(&probe, e->redis_port) != 0; i++) usleep(20000);
    bu_close(&probe);

    snprintf(path, sizeof path, "%s/state.yaml", e->dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.redis\n"
               "  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:%d\n", e->redis_port);
    fclose(f);
    e->http_port = bu_free_port();
    e->grpc_port = bu_free_port();
    snprintf(hp, sizeof hp, "%d", e->http_port);
    snprintf(gp, sizeof gp, "%d", e->grpc_port);
    snprintf(exe, sizeof exe, "%s/../ripstopd", self);
    snprintf(log, sizeof log, "%s/ripstopd.log", e->dir);
    const char *args[] = {exe, "--app-id", "bench", "--dapr-http-port", hp, "--dapr-grpc-port", gp, "--resources-path",
                          e->dir, "--metrics-port", "0", "--log-level", "warn", NULL};
    const char *sargv[64];
    for (k = 0; wrap && wrap[k] && k < 40; k++) sargv[k] = wrap[k];
    memcpy(sargv + k, args, sizeof args);
    e->sidecar = bu_spawn(sargv, log);
    if (bu_wait_status(e->http_port, "/v1.0/healthz/outbound", 204, wrap ? 120 : 15) != 0) {
        fprintf(stderr, "ripstopd did not become ready; see %s\n", log);
        return -1;
    }
    return 0;
}

void bu_state_env_stop(bu_state_env_t *e) {
    if (e->sidecar > 0) bu_stop(e->sidecar);
    if (e->redis > 0) bu_stop(e->redis);
}

int bu_state_http_client(int port, int is_get, const char *value, int id, int n, int64_t *lat) {
    bu_conn_t c;
    if (bu_connect(&c, port) != 0) return n;
    int failed = 0;
    char path[128], body[1024];
    for (int i = 0; i < n; i++) {
        int64_t t0 = bu_now_us();
        int st;
        if (is_get) {
            snprintf(path, sizeof path, "/v1.0/state/statestore/k%d-%d", id, i % 100);
            st = bu_request(&c, "GET", path, NULL, NULL, 0);
        } else {
            int len = snprintf(body, sizeof body, "[{\"key\":\"k%d-%d\",\"value\":%s}]", id, i % 100, value);
            st = bu_request(&c, "POST", "/v1.0/state/statestore", "application/json", body, (size_t)len);
        }
        lat[i] = bu_now_us() - t0;
        if (st != (is_get ? 200 : 204)) failed++;
        if (st < 0) { /* broken connection: reconnect and go on */
            bu_close(&c);
            if (bu_connect(&c, port) != 0) return failed + n - i - 1;
        }
    }
    bu_close(&c);
    return failed;
}

/* A whole decimal number in [lo, hi], or -1. */
static long long whole(const char *s, long long lo, long long hi) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

int bu_flag_number(const char *name, const char *flag, const char *s, double lo, double hi, int whole, double *out) {
    double d;
    if (rs_parse_double(s, &d) == 0 && d >= lo && d <= hi && (!whole || d == (double)(long long)d)) {
        *out = d;
        return 0;
    }
    fprintf(stderr, "%s: %s takes a %s from %g to %g, not '%s'\n", name, flag, whole ? "whole number" : "number", lo,
            hi, s);
    return -1;
}

int bu_flag_int(const char *name, const char *flag, const char *s, int lo, int hi, int *out) {
    double d;
    if (bu_flag_number(name, flag, s, lo, hi, 1, &d) != 0) return -1;
    *out = (int)d;
    return 0;
}

int bu_parse_load_flags(int argc, char **argv, const char *name, int *n_req, int *conc) {
    int bad = 0;
    for (int i = 1; i < argc && !bad; i += 2) {
        int req = !strcmp(argv[i], "--requests"), cc = !strcmp(argv[i], "--concurrency");
        if (i + 1 >= argc) bad = 1;     /* every flag takes a value */
        if (bad || (!req && !cc)) continue; /* the program's own flag: it reads that one */
        long long v = whole(argv[i + 1], 1, 100000000);
        if (v < 0) bad = 1;
        else if (req) *n_req = (int)v;
        else *conc = (int)v;
    }
    if (bad || *conc < 1 || *conc > 256 || *n_req < *conc) {
        fprintf(stderr, "usage: %s [--requests N] [--concurrency 1..256]\n", name);
        return -1;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bu_median(double *v, int n) {
    if (n <= 0) return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* SPDX-License-Identifier: MIT */
/* State API throughput: C client threads on keep-alive connections drive
 * POST /v1.0/state/{store} (one item) and GET /v1.0/state/{store}/{key}
 * through ripstopd to a Redis started here; redis-benchmark then runs the
 * closest raw commands (HSET / HGETALL on a key of the same shape) with the
 * same concurrency against the same Redis. Prints both rates and the ratio,
 * i.e. what the HTTP API + sidecar costs on top of Redis. Never asserts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"

static int n_req = 20000, conc = 16;
static const char *VALUE = "{\"customer\":\"c-42\",\"orders\":17,\"total\":1234.5,\"tier\":\"gold\"}";

typedef struct {
    int port, is_get;
} phase_t;

static int client(void *ctx, int id, int n, int64_t *lat) {
    const phase_t *ph = ctx;
    int failed = 0;
    bu_conn_t c;
    if (bu_connect(&c, ph->port) != 0) return n;
    char path[128], body[256];
    for (int i = 0; i < n; i++) {
        int64_t t0 = bu_now_us();
        int st;
        if (ph->is_get) {
            snprintf(path, sizeof path, "/v1.0/state/statestore/k%d-%d", id, i % 100);
            st = bu_request(&c, "GET", path, NULL, NULL, 0);
        } else {
            int len = snprintf(body, sizeof body, "[{\"key\":\"k%d-%d\",\"value\":%s}]", id, i % 100, VALUE);
            st = bu_request(&c, "POST", "/v1.0/state/statestore", "application/json", body, (size_t)len);
        }
        lat[i] = bu_now_us() - t0;
        if (st != (ph->is_get ? 200 : 204)) failed++;
        if (st < 0) { /* broken connection: reconnect and go on */
            bu_close(&c);
            if (bu_connect(&c, ph->port) != 0) break;
        }
    }
    bu_close(&c);
    return failed;
}

static bu_stats_t run_phase(int port, int is_get, int *failed) {
    phase_t ph = {port, is_get};
    return bu_run_clients(conc, n_req / conc, client, &ph, failed);
}

static void row(const char *what, bu_stats_t s, int failed) {
    printf("  %-34s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   failed %d\n", what, s.rate, s.p50_ms, s.p99_ms,
           failed);
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--requests")) n_req = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--concurrency")) conc = atoi(argv[i + 1]);
    }
    if (conc < 1 || conc > 256 || n_req < conc) {
        fprintf(stderr, "usage: bench_state [--requests N] [--concurrency 1..256]\n");
        return 2;
    }
    char dir[1024], tmp[] = "/tmp/rs-bench-state-XXXXXX", path[1200], log[1200];
    bu_self_dir(dir, sizeof dir);
    if (!mkdtemp(tmp)) return 1;

    int rport = bu_free_port();
    char rp[16];
    snprintf(rp, sizeof rp, "%d", rport);
    snprintf(log, sizeof log, "%s/redis.log", tmp);
    const char *rargv[] = {"/usr/bin/redis-server", "--port", rp, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", NULL};
    pid_t redis = bu_spawn(rargv, log);
    bu_conn_t probe;
    for (int i = 0; i < 250 && bu_connect(&probe, rport) != 0; i++) usleep(20000);
    bu_close(&probe);

    snprintf(path, sizeof path, "%s/state.yaml", tmp);
    FILE *f = fopen(path, "w");
    fprintf(f, "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.redis\n"
               "  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:%d\n", rport);
    fclose(f);
    int port = bu_free_port();
    char pp[16], exe[1200];
    snprintf(pp, sizeof pp, "%d", port);
    snprintf(exe, sizeof exe, "%s/../ripstopd", dir);
    snprintf(log, sizeof log, "%s/ripstopd.log", tmp);
    const char *sargv[] = {exe, "--app-id", "bench", "--dapr-http-port", pp, "--resources-path", tmp, "--metrics-port",
                           "0", "--log-level", "warn", NULL};
    pid_t sidecar = bu_spawn(sargv, log);
    int rc = 1;
    if (bu_wait_status(port, "/v1.0/healthz/outbound", 204, 15) != 0) {
        fprintf(stderr, "ripstopd did not become ready; see %s\n", log);
        goto out;
    }

    printf("state API: %d requests per phase, %d concurrent keep-alive connections, value %zu bytes\n", n_req, conc,
           strlen(VALUE));
    int failed_save, failed_get;
    run_phase(port, 0, &failed_save); /* warm-up: connections, script cache, keys exist for the get phase */
    bu_stats_t save = run_phase(port, 0, &failed_save);
    bu_stats_t get = run_phase(port, 1, &failed_get);
    char hset[512], hgetall[128];
    snprintf(hset, sizeof hset, "HSET 'bench||k0-0' data '%s'", VALUE);
    snprintf(hgetall, sizeof hgetall, "HGETALL 'bench||k0-0'");
    double base_set = bu_redis_benchmark(rport, conc, n_req, hset), base_get = bu_redis_benchmark(rport, conc, n_req, hgetall);

    row("ripstopd POST /v1.0/state (save)", save, failed_save);
    row("ripstopd GET /v1.0/state/{key}", get, failed_get);
    printf("  %-34s %9.0f req/s\n", "redis-benchmark HSET", base_set);
    printf("  %-34s %9.0f req/s\n", "redis-benchmark HGETALL", base_get);
    if (base_set > 0 && base_get > 0)
        printf("ratio ripstopd/redis-benchmark: save %.2f, get %.2f\n", save.rate / base_set, get.rate / base_get);
    rc = failed_save || failed_get ? 1 : 0;
out:
    bu_stop(sidecar);
    bu_stop(redis);
    return rc;
}

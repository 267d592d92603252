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
    return bu_state_http_client(ph->port, ph->is_get, VALUE, id, n, lat);
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
    if (bu_parse_load_flags(argc, argv, "bench_state", &n_req, &conc) != 0) return 2;
    bu_state_env_t env;
    int rc = 1;
    if (bu_state_env_start(&env) != 0) goto out;
    int port = env.http_port, rport = env.redis_port;

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
    bu_state_env_stop(&env);
    return rc;
}

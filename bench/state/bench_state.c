/* SPDX-License-Identifier: MIT */
/* State API throughput: C client threads on keep-alive connections drive
 * POST /v1.0/state/{store} (one item) and GET /v1.0/state/{store}/{key}
 * through ripstopd to a Redis started here; redis-benchmark then runs the
 * closest raw commands (HSET / HGETALL on a key of the same shape) with the
 * same concurrency against the same Redis. Prints both rates and the ratio,
 * i.e. what the HTTP API + sidecar costs on top of Redis.
 *
 * The ceiling of that ratio: redis-benchmark again, through a TCP byte relay
 * (relay.c, a process of its own under SCHED_BATCH like a sidecar) in front of
 * the same Redis. A relay does no protocol work, so relay / direct is what one
 * more process on a request's path costs on this machine (wake-ups, loopback
 * round trips); no sidecar between a client and Redis can beat it.
 *
 * R rounds (default 5), each: save and get through ripstopd, then
 * redis-benchmark direct and through the relay; prints each round and the
 * medians. Never asserts. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "relay.h"

static int n_req = 20000, conc = 16, rounds = 5;
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
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--rounds") && bu_flag_int("bench_state", "--rounds", argv[i + 1], 1, 100, &rounds) != 0)
            return 2;
    bu_state_env_t env;
    relay_t *relay = NULL;
    int rc = 1;
    if (bu_state_env_start(&env) != 0) goto out;
    int port = env.http_port, rport = env.redis_port;
    relay = relay_start(0, rport, SCHED_BATCH);
    if (!relay) {
        fprintf(stderr, "bench_state: cannot start the relay in front of Redis\n");
        goto out;
    }

    printf("state API: %d requests per phase, %d concurrent keep-alive connections, value %zu bytes, %d rounds\n",
           n_req, conc, strlen(VALUE), rounds);
    int failed_save = 0, failed_get = 0, failed = 0;
    run_phase(port, 0, &failed); /* warm-up: connections, script cache, keys exist for the get phase */
    char hset[512], hgetall[128];
    snprintf(hset, sizeof hset, "HSET 'bench||k0-0' data '%s'", VALUE);
    snprintf(hgetall, sizeof hgetall, "HGETALL 'bench||k0-0'");
    double r_save[100], r_get[100], c_save[100], c_get[100], v_save[100], v_get[100];
    for (int r = 0; r < rounds; r++) {
        bu_stats_t save = run_phase(port, 0, &failed);
        failed_save += failed;
        bu_stats_t get = run_phase(port, 1, &failed);
        failed_get += failed;
        double base_set = bu_redis_benchmark(rport, conc, n_req, hset);
        double base_get = bu_redis_benchmark(rport, conc, n_req, hgetall);
        double relay_set = bu_redis_benchmark(relay_port(relay), conc, n_req, hset);
        double relay_get = bu_redis_benchmark(relay_port(relay), conc, n_req, hgetall);
        if (base_set <= 0 || base_get <= 0 || relay_set <= 0 || relay_get <= 0) {
            fprintf(stderr, "bench_state: redis-benchmark did not run\n");
            goto out;
        }
        printf("round %d:\n", r + 1);
        row("ripstopd POST /v1.0/state (save)", save, failed_save);
        row("ripstopd GET /v1.0/state/{key}", get, failed_get);
        printf("  %-34s %9.0f req/s   through the relay %9.0f req/s\n", "redis-benchmark HSET", base_set, relay_set);
        printf("  %-34s %9.0f req/s   through the relay %9.0f req/s\n", "redis-benchmark HGETALL", base_get, relay_get);
        r_save[r] = save.rate / base_set, r_get[r] = get.rate / base_get;
        c_save[r] = relay_set / base_set, c_get[r] = relay_get / base_get;
        v_save[r] = save.rate / relay_set, v_get[r] = get.rate / relay_get;
        printf("  ratio ripstopd/redis-benchmark: save %.2f, get %.2f; relay/redis-benchmark (the ceiling): save %.2f, "
               "get %.2f\n", r_save[r], r_get[r], c_save[r], c_get[r]);
        fflush(stdout);
    }
    printf("median over %d rounds: ratio ripstopd/redis-benchmark: save %.2f, get %.2f\n", rounds,
           bu_median(r_save, rounds), bu_median(r_get, rounds));
    printf("  relay/redis-benchmark (one more process on the path, no protocol work: the ceiling of any sidecar): "
           "save %.2f, get %.2f\n", bu_median(c_save, rounds), bu_median(c_get, rounds));
    printf("  ripstopd/relayed redis-benchmark: save %.2f, get %.2f\n", bu_median(v_save, rounds), bu_median(v_get, rounds));
    rc = failed_save || failed_get ? 1 : 0;
out:
    relay_stop(relay);
    bu_state_env_stop(&env);
    return rc;
}

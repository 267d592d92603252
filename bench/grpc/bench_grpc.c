/* SPDX-License-Identifier: MIT */
/* State over gRPC vs over HTTP: client threads, each with one connection and
 * one call in flight, drive SaveState and GetState (dapr.proto.runtime.v1.Dapr)
 * on --dapr-grpc-port, then POST /v1.0/state and GET /v1.0/state/{key} on the
 * HTTP port of the same ripstopd, then redis-benchmark runs HSET / HGETALL
 * with the same concurrency against the same Redis. Prints the rates and the
 * ratios. The gRPC client is nghttp2 on a blocking socket with the messages
 * generated from proto/. Never asserts timings.
 *
 * --rounds R (default 0) adds R rounds that each compare gRPC and HTTP on
 * the same requests cut into SLICES short slices, a gRPC slice and an HTTP
 * slice back to back in alternating order, and print each round's ratio of
 * the summed times: on a shared machine the load drifts within seconds, and
 * slices that interleave see the same drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "grpc_client.h"

static int n_req = 20000, conc = 16;
static const char *VALUE = "{\"customer\":\"c-42\",\"orders\":17,\"total\":1234.5,\"tier\":\"gold\"}";

/* ---- phases ---- */

typedef struct {
    int port, is_get, grpc;
} phase_t;

static int grpc_client(const phase_t *ph, int id, int n, int64_t *lat) {
    gconn_t c;
    if (gconnect(&c, ph->port) != 0) return n;
    int failed = 0;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d-%d", id, i % 100);
        int64_t t0 = bu_now_us();
        int st = ph->is_get ? gcall_get(&c, key) : gcall_save(&c, key, VALUE);
        lat[i] = bu_now_us() - t0;
        if (st != 0) failed++;
        if (st < 0) { /* broken connection: reconnect and go on */
            gclose(&c);
            if (gconnect(&c, ph->port) != 0) return failed + n - i - 1;
        }
    }
    gclose(&c);
    return failed;
}

static int client(void *ctx, int id, int n, int64_t *lat) {
    const phase_t *ph = ctx;
    return ph->grpc ? grpc_client(ph, id, n, lat) : bu_state_http_client(ph->port, ph->is_get, VALUE, id, n, lat);
}

#define SLICES 8

/* One round for one operation: the rate of gRPC over the rate of HTTP on interleaved slices. */
static double interleaved_ratio(int gport, int port, int is_get, int *failed) {
    double t_grpc = 0, t_http = 0;
    int per = n_req / conc / SLICES;
    if (per < 1) per = 1;
    for (int i = 0; i < SLICES; i++) {
        int f1, f2;
        phase_t g = {gport, is_get, 1}, h = {port, is_get, 0};
        bu_stats_t a, b;
        if (i % 2 == 0) a = bu_run_clients(conc, per, client, &g, &f1), b = bu_run_clients(conc, per, client, &h, &f2);
        else b = bu_run_clients(conc, per, client, &h, &f2), a = bu_run_clients(conc, per, client, &g, &f1);
        *failed |= f1 || f2;
        if (a.rate <= 0 || b.rate <= 0) return 0;
        t_grpc += (double)a.n / a.rate;
        t_http += (double)b.n / b.rate;
    }
    return t_grpc > 0 ? t_http / t_grpc : 0;
}

static bu_stats_t run_phase(int port, int grpc, int is_get, int *failed) {
    phase_t ph = {port, is_get, grpc};
    return bu_run_clients(conc, n_req / conc, client, &ph, failed);
}

static void row(const char *what, bu_stats_t s, int failed) {
    printf("  %-30s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   failed %d\n", what, s.rate, s.p50_ms, s.p99_ms,
           failed);
}

int main(int argc, char **argv) {
    if (bu_parse_load_flags(argc, argv, "bench_grpc", &n_req, &conc) != 0) return 2;
    int rounds = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--rounds") && bu_flag_int("bench_grpc", "--rounds", argv[i + 1], 1, 100, &rounds) != 0)
            return 2;
    bu_state_env_t env;
    int rc = 1;
    if (bu_state_env_start(&env) != 0) goto out;
    int port = env.http_port, gport = env.grpc_port, rport = env.redis_port;

    printf("state over gRPC and HTTP: %d requests per phase, %d concurrent connections (one call in flight each), "
           "value %zu bytes\n", n_req, conc, strlen(VALUE));
    int f_gs, f_gg, f_hs, f_hg;
    run_phase(gport, 1, 0, &f_gs); /* warm-up: connections, script cache, keys exist for the get phases */
    bu_stats_t gsave = run_phase(gport, 1, 0, &f_gs), gget = run_phase(gport, 1, 1, &f_gg);
    run_phase(port, 0, 0, &f_hs);
    bu_stats_t hsave = run_phase(port, 0, 0, &f_hs), hget = run_phase(port, 0, 1, &f_hg);
    char hset[512], hgetall[128];
    snprintf(hset, sizeof hset, "HSET 'bench||k0-0' data '%s'", VALUE);
    snprintf(hgetall, sizeof hgetall, "HGETALL 'bench||k0-0'");
    double base_set = bu_redis_benchmark(rport, conc, n_req, hset), base_get = bu_redis_benchmark(rport, conc, n_req, hgetall);

    row("gRPC SaveState", gsave, f_gs);
    row("gRPC GetState", gget, f_gg);
    row("HTTP POST /v1.0/state", hsave, f_hs);
    row("HTTP GET /v1.0/state/{key}", hget, f_hg);
    printf("  %-30s %9.0f req/s\n", "redis-benchmark HSET", base_set);
    printf("  %-30s %9.0f req/s\n", "redis-benchmark HGETALL", base_get);
    if (hsave.rate > 0 && hget.rate > 0)
        printf("ratio gRPC/HTTP: save %.2f, get %.2f\n", gsave.rate / hsave.rate, gget.rate / hget.rate);
    if (base_set > 0 && base_get > 0)
        printf("ratio gRPC/redis-benchmark: save %.2f, get %.2f; HTTP/redis-benchmark: save %.2f, get %.2f\n",
               gsave.rate / base_set, gget.rate / base_get, hsave.rate / base_set, hget.rate / base_get);
    int failed = f_gs || f_gg || f_hs || f_hg;
    int won_save = 0, won_get = 0;
    for (int r = 1; r <= rounds; r++) {
        double rs = interleaved_ratio(gport, port, 0, &failed), rg = interleaved_ratio(gport, port, 1, &failed);
        won_save += rs >= 1, won_get += rg >= 1;
        printf("round %d (%d interleaved slices each): gRPC/HTTP save %.2f, get %.2f\n", r, SLICES, rs, rg);
        fflush(stdout);
    }
    if (rounds)
        printf("gRPC at least as fast as HTTP in %d of %d rounds for save, %d of %d for get\n", won_save, rounds,
               won_get, rounds);
    rc = failed ? 1 : 0;
out:
    bu_state_env_stop(&env);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* State over gRPC vs over HTTP through one ripstopd vs redis-benchmark on the
 * same Redis. Both protocols are driven by the same load client, h2load
 * (nghttp2's), so the ratio measures the sidecar and not two different
 * clients: gRPC as unary calls over h2c (the length-prefixed protobuf as the
 * request body), HTTP as HTTP/1.1 keep-alive (`--h1`). C requests in flight,
 * N requests per phase, one key; redis-benchmark runs HSET / HGETALL on the
 * same key with the same C and N. Two shapes of the same C in flight:
 *   - one request per connection for both protocols (C connections, -m 1):
 *     the cost of one request in isolation;
 *   - as the SDKs connect: gRPC clients (grpc-go, grpc-js, connect-es in the
 *     JS SDK) send every call over one HTTP/2 connection, so gRPC runs C
 *     streams on one connection (-c 1 -m C); HTTP/1.1 clients open a
 *     connection per request in flight and do not pipeline, so HTTP stays at
 *     C connections.
 *
 * Requests carry the header fields the official JS SDK (@dapr/dapr 3.18.0)
 * sends in each mode, as captured from it: over HTTP user-agent, accept,
 * accept-encoding, connection (and content-type on a save); over gRPC
 * content-type application/grpc+proto, grpc-accept-encoding, te, user-agent.
 * `--sdk-headers 0` sends only what h2load sends by itself (plus gRPC's
 * content-type and te): the least a request can carry, where HPACK has the
 * least to save.
 *
 * R rounds; each round runs save then get in each shape, each cut into 8 slices per
 * protocol, a gRPC and an HTTP slice back to back in alternating order (load
 * on a shared machine drifts within seconds; interleaved slices see the same
 * drift), then redis-benchmark. Prints every round's ratios and their
 * medians. h2load does not read gRPC trailers, so a phase counts only when
 * every reply is 2xx and carries the bytes a successful reply carries (a gRPC
 * error is a trailers-only reply without data); one call of each kind is also
 * checked with the nghttp2 client for grpc-status 0 first. Never asserts
 * timings. Also prints ripstopd's CPU time per request in each phase
 * (the scheduler's run time of its threads), which moves less with the
 * machine's other load, and h2load's own: on a 2-core machine the client
 * costs more per request than the sidecar, so the rates are bounded by the
 * client (and h2load's HTTP/2 costs more than its HTTP/1.1), while ripstopd's
 * capacity, requests per second of its CPU, is what the sidecar decides. */
#include <dirent.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc_client.h"

/* 80,000 requests per phase make slices of 10,000: each slice's h2load opens its connections anew, and a gRPC
 * connection costs ripstopd about 20 us more than an HTTP/1.1 one to open (the SETTINGS exchange), which smaller
 * slices weigh (SDK clients keep their connection for their whole life). */
static int n_req = 80000, conc = 16, rounds = 5, sdk_headers = 1;
static pid_t sidecar; /* for its CPU time per request */
static const char *KEY = "k0-0";
static const char *VALUE = "{\"customer\":\"c-42\",\"orders\":17,\"total\":1234.5,\"tier\":\"gold\"}";

typedef struct {
    double rate;                  /* requests per second, h2load's "finished in" line */
    long long ok2xx, data, done;  /* 2xx replies, DATA / body bytes, requests done */
    double cpu_us;                /* ripstopd's CPU time (user + system) per request */
    double client_us;             /* h2load's CPU time (user + system) per request */
} h2_result_t;

/* The CPU time all of pid's threads have run, in microseconds, from the scheduler's nanosecond counters
 * (/proc/<pid>/task/<tid>/schedstat; the clock-tick figures of /proc/<pid>/stat are too coarse for a slice). */
static double cpu_us(pid_t pid) {
    char path[64], file[320];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    double ns = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(file, sizeof file, "%s/%s/schedstat", path, e->d_name);
        FILE *f = fopen(file, "r");
        unsigned long long run = 0;
        if (f && fscanf(f, "%llu", &run) == 1) ns += (double)run;
        if (f) fclose(f);
    }
    closedir(d);
    return ns / 1000;
}

/* The CPU time of every child this process has waited for (popen's shell and the h2load it waited for), in
 * microseconds: the load client's own cost, which bounds the rate when it exceeds ripstopd's. */
static double children_cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Writes a gRPC message (5-byte prefix + packed m) to path. Returns 0 or -1. */
static int write_grpc_body(const char *path, const ProtobufCMessage *m) {
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len + 5);
    if (!buf) return -1;
    buf[0] = 0;
    buf[1] = (uint8_t)(len >> 24), buf[2] = (uint8_t)(len >> 16), buf[3] = (uint8_t)(len >> 8), buf[4] = (uint8_t)len;
    protobuf_c_message_pack(m, buf + 5);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(buf, 1, len + 5, f) == len + 5 ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(buf);
    return rc;
}

static int write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "w");
    int rc = f && fputs(s, f) >= 0 ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    return rc;
}

/* The number in parentheses after `key` in line ("... 1.51MB (1580000) data"), searched backwards from key. */
static long long paren_before(const char *line, const char *key) {
    const char *k = strstr(line, key);
    if (!k) return -1;
    const char *open = NULL;
    for (const char *p = line; p < k; p++)
        if (*p == '(') open = p;
    return open ? atoll(open + 1) : -1;
}

/* Runs h2load with `args` (n, c connections with m requests in flight each, and one thread added) and reads its
 * summary. Returns 0 or -1. */
static int h2load(const char *args, int n, int c, int m, h2_result_t *r) {
    char cmd[2048], line[1024], out[8192] = "";
    snprintf(cmd, sizeof cmd, "/usr/bin/h2load -n %d -c %d -m %d -t 1 %s 2>&1", n, c, m, args);
    memset(r, 0, sizeof *r);
    r->data = -1;
    double cpu0 = cpu_us(sidecar), client0 = children_cpu_us();
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    while (fgets(line, sizeof line, p)) {
        if (strlen(out) + strlen(line) < sizeof out) strcat(out, line);
        const char *comma = strstr(line, ", ");
        if (strncmp(line, "finished in ", 12) == 0 && comma) r->rate = atof(comma + 2); /* "finished in 1.2s, 9.9 req/s" */
        else if (strncmp(line, "requests:", 9) == 0) {
            const char *d = strstr(line, "started, ");
            if (d) r->done = atoll(d + 9);
        } else if (strncmp(line, "status codes:", 13) == 0) r->ok2xx = atoll(line + 13);
        else if (strncmp(line, "traffic:", 8) == 0) r->data = paren_before(line, " data");
    }
    int st = pclose(p);
    r->cpu_us = (cpu_us(sidecar) - cpu0) / n;
    r->client_us = (children_cpu_us() - client0) / n;
    if (st != 0 || r->rate <= 0) {
        fprintf(stderr, "bench_grpc: h2load failed (%s):\n%s", cmd, out);
        return -1;
    }
    return 0;
}

/* A phase counts when every request got a 2xx reply carrying between lo and hi bytes of body. */
static int check(const char *what, const h2_result_t *r, int n, long long lo, long long hi) {
    if (r->done == n && r->ok2xx == n && r->data >= lo * n && r->data <= hi * n) return 0;
    fprintf(stderr, "bench_grpc: %s: %lld of %d done, %lld 2xx, %lld body bytes (want %lld..%lld per request)\n", what,
            r->done, n, r->ok2xx, r->data, lo, hi);
    return -1;
}

typedef struct {
    char grpc[1200], http[1200]; /* h2load arguments */
    long long grpc_lo, grpc_hi, http_lo, http_hi;
} op_t;

#define SLICES 8

/* Runs gRPC and HTTP for one operation on n requests each, cut into SLICES slices per protocol, a gRPC and an HTTP
 * slice back to back in alternating order (A B B A A B ...), starting with gRPC when grpc_first. HTTP runs conc
 * connections with one request each; gRPC the same, or with `multiplexed` conc streams on one connection. *g and
 * *h get the rate over the summed slice times and ripstopd's CPU per request. Returns 0 or -1. */
static int run_pair(const op_t *op, const char *name, int multiplexed, int grpc_first, int n, h2_result_t *g,
                    h2_result_t *h) {
    char what[64];
    int per = n / SLICES > conc ? n / SLICES : conc;
    double t[2] = {0, 0}, cpu[2] = {0, 0}, client[2] = {0, 0};
    h2_result_t r;
    for (int i = 0; i < 2 * SLICES; i++) {
        int grpc = (i % 4 == 0 || i % 4 == 3) == grpc_first;
        snprintf(what, sizeof what, "%s %s", grpc ? "gRPC" : "HTTP", name);
        if (grpc ? h2load(op->grpc, per, multiplexed ? 1 : conc, multiplexed ? conc : 1, &r) ||
                       check(what, &r, per, op->grpc_lo, op->grpc_hi)
                 : h2load(op->http, per, conc, 1, &r) || check(what, &r, per, op->http_lo, op->http_hi))
            return -1;
        t[grpc] += per / r.rate, cpu[grpc] += r.cpu_us * per, client[grpc] += r.client_us * per;
        *(grpc ? g : h) = r;
    }
    g->rate = (double)per * SLICES / t[1], h->rate = (double)per * SLICES / t[0];
    g->cpu_us = cpu[1] / ((double)per * SLICES), h->cpu_us = cpu[0] / ((double)per * SLICES);
    g->client_us = client[1] / ((double)per * SLICES), h->client_us = client[0] / ((double)per * SLICES);
    return 0;
}

int main(int argc, char **argv) {
    if (bu_parse_load_flags(argc, argv, "bench_grpc", &n_req, &conc) != 0) return 2;
    for (int i = 1; i + 1 < argc; i += 2)
        if ((!strcmp(argv[i], "--rounds") && bu_flag_int("bench_grpc", "--rounds", argv[i + 1], 1, 100, &rounds) != 0) ||
            (!strcmp(argv[i], "--sdk-headers") &&
             bu_flag_int("bench_grpc", "--sdk-headers", argv[i + 1], 0, 1, &sdk_headers) != 0))
            return 2;
    if (access("/usr/bin/h2load", X_OK) != 0) {
        fprintf(stderr, "bench_grpc: needs /usr/bin/h2load (Debian package nghttp2-client; scripts/setup.sh installs it)\n");
        return 2;
    }
    bu_state_env_t env;
    int rc = 1;
    if (bu_state_env_start(&env) != 0) goto out;
    int port = env.http_port, gport = env.grpc_port, rport = env.redis_port;
    sidecar = env.sidecar;

    /* The request bodies. */
    char gsave[128], gget[128], hsave[128], json[512];
    snprintf(gsave, sizeof gsave, "%s/grpc-save.bin", env.dir);
    snprintf(gget, sizeof gget, "%s/grpc-get.bin", env.dir);
    snprintf(hsave, sizeof hsave, "%s/http-save.json", env.dir);
    Dapr__Proto__Common__V1__StateItem it = DAPR__PROTO__COMMON__V1__STATE_ITEM__INIT;
    it.key = (char *)KEY;
    it.value = (ProtobufCBinaryData){strlen(VALUE), (uint8_t *)VALUE};
    Dapr__Proto__Common__V1__StateItem *items[1] = {&it};
    Dapr__Proto__Runtime__V1__SaveStateRequest sr = DAPR__PROTO__RUNTIME__V1__SAVE_STATE_REQUEST__INIT;
    sr.store_name = "statestore", sr.n_states = 1, sr.states = items;
    Dapr__Proto__Runtime__V1__GetStateRequest gr = DAPR__PROTO__RUNTIME__V1__GET_STATE_REQUEST__INIT;
    gr.store_name = "statestore", gr.key = (char *)KEY;
    snprintf(json, sizeof json, "[{\"key\":\"%s\",\"value\":%s}]", KEY, VALUE);
    if (write_grpc_body(gsave, &sr.base) || write_grpc_body(gget, &gr.base) || write_text(hsave, json)) {
        fprintf(stderr, "bench_grpc: cannot write the request bodies under %s\n", env.dir);
        goto out;
    }

    /* One checked call of each kind (h2load does not read grpc-status). */
    gconn_t c;
    int st_save = -1, st_get = -1;
    if (gconnect(&c, gport) == 0) {
        st_save = gcall_save(&c, KEY, VALUE);
        st_get = gcall_get(&c, KEY);
        gclose(&c);
    }
    if (st_save != 0 || st_get != 0) {
        fprintf(stderr, "bench_grpc: SaveState answered grpc-status %d, GetState %d (want 0)\n", st_save, st_get);
        goto out;
    }

    /* A SaveState reply is an empty message (5 bytes); a GetState reply the value, its etag and the framing; an
     * HTTP save 204 without a body, a get the value itself. */
    long long vlen = (long long)strlen(VALUE);
    op_t save = {.grpc_lo = 5, .grpc_hi = 5, .http_lo = 0, .http_hi = 0};
    op_t get = {.grpc_lo = 5 + 2 + vlen + 3, .grpc_hi = 5 + 2 + vlen + 2 + 20, .http_lo = vlen, .http_hi = vlen};
    /* The SDK's header fields (see the top of this file); h2load adds :authority / host and, on a request with a
     * body, content-length. */
    const char *g_hdrs = sdk_headers ? "-H 'content-type: application/grpc+proto' -H 'grpc-accept-encoding: gzip,br' "
                                       "-H 'te: trailers' -H 'user-agent: connect-es/2.1.2'"
                                     : "-H 'content-type: application/grpc' -H 'te: trailers'";
    const char *h_hdrs = sdk_headers ? "-H 'user-agent: dapr-sdk-js/v3.18.0 http/1' -H 'accept: */*' "
                                       "-H 'accept-encoding: gzip,deflate' -H 'connection: keep-alive'"
                                     : "";
    snprintf(save.grpc, sizeof save.grpc, "%s -d %s http://127.0.0.1:%d/dapr.proto.runtime.v1.Dapr/SaveState", g_hdrs,
             gsave, gport);
    snprintf(get.grpc, sizeof get.grpc, "%s -d %s http://127.0.0.1:%d/dapr.proto.runtime.v1.Dapr/GetState", g_hdrs, gget,
             gport);
    snprintf(save.http, sizeof save.http,
             "--h1 %s -H 'content-type: application/json' -d %s http://127.0.0.1:%d/v1.0/state/statestore", h_hdrs, hsave,
             port);
    snprintf(get.http, sizeof get.http, "--h1 %s http://127.0.0.1:%d/v1.0/state/statestore/%s", h_hdrs, port, KEY);
    char hset[512], hgetall[128];
    snprintf(hset, sizeof hset, "HSET 'bench||%s' data '%s'", KEY, VALUE);
    snprintf(hgetall, sizeof hgetall, "HGETALL 'bench||%s'", KEY);

    printf("state over gRPC (h2c) and HTTP/1.1 through one ripstopd, both driven by h2load; redis-benchmark on the same "
           "Redis: %d requests per phase, %d requests in flight, value %zu bytes, %d rounds; header fields %s\n",
           n_req, conc, strlen(VALUE), rounds, sdk_headers ? "as the JS SDK sends them" : "h2load's own only");
    fflush(stdout);
    h2_result_t g, h;
    int warm = n_req / 4 > conc ? n_req / 4 : conc; /* connections, script cache, allocator pools */
    if (run_pair(&save, "save (warm-up)", 0, 1, warm, &g, &h) || run_pair(&get, "get (warm-up)", 0, 1, warm, &g, &h))
        goto out;

    /* per shape (0: a connection per request in flight for both; 1: gRPC multiplexed on one connection) */
    static const char *shape_name[2] = {"one request per connection for both",
                                        "as the SDKs connect: gRPC all streams on one connection, HTTP a connection "
                                        "per request"};
    double r_save[2][100], r_get[2][100], c_save[2][100], c_get[2][100];
    double cl_g[2][100], cl_h[2][100]; /* h2load's CPU per request, gRPC and HTTP, save and get together */
    double gs_b[100], gg_b[100], hs_b[100], hg_b[100]; /* against redis-benchmark, one request per connection */
    for (int r = 0; r < rounds; r++) {
        int grpc_first = r % 2 == 0;
        printf("round %d (%s first):\n", r + 1, grpc_first ? "gRPC" : "HTTP");
        double rate[2][4]; /* per shape: gRPC save, HTTP save, gRPC get, HTTP get */
        /* HTTP runs in both shapes with the same connections: each shape's slices are compared with HTTP slices
         * run beside them, so both see the same drift of the machine's load */
        for (int m = 0; m < 2; m++) {
            h2_result_t gs, hs, gg, hg;
            if (run_pair(&save, "save", m, grpc_first, n_req, &gs, &hs) ||
                run_pair(&get, "get", m, grpc_first, n_req, &gg, &hg))
                goto out;
            r_save[m][r] = gs.rate / hs.rate, r_get[m][r] = gg.rate / hg.rate;
            c_save[m][r] = hs.cpu_us > 0 ? gs.cpu_us / hs.cpu_us : 0;
            c_get[m][r] = hg.cpu_us > 0 ? gg.cpu_us / hg.cpu_us : 0;
            cl_g[m][r] = (gs.client_us + gg.client_us) / 2, cl_h[m][r] = (hs.client_us + hg.client_us) / 2;
            rate[m][0] = gs.rate, rate[m][1] = hs.rate, rate[m][2] = gg.rate, rate[m][3] = hg.rate;
            printf("  %s:\n", shape_name[m]);
            printf("    save: gRPC %6.0f req/s (ripstopd %.1f us CPU, h2load %.1f)  HTTP %6.0f req/s (%.1f us, h2load "
                   "%.1f)\n", gs.rate, gs.cpu_us, gs.client_us, hs.rate, hs.cpu_us, hs.client_us);
            printf("    get:  gRPC %6.0f req/s (ripstopd %.1f us CPU, h2load %.1f)  HTTP %6.0f req/s (%.1f us, h2load "
                   "%.1f)\n", gg.rate, gg.cpu_us, gg.client_us, hg.rate, hg.cpu_us, hg.client_us);
            printf("    gRPC/HTTP req/s save %.2f, get %.2f; ripstopd CPU per request gRPC/HTTP save %.2f, get %.2f\n",
                   r_save[m][r], r_get[m][r], c_save[m][r], c_get[m][r]);
        }
        double b_set = bu_redis_benchmark(rport, conc, n_req, hset), b_get = bu_redis_benchmark(rport, conc, n_req, hgetall);
        if (b_set <= 0 || b_get <= 0) {
            fprintf(stderr, "bench_grpc: redis-benchmark did not run\n");
            goto out;
        }
        gs_b[r] = rate[0][0] / b_set, hs_b[r] = rate[0][1] / b_set, gg_b[r] = rate[0][2] / b_get;
        hg_b[r] = rate[0][3] / b_get;
        printf("  redis-benchmark HSET %6.0f req/s, HGETALL %6.0f req/s; against it (one request per connection): gRPC "
               "save %.2f get %.2f, HTTP save %.2f get %.2f\n", b_set, b_get, gs_b[r], gg_b[r], hs_b[r], hg_b[r]);
        fflush(stdout);
    }
    printf("medians over %d rounds; gRPC/redis-benchmark save %.2f, get %.2f; HTTP/redis-benchmark save %.2f, get %.2f\n",
           rounds, bu_median(gs_b, rounds), bu_median(gg_b, rounds), bu_median(hs_b, rounds), bu_median(hg_b, rounds));
    for (int m = 0; m < 2; m++) {
        int won_save = 0, won_get = 0, cheaper_save = 0, cheaper_get = 0;
        for (int r = 0; r < rounds; r++) {
            won_save += r_save[m][r] >= 1, won_get += r_get[m][r] >= 1;
            cheaper_save += c_save[m][r] > 0 && c_save[m][r] <= 1, cheaper_get += c_get[m][r] > 0 && c_get[m][r] <= 1;
        }
        printf("%s:\n", shape_name[m]);
        printf("  gRPC/HTTP req/s save %.2f, get %.2f (gRPC at least as fast in %d of %d rounds for save, %d of %d for "
               "get); h2load's own CPU per request gRPC %.1f us, HTTP %.1f us\n",
               bu_median(r_save[m], rounds), bu_median(r_get[m], rounds), won_save, rounds, won_get, rounds,
               bu_median(cl_g[m], rounds), bu_median(cl_h[m], rounds));
        printf("  ripstopd CPU per request gRPC/HTTP save %.2f, get %.2f; its capacity (requests per second of its CPU) "
               "gRPC/HTTP save %.2f, get %.2f (no more CPU on a gRPC request in %d of %d rounds for save, %d of %d for "
               "get)\n",
               bu_median(c_save[m], rounds), bu_median(c_get[m], rounds), 1 / bu_median(c_save[m], rounds),
               1 / bu_median(c_get[m], rounds), cheaper_save, rounds, cheaper_get, rounds);
    }
    rc = 0;
out:
    bu_state_env_stop(&env);
    return rc;
}

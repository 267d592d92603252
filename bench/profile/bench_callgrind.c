/* SPDX-License-Identifier: MIT */
/* bench_callgrind: instructions per request in ripstopd, counted by valgrind's
 * callgrind, for the sidecar's hot paths. Instruction counts do not depend on
 * the machine's other load, so this is the reproducible figure behind the
 * profile note in docs/performance.md (wall-clock benchmarks on a shared
 * 2-core machine swing by tens of percent).
 *
 * Runs ripstopd (and the Redis or app behind it) under callgrind, one client
 * connection with one request in flight, and per path: W warm-up requests,
 * `callgrind_control --zero`, N requests, `callgrind_control --dump`; the
 * dump's total divided by N is the figure. Paths:
 *   - state over HTTP: POST /v1.0/state/statestore (one item), GET .../{key};
 *   - state over gRPC: SaveState, GetState (same store, keys, value);
 *   - invocation: GET /v1.0/invoke/callee/method/ping through a caller and a
 *     callee ripstopd (sqlite name resolution) to a tiny evhttp app; each
 *     sidecar is one hop and is counted on its own;
 *   - pub/sub: POST /v1.0/publish to a publishing ripstopd (pubsub.kafka on
 *     kafka-mock), delivered by a second ripstopd to the app; the next message
 *     is published once the app has the previous one. Each sidecar counts all
 *     its threads (librdkafka's included).
 * The baseline measured in the same run is redis-server itself (also under
 * callgrind, counting only its command work: reading and running commands
 * and writing replies) for the state paths: "ratio" is ripstopd's
 * instructions per request over Redis's for the command it runs (the set
 * script for a save, HGETALL for a get). Kernel time (syscalls,
 * loopback TCP, context switches) is not counted by callgrind.
 *
 * Usage: bench_callgrind [--requests N] [--warmup W] [--only state|grpc|invoke|pubsub]
 * The dumps stay in the printed folder: `callgrind_annotate <file>` shows
 * where a path's instructions go. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "grpc_client.h"
#include "ping_app.h"

static const char *VALUE = "{\"customer\":\"c-42\",\"orders\":17,\"total\":1234.5,\"tier\":\"gold\"}";
static char out_dir[64];

/* ---- callgrind control ---- */

/* The wrapper every measured process runs under: dumps go to out_dir/callgrind.<pid>[.<n>]. */
static char out_opt[128];
static const char *wrap[] = {"/usr/bin/valgrind", "--tool=callgrind", "--dump-instr=no", out_opt, NULL};
/* Redis: only its command work counts (reading and running commands, writing replies), not its 10 Hz cron, which
 * under valgrind's slowdown would add a share that depends on wall time. */
static const char *wrap_redis[] = {"/usr/bin/valgrind", "--tool=callgrind", "--dump-instr=no", out_opt,
                                   "--toggle-collect=readQueryFromClient", "--toggle-collect=writeToClient", NULL};

static int ctl(const char *what, pid_t pid) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/callgrind_control %s %d >/dev/null 2>&1", what, (int)pid);
    return system(cmd) == 0 ? 0 : -1;
}

/* Zeroes pid's counters; the next dump of pid counts from here. */
static int zero(pid_t pid) { return ctl("--zero", pid); }

/* Dumps pid's counters (the dump numbered `n`, from 1) and returns their instruction total, or -1. */
static double dump(pid_t pid, int n, char *file, size_t file_len) {
    if (ctl("--dump", pid) != 0) return -1;
    snprintf(file, file_len, "%s/callgrind.%d.%d", out_dir, (int)pid, n);
    for (int i = 0; i < 500; i++) { /* the dump is written by the process; poll until its totals line is there */
        FILE *f = fopen(file, "r");
        char line[512];
        double total = -1;
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "totals:", 7) || !strncmp(line, "summary:", 8)) total = atof(strchr(line, ':') + 1);
        if (f) fclose(f);
        if (total >= 0) return total;
        usleep(20000);
    }
    return -1;
}

/* ---- what is measured ---- */

typedef int (*one_req_fn)(void *client, int i); /* 0 when request i succeeded */

typedef struct {
    pid_t pid;
    int dumps;
} proc_t;

/* Runs warmup + n requests, counting the last n in every process of procs[0..np). Per-request figures in per[]. */
static int measure(one_req_fn fn, void *client, int warmup, int n, proc_t *procs, int np, double *per, char files[][256]) {
    for (int i = 0; i < warmup; i++)
        if (fn(client, i) != 0) return -1;
    for (int p = 0; p < np; p++)
        if (zero(procs[p].pid) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (fn(client, warmup + i) != 0) return -1;
    for (int p = 0; p < np; p++) {
        double t = dump(procs[p].pid, ++procs[p].dumps, files[p], 256);
        if (t < 0) return -1;
        per[p] = t / n;
    }
    return 0;
}

static int http_save(void *c, int i) {
    char body[512];
    int len = snprintf(body, sizeof body, "[{\"key\":\"k0-%d\",\"value\":%s}]", i % 100, VALUE);
    return bu_request(c, "POST", "/v1.0/state/statestore", "application/json", body, (size_t)len) == 204 ? 0 : -1;
}

static int http_get(void *c, int i) {
    char path[128];
    snprintf(path, sizeof path, "/v1.0/state/statestore/k0-%d", i % 100);
    return bu_request(c, "GET", path, NULL, NULL, 0) == 200 ? 0 : -1;
}

static int grpc_save(void *c, int i) {
    char key[32];
    snprintf(key, sizeof key, "k0-%d", i % 100);
    return gcall_save(c, key, VALUE) == 0 ? 0 : -1;
}

static int grpc_get(void *c, int i) {
    char key[32];
    snprintf(key, sizeof key, "k0-%d", i % 100);
    return gcall_get(c, key) == 0 ? 0 : -1;
}

static int invoke(void *c, int i) {
    (void)i;
    return bu_request(c, "GET", "/v1.0/invoke/callee/method/ping", NULL, NULL, 0) == 200 ? 0 : -1;
}

static void row(const char *what, double sidecar, double base) {
    if (base > 0)
        printf("  %-34s %9.0f instructions/request   redis-server %7.0f   ratio %.1f\n", what, sidecar, base,
               sidecar / base);
    else
        printf("  %-34s %9.0f instructions/request\n", what, sidecar);
}

/* ---- state over HTTP and gRPC ---- */

static int run_state(int n, int warmup, int want_http, int want_grpc) {
    bu_state_env_t env;
    int rc = -1;
    if (bu_state_env_start_wrapped(&env, wrap, wrap_redis) != 0) goto out;
    proc_t procs[2] = {{env.sidecar, 0}, {env.redis, 0}};
    double per[2];
    char files[2][256];
    if (want_http) {
        bu_conn_t c;
        if (bu_connect(&c, env.http_port) != 0) goto out;
        if (measure(http_save, &c, warmup, n, procs, 2, per, files) != 0) goto out;
        row("HTTP state save (POST, one item)", per[0], per[1]);
        printf("    %s\n", files[0]);
        if (measure(http_get, &c, warmup, n, procs, 2, per, files) != 0) goto out;
        row("HTTP state get (GET /{key})", per[0], per[1]);
        printf("    %s\n", files[0]);
        bu_close(&c);
    }
    if (want_grpc) {
        gconn_t g;
        if (gconnect(&g, env.grpc_port) != 0) goto out;
        if (measure(grpc_save, &g, warmup, n, procs, 2, per, files) != 0) goto out;
        row("gRPC SaveState (one item)", per[0], per[1]);
        printf("    %s\n", files[0]);
        if (measure(grpc_get, &g, warmup, n, procs, 2, per, files) != 0) goto out;
        row("gRPC GetState", per[0], per[1]);
        printf("    %s\n", files[0]);
        gclose(&g);
    }
    rc = 0;
out:
    if (rc != 0) fprintf(stderr, "bench_callgrind: state phase failed (logs in %s)\n", env.dir);
    bu_state_env_stop(&env);
    return rc;
}

/* ---- invocation through two sidecars ---- */

static int run_invoke(int n, int warmup) {
    char self[1024], exe[1200], cfg[128], db[128], log1[128], log2[128];
    bu_self_dir(self, sizeof self);
    snprintf(exe, sizeof exe, "%s/../ripstopd", self);
    snprintf(cfg, sizeof cfg, "%s/config.yaml", out_dir);
    snprintf(db, sizeof db, "%s/nr.db", out_dir);
    snprintf(log1, sizeof log1, "%s/callee.log", out_dir);
    snprintf(log2, sizeof log2, "%s/caller.log", out_dir);
    FILE *f = fopen(cfg, "w");
    if (!f) return -1;
    fprintf(f, "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: bench\nspec:\n  nameResolution:\n"
               "    component: sqlite\n    configuration:\n      connectionString: %s\n", db);
    fclose(f);
    int app_port = bu_free_port();
    bu_ping_app_start(app_port);
    if (bu_wait_status(app_port, "/ping", 200, 10) != 0) return -1;
    int callee_port = bu_free_port(), caller_port = bu_free_port();
    char ap[16], p1[16], p2[16];
    snprintf(ap, sizeof ap, "%d", app_port);
    snprintf(p1, sizeof p1, "%d", callee_port);
    snprintf(p2, sizeof p2, "%d", caller_port);
    const char *callee_argv[] = {wrap[0], wrap[1], wrap[2], wrap[3], exe, "--app-id", "callee", "--app-port", ap,
                                 "--dapr-http-port", p1, "--dapr-grpc-port", "0", "--metrics-port", "0", "--config", cfg,
                                 "--log-level", "warn", NULL};
    const char *caller_argv[] = {wrap[0], wrap[1], wrap[2], wrap[3], exe, "--app-id", "caller", "--dapr-http-port", p2,
                                 "--dapr-grpc-port", "0", "--metrics-port", "0", "--config", cfg, "--log-level", "warn",
                                 NULL};
    proc_t procs[2] = {{bu_spawn(callee_argv, log1), 0}, {bu_spawn(caller_argv, log2), 0}};
    int rc = -1;
    bu_conn_t c = {.fd = -1};
    if (bu_wait_status(caller_port, "/v1.0/invoke/callee/method/ping", 200, 120) != 0) {
        fprintf(stderr, "bench_callgrind: sidecars did not come up (logs in %s)\n", out_dir);
        goto out;
    }
    double per[2];
    char files[2][256];
    if (bu_connect(&c, caller_port) != 0 || measure(invoke, &c, warmup, n, procs, 2, per, files) != 0) goto out;
    row("invoke, caller hop (GET /v1.0/invoke)", per[1], 0);
    printf("    %s\n", files[1]);
    row("invoke, callee hop (to the app)", per[0], 0);
    printf("    %s\n", files[0]);
    rc = 0;
out:
    bu_close(&c);
    bu_stop(procs[1].pid);
    bu_stop(procs[0].pid);
    return rc;
}

/* ---- pub/sub through two sidecars ---- */

static atomic_int delivered;
static int pub_port;

/* Publishes message i through the publisher and waits (up to 120 s: the first one waits for the group) until the
 * app has it. */
static int publish_one(void *c, int i) {
    char body[128];
    int len = snprintf(body, sizeof body, "{\"orderId\":%d,\"customerId\":7}", i);
    if (bu_request(c, "POST", "/v1.0/publish/order-queue/cg", "application/json", body, (size_t)len) != 204)
        return -1;
    int64_t deadline = bu_now_us() + 120 * 1000000LL;
    while (delivered < i + 1 && bu_now_us() < deadline) usleep(100);
    return delivered >= i + 1 ? 0 : -1;
}

static int run_pubsub(int n, int warmup) {
    char self[1024], exe[1200], kmock[1200], res[128], yaml[160], bfile[128], boot[256], klog[128], log1[128],
        log2[128];
    bu_self_dir(self, sizeof self);
    snprintf(exe, sizeof exe, "%s/../ripstopd", self);
    snprintf(kmock, sizeof kmock, "%s/../kafka-mock", self);
    snprintf(res, sizeof res, "%s/resources", out_dir);
    snprintf(bfile, sizeof bfile, "%s/bootstrap", out_dir);
    snprintf(klog, sizeof klog, "%s/kafka-mock.log", out_dir);
    snprintf(log1, sizeof log1, "%s/publisher.log", out_dir);
    snprintf(log2, sizeof log2, "%s/subscriber.log", out_dir);
    const char *margv[] = {kmock, "--brokers", "1", "--topic", "cg:1", "--bootstrap-file", bfile, "--log-level", "warn",
                           NULL};
    pid_t mock = bu_spawn(margv, klog);
    boot[0] = 0;
    for (int i = 0; i < 500 && bu_read_file(bfile, boot, sizeof boot); i++) usleep(20000);
    int rc = -1;
    proc_t procs[2] = {{-1, 0}, {-1, 0}};
    bu_conn_t c = {.fd = -1};
    mkdir(res, 0755);
    snprintf(yaml, sizeof yaml, "%s/kafka.yaml", res);
    FILE *f = *boot ? fopen(yaml, "w") : NULL;
    if (!f) goto out;
    fprintf(f,
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: order-queue\nspec:\n  type: pubsub.kafka\n"
            "  version: v1\n  metadata:\n  - name: brokers\n    value: \"%s\"\n  - name: authType\n    value: none\n"
            "  - name: disableTls\n    value: \"true\"\n  - name: initialOffset\n    value: oldest\n",
            boot);
    fclose(f);
    static const char subs[] = "[{\"pubsubname\":\"order-queue\",\"topic\":\"cg\",\"route\":\"/cg\"}]";
    int app_port = bu_free_port();
    bu_ping_app_start_subscriber(app_port, subs, &delivered);
    if (bu_wait_status(app_port, "/ping", 200, 10) != 0) goto out;
    pub_port = bu_free_port();
    int sub_port = bu_free_port();
    char ap[16], p1[16], p2[16];
    snprintf(ap, sizeof ap, "%d", app_port);
    snprintf(p1, sizeof p1, "%d", pub_port);
    snprintf(p2, sizeof p2, "%d", sub_port);
    const char *pub_argv[] = {wrap[0], wrap[1], wrap[2], wrap[3], exe, "--app-id", "cg-pub", "--dapr-http-port", p1,
                              "--dapr-grpc-port", "0", "--metrics-port", "0", "--resources-path", res, "--log-level",
                              "warn", NULL};
    const char *sub_argv[] = {wrap[0], wrap[1], wrap[2], wrap[3], exe, "--app-id", "cg-sub", "--app-port", ap,
                              "--dapr-http-port", p2, "--dapr-grpc-port", "0", "--metrics-port", "0", "--resources-path",
                              res, "--log-level", "warn", NULL};
    procs[0].pid = bu_spawn(pub_argv, log1);
    procs[1].pid = bu_spawn(sub_argv, log2);
    if (bu_wait_status(pub_port, "/v1.0/healthz", 204, 120) != 0 || bu_wait_status(sub_port, "/v1.0/healthz", 204, 120)) {
        fprintf(stderr, "bench_callgrind: sidecars did not come up (logs in %s)\n", out_dir);
        goto out;
    }
    double per[2];
    char files[2][256];
    if (bu_connect(&c, pub_port) != 0 || measure(publish_one, &c, warmup < 1 ? 1 : warmup, n, procs, 2, per, files))
        goto out;
    row("publish (POST /v1.0/publish, Kafka)", per[0], 0);
    printf("    %s\n", files[0]);
    row("delivery (Kafka -> POST to the app)", per[1], 0);
    printf("    %s\n", files[1]);
    rc = 0;
out:
    if (rc != 0) fprintf(stderr, "bench_callgrind: pub/sub phase failed (logs in %s)\n", out_dir);
    bu_close(&c);
    bu_stop(procs[1].pid);
    bu_stop(procs[0].pid);
    bu_stop(mock);
    return rc;
}

int main(int argc, char **argv) {
    int n = 2000, warmup = 300;
    const char *only = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        int bad = 0;
        if (!strcmp(argv[i], "--requests")) bad = bu_flag_int("bench_callgrind", argv[i], argv[i + 1], 1, 1000000, &n);
        else if (!strcmp(argv[i], "--warmup")) bad = bu_flag_int("bench_callgrind", argv[i], argv[i + 1], 0, 1000000, &warmup);
        if (bad) return 2;
        else if (!strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    if (n < 1 || n > 1000000 || warmup < 0 || warmup > 1000000 || (argc - 1) % 2 ||
        (only && strcmp(only, "state") && strcmp(only, "grpc") && strcmp(only, "invoke") && strcmp(only, "pubsub"))) {
        fprintf(stderr, "usage: bench_callgrind [--requests N] [--warmup W] [--only state|grpc|invoke|pubsub]\n");
        return 2;
    }
    if (access("/usr/bin/valgrind", X_OK) != 0 || access("/usr/bin/callgrind_control", X_OK) != 0) {
        fprintf(stderr, "bench_callgrind: needs valgrind (apt-get install valgrind)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a sidecar that died is reported as a failed phase, not a silent exit */
    snprintf(out_dir, sizeof out_dir, "/tmp/rs-bench-callgrind-XXXXXX");
    if (!mkdtemp(out_dir)) return 1;
    snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s/callgrind.%%p", out_dir);
    printf("callgrind: ripstopd's instructions per request, %d requests after %d warm-up, one connection, one request "
           "in flight; dumps in %s\n", n, warmup, out_dir);
    int rc = 0;
    if (!only || !strcmp(only, "state") || !strcmp(only, "grpc"))
        rc |= run_state(n, warmup, !only || !strcmp(only, "state"), !only || !strcmp(only, "grpc"));
    if (!only || !strcmp(only, "invoke")) rc |= run_invoke(n, warmup);
    if (!only || !strcmp(only, "pubsub")) rc |= run_pubsub(n, warmup);
    return rc ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* Blob binding throughput: C client threads (one libcurl easy handle each,
 * so connections are kept alive) create and then read N blobs of `size`
 * bytes through ripstopd's POST /v1.0/bindings/{name}, then the same through
 * a direct client that signs Put Blob / Get Blob with the same Shared Key
 * code, against the same Azurite started here. Prints both rates, latency
 * percentiles and the ratio ripstopd/direct: what the sidecar costs on top of
 * the storage service. Never asserts. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "sidecar/components/bindings/azure_sharedkey.h"
#include "sidecar/components/bindings/blob_config.h"

static int n_req = 2000, conc = 8, size = 1024;
static int az_port, sc_port;
static rs_azure_cred_t cred;
static char *payload;

typedef struct {
    int via_sidecar, is_get;
} phase_t;

static size_t sink(char *p, size_t s, size_t n, void *arg) {
    (void)p;
    (void)arg;
    return s * n;
}

/* One request; returns the HTTP status or -1. */
static long perform(CURL *e, const char *method, const char *url, struct curl_slist *h, const char *body, size_t len) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    long st = -1;
    if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    return st;
}

/* Each worker thread's request buffer, freed when the worker ends. */
static __thread char *body;
static __thread size_t cap;

static long via_sidecar(CURL *e, int is_get, const char *name) {
    size_t need = (size_t)size + 256;
    if (cap < need) {
        body = realloc(body, need);
        cap = need;
    }
    int n = is_get ? snprintf(body, cap, "{\"operation\":\"get\",\"metadata\":{\"blobName\":\"%s\"}}", name)
                   : snprintf(body, cap, "{\"operation\":\"create\",\"data\":\"%s\",\"metadata\":{\"blobName\":\"%s\"}}",
                              payload, name);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.0/bindings/blobs", sc_port);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    long st = perform(e, "POST", url, h, body, (size_t)n);
    curl_slist_free_all(h);
    return st;
}

static long direct(CURL *e, int is_get, const char *name) {
    char path[256], url[512], date[32], auth[300], line[400];
    snprintf(path, sizeof path, "/%s/bench/%s", RS_AZURITE_ACCOUNT, name);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", az_port, path);
    rs_kvlist_t h = {0};
    rs_azure_http_date((long long)time(NULL), date);
    rs_kvlist_set(&h, "x-ms-date", date);
    rs_kvlist_set(&h, "x-ms-version", "2021-12-02");
    if (!is_get) rs_kvlist_set(&h, "x-ms-blob-type", "BlockBlob");
    size_t len = is_get ? 0 : strlen(payload);
    char *sts = rs_azure_string_to_sign(&cred, is_get ? "GET" : "PUT", path, NULL, &h, len);
    rs_azure_authorization(&cred, sts, auth, sizeof auth);
    free(sts);
    struct curl_slist *sl = curl_slist_append(NULL, "Expect:");
    sl = curl_slist_append(sl, "Content-Type:");
    for (size_t i = 0; i < h.len; i++) {
        snprintf(line, sizeof line, "%s: %s", h.items[i].key, h.items[i].value);
        sl = curl_slist_append(sl, line);
    }
    snprintf(line, sizeof line, "Authorization: %s", auth);
    sl = curl_slist_append(sl, line);
    long st = perform(e, is_get ? "GET" : "PUT", url, sl, payload, len);
    curl_slist_free_all(sl);
    rs_kvlist_free(&h);
    return st;
}

static int client(void *ctx, int id, int n, int64_t *lat) {
    const phase_t *ph = ctx;
    int failed = 0;
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    char name[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s-%d-%d", ph->via_sidecar ? "s" : "d", id, i);
        int64_t t0 = bu_now_us();
        long st = ph->via_sidecar ? via_sidecar(e, ph->is_get, name) : direct(e, ph->is_get, name);
        lat[i] = bu_now_us() - t0;
        if (st != (ph->is_get || ph->via_sidecar ? 200 : 201)) failed++;
    }
    curl_easy_cleanup(e);
    free(body);
    body = NULL;
    cap = 0;
    return failed;
}

static bu_stats_t run_phase(int via_sidecar_, int is_get, int *failed) {
    phase_t ph = {via_sidecar_, is_get};
    return bu_run_clients(conc, n_req / conc, client, &ph, failed);
}

/* Two passes of one side, interleaved with the other side's (see main); rates combine as total ops / total time. */
static bu_stats_t pass[2][2][2]; /* [via_sidecar][is_get][pass] */

static void run_abba(int is_get, int *failed) {
    int f = 0;
    *failed = 0;
    pass[0][is_get][0] = run_phase(0, is_get, &f);
    *failed += f;
    pass[1][is_get][0] = run_phase(1, is_get, &f);
    *failed += f;
    pass[1][is_get][1] = run_phase(1, is_get, &f);
    *failed += f;
    pass[0][is_get][1] = run_phase(0, is_get, &f);
    *failed += f;
}

static bu_stats_t measure(int via_sidecar_, int is_get, int *failed) {
    if (!via_sidecar_) run_abba(is_get, failed);
    else *failed = 0;
    bu_stats_t a = pass[via_sidecar_][is_get][0], b = pass[via_sidecar_][is_get][1], r = a;
    r.n = a.n + b.n;
    r.rate = (double)r.n / ((double)a.n / a.rate + (double)b.n / b.rate);
    r.p50_ms = (a.p50_ms + b.p50_ms) / 2;
    r.p99_ms = (a.p99_ms + b.p99_ms) / 2;
    return r;
}

static void row(const char *what, bu_stats_t s, int failed) {
    printf("%-40s %6.0f ops/s  p50 %6.2f ms  p99 %6.2f ms  (%zu ops, %d failed)\n", what, s.rate, s.p50_ms, s.p99_ms,
           s.n, failed);
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        int bad = 0;
        if (strcmp(argv[i], "--requests") == 0) bad = bu_flag_int("bench_bindings", argv[i], argv[i + 1], 1, 100000000, &n_req);
        else if (strcmp(argv[i], "--concurrency") == 0) bad = bu_flag_int("bench_bindings", argv[i], argv[i + 1], 1, 256, &conc);
        else if (strcmp(argv[i], "--size") == 0) bad = bu_flag_int("bench_bindings", argv[i], argv[i + 1], 1, 1 << 20, &size);
        if (bad) return 2;
    }
    if (conc < 1 || conc > 256 || n_req < conc || size < 1 || size > 1 << 20) {
        fprintf(stderr, "usage: bench_bindings [--requests N] [--concurrency 1..256] [--size 1..1048576]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[200];
    rs_azure_cred_init(&cred, RS_AZURITE_ACCOUNT, RS_AZURITE_KEY, err, sizeof err);
    payload = malloc((size_t)size + 1);
    for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
    payload[size] = 0;

    char tmp[] = "/tmp/rs-bench-bindings-XXXXXX", dir[1024], exe[1200], log[1200], path[1200], azdir[1200];
    if (!mkdtemp(tmp)) return 1;
    bu_self_dir(dir, sizeof dir);
    az_port = bu_free_port();
    sc_port = bu_free_port();
    snprintf(azdir, sizeof azdir, "%s/azurite", tmp);
    mkdir(azdir, 0700);
    char azbin[1200], azport[16];
    snprintf(azbin, sizeof azbin, "%s/node_modules/.bin/azurite-blob", RIPSTOP_SRC_DIR);
    snprintf(azport, sizeof azport, "%d", az_port);
    snprintf(log, sizeof log, "%s/azurite.log", tmp);
    const char *az_argv[] = {azbin, "--blobHost", "127.0.0.1", "--blobPort", azport, "--location", azdir,
                             "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry", NULL};
    pid_t az = bu_spawn(az_argv, log);
    if (az < 0) {
        fprintf(stderr, "cannot start %s (run scripts/setup.sh)\n", azbin);
        return 1;
    }
    snprintf(path, sizeof path, "%s/resources", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/resources/blob.yaml", tmp);
    FILE *f = fopen(path, "w");
    fprintf(f, "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: blobs\nspec:\n"
               "  type: bindings.azure.blobstorage\n  version: v1\n  metadata:\n"
               "  - name: accountName\n    value: %s\n  - name: accountKey\n    value: \"%s\"\n"
               "  - name: containerName\n    value: bench\n  - name: endpoint\n    value: http://127.0.0.1:%d\n",
            RS_AZURITE_ACCOUNT, RS_AZURITE_KEY, az_port);
    fclose(f);
    int64_t deadline = bu_now_us() + 30 * 1000000LL;
    while (bu_request_once(az_port, "GET", "/", NULL, NULL) < 0 && bu_now_us() < deadline) usleep(50000);
    snprintf(exe, sizeof exe, "%s/../ripstopd", dir);
    char scport[16], res[1200];
    snprintf(scport, sizeof scport, "%d", sc_port);
    snprintf(res, sizeof res, "%s/resources", tmp);
    snprintf(log, sizeof log, "%s/ripstopd.log", tmp);
    const char *sc_argv[] = {exe, "--app-id", "bench", "--dapr-http-port", scport, "--metrics-port", "0",
                             "--resources-path", res, "--log-level", "warn", NULL};
    pid_t sc = bu_spawn(sc_argv, log);
    /* Ready once a create goes through (the container exists then). */
    int ready = 0;
    CURL *probe = curl_easy_init();
    while (!ready && bu_now_us() < deadline) {
        ready = via_sidecar(probe, 0, "warmup") == 200;
        if (!ready) usleep(50000);
    }
    curl_easy_cleanup(probe);
    if (!ready) {
        fprintf(stderr, "ripstopd/azurite did not become ready; see %s\n", tmp);
        bu_stop(sc);
        bu_stop(az);
        return 1;
    }
    printf("blob binding: %d requests per phase, %d client threads, %d-byte blobs, Azurite %s\n", n_req, conc, size,
           "(node, single process)");
    int f1, f2, f3, f4;
    /* Warm both paths first: Azurite (a JIT-compiled node server) is much slower on its first thousand calls. */
    int saved = n_req;
    n_req = saved / 2 < conc ? conc : saved / 2;
    for (int round = 0; round < 2; round++) {
        run_phase(0, round, &f1);
        run_phase(1, round, &f1);
    }
    n_req = saved;
    /* ABBA order (direct, sidecar, sidecar, direct) so drift in Azurite's speed hits both sides alike. */
    bu_stats_t dc = measure(0, 0, &f1), sc_c = measure(1, 0, &f2), dg = measure(0, 1, &f3), sc_g = measure(1, 1, &f4);
    row("direct Put Blob (SharedKey, libcurl)", dc, f1);
    row("ripstopd POST /v1.0/bindings create", sc_c, f2);
    row("direct Get Blob (SharedKey, libcurl)", dg, f3);
    row("ripstopd POST /v1.0/bindings get", sc_g, f4);
    if (dc.rate > 0 && dg.rate > 0)
        printf("ratio ripstopd/direct: create %.2f, get %.2f\n", sc_c.rate / dc.rate, sc_g.rate / dg.rate);
    bu_stop(sc);
    bu_stop(az);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return 0;
}

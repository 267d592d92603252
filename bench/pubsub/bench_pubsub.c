/* SPDX-License-Identifier: MIT */
/* Pub/sub benchmark (issue 4 item 8). Against one kafka-mock:
 *   1. publish rate and latency producing CloudEvent-sized messages directly with librdkafka (baseline) vs
 *      POST /v1.0/publish through ripstopd (pubsub.kafka), with the same number of messages in flight;
 *   2. end-to-end delivery rate, in --rounds rounds (order alternating): direct librdkafka producer -> consumer
 *      (baseline) vs publish through ripstopd A -> Kafka -> ripstopd B -> subscriber app, with the CPU time each
 *      process used per message.
 * Prints figures and ripstopd/direct ratios; never asserts timings. */
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "http/server.h"

static int n_msgs = 20000, conc = 32, size = 200, parts = 8, rounds = 3, e2e_only = 0;
static char bootstrap[512];
static char *payload;     /* the JSON data the app publishes */
static char *envelope;    /* roughly the CloudEvent ripstopd stores for it (what the direct producer sends) */
static size_t payload_len, envelope_len;

static void build_payloads(void) {
    payload = malloc((size_t)size + 64);
    int n = snprintf(payload, (size_t)size + 64, "{\"orderId\":12345,\"customerId\":7,\"pad\":\"");
    while (n < size - 2) payload[n++] = 'x';
    payload[n++] = '"';
    payload[n++] = '}';
    payload[n] = 0;
    payload_len = (size_t)n;
    size_t cap = payload_len + 512;
    envelope = malloc(cap);
    envelope_len = (size_t)snprintf(
        envelope, cap,
        "{\"data\":%s,\"datacontenttype\":\"application/json\",\"id\":\"3f0c6a2e-8f3b-4a51-9d0e-5b7d2f1c9a44\","
        "\"pubsubname\":\"order-queue\",\"source\":\"bench\",\"specversion\":\"1.0\",\"time\":\"2026-01-01T00:00:00Z\","
        "\"topic\":\"bench\",\"traceid\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\","
        "\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\",\"tracestate\":\"\","
        "\"type\":\"com.dapr.event.sent\"}",
        payload);
}

/* ---------- direct librdkafka ---------- */

typedef struct {
    int64_t *lat;
    int64_t *t0;
    size_t done;
    int inflight;
    int failed;
} dr_state_t;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    dr_state_t *s = opaque;
    (void)rk;
    size_t i = (size_t)(uintptr_t)m->_private;
    if (m->err) s->failed++;
    if (s->lat) s->lat[s->done] = bu_now_us() - s->t0[i];
    s->done++;
    s->inflight--;
}

static rd_kafka_t *new_producer(dr_state_t *s) {
    /* The same producer settings pubsub.kafka uses (kafka_config.c). */
    static const char *const kv[] = {"bootstrap.servers", bootstrap, "acks", "all", "linger.ms", "1",
                                     "message.send.max.retries", "5", "message.timeout.ms", "10000",
                                     "client.id", "bench", NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    for (const char *const *p = kv; *p; p += 2) rd_kafka_conf_set(conf, p[0], p[1], e, sizeof e);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_opaque(conf, s);
    return rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
}

/* Produces n messages keeping `window` in flight; per-message latency is produce -> delivery report. */
static bu_stats_t direct_produce(rd_kafka_t *rk, dr_state_t *s, const char *topic, int n, int window, int measure) {
    int64_t *lat = calloc((size_t)n, sizeof *lat), *t0 = calloc((size_t)n, sizeof *t0);
    s->lat = measure ? lat : NULL;
    s->t0 = t0;
    s->done = 0;
    s->inflight = 0;
    int64_t start = bu_now_us();
    int sent = 0;
    while ((int)s->done < n) {
        while (sent < n && s->inflight < window) {
            char key[16];
            snprintf(key, sizeof key, "k%d", sent % 64);
            t0[sent] = bu_now_us();
            if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(envelope, envelope_len), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_OPAQUE((void *)(uintptr_t)sent), RD_KAFKA_V_END))
                break;
            sent++;
            s->inflight++;
        }
        rd_kafka_poll(rk, 1);
    }
    bu_stats_t st = bu_stats(lat, measure ? (size_t)n : 0, bu_now_us() - start);
    if (!measure) st.rate = 0;
    free(lat);
    free(t0);
    return st;
}

typedef struct {
    const char *topic;
    const char *group;
    int want;
    atomic_int count;
    atomic_int assigned;
    int64_t last_us;
    atomic_int stop;
} consumer_arg_t;

static void *direct_consumer(void *arg) {
    consumer_arg_t *a = arg;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", a->group, e, sizeof e);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, a->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t deadline = bu_now_us() + 180 * 1000000LL;
    while (!a->stop && bu_now_us() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (!a->assigned) {
            rd_kafka_topic_partition_list_t *as = NULL;
            if (rd_kafka_assignment(rk, &as) == 0 && as) {
                if (as->cnt > 0) a->assigned = 1;
                rd_kafka_topic_partition_list_destroy(as);
            }
        }
        if (!m) continue;
        if (!m->err && ++a->count == a->want) a->last_us = bu_now_us();
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* ---------- the subscriber app ---------- */

static atomic_int app_received, app_target;
static _Atomic int64_t app_last_us; /* when app_received reached app_target */
static char app_subs[2048];         /* the /dapr/subscribe answer: one e2e topic per round */

static int app_handle(rs_http_req_t *req, void *ctx) {
    (void)ctx;
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/dapr/subscribe") == 0) {
        rs_kvlist_t h = {0};
        rs_kvlist_set(&h, "Content-Type", "application/json");
        rs_http_reply(req, 200, &h, app_subs, strlen(app_subs));
        rs_kvlist_free(&h);
        return 1;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, "/e2e") == 0 && ++app_received == app_target)
        app_last_us = bu_now_us();
    rs_http_reply_empty(req, 200);
    return 1;
}

static void *app_thread(void *arg) {
    event_base_dispatch(arg);
    return NULL;
}

/* ---------- publishing through ripstopd ---------- */

typedef struct {
    int port;
    const char *topic;
    int n;
    atomic_int next;
    atomic_int failed;
    int64_t *lat;
} pub_arg_t;

static void *publisher(void *arg) {
    pub_arg_t *a = arg;
    bu_conn_t c;
    char path[256];
    snprintf(path, sizeof path, "/v1.0/publish/order-queue/%s", a->topic);
    if (bu_connect(&c, a->port)) {
        a->failed++;
        return NULL;
    }
    int i;
    while ((i = a->next++) < a->n) {
        char p[300];
        snprintf(p, sizeof p, "%s?metadata.partitionKey=k%d", path, i % 64);
        int64_t t0 = bu_now_us();
        int st = bu_request(&c, "POST", p, "application/json", payload, payload_len);
        if (a->lat) a->lat[i] = bu_now_us() - t0;
        if (st != 204) {
            a->failed++;
            if (st < 0) {
                bu_close(&c);
                if (bu_connect(&c, a->port)) break;
            }
        }
    }
    bu_close(&c);
    return NULL;
}

static bu_stats_t sidecar_publish(int port, const char *topic, int n, int threads, int *failed) {
    pub_arg_t a = {.port = port, .topic = topic, .n = n};
    a.lat = calloc((size_t)n, sizeof *a.lat);
    pthread_t th[256];
    if (threads > 256) threads = 256;
    int64_t start = bu_now_us();
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, publisher, &a);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    bu_stats_t st = bu_stats(a.lat, (size_t)n, bu_now_us() - start);
    free(a.lat);
    if (failed) *failed = a.failed;
    return st;
}

static void print_row(const char *what, bu_stats_t s) {
    printf("  %-34s %9.0f msg/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms\n", what, s.rate, s.p50_ms, s.p99_ms,
           s.max_ms);
}

static int wait_status(int port, const char *path, int want, int timeout_s) {
    int64_t deadline = bu_now_us() + (int64_t)timeout_s * 1000000;
    while (bu_now_us() < deadline) {
        if (bu_request_once(port, "GET", path, NULL, NULL) == want) return 0;
        usleep(50000);
    }
    return -1;
}

int main(int argc, char **argv) {
    static const struct option opts[] = {{"messages", required_argument, NULL, 'n'},
                                         {"concurrency", required_argument, NULL, 'c'},
                                         {"size", required_argument, NULL, 's'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"rounds", required_argument, NULL, 'r'},
                                         {"e2e-only", no_argument, NULL, 'e'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "n:c:s:p:r:eh", opts, NULL)) != -1) {
        switch (o) {
        case 'n': if (bu_flag_int("bench_pubsub", "--messages", optarg, 100, 10000000, &n_msgs)) return 2; break;
        case 'c': if (bu_flag_int("bench_pubsub", "--concurrency", optarg, 1, 256, &conc)) return 2; break;
        case 's': if (bu_flag_int("bench_pubsub", "--size", optarg, 64, 1000000, &size)) return 2; break;
        case 'p': if (bu_flag_int("bench_pubsub", "--partitions", optarg, 1, 256, &parts)) return 2; break;
        case 'r': if (bu_flag_int("bench_pubsub", "--rounds", optarg, 1, 10, &rounds)) return 2; break;
        case 'e': e2e_only = 1; break;
        default:
            printf("usage: bench_pubsub [--messages N (20000)] [--concurrency C (32)] [--size BYTES (200)] "
                   "[--partitions P (8)] [--rounds R (3)] [--e2e-only]\n");
            return o == 'h' ? 0 : 2;
        }
    }
    if (n_msgs < 100 || n_msgs > 10000000 || conc < 1 || conc > 256 || size < 64 || size > 1000000 || parts < 1 ||
        parts > 256) {
        fprintf(stderr, "bench_pubsub: values out of range\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    evthread_use_pthreads(); /* the app loop runs on its own thread and is stopped from main */
    build_payloads();

    char dir[] = "/tmp/rs-bench-pubsub-XXXXXX", bin[1024], kmock[1100], ripstopd[1100], bfile[128], logf[128];
    if (!mkdtemp(dir)) return 1;
    bu_self_dir(bin, sizeof bin);
    snprintf(kmock, sizeof kmock, "%s/../kafka-mock", bin);
    snprintf(ripstopd, sizeof ripstopd, "%s/../ripstopd", bin);
    snprintf(bfile, sizeof bfile, "%s/bootstrap", dir);
    snprintf(logf, sizeof logf, "%s/kafka-mock.log", dir);
    /* Topics up front: the publish pair, and per round one for each end-to-end path (fresh offsets each round). */
    char topics[2 + 2 * 10][64];
    const char *margv[8 + 2 * (2 + 2 * 10)] = {kmock, "--brokers", "1"};
    int na = 3, nt = 0;
    snprintf(topics[nt++], 64, "bench-direct:%d", parts);
    snprintf(topics[nt++], 64, "bench-sidecar:%d", parts);
    int sl = snprintf(app_subs, sizeof app_subs, "[");
    for (int r = 0; r < rounds; r++) {
        snprintf(topics[nt++], 64, "e2e-direct-%d:%d", r, parts);
        snprintf(topics[nt++], 64, "e2e-sidecar-%d:%d", r, parts);
        sl += snprintf(app_subs + sl, sizeof app_subs - (size_t)sl,
                       "%s{\"pubsubname\":\"order-queue\",\"topic\":\"e2e-sidecar-%d\",\"route\":\"/e2e\"}", r ? "," : "",
                       r);
    }
    snprintf(app_subs + sl, sizeof app_subs - (size_t)sl, "]");
    for (int i = 0; i < nt; i++) {
        margv[na++] = "--topic";
        margv[na++] = topics[i];
    }
    margv[na++] = "--bootstrap-file";
    margv[na++] = bfile;
    margv[na++] = "--log-level";
    margv[na++] = "warn";
    margv[na] = NULL;
    pid_t mock = bu_spawn(margv, logf);
    pid_t pub_sc = -1, sub_sc = -1;
    int rc = 1;
    for (int i = 0; i < 500 && bu_read_file(bfile, bootstrap, sizeof bootstrap); i++) usleep(20000);
    if (!*bootstrap) {
        fprintf(stderr, "bench_pubsub: kafka-mock did not start (%s)\n", kmock);
        goto out;
    }

    /* The subscriber app: our HTTP server on its own thread. */
    struct event_base *app_base = event_base_new();
    rs_http_server_t *app = rs_http_server_new(app_base, 1 << 20);
    rs_http_server_add(app, app_handle, NULL);
    int app_port = rs_http_server_listen(app, "127.0.0.1", 0);
    pthread_t app_th;
    pthread_create(&app_th, NULL, app_thread, app_base);

    /* Two ripstopd with pubsub.kafka on the same kafka-mock: A publishes (no app), B delivers to the app. */
    char res_dir[128], yaml[128], pub_port_s[16], sub_port_s[16], app_port_s[16], publog[128], sublog[128];
    snprintf(res_dir, sizeof res_dir, "%s/resources", dir);
    mkdir(res_dir, 0755);
    snprintf(yaml, sizeof yaml, "%s/kafka.yaml", res_dir);
    FILE *f = fopen(yaml, "w");
    fprintf(f,
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: order-queue\nspec:\n  type: pubsub.kafka\n"
            "  version: v1\n  metadata:\n  - name: brokers\n    value: \"%s\"\n  - name: authType\n    value: none\n"
            "  - name: disableTls\n    value: \"true\"\n  - name: initialOffset\n    value: oldest\n",
            bootstrap);
    fclose(f);
    int pub_port = bu_free_port(), sub_port = bu_free_port();
    snprintf(pub_port_s, sizeof pub_port_s, "%d", pub_port);
    snprintf(sub_port_s, sizeof sub_port_s, "%d", sub_port);
    snprintf(app_port_s, sizeof app_port_s, "%d", app_port);
    snprintf(publog, sizeof publog, "%s/ripstopd-pub.log", dir);
    snprintf(sublog, sizeof sublog, "%s/ripstopd-sub.log", dir);
    const char *pargv[] = {ripstopd, "--app-id", "bench-pub", "--dapr-http-port", pub_port_s, "--metrics-port", "0",
                           "--resources-path", res_dir, "--log-level", "warn", NULL};
    const char *sargv[] = {ripstopd, "--app-id", "bench-sub", "--dapr-http-port", sub_port_s, "--app-port", app_port_s,
                           "--metrics-port", "0", "--resources-path", res_dir, "--log-level", "warn", NULL};
    pub_sc = bu_spawn(pargv, publog);
    sub_sc = bu_spawn(sargv, sublog);
    if (wait_status(pub_port, "/v1.0/healthz/outbound", 204, 20) || wait_status(sub_port, "/v1.0/healthz", 204, 20)) {
        fprintf(stderr, "bench_pubsub: ripstopd did not become ready (logs: %s, %s)\n", publog, sublog);
        goto out;
    }

    printf("pub/sub benchmark: %d messages, %d in flight, %d-byte payload (%zu-byte CloudEvent), %d partitions, "
           "kafka-mock with 1 broker\n",
           n_msgs, conc, size, envelope_len, parts);
    double la[3] = {0};
    if (getloadavg(la, 3) > 0) printf("load average at start: %.2f %.2f %.2f\n", la[0], la[1], la[2]);

    dr_state_t ds = {0};
    rd_kafka_t *prod = new_producer(&ds);
    if (!e2e_only) {
        /* 1. publish: warm up both paths (metadata, connections), then measure. */
        direct_produce(prod, &ds, "bench-direct", 200, conc, 0);
        sidecar_publish(pub_port, "bench-sidecar", 200, conc, NULL);
        int n1 = n_msgs / 10 < 2000 ? n_msgs / 10 : 2000;
        bu_stats_t d1 = direct_produce(prod, &ds, "bench-direct", n1, 1, 1);
        int f1;
        bu_stats_t s1 = sidecar_publish(pub_port, "bench-sidecar", n1, 1, &f1);
        bu_stats_t dn = direct_produce(prod, &ds, "bench-direct", n_msgs, conc, 1);
        int fn;
        bu_stats_t sn = sidecar_publish(pub_port, "bench-sidecar", n_msgs, conc, &fn);
        printf("\npublish, 1 in flight (%d messages)\n", n1);
        print_row("direct librdkafka", d1);
        print_row("via ripstopd (HTTP publish API)", s1);
        printf("  ratio ripstopd/direct             rate %.2f   p99 %.2fx\n", s1.rate / d1.rate, s1.p99_ms / d1.p99_ms);
        printf("\npublish, %d in flight (%d messages)\n", conc, n_msgs);
        print_row("direct librdkafka", dn);
        print_row("via ripstopd (HTTP publish API)", sn);
        printf("  ratio ripstopd/direct             rate %.2f   p99 %.2fx\n", sn.rate / dn.rate, sn.p99_ms / dn.p99_ms);
        if (f1 || fn || ds.failed) printf("  failures: ripstopd %d, direct %d\n", f1 + fn, ds.failed);
    } else {
        direct_produce(prod, &ds, "bench-direct", 200, conc, 0);
        sidecar_publish(pub_port, "bench-sidecar", 200, conc, NULL);
    }

    /* 2. end to end. Warm-up: one message per round topic through A proves B's partitions are assigned. */
    for (int r = 0; r < rounds; r++) {
        char t[32];
        snprintf(t, sizeof t, "e2e-sidecar-%d", r);
        sidecar_publish(pub_port, t, 1, 1, NULL);
    }
    for (int i = 0; i < 3000 && app_received < rounds; i++) usleep(10000);
    if (app_received < rounds) {
        fprintf(stderr, "bench_pubsub: ripstopd B delivered %d/%d warm-up messages (log: %s)\n", (int)app_received,
                rounds, sublog);
        goto done;
    }
    printf("\nend-to-end delivery (%d messages per path and round, %d partitions, %d publishers)\n", n_msgs, parts, conc);
    printf("  %-6s %-10s %10s %12s %10s %22s\n", "round", "path", "msg/s", "publish end", "delivered", "CPU µs/msg A / B / app");
    double ratios[10];
    int lost = 0;
    for (int r = 0; r < rounds; r++) {
        double rate[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            int sidecar = (r % 2) ? (k == 0) : (k == 1); /* alternate which path goes first */
            char topic[32];
            int64_t t0, pub_end, last;
            int got;
            int64_t cpu_a = 0, cpu_b = 0, cpu_self = 0;
            if (!sidecar) {
                char group[32];
                snprintf(topic, sizeof topic, "e2e-direct-%d", r);
                snprintf(group, sizeof group, "bench-direct-%d", r);
                consumer_arg_t ca = {.topic = topic, .group = group, .want = n_msgs};
                pthread_t cth;
                pthread_create(&cth, NULL, direct_consumer, &ca);
                for (int i = 0; i < 600 && !ca.assigned; i++) usleep(50000);
                cpu_self = bu_cpu_us(getpid());
                t0 = bu_now_us();
                direct_produce(prod, &ds, topic, n_msgs, conc, 0);
                pub_end = bu_now_us();
                for (int i = 0; i < 18000 && ca.count < n_msgs; i++) usleep(10000);
                got = ca.count;
                last = ca.last_us;
                cpu_self = bu_cpu_us(getpid()) - cpu_self;
                ca.stop = 1;
                pthread_join(cth, NULL);
            } else {
                snprintf(topic, sizeof topic, "e2e-sidecar-%d", r);
                int base = app_received;
                app_last_us = 0;
                app_target = base + n_msgs;
                cpu_a = bu_cpu_us(pub_sc);
                cpu_b = bu_cpu_us(sub_sc);
                cpu_self = bu_cpu_us(getpid());
                t0 = bu_now_us();
                sidecar_publish(pub_port, topic, n_msgs, conc, NULL);
                pub_end = bu_now_us();
                for (int i = 0; i < 18000 && app_received < app_target; i++) usleep(10000);
                got = app_received - base;
                last = app_last_us;
                cpu_a = bu_cpu_us(pub_sc) - cpu_a;
                cpu_b = bu_cpu_us(sub_sc) - cpu_b;
                cpu_self = bu_cpu_us(getpid()) - cpu_self;
            }
            double rt = got >= n_msgs && last > t0 ? (double)n_msgs * 1e6 / (double)(last - t0) : 0;
            rate[sidecar] = rt;
            if (got < n_msgs) lost += n_msgs - got;
            char cpu[64];
            if (sidecar)
                snprintf(cpu, sizeof cpu, "%.1f / %.1f / %.1f", (double)cpu_a / n_msgs, (double)cpu_b / n_msgs,
                         (double)cpu_self / n_msgs);
            else
                snprintf(cpu, sizeof cpu, "bench process %.1f", (double)cpu_self / n_msgs);
            printf("  %-6d %-10s %10.0f %10.0f ms %5d/%-5d %22s\n", r + 1, sidecar ? "ripstopd" : "direct", rt,
                   (double)(pub_end - t0) / 1000.0, got, n_msgs, cpu);
        }
        ratios[r] = rate[0] > 0 ? rate[1] / rate[0] : 0;
        printf("  %-6d ratio ripstopd/direct %.2f\n", r + 1, ratios[r]);
    }
    for (int i = 1; i < rounds; i++) /* insertion sort for the median */
        for (int j = i; j > 0 && ratios[j] < ratios[j - 1]; j--) {
            double t = ratios[j];
            ratios[j] = ratios[j - 1];
            ratios[j - 1] = t;
        }
    printf("  median ratio ripstopd/direct over %d round(s): %.2f%s\n", rounds, ratios[rounds / 2],
           lost ? "   (some messages were not delivered)" : "");
    rc = lost ? 1 : 0;

done:
    rd_kafka_flush(prod, 5000);
    rd_kafka_destroy(prod);
    event_base_loopbreak(app_base);
    pthread_join(app_th, NULL);
    rs_http_server_free(app);
    event_base_free(app_base);
out:
    bu_stop(pub_sc);
    bu_stop(sub_sc);
    bu_stop(mock);
    free(payload);
    free(envelope);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* kafka-mock: a local Kafka for tests and the demo. Starts librdkafka's mock
 * cluster, creates the requested topics, prints the bootstrap address and the
 * control API address, and runs until SIGTERM/SIGINT. See docs/kafka-mock.md. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "control.h"
#include "core/log.h"
#include "core/str.h"
#include "http/server.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: kafka-mock [options]\n"
            "  --brokers N              number of brokers (default 3)\n"
            "  --topic NAME[:PARTS]     create a topic up front (repeatable; default 1 partition);\n"
            "                           other topics are created on first use with 4 partitions\n"
            "  --bootstrap-file PATH    also write the bootstrap address to PATH\n"
            "  --control-port N         control API port on 127.0.0.1 (default 0 = a free port)\n"
            "  --control-file PATH      also write the control port to PATH\n"
            "  --seed N                 seed of the latency jitter (default: $KAFKA_MOCK_SEED, else 1)\n"
            "  --jitter-interval-ms N   how often jittered latencies are re-drawn (default 250)\n"
            "  --log-level LEVEL        debug|info|warn|error (default info)\n"
            "Prints the bootstrap address on the first line of stdout and 'control: http://127.0.0.1:PORT' on the\n"
            "second; the files are written (atomically) once everything is ready. Stops on SIGTERM/SIGINT.\n");
}

/* Writes text to path through a temp file + rename, so a poller never reads half a line. */
static int write_file_atomic(const char *path, const char *text) {
    size_t n = strlen(path) + 16;
    char *tmp = rs_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        int ok = fputs(text, f) >= 0 && fputs("\n", f) >= 0;
        if (fclose(f) == 0 && ok && rename(tmp, path) == 0) rc = 0;
    }
    if (rc) {
        fprintf(stderr, "kafka-mock: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static int parse_int_arg(const char *flag, const char *s, long long lo, long long hi, long long *out) {
    if (rs_parse_int64(s, out) || *out < lo || *out > hi) {
        fprintf(stderr, "kafka-mock: %s must be an integer in %lld..%lld\n", flag, lo, hi);
        return -1;
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    RS_INFO("kafka-mock", "signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

/* The command line, parsed. */
typedef struct {
    long long brokers, cport, seed, jitter_ms;
    const char *bfile, *cfile;
    rs_strlist_t topics; /* names (the ":PARTS" cut off) */
    int *nparts;         /* partitions per topic */
} mock_opts_t;

/* Phase 1: flags (and $KAFKA_MOCK_SEED). Returns -1 to go on, else the exit code. */
static int parse_flags(int argc, char **argv, mock_opts_t *o) {
    enum { O_BROKERS = 1, O_TOPIC, O_BFILE, O_CPORT, O_CFILE, O_SEED, O_JITTER, O_LOG, O_HELP };
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, O_BROKERS},      {"topic", required_argument, NULL, O_TOPIC},
        {"bootstrap-file", required_argument, NULL, O_BFILE}, {"control-port", required_argument, NULL, O_CPORT},
        {"control-file", required_argument, NULL, O_CFILE},   {"seed", required_argument, NULL, O_SEED},
        {"jitter-interval-ms", required_argument, NULL, O_JITTER}, {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, O_HELP},                  {NULL, 0, NULL, 0},
    };
    /* A launcher (ripstop demo via the runner) passes its scenario's seed this way. */
    const char *seed_env = getenv("KAFKA_MOCK_SEED");
    if (seed_env && *seed_env && parse_int_arg("KAFKA_MOCK_SEED", seed_env, 0, (long long)1 << 62, &o->seed)) return 2;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_BROKERS: if (parse_int_arg("--brokers", optarg, 1, 64, &o->brokers)) return 2; break;
        case O_TOPIC: rs_strlist_add(&o->topics, optarg); break;
        case O_BFILE: o->bfile = optarg; break;
        case O_CPORT: if (parse_int_arg("--control-port", optarg, 0, 65535, &o->cport)) return 2; break;
        case O_CFILE: o->cfile = optarg; break;
        case O_SEED: if (parse_int_arg("--seed", optarg, 0, (long long)1 << 62, &o->seed)) return 2; break;
        case O_JITTER: if (parse_int_arg("--jitter-interval-ms", optarg, 1, 3600000, &o->jitter_ms)) return 2; break;
        case O_LOG: {
            rs_log_level_t lv;
            if (rs_log_parse_level(optarg, &lv)) {
                fprintf(stderr, "kafka-mock: unknown log level '%s'\n", optarg);
                return 2;
            }
            rs_log_set_level(lv);
            break;
        }
        case 'h':
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kafka-mock: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Phase 2: every --topic NAME[:PARTS], checked before anything starts so a typo is a usage error (exit 2). */
static int parse_topics(mock_opts_t *o) {
    o->nparts = rs_xcalloc(o->topics.len + 1, sizeof *o->nparts);
    for (size_t i = 0; i < o->topics.len; i++) {
        char *colon = strrchr(o->topics.items[i], ':');
        long long v = 1;
        if (colon) {
            *colon = 0;
            if (parse_int_arg("--topic partitions", colon + 1, 1, 1000, &v)) return -1;
        }
        if (!*o->topics.items[i]) {
            fprintf(stderr, "kafka-mock: --topic needs a name\n");
            return -1;
        }
        o->nparts[i] = (int)v;
    }
    return 0;
}

/* Phase 3: the cluster, its topics, the control API and the signals; then the addresses are announced and the
 * cluster runs until a signal. Returns the exit code. */
static int serve(const mock_opts_t *o) {
    struct event_base *base = event_base_new();
    char err[256];
    int rc = 1;
    rs_http_server_t *srv = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    rs_kmock_t *m = rs_kmock_new(base, (int)o->brokers, (uint64_t)o->seed, (int)o->jitter_ms, err, sizeof err);
    if (!m) {
        fprintf(stderr, "kafka-mock: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < o->topics.len; i++) {
        if (rs_kmock_create_topic(m, o->topics.items[i], o->nparts[i], err, sizeof err)) {
            fprintf(stderr, "kafka-mock: %s\n", err);
            goto out;
        }
    }
    srv = rs_http_server_new(base, 64 * 1024);
    rs_kmock_control_attach(srv, m);
    int port = rs_http_server_listen(srv, "127.0.0.1", (int)o->cport);
    if (port < 0) {
        fprintf(stderr, "kafka-mock: cannot listen on 127.0.0.1:%lld\n", o->cport);
        goto out;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);

    /* Files first, then stdout: whichever a caller waits for, everything is ready when it appears. */
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    if (o->cfile && write_file_atomic(o->cfile, portbuf)) goto out;
    if (o->bfile && write_file_atomic(o->bfile, rs_kmock_bootstraps(m))) goto out;
    printf("%s\ncontrol: http://127.0.0.1:%d\n", rs_kmock_bootstraps(m), port);
    fflush(stdout);
    RS_INFO("kafka-mock", "%lld brokers at %s, control API on 127.0.0.1:%d", o->brokers, rs_kmock_bootstraps(m), port);

    event_base_dispatch(base);
    rc = 0;
out:
    if (sigterm) event_free(sigterm);
    if (sigint) event_free(sigint);
    rs_http_server_free(srv);
    rs_kmock_free(m);
    event_base_free(base);
    return rc;
}

int main(int argc, char **argv) {
    mock_opts_t o = {.brokers = 3, .cport = 0, .seed = 1, .jitter_ms = 250};
    int rc = parse_flags(argc, argv, &o);
    if (rc < 0 && parse_topics(&o) != 0) rc = 2;
    if (rc < 0) {
        signal(SIGPIPE, SIG_IGN);
        rc = serve(&o);
    }
    rs_strlist_free(&o.topics);
    free(o.nparts);
    return rc;
}

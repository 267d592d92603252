/* SPDX-License-Identifier: MIT */
/* `ripstop run -f <file|dir>`: the command-line face of runner.c. See docs/runner.md. */
#define _GNU_SOURCE
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "runfile.h"
#include "runner.h"

int rs_cmd_run(int argc, char **argv);

static volatile int g_stop;

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    if (g_stop++) fprintf(stderr, "[ripstop] signal %d again: killing everything now\n", (int)sig);
    else fprintf(stderr, "\n[ripstop] signal %d: stopping everything\n", (int)sig);
    event_base_loopbreak(arg);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: ripstop run -f <run file|dir> [options]\n"
            "  -f, --run-file PATH      Multi-App Run file, or a directory holding dapr.yaml\n"
            "  --infra                  start redis, azurite and kafka-mock (unless given)\n"
            "  --no-infra               start no infrastructure\n"
            "  --redis HOST:PORT        use this Redis            (or RIPSTOP_REDIS_HOST)\n"
            "  --kafka BROKERS          use these Kafka brokers   (or RIPSTOP_KAFKA_BROKERS)\n"
            "  --kafka-control URL      kafka-mock control URL    (or RIPSTOP_KAFKA_CONTROL)\n"
            "  --blob URL               use this blob endpoint    (or RIPSTOP_BLOB_ENDPOINT)\n"
            "  --log-dir DIR            all log files in DIR (default <appDirPath>/.dapr/logs)\n"
            "  --env KEY=VALUE          extra environment for every app and sidecar (repeatable)\n"
            "  --ready-timeout SECONDS  wait this long for readiness (default 60)\n"
            "  --ripstopd PATH          sidecar binary (default: next to ripstop)\n"
            "  --quiet                  no app/sidecar output on the console (the runner's own lines stay)\n"
            "  --check                  validate the run file and exit\n"
            "The file format and our extensions (replicas, restart, noSidecar, infra) are in docs/runner.md.\n");
}

static int check(const char *file) {
    rs_runfile_t rf;
    char err[1024];
    if (rs_runfile_load(&rf, file, err, sizeof err)) {
        fprintf(stderr, "ripstop run: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < rf.warnings.len; i++) printf("warning: %s\n", rf.warnings.items[i]);
    printf("%s: %zu app(s)%s%s%s\n", rf.path, rf.napps, rf.infra_redis ? ", redis" : "",
           rf.infra_azurite ? ", azurite" : "", rf.infra_kafka ? ", kafka-mock" : "");
    for (size_t i = 0; i < rf.napps; i++) {
        rs_runfile_app_t *a = &rf.apps[i];
        printf("  %s x%d%s  dir %s  command %s", a->app_id, a->replicas, a->no_sidecar ? " (no sidecar)" : "", a->dir,
               a->command[0]);
        for (size_t j = 1; j < a->ncommand; j++) printf(" %s", a->command[j]);
        printf("\n");
        for (size_t j = 0; j < a->resources_paths.len && !a->no_sidecar; j++)
            printf("    resources %s\n", a->resources_paths.items[j]);
        if (a->config_path && !a->no_sidecar) printf("    config %s\n", a->config_path);
    }
    rs_runfile_free(&rf);
    return 0;
}

/* Phase 1: the command line into o and env (KEY=VALUE strings). Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, rs_runner_opts_t *o, rs_strlist_t *env, int *do_check) {
    enum { O_INFRA = 1000, O_NOINFRA, O_REDIS, O_KAFKA, O_KCTL, O_BLOB, O_LOGDIR, O_ENV, O_READY, O_RIPSTOPD, O_QUIET,
           O_CHECK };
    static const struct option opts[] = {
        {"run-file", required_argument, NULL, 'f'},  {"infra", no_argument, NULL, O_INFRA},
        {"no-infra", no_argument, NULL, O_NOINFRA},  {"redis", required_argument, NULL, O_REDIS},
        {"kafka", required_argument, NULL, O_KAFKA}, {"kafka-control", required_argument, NULL, O_KCTL},
        {"blob", required_argument, NULL, O_BLOB},   {"log-dir", required_argument, NULL, O_LOGDIR},
        {"env", required_argument, NULL, O_ENV},     {"ready-timeout", required_argument, NULL, O_READY},
        {"ripstopd", required_argument, NULL, O_RIPSTOPD}, {"quiet", no_argument, NULL, O_QUIET},
        {"check", no_argument, NULL, O_CHECK},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': o->run_file = optarg; break;
        case O_INFRA: o->infra = RS_INFRA_ALL; break;
        case O_NOINFRA: o->infra = RS_INFRA_NONE; break;
        case O_REDIS: o->redis_host = optarg; break;
        case O_KAFKA: o->kafka_brokers = optarg; break;
        case O_KCTL: o->kafka_control = optarg; break;
        case O_BLOB: o->blob_endpoint = optarg; break;
        case O_LOGDIR: o->log_dir = optarg; break;
        case O_ENV:
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "ripstop run: --env wants KEY=VALUE, got '%s'\n", optarg);
                return 2;
            }
            rs_strlist_add(env, optarg);
            break;
        case O_READY: {
            long long s;
            if (rs_parse_int64(optarg, &s) || s < 1 || s > 3600) {
                fprintf(stderr, "ripstop run: --ready-timeout wants seconds (1..3600)\n");
                return 2;
            }
            o->ready_timeout_ms = (int)s * 1000;
            break;
        }
        case O_RIPSTOPD: o->ripstopd = optarg; break;
        case O_QUIET: o->console = 0; break;
        case O_CHECK: *do_check = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !o->run_file) {
        fprintf(stderr, optind < argc ? "ripstop run: unexpected argument '%s'\n" : "ripstop run: -f is required%s\n",
                optind < argc ? argv[optind] : "");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Phase 2: starts every instance, prints where they listen, and runs them until a signal stops the run. */
static int run_until_signalled(rs_runner_opts_t *o) {
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct event *sigs[3];
    int signums[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(base, signums[i], on_signal, base);
        event_add(sigs[i], NULL);
    }
    o->base = base;
    o->cancel = &g_stop;
    char err[4096];
    rs_runner_t *r = rs_runner_start(o, err, sizeof err);
    int rc = 0;
    if (!r) {
        fprintf(stderr, "ripstop run: %s\n", err);
        rc = 1;
    } else {
        size_t n = rs_runner_count(r);
        printf("[ripstop] %zu instance(s) ready; Ctrl-C stops everything\n", n);
        for (size_t i = 0; i < n; i++) {
            rs_runner_instance_t in;
            rs_runner_instance(r, i, &in);
            printf("[ripstop]   %s#%d  app port %d  dapr http port %d  app pid %d  daprd pid %d\n", in.app_id,
                   in.instance, in.app_port, in.http_port, (int)in.app_pid, (int)in.sidecar_pid);
        }
        fflush(stdout);
        while (!g_stop) rs_runner_run(r);
        rs_runner_stop(r);
        printf("[ripstop] stopped\n");
        fflush(stdout);
    }
    for (int i = 0; i < 3; i++) event_free(sigs[i]);
    event_base_free(base);
    return rc;
}

int rs_cmd_run(int argc, char **argv) {
    rs_runner_opts_t o = {.console = 1, .announce = 1};
    rs_strlist_t env = {0};
    int do_check = 0;
    int rc = parse_args(argc, argv, &o, &env, &do_check);
    if (rc < 0 && do_check) rc = check(o.run_file);
    if (rc < 0) {
        const char **extra = rs_xcalloc(env.len + 1, sizeof *extra);
        for (size_t i = 0; i < env.len; i++) extra[i] = env.items[i];
        o.extra_env = extra;
        rc = run_until_signalled(&o);
        free(extra);
    }
    rs_strlist_free(&env);
    return rc;
}

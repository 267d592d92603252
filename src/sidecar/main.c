/* SPDX-License-Identifier: MIT */
/* ripstopd: a small Dapr-API-compatible sidecar. Accepts daprd's flags (Go
 * style, one or two dashes) so `dapr run` and Multi-App Run files can start it
 * in daprd's place. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/duration.h"
#include "core/ids.h"
#include "core/log.h"
#include "sidecar/components/component.h"
#include "sidecar/boot/boot.h"

enum {
    OPT_APP_ID = 1000, OPT_APP_PORT, OPT_APP_PROTOCOL, OPT_APP_CHANNEL_ADDRESS, OPT_HTTP_PORT, OPT_GRPC_PORT, OPT_LISTEN,
    OPT_RESOURCES, OPT_CONFIG, OPT_LOG_LEVEL, OPT_LOG_JSON, OPT_API_LOGGING, OPT_METRICS_PORT, OPT_MAX_BODY,
    OPT_SCHED_POLICY, OPT_MAX_CONNS, OPT_HEADER_TIMEOUT, OPT_BODY_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_HELP, OPT_VERSION, OPT_IGNORED, OPT_IGNORED_BOOL,
    OPT_APP_HEALTH_CHECK, OPT_APP_HEALTH_PATH, OPT_APP_HEALTH_INTERVAL, OPT_APP_HEALTH_TIMEOUT, OPT_APP_HEALTH_THRESHOLD,
};

/* --sched-policy: the process's Linux scheduling policy (ripstopd's own flag; daprd has none). */
static int sched_policy = SCHED_BATCH;

static const struct option options[] = {
    {"app-id", required_argument, NULL, OPT_APP_ID},
    {"app-port", required_argument, NULL, OPT_APP_PORT},
    {"app-protocol", required_argument, NULL, OPT_APP_PROTOCOL},
    {"app-channel-address", required_argument, NULL, OPT_APP_CHANNEL_ADDRESS},
    {"dapr-http-port", required_argument, NULL, OPT_HTTP_PORT},
    {"dapr-grpc-port", required_argument, NULL, OPT_GRPC_PORT},
    {"dapr-listen-addresses", required_argument, NULL, OPT_LISTEN},
    {"resources-path", required_argument, NULL, OPT_RESOURCES},
    {"components-path", required_argument, NULL, OPT_RESOURCES},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-as-json", optional_argument, NULL, OPT_LOG_JSON},
    {"enable-api-logging", optional_argument, NULL, OPT_API_LOGGING},
    {"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
    {"max-body-size", required_argument, NULL, OPT_MAX_BODY},
    {"dapr-http-max-request-size", required_argument, NULL, OPT_MAX_BODY},
    {"sched-policy", required_argument, NULL, OPT_SCHED_POLICY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
    {"read-header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"read-body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    /* daprd flags that have no meaning here; accepted so existing launchers work. */
    {"dapr-internal-grpc-port", required_argument, NULL, OPT_IGNORED},
    {"placement-host-address", required_argument, NULL, OPT_IGNORED},
    {"scheduler-host-address", required_argument, NULL, OPT_IGNORED},
    {"app-max-concurrency", required_argument, NULL, OPT_IGNORED},
    {"read-buffer-size", required_argument, NULL, OPT_IGNORED},
    {"mode", required_argument, NULL, OPT_IGNORED},
    {"dapr-public-port", required_argument, NULL, OPT_IGNORED},
    {"enable-metrics", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"enable-profiling", optional_argument, NULL, OPT_IGNORED_BOOL},
    {"enable-app-health-check", optional_argument, NULL, OPT_APP_HEALTH_CHECK},
    {"app-health-check-path", required_argument, NULL, OPT_APP_HEALTH_PATH},
    {"app-health-probe-interval", required_argument, NULL, OPT_APP_HEALTH_INTERVAL},
    {"app-health-probe-timeout", required_argument, NULL, OPT_APP_HEALTH_TIMEOUT},
    {"app-health-threshold", required_argument, NULL, OPT_APP_HEALTH_THRESHOLD},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: ripstopd [flags]\n"
            "A Dapr-API-compatible sidecar. Flags follow daprd's (one or two dashes).\n\n"
            "  --app-id ID                 the app's id (required)\n"
            "  --app-port PORT             the app's port (omit if the app serves nothing)\n"
            "  --app-protocol P            http (default) or grpc: how the app is called\n"
            "  --app-channel-address ADDR  where the app listens (default 127.0.0.1)\n"
            "  --dapr-http-port PORT       Dapr HTTP API port (default 3500)\n"
            "  --dapr-grpc-port PORT       Dapr gRPC API port (default 50001; if the default is taken, the\n"
            "                              gRPC API is off with a warning; 0 picks a free port)\n"
            "  --dapr-listen-addresses A   comma-separated listen addresses (default 127.0.0.1)\n"
            "  --resources-path DIR        resource YAML folder, repeatable (alias --components-path)\n"
            "  --config FILE               Configuration YAML\n"
            "  --log-level LEVEL           debug|info|warn|error|fatal (default info)\n"
            "  --log-as-json               one JSON object per log line\n"
            "  --enable-api-logging        log every API call\n"
            "  --metrics-port PORT         Prometheus /metrics port (default 9090; 0 disables)\n"
            "  --max-body-size SIZE        request body limit, e.g. 4Mi (default 4Mi)\n"
            "  --sched-policy batch|normal Linux scheduling policy (default batch: a sidecar woken by a\n"
            "                              peer lets it block first instead of preempting it)\n"
            "  --max-connections N         open API connections at most; at the cap new ones wait (default 10000,\n"
            "                              lowered to fit the descriptor limit)\n"
            "  --read-header-timeout DUR   a request's headers must arrive within this (default 10s)\n"
            "  --read-body-timeout DUR     its body within this after the headers (default 60s)\n"
            "  --idle-timeout DUR          an idle keep-alive connection is closed after this (default 5m)\n"
            "  --enable-app-health-check   probe the app; while it is unhealthy pause its subscriptions and input\n"
            "                              bindings and refuse invocations (as daprd)\n"
            "  --app-health-check-path P   the probe's path for an HTTP app (default /healthz)\n"
            "  --app-health-probe-interval N  seconds between probes (default 5; a Go duration such as 500ms too)\n"
            "  --app-health-probe-timeout N   a probe's timeout in ms (default 500; a Go duration too)\n"
            "  --app-health-threshold N    consecutive failed probes that make the app unhealthy (default 3)\n"
            "  --help, --version\n\n"
            "environment: DAPR_API_TOKEN (required on inbound calls), APP_API_TOKEN (sent to the app)\n\n"
            "component types:");
    for (const rs_component_type_t *const *t = rs_component_types(); *t; t++) fprintf(out, " %s", (*t)->type);
    fprintf(out, "\n");
}

/* Kubernetes-style quantities: 4Mi, 512Ki, 1G, 1000 (bytes); 1 byte to 1 TiB. */
static int parse_size(const char *s, size_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* "inf", "nan", "1e30" and the like must not become a cast's undefined value */
    if (end == s || errno || !isfinite(v) || v < 0 || v > 1099511627776.0) return -1;
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {{"", 1},       {"k", 1e3},           {"K", 1e3},           {"M", 1e6},
                 {"G", 1e9},    {"Ki", 1024.0},       {"Mi", 1048576.0},    {"Gi", 1073741824.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double bytes = v * units[i].mult;
            if (bytes < 1 || bytes > 1099511627776.0) return -1;
            *out = (size_t)bytes;
            return 0;
        }
    }
    return -1;
}

static int parse_port(const char *s, int *out) {
    long long v;
    if (rs_parse_int64(s, &v) != 0 || v < 0 || v > 65535) return -1;
    *out = (int)v;
    return 0;
}

/* A Go duration ("10s", "1m30s") from 1 ms to 24 h, as milliseconds. */
static int parse_timeout(const char *s, int *out_ms) {
    int64_t ms;
    if (rs_duration_parse_go(s, &ms) != 0 || ms < 1 || ms > 86400000) return -1;
    *out_ms = (int)ms;
    return 0;
}

/* A probe path: printable ASCII without spaces, as it goes into a request line; at most 1 KiB. */
static int valid_probe_path(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 1024) return -1;
    for (const char *p = s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) return -1;
    return 0;
}

/* An app-health duration: daprd's bare integer (of seconds when `seconds`, the interval; else milliseconds),
 * or (ripstopd's addition, for short test intervals) a Go duration; 1 ms to 24 h. */
static int parse_health_duration(const char *s, int seconds, int *out_ms) {
    int64_t ms;
    int rc = seconds ? rs_duration_parse_s_default(s, &ms) : rs_duration_parse_ms_default(s, &ms);
    if (rc != 0 || ms < 1 || ms > 86400000) return -1;
    *out_ms = (int)ms;
    return 0;
}

static int parse_flags(rs_sidecar_config_t *cfg, int argc, char **argv) {
    int c, health_tuned = 0;
    opterr = 0;
    int idx = -1;
    while ((c = getopt_long_only(argc, argv, "", options, &idx)) != -1) {
        char name[64]; /* the flag as documented, whether its value came as "--f=v" or "--f v" */
        snprintf(name, sizeof name, "--%s", idx >= 0 ? options[idx].name : "?");
        idx = -1;
        int on = 1;
        switch (c) {
        case OPT_APP_ID: free(cfg->app_id); cfg->app_id = rs_strdup(optarg); break;
        case OPT_APP_PORT:
            if (parse_port(optarg, &cfg->app_port) != 0) goto bad_value;
            break;
        case OPT_APP_PROTOCOL:
            if (strcmp(optarg, "http") != 0 && strcmp(optarg, "grpc") != 0) {
                fprintf(stderr, "ripstopd: --app-protocol %s is not supported (http or grpc)\n", optarg);
                return -1;
            }
            free(cfg->app_protocol);
            cfg->app_protocol = rs_strdup(optarg);
            break;
        case OPT_APP_CHANNEL_ADDRESS: free(cfg->app_channel_address); cfg->app_channel_address = rs_strdup(optarg); break;
        case OPT_HTTP_PORT:
            if (parse_port(optarg, &cfg->http_port) != 0) goto bad_value;
            break;
        case OPT_GRPC_PORT:
            if (parse_port(optarg, &cfg->grpc_port) != 0) goto bad_value;
            cfg->grpc_port_set = 1;
            break;
        case OPT_LISTEN: {
            rs_strlist_free(&cfg->listen_addresses);
            char *copy = rs_strdup(optarg), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) rs_strlist_add(&cfg->listen_addresses, t);
            free(copy);
            break;
        }
        case OPT_RESOURCES: rs_strlist_add(&cfg->resources_paths, optarg); break;
        case OPT_CONFIG: free(cfg->config_path); cfg->config_path = rs_strdup(optarg); break;
        case OPT_LOG_LEVEL: free(cfg->log_level); cfg->log_level = rs_strdup(optarg); break;
        case OPT_LOG_JSON:
            if (optarg && rs_parse_bool(optarg, &on) != 0) goto bad_value;
            cfg->log_as_json = on;
            break;
        case OPT_API_LOGGING:
            if (optarg && rs_parse_bool(optarg, &on) != 0) goto bad_value;
            cfg->enable_api_logging = on;
            break;
        case OPT_METRICS_PORT:
            if (parse_port(optarg, &cfg->metrics_port) != 0) goto bad_value;
            break;
        case OPT_MAX_BODY:
            if (parse_size(optarg, &cfg->max_body_size) != 0) goto bad_value;
            break;
        case OPT_SCHED_POLICY:
            if (strcmp(optarg, "batch") == 0) sched_policy = SCHED_BATCH;
            else if (strcmp(optarg, "normal") == 0) sched_policy = SCHED_OTHER;
            else goto bad_value;
            break;
        case OPT_MAX_CONNS: {
            long long n;
            if (rs_parse_int64(optarg, &n) != 0 || n < 1 || n > 1000000) goto bad_value;
            cfg->http_limits.max_connections = (int)n;
            break;
        }
        case OPT_HEADER_TIMEOUT:
            if (parse_timeout(optarg, &cfg->http_limits.header_timeout_ms) != 0) goto bad_value;
            break;
        case OPT_BODY_TIMEOUT:
            if (parse_timeout(optarg, &cfg->http_limits.body_timeout_ms) != 0) goto bad_value;
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_timeout(optarg, &cfg->http_limits.idle_timeout_ms) != 0) goto bad_value;
            break;
        case OPT_HELP: usage(stdout); exit(0);
        case OPT_VERSION: printf("ripstopd %s\n", RIPSTOP_VERSION); exit(0);
        case OPT_IGNORED:
        case OPT_IGNORED_BOOL: fprintf(stderr, "ripstopd: note: %s is accepted for compatibility and ignored\n", name); break;
        case OPT_APP_HEALTH_CHECK:
            if (optarg && rs_parse_bool(optarg, &on) != 0) goto bad_value;
            cfg->app_health_check = on;
            break;
        case OPT_APP_HEALTH_PATH:
            if (valid_probe_path(optarg) != 0) goto bad_value;
            free(cfg->app_health_path);
            cfg->app_health_path = rs_strdup(optarg);
            health_tuned = 1;
            break;
        case OPT_APP_HEALTH_INTERVAL:
            if (parse_health_duration(optarg, 1, &cfg->app_health_interval_ms) != 0) goto bad_value;
            health_tuned = 1;
            break;
        case OPT_APP_HEALTH_TIMEOUT:
            if (parse_health_duration(optarg, 0, &cfg->app_health_timeout_ms) != 0) goto bad_value;
            health_tuned = 1;
            break;
        case OPT_APP_HEALTH_THRESHOLD: {
            long long n;
            if (rs_parse_int64(optarg, &n) != 0 || n < 1 || n > 1000000) goto bad_value;
            cfg->app_health_threshold = (int)n;
            health_tuned = 1;
            break;
        }
        case '?':
        default:
            fprintf(stderr, "ripstopd: unknown or incomplete flag '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
        continue;
    bad_value:
        fprintf(stderr, "ripstopd: invalid value '%s' for %s\n", optarg ? optarg : "", name);
        return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "ripstopd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!cfg->app_id || !*cfg->app_id) {
        fprintf(stderr, "ripstopd: --app-id is required\n");
        return -1;
    }
    char why[128];
    if (rs_app_id_check(cfg->app_id, why, sizeof why) != 0) {
        fprintf(stderr, "ripstopd: invalid value for --app-id: %s\n", why);
        return -1;
    }
    if (cfg->listen_addresses.len == 0) rs_strlist_add(&cfg->listen_addresses, "127.0.0.1");
    if (cfg->app_health_check && cfg->app_health_timeout_ms > cfg->app_health_interval_ms) {
        /* daprd refuses to start its probes the same way */
        fprintf(stderr, "ripstopd: app health checks probe timeouts must be smaller than probe intervals "
                        "(--app-health-probe-timeout %d ms > --app-health-probe-interval %d ms)\n",
                cfg->app_health_timeout_ms, cfg->app_health_interval_ms);
        return -1;
    }
    if (health_tuned && !cfg->app_health_check)
        fprintf(stderr, "ripstopd: note: the --app-health-* flags have no effect without --enable-app-health-check\n");
    if (cfg->app_health_check && !cfg->app_port)
        fprintf(stderr, "ripstopd: note: --enable-app-health-check has no effect without --app-port\n");
    return 0;
}

/* SCHED_BATCH by default. A sidecar is a step in a request chain: it is woken by
 * a peer (the caller, the app, the other sidecar) that has just written and is
 * about to wait. Under the default policy the woken sidecar preempts that peer
 * when both share a CPU, and the peer must be switched back in just to reach its
 * wait: two extra context switches per hop. A batch task does not preempt on
 * wake-up; it runs when the peer blocks, or on an idle CPU. On a 2-core VM this
 * took each sidecar's CPU per request at 1,000 req/s from about 58 to 35 µs
 * (docs/performance.md). The policy is inherited by every thread started later
 * (librdkafka's, for one), so it is set before anything else starts. No
 * privilege is needed; if it still fails the sidecar runs as it is. */
static void apply_sched_policy(void) {
    struct sched_param none = {0};
    if (sched_setscheduler(0, sched_policy, &none) != 0)
        RS_WARN("runtime", "cannot set the scheduling policy (--sched-policy): %s", strerror(errno));
}

/* A proxy holds two descriptors per in-flight call; the usual soft limit of
 * 1024 would cap ripstopd near 500 concurrent callers. Raise it to the hard limit. */
static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    RS_INFO("runtime", "received signal %d", (int)sig);
    rs_sidecar_shutdown(arg);
}

int main(int argc, char **argv) {
    rs_sidecar_t sc = {0};
    rs_sidecar_config_defaults(&sc.cfg);
    if (parse_flags(&sc.cfg, argc, argv) != 0) {
        rs_sidecar_free(&sc);
        return 2;
    }
    rs_log_level_t lvl;
    if (rs_log_parse_level(sc.cfg.log_level, &lvl) != 0) {
        fprintf(stderr, "ripstopd: unknown log level '%s'\n", sc.cfg.log_level);
        rs_sidecar_free(&sc);
        return 2;
    }
    rs_log_set_level(lvl);
    rs_log_set_json(sc.cfg.log_as_json);
    rs_log_set_app_id(sc.cfg.app_id);
    const char *tok = getenv("DAPR_API_TOKEN");
    if (tok && *tok) sc.cfg.api_token = rs_strdup(tok);
    tok = getenv("APP_API_TOKEN");
    if (tok && *tok) sc.cfg.app_api_token = rs_strdup(tok);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    apply_sched_policy();

    struct event_base *base = event_base_new();
    char err[1024] = "";
    int rc = 0;
    if (rs_sidecar_init(&sc, base, err, sizeof err) != 0 || rs_sidecar_start(&sc, err, sizeof err) != 0) {
        rs_log(RS_LOG_FATAL, "runtime", "%s", err);
        rc = 1;
    } else {
        struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, &sc);
        struct event *sigint = evsignal_new(base, SIGINT, on_signal, &sc);
        event_add(sigterm, NULL);
        event_add(sigint, NULL);
        event_base_dispatch(base);
        event_free(sigterm);
        event_free(sigint);
    }
    rs_sidecar_free(&sc);
    event_base_free(base);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* `ripstop load`: the open-loop generator on its own, against any URLs. */
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/str.h"
#include "http/client.h"
#include "tools/ripstop/load.h"
#include "tools/ripstop/scenario.h"
#include "tools/ripstop/verdict.h"

int rs_cmd_load(int argc, char **argv);

struct run {
    struct event_base *base;
    rs_load_t *load;
    struct event *poll;
};

static void on_poll(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct run *r = arg;
    if (rs_load_finished(r->load)) event_base_loopexit(r->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    struct run *r = arg;
    rs_load_stop_sending(r->load);
}

/* Takes the schedule from the scenario's load section; every target must be one of its targets. */
static int apply_scenario(const char *path, int quick, const rs_load_target_t *targets, int nt, rs_load_opts_t *o) {
    rs_scenario_t s;
    char err[512];
    if (rs_scenario_load(path, quick, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop load: %s\n", err);
        return -1;
    }
    o->rate = s.rate;
    o->duration_ms = s.load_ms;
    o->timeout_ms = s.timeout_ms;
    int rc = 0;
    for (int i = 0; i < nt; i++) {
        int found = 0;
        for (int k = 0; k < s.ntargets; k++) found |= strcmp(s.targets[k].name, targets[i].name) == 0;
        if (!found) {
            fprintf(stderr, "ripstop load: target '%s' is not one of the scenario's targets (%s)\n", targets[i].name, path);
            rc = -1;
        }
    }
    rs_scenario_free(&s);
    return rc;
}

static void usage(FILE *o) {
    fprintf(o, "usage: ripstop load --url [NAME=]URL [--url ...] --rate PER_SEC --duration SECONDS\n"
               "                    [--timeout SECONDS] [--max N] [--out FILE]\n"
               "       ripstop load --scenario SCENARIO.yaml [--quick] --url NAME=URL [--url ...] [--out FILE]\n"
               "  Open-loop GET load: request i leaves at i/rate seconds whatever earlier requests do.\n"
               "  With --scenario, rate, duration and timeout are the scenario's load (--quick: its quick run),\n"
               "  and every NAME must be one of its targets (dapr, direct). Prints per-target counts and\n"
               "  latency percentiles; --out writes every request as JSON (the input of `ripstop verify --load`).\n"
               "  A target that never answered is named with its URL on stderr.\n");
}

static int bad_number(const char *flag, const char *value) {
    fprintf(stderr, "ripstop load: %s: '%s' is not a number in range\n", flag, value);
    return 2;
}

/* The command line, once parsed. */
struct load_args {
    rs_load_target_t targets[RS_LOAD_MAX_TARGETS];
    char names[RS_LOAD_MAX_TARGETS][64];
    int nt;
    rs_load_opts_t o;
    const char *out, *scenario;
    int quick;
};

/* Adds one --url [NAME=]URL. Returns 0, or 2 (the exit status) when there are too many. */
static int add_target(struct load_args *a, char *arg) {
    if (a->nt == RS_LOAD_MAX_TARGETS) {
        fprintf(stderr, "ripstop load: at most %d targets\n", RS_LOAD_MAX_TARGETS);
        return 2;
    }
    int i = a->nt++;
    char *eq = strstr(arg, "=http");
    if (eq) {
        snprintf(a->names[i], sizeof a->names[i], "%.*s", (int)(eq - arg), arg);
        a->targets[i].url = eq + 1;
    } else {
        snprintf(a->names[i], sizeof a->names[i], "t%d", i + 1);
        a->targets[i].url = arg;
    }
    a->targets[i].name = a->names[i];
    return 0;
}

/* Parses flags (and the scenario's load) into a. Returns -1 to go on, else the exit status. */
static int parse_args(struct load_args *a, int argc, char **argv) {
    static const struct option opts[] = {{"scenario", required_argument, 0, 's'}, {"quick", no_argument, 0, 'q'},
                                         {"url", required_argument, 0, 'u'},     {"rate", required_argument, 0, 'r'},
                                         {"duration", required_argument, 0, 'd'}, {"timeout", required_argument, 0, 't'},
                                         {"max", required_argument, 0, 'm'},      {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    int ch;
    long long max;
    while ((ch = getopt_long(argc, argv, "u:r:d:t:m:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            if (add_target(a, optarg) != 0) return 2;
            break;
        case 'r':
            if (rs_parse_double(optarg, &a->o.rate)) return bad_number("--rate", optarg);
            break;
        case 'd':
            if (rs_duration_parse_seconds(optarg, 86400, &a->o.duration_ms)) return bad_number("--duration", optarg);
            break;
        case 't':
            if (rs_duration_parse_seconds(optarg, 86400, &a->o.timeout_ms)) return bad_number("--timeout", optarg);
            break;
        case 'm':
            if (rs_parse_int64(optarg, &max) || max < 0 || max > INT_MAX) return bad_number("--max", optarg);
            a->o.max_requests = (int)max;
            break;
        case 'o': a->out = optarg; break;
        case 's': a->scenario = optarg; break;
        case 'q': a->quick = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (a->scenario && apply_scenario(a->scenario, a->quick, a->targets, a->nt, &a->o) != 0) return 2;
    if (a->nt == 0 || !(a->o.rate > 0) || a->o.duration_ms <= 0) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < a->nt; i++)
        if (strncmp(a->targets[i].url, "http://", 7) != 0) {
            fprintf(stderr, "ripstop load: '%s' is not an http:// URL\n", a->targets[i].url);
            return 2;
        }
    return -1;
}

/* Prints one line per target (sent, ok, failed, latency percentiles) and names each target that never
 * answered, with its URL and the first error, on stderr. */
static void report(const struct load_args *a, const rs_load_record_t *recs, size_t n) {
    printf("%-12s %6s %6s %6s %9s %9s %9s\n", "target", "sent", "ok", "failed", "p50 ms", "p99 ms", "max ms");
    double *lat = malloc(sizeof(double) * (n + 1));
    for (int t = 0; t < a->nt; t++) {
        int sent = 0, ok = 0, answered = 0;
        size_t nl = 0;
        const char *why = "";
        for (size_t i = 0; i < n; i++) {
            if (recs[i].target != t) continue;
            sent++;
            ok += recs[i].ok;
            answered |= recs[i].status != 0;
            if (recs[i].done) lat[nl++] = (double)recs[i].latency_ms;
            if (!*why && recs[i].error[0]) why = recs[i].error;
        }
        double p50 = rs_percentile(lat, nl, 50), p99 = rs_percentile(lat, nl, 99), mx = rs_percentile(lat, nl, 100);
        printf("%-12s %6d %6d %6d %9.0f %9.0f %9.0f\n", a->names[t], sent, ok, sent - ok, p50, p99, mx);
        if (sent > 0 && !answered)
            fprintf(stderr, "ripstop load: could not reach %s (%s)%s%s\n", a->names[t], a->targets[t].url,
                    *why ? ": " : "", why);
    }
    free(lat);
}

int rs_cmd_load(int argc, char **argv) {
    struct load_args a = {.o = {.rate = 0, .duration_ms = 0, .timeout_ms = 30000}};
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0) return rc;
    struct run r = {.base = event_base_new()};
    rs_http_client_t *http = rs_http_client_new(r.base);
    r.load = rs_load_new(r.base, http, a.targets, a.nt, &a.o);
    if (!r.load) {
        fprintf(stderr, "ripstop load: bad options (rate must be in (0, 10000])\n");
        rs_http_client_free(http);
        event_base_free(r.base);
        return 2;
    }
    r.poll = event_new(r.base, -1, EV_PERSIST, on_poll, &r);
    struct timeval tv = {0, 20000};
    event_add(r.poll, &tv);
    struct event *si = evsignal_new(r.base, SIGINT, on_signal, &r);
    event_add(si, NULL);
    rs_load_start(r.load, rs_now_ms());
    event_base_dispatch(r.base);

    size_t n;
    const rs_load_record_t *recs = rs_load_records(r.load, &n);
    report(&a, recs, n);
    rc = 0;
    if (a.out) {
        json_t *j = rs_load_json(r.load);
        if (json_dump_file(j, a.out, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "ripstop load: cannot write %s\n", a.out);
            rc = 1;
        }
        json_decref(j);
    }
    event_free(si);
    event_free(r.poll);
    rs_load_free(r.load);
    rs_http_client_free(http);
    event_base_free(r.base);
    return rc;
}

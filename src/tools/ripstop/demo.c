/* SPDX-License-Identifier: MIT */
/* `ripstop demo`: the whole story in one command.
 *
 * Stages: start the system (runner) -> warm-up (both frontends answer) ->
 * load with the scenario's actions on schedule -> drain (no blobs left and the
 * loyalty totals stable) -> verify (broker read-back + state) -> report.
 *
 * Control flow: one libevent loop. The loop runs one event at a time
 * (EVLOOP_ONCE) and `step()` advances the stage machine between events, so
 * blocking calls that must not run inside callbacks (runner start/stop, the
 * broker read-back) happen in plain sequential code. A 100 ms timer keeps
 * the loop turning. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/port_reserve.h"
#include "core/str.h"
#include "http/client.h"
#include "tools/ripstop/chaos_thread.h"
#include "tools/ripstop/dashboard.h"
#include "tools/ripstop/demo_observe.h"
#include "tools/ripstop/load.h"
#include "tools/ripstop/lock_watch.h"
#include "tools/ripstop/procs.h"
#include "tools/ripstop/report.h"
#include "tools/ripstop/runner.h"
#include "tools/ripstop/runfile.h"
#include "tools/ripstop/scenario.h"
#include "tools/ripstop/scenario_check.h"
#include "tools/ripstop/trace_collector.h"
#include "tools/ripstop/trace_view.h"
#include "tools/ripstop/verdict.h"
#include "tools/ripstop/verdict_kafka.h"

int rs_cmd_demo(int argc, char **argv);

#define NCUSTOMERS 10
/* Spans the demo keeps (a quick run exports a few thousand; the full one some ten thousand). */
#define MAX_SPANS 200000
#define MAX_BREAKER_POINTS 4096
#define RS_MAX_SIDECARS 32
#define RES_PERIOD_MS 2000
#define HOLD_POLL_MS 5

enum stage { ST_STARTING, ST_WARMUP, ST_LOAD, ST_DRAIN, ST_VERIFY, ST_DONE };

struct action_state {
    int started, stopped;
    int64_t started_ms, ended_ms; /* actual, relative to t0; ended -1 while open */
    int64_t due_wall_ms;          /* a kill with alignEvery: the wall-clock instant it waits for (0 = not yet known) */
    int hold_pending;             /* a kill with whenHolding: its held target is not killed yet */
    int64_t hold_since_ms;        /* ... when that wait began */
    int64_t hold_next_ms;         /* ... the next look at the lock store (rs_now_ms clock) */
    int hold_said_err;            /* ... the lock store could not be read: said once */
};

struct demo {
    rs_scenario_t scn;
    int quick;
    char out[PATH_MAX];
    struct event_base *base;
    rs_http_client_t *http;
    rs_chaos_thread_t *chaos; /* the link proxies and their API, on a thread of their own (chaos_thread.h) */
    int chaos_port;
    int all_links;            /* --proxy-all-links: a proxy on every chaosLinks link, not only the faulted ones */
    rs_dashboard_t *dash;
    rs_traces_t *traces;      /* the collector the sidecars export to */
    json_t *instances;        /* {"<sidecar HTTP port>": {app, instance, replicas}}: whose spans are whose */
    json_t *kills;            /* the kills done: [{action, app, instance, replicas, sidecar, signal, port, t_ms}] */
    int traces_port;
    char trace_config[PATH_MAX];
    int64_t t0_wall_ms;       /* wall clock at t0: spans carry wall-clock times */
    rs_runner_t *runner;
    volatile int cancel;
    enum stage stage;
    char phase[128];
    char phase_kind[16];
    int64_t created_ms, t0;   /* t0: the load's origin (rs_now_ms clock) */
    json_t *phases, *events;
    /* targets */
    char urls[RS_SCN_MAX_TARGETS][256];
    rs_load_t *load;
    /* warm-up */
    int warm_ok[RS_SCN_MAX_TARGETS], warm_inflight[RS_SCN_MAX_TARGETS];
    int64_t warm_start, warm_next_probe;
    /* actions */
    struct action_state acts[RS_SCN_MAX_ACTIONS];
    char kafka_control[256], kafka_brokers[512];
    /* observation */
    int breaker_port, lock_port, nolock_port;
    int64_t next_breaker_ms, next_loyalty_ms;
    int breaker_inflight, loyalty_inflight;
    json_t *breaker;            /* [{t_ms, value}] */
    /* every sidecar's resiliency counters, scraped each RES_PERIOD_MS: what retried, timed out, redelivered */
    struct res_side {
        struct demo *d;
        const char *app;        /* owned by the runner */
        int port;
        rs_res_counts_t prev;
        int seen;
        int feeds_breaker;      /* this round's scrape is also the breaker reading (the same /metrics) */
    } res[RS_MAX_SIDECARS];
    int nres, res_inflight;
    rs_res_counts_t res_round[RS_MAX_SIDECARS]; /* this round's increase, per sidecar */
    int64_t next_res_ms;
    json_t *resiliency;         /* [{t_ms, retries, timeouts, redeliveries}] per round, all sidecars */
    json_t *loyalty_lock, *loyalty_nolock;
    int blobs_lock, blobs_nolock, blobs_inflight;
    int actions_inflight;
    /* drain */
    int64_t drain_start, stable_since, next_drain_probe;
    long last_totals;
    long answered_orders;    /* distinct orders the frontends answered with success: the lock variant's floor */
    int told_floor;          /* the "waiting for the rest" event was written */
    int drained;
    /* results */
    json_t *published, *verdict, *expected;
    int64_t linger_ms, done_ms;
    int redis_aof;              /* the runner started Redis (append-only persistence) */
    rs_lock_watch_t *locks;     /* the lock store, for kills with whenHolding */
    struct event *hold_timer;   /* turns the loop every HOLD_POLL_MS while such a kill waits */
    int exit_code;
};

static int64_t rel_now(struct demo *d) { return d->t0 ? rs_now_ms() - d->t0 : 0; }

static void event_text(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event_text(struct demo *d, const char *fmt, ...) {
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    json_array_append_new(d->events, json_pack("{s:I, s:s}", "t_ms", (json_int_t)rel_now(d), "text", b));
    if (json_array_size(d->events) > 2000) json_array_remove(d->events, 0);
}

static void set_phase(struct demo *d, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_phase(struct demo *d, const char *kind, const char *fmt, ...) {
    char b[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (strcmp(b, d->phase) == 0) return;
    snprintf(d->phase, sizeof d->phase, "%s", b);
    snprintf(d->phase_kind, sizeof d->phase_kind, "%s", kind);
    json_array_append_new(d->phases, json_pack("{s:s, s:s, s:I}", "name", b, "kind", kind, "start_ms",
                                               (json_int_t)rel_now(d)));
    if (d->t0) printf("[demo t=%5.1fs] %s\n", (double)rel_now(d) / 1000.0, b);
    else printf("[demo +%5.1fs] %s\n", (double)(rs_now_ms() - d->created_ms) / 1000.0, b);
    fflush(stdout);
}

/* ---------- the state the dashboard and the report show ---------- */

static json_t *windows_json(struct demo *d, int final) {
    json_t *ws = json_array();
    for (int i = 0; i < d->scn.nactions; i++) {
        const rs_action_t *a = &d->scn.actions[i];
        const struct action_state *s = &d->acts[i];
        json_int_t start = s->started ? s->started_ms : a->start_ms;
        json_int_t end;
        if (a->stop_ms >= 0) end = s->stopped ? s->ended_ms : a->stop_ms;
        else end = s->ended_ms > 0 ? s->ended_ms : (s->started ? (final ? start + 1000 : rel_now(d)) : start + 1000);
        json_array_append_new(ws, json_pack("{s:s, s:s, s:I, s:I, s:b}", "name", a->name, "kind", a->kind, "start_ms",
                                            start, "end_ms", end, "happened", s->started));
    }
    return ws;
}

static json_t *loyalty_chart(struct demo *d) {
    json_t *o = json_object();
    const char *names[] = {"lock", "nolock"};
    json_t *src[] = {d->loyalty_lock, d->loyalty_nolock};
    for (int i = 0; i < 2; i++) {
        if (!src[i]) continue;
        json_t *m = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(src[i], k, v)
            json_object_set_new(m, k, json_pack("{s:O, s:O}", "points", json_object_get(v, "loyaltyPoints"), "count",
                                                json_object_get(v, "orderCount")));
        json_object_set_new(o, names[i], m);
    }
    if (d->expected) json_object_set(o, "expected", d->expected);
    return o;
}

static json_t *state_json(void *arg) {
    struct demo *d = arg;
    json_t *s = json_object();
    json_object_set_new(s, "phase", json_string(d->phase));
    json_object_set_new(s, "phase_kind", json_string(d->phase_kind));
    json_object_set_new(s, "finished", json_boolean(d->stage == ST_DONE));
    json_object_set_new(s, "elapsed_ms", json_integer(rel_now(d)));
    json_object_set_new(s, "scenario", json_pack("{s:s, s:I, s:f, s:I, s:b, s:I}", "name", d->scn.name, "seed",
                                                 (json_int_t)d->scn.seed, "rate", d->scn.rate, "load_ms",
                                                 (json_int_t)rs_scenario_end_ms(&d->scn), "quick", d->quick,
                                                 "load_duration_ms", (json_int_t)d->scn.load_ms));
    json_object_set_new(s, "windows", windows_json(d, d->stage >= ST_DRAIN));
    if (d->redis_aof)
        json_object_set_new(s, "infra_note", json_string("Redis: append-only persistence (a restart keeps its data)"));
    json_object_set(s, "phases", d->phases);
    json_object_set(s, "events", d->events);
    json_object_set(s, "breaker", d->breaker);
    json_object_set(s, "resiliency", d->resiliency);
    json_object_set_new(s, "timeline", d->load ? rs_load_timeline_json(d->load, rel_now(d)) : json_object());
    json_object_set_new(s, "loyalty", loyalty_chart(d));
    if (d->verdict) json_object_set(s, "verdict", d->verdict);
    if (d->traces) {
        int focus = 0;
        const char *names[RS_SCN_MAX_TARGETS], *apps[RS_SCN_MAX_TARGETS];
        for (int i = 0; i < d->scn.ntargets; i++) {
            names[i] = d->scn.targets[i].name;
            apps[i] = d->scn.targets[i].app;
            if (strcmp(d->scn.targets[i].name, "dapr") == 0) focus = i;
        }
        size_t n = 0;
        const rs_load_record_t *recs = d->load ? rs_load_records(d->load, &n) : NULL;
        rs_trace_kills_t kills = {.instances = d->instances, .kills = d->kills, .final = d->stage >= ST_VERIFY};
        json_object_set_new(s, "traces", rs_trace_choose(d->traces, recs, n, names, apps, focus,
                                                         json_object_get(s, "windows"), d->t0_wall_ms, &kills));
    }
    return s;
}

/* ---------- async observations ---------- */

static void on_breaker(void *arg, int v) {
    struct demo *d = arg;
    d->breaker_inflight = 0;
    if (v < 0 || !d->t0) return;
    static const char *const names[] = {"closed", "half-open", "open"};
    size_t n = json_array_size(d->breaker);
    json_t *last = n ? json_array_get(d->breaker, n - 1) : NULL;
    int prev = last ? (int)json_integer_value(json_object_get(last, "value")) : -1;
    if (prev >= 0 && prev != v) event_text(d, "circuit breaker (order service sidecar): %s -> %s", names[prev % 3], names[v % 3]);
    if (n < MAX_BREAKER_POINTS)
        json_array_append_new(d->breaker, json_pack("{s:I, s:i, s:s}", "t_ms", (json_int_t)rel_now(d), "value", v,
                                                    "state", names[v % 3]));
}

static void on_loyalty_lock(void *arg, json_t *st) {
    struct demo *d = arg;
    d->loyalty_inflight--;
    if (st) {
        json_decref(d->loyalty_lock);
        d->loyalty_lock = st;
    }
}

static void on_loyalty_nolock(void *arg, json_t *st) {
    struct demo *d = arg;
    d->loyalty_inflight--;
    if (st) {
        json_decref(d->loyalty_nolock);
        d->loyalty_nolock = st;
    }
}

static void on_blobs_lock(void *arg, int n) {
    struct demo *d = arg;
    d->blobs_inflight--;
    d->blobs_lock = n;
}

static void on_blobs_nolock(void *arg, int n) {
    struct demo *d = arg;
    d->blobs_inflight--;
    d->blobs_nolock = n;
}

/* One round of resiliency counters is in: an event per app whose sidecars did something, and a chart point. */
static void res_round_done(struct demo *d) {
    rs_res_counts_t tot = {0};
    char text[512];
    size_t o = 0;
    for (int i = 0; i < d->nres; i++) {
        if (!d->res[i].app) continue;
        /* the first sidecar of each app sums the app's replicas */
        int first = 1;
        for (int j = 0; j < i; j++) first &= strcmp(d->res[j].app, d->res[i].app) != 0;
        if (!first) continue;
        rs_res_counts_t a = {0};
        for (int j = i; j < d->nres; j++) {
            if (strcmp(d->res[j].app, d->res[i].app)) continue;
            a.retries += d->res_round[j].retries;
            a.timeouts += d->res_round[j].timeouts;
            a.redeliveries += d->res_round[j].redeliveries;
        }
        tot.retries += a.retries;
        tot.timeouts += a.timeouts;
        tot.redeliveries += a.redeliveries;
        if (a.retries + a.timeouts + a.redeliveries <= 0 || o >= sizeof text - 1) continue;
        int n = snprintf(text + o, sizeof text - o, "%s%s: %.0f retries, %.0f timeouts, %.0f redeliveries",
                         o ? "; " : "", d->res[i].app, a.retries, a.timeouts, a.redeliveries);
        if (n > 0) o += (size_t)n;
    }
    memset(d->res_round, 0, sizeof d->res_round);
    if (o) event_text(d, "resiliency (last %d s) %s", RES_PERIOD_MS / 1000, text);
    if (json_array_size(d->resiliency) < MAX_BREAKER_POINTS)
        json_array_append_new(d->resiliency, json_pack("{s:I, s:f, s:f, s:f}", "t_ms", (json_int_t)rel_now(d),
                                                       "retries", tot.retries, "timeouts", tot.timeouts,
                                                       "redeliveries", tot.redeliveries));
}

static void on_res(void *arg, const rs_sidecar_metrics_t *m) {
    struct res_side *rs = arg;
    struct demo *d = rs->d;
    int i = (int)(rs - d->res);
    if (rs->feeds_breaker) {
        rs->feeds_breaker = 0;
        on_breaker(d, m ? m->breaker : -1);
    }
    const rs_res_counts_t *c = m ? &m->counts : NULL;
    if (c) {
        /* a restarted sidecar starts again from 0: its whole count is new */
        rs_res_counts_t p = c->retries >= rs->prev.retries && c->redeliveries >= rs->prev.redeliveries ? rs->prev
                                                                                                       : (rs_res_counts_t){0};
        if (rs->seen) {
            d->res_round[i].retries = c->retries - p.retries;
            d->res_round[i].timeouts = c->timeouts - p.timeouts > 0 ? c->timeouts - p.timeouts : 0;
            d->res_round[i].redeliveries = c->redeliveries - p.redeliveries;
        }
        rs->prev = *c;
        rs->seen = 1;
    }
    if (--d->res_inflight == 0 && d->t0) res_round_done(d);
}

/* A round of every sidecar's metrics; the breaker's sidecar's scrape also gives the breaker reading. */
static void observe_resiliency(struct demo *d) {
    if (d->res_inflight || rs_now_ms() < d->next_res_ms) return;
    d->next_res_ms = rs_now_ms() + RES_PERIOD_MS;
    if (!d->nres) {
        rs_runner_instance_t in;
        for (size_t i = 0; i < rs_runner_count(d->runner) && d->nres < RS_MAX_SIDECARS; i++)
            if (rs_runner_instance(d->runner, i, &in) == 0 && in.has_sidecar && in.metrics_port > 0)
                d->res[d->nres++] = (struct res_side){.d = d, .app = in.app_id, .port = in.metrics_port};
    }
    d->res_inflight = d->nres;
    for (int i = 0; i < d->nres; i++) {
        if (d->res[i].port == d->breaker_port && !d->breaker_inflight) {
            d->res[i].feeds_breaker = d->breaker_inflight = 1;
            d->next_breaker_ms = rs_now_ms() + 1000;
        }
        rs_observe_metrics(d->http, d->res[i].port, on_res, &d->res[i]);
    }
}

static void on_breaker_metrics(void *arg, const rs_sidecar_metrics_t *m) { on_breaker(arg, m ? m->breaker : -1); }

static void read_loyalty(struct demo *d) {
    if (d->loyalty_inflight) return;
    d->loyalty_inflight = 2;
    rs_observe_loyalty(d->http, d->lock_port, d->scn.lock_store, NCUSTOMERS, on_loyalty_lock, d);
    rs_observe_loyalty(d->http, d->nolock_port, d->scn.nolock_store, NCUSTOMERS, on_loyalty_nolock, d);
}

/* The breaker every second, every sidecar's counters every RES_PERIOD_MS: one /metrics scrape per sidecar and
 * reading (a round that includes the breaker's sidecar stands for that second's breaker reading). */
static void observe(struct demo *d) {
    observe_resiliency(d);
    int64_t now = rs_now_ms();
    if (d->breaker_port > 0 && !d->breaker_inflight && now >= d->next_breaker_ms) {
        d->next_breaker_ms = now + 1000;
        d->breaker_inflight = 1;
        rs_observe_metrics(d->http, d->breaker_port, on_breaker_metrics, d);
    }
    if (now >= d->next_loyalty_ms) {
        d->next_loyalty_ms = now + 2000;
        read_loyalty(d);
    }
}

/* ---------- actions ---------- */

struct action_call {
    struct demo *d;
    char what[];
};

static void on_action_http(void *arg, rs_http_response_t *resp) {
    struct action_call *ac = arg;
    if (resp->result != RS_HTTP_OK || resp->status >= 300) {
        fprintf(stderr, "ripstop demo: %s failed: %s (status %d) %.200s\n", ac->what, resp->error, resp->status,
                resp->body.data ? resp->body.data : "");
        event_text(ac->d, "%s failed (status %d)", ac->what, resp->status);
    }
    ac->d->actions_inflight--;
    free(ac);
}

/* Expands ${RIPSTOP_CHAOS_API} and ${RIPSTOP_KAFKA_CONTROL} in a URL. */
static void expand_url(struct demo *d, const char *in, char *out, size_t outlen) {
    char chaos[64];
    snprintf(chaos, sizeof chaos, "http://127.0.0.1:%d", d->chaos_port);
    const char *vars[][2] = {{"${RIPSTOP_CHAOS_API}", chaos}, {"${RIPSTOP_KAFKA_CONTROL}", d->kafka_control}};
    size_t o = 0;
    while (*in && o + 1 < outlen) {
        int hit = 0;
        for (size_t i = 0; i < 2; i++) {
            size_t l = strlen(vars[i][0]);
            if (strncmp(in, vars[i][0], l) == 0) {
                o += (size_t)snprintf(out + o, outlen - o, "%s", vars[i][1]);
                if (o >= outlen) o = outlen - 1;
                in += l;
                hit = 1;
                break;
            }
        }
        if (!hit) out[o++] = *in++;
    }
    out[o] = 0;
}

static void send_action_http(struct demo *d, const char *label, const char *method, const char *url, json_t *body) {
    char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
    rs_kvlist_t h = {0};
    rs_kvlist_set(&h, "Content-Type", "application/json");
    rs_http_request_t req = {.method = method, .url = url, .headers = &h, .body = b, .body_len = b ? strlen(b) : 0,
                             .timeout_ms = 10000};
    size_t wl = strlen(label) + strlen(url) + 8;
    struct action_call *ac = rs_xmalloc(sizeof *ac + wl);
    ac->d = d;
    snprintf(ac->what, wl, "%s (%s)", label, url);
    d->actions_inflight++;
    if (!rs_http_send(d->http, &req, on_action_http, ac)) {
        fprintf(stderr, "ripstop demo: %s: cannot send\n", ac->what);
        d->actions_inflight--;
        free(ac);
    }
    rs_kvlist_free(&h);
    free(b);
}

/* ---------- chaos links: a proxy per sidecar connection the run file's chaosLinks name ---------- */

/* One call into the chaos registry; it runs on the proxy's thread. */
enum chaos_op_kind { CHAOS_API, CHAOS_CREATE, CHAOS_UPDATE, CHAOS_TOXIC_ADD, CHAOS_TOXIC_DELETE };
struct chaos_op {
    enum chaos_op_kind kind;
    const char *proxy, *toxic;
    const json_t *spec;
    int port;       /* CHAOS_API / CHAOS_CREATE: the port listened on, else -1 */
    int ok;
    char err[256];
};

static void chaos_op_run(rs_chaos_t *c, void *arg) {
    struct chaos_op *op = arg;
    int status = 0;
    json_t *r = NULL;
    switch (op->kind) {
    case CHAOS_API: op->port = rs_chaos_api_listen(c, "127.0.0.1", 0); break;
    case CHAOS_CREATE:
        r = rs_chaos_proxy_create(c, op->spec, &status, op->err, sizeof op->err);
        op->port = r ? rs_chaos_proxy_port(c, op->proxy) : -1;
        break;
    case CHAOS_UPDATE: r = rs_chaos_proxy_update(c, op->proxy, op->spec, &status, op->err, sizeof op->err); break;
    case CHAOS_TOXIC_ADD: r = rs_chaos_toxic_add(c, op->proxy, op->spec, &status, op->err, sizeof op->err); break;
    case CHAOS_TOXIC_DELETE: op->ok = rs_chaos_toxic_delete(c, op->proxy, op->toxic) == 0; return;
    }
    op->ok = op->kind == CHAOS_API ? op->port > 0 : r != NULL;
    json_decref(r);
}

static int chaos_do(struct demo *d, struct chaos_op *op) {
    rs_chaos_thread_call(d->chaos, chaos_op_run, op);
    return op->ok;
}

static void link_proxy_name(char *out, size_t outlen, const char *app, int instance, const char *link) {
    snprintf(out, outlen, "%s-%d-%s", app, instance, link);
}

/* 1 when a network action of the scenario targets this instance's link. */
static int link_targeted(const rs_scenario_t *s, const char *app_id, int instance, const char *link) {
    for (int i = 0; i < s->nactions; i++) {
        const rs_action_t *a = &s->actions[i];
        if (a->type != RS_ACT_NETWORK) continue;
        for (int k = 0; k < a->nkills; k++)
            if (!strcmp(a->kills[k].app, app_id) && !strcmp(a->kills[k].link, link) &&
                (!a->kills[k].instance || a->kills[k].instance == instance))
                return 1;
    }
    return 0;
}

/* The runner's link hook: a proxy in front of the port the sidecar would connect to, on the links a network
 * action targets (the others connect directly), or with --proxy-all-links on every chaosLinks link, so that any
 * can be faulted through the chaos API while the demo runs. */
static int on_link(void *arg, const char *app_id, int instance, const char *link, int upstream_port) {
    struct demo *d = arg;
    if (!d->all_links && !link_targeted(&d->scn, app_id, instance, link)) return -1;
    char name[160], up[64], listen[64];
    link_proxy_name(name, sizeof name, app_id, instance, link);
    snprintf(up, sizeof up, "127.0.0.1:%d", upstream_port);
    /* A reserved port below the ephemeral range: a partition closes the listener, and an outbound
     * connection must not take its port before it listens again. */
    int port = rs_port_reserve();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port > 0 ? port : 0);
    json_t *spec = json_pack("{s:s, s:s, s:s}", "name", name, "listen", listen, "upstream", up);
    struct chaos_op op = {.kind = CHAOS_CREATE, .proxy = name, .spec = spec};
    int ok = chaos_do(d, &op);
    json_decref(spec);
    if (!ok) {
        fprintf(stderr, "ripstop demo: chaos link %s: %s (connecting directly)\n", name, op.err);
        event_text(d, "chaos link %s: %s (connecting directly)", name, op.err);
        return -1;
    }
    return op.port;
}

/* The Toxiproxy toxic of a network fault. */
static json_t *toxic_spec(const rs_action_t *a, const char *stream) {
    json_t *attrs = json_object();
    const char *type = "latency";
    switch (a->fault) {
    case RS_NET_LATENCY:
    case RS_NET_JITTER:
        json_object_set_new(attrs, "latency", json_integer(a->latency_ms));
        json_object_set_new(attrs, "jitter", json_integer(a->jitter_ms));
        break;
    case RS_NET_TIMEOUT:
    case RS_NET_RESET:
        type = a->fault == RS_NET_TIMEOUT ? "timeout" : "reset_peer";
        json_object_set_new(attrs, "timeout", json_integer(a->timeout_ms));
        break;
    case RS_NET_BANDWIDTH:
        type = "bandwidth";
        json_object_set_new(attrs, "rate", json_integer((json_int_t)a->rate_kbs));
        break;
    case RS_NET_SLICER:
        type = "slicer";
        json_object_set_new(attrs, "average_size", json_integer(a->slice_bytes));
        json_object_set_new(attrs, "size_variation", json_integer(a->slice_var_bytes));
        json_object_set_new(attrs, "delay", json_integer(a->slice_delay_us));
        break;
    case RS_NET_PARTITION:
    case RS_NET_NFAULTS: break;
    }
    char name[96];
    snprintf(name, sizeof name, "%s_%s", a->name, stream);
    return json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", name, "type", type, "stream", stream, "toxicity",
                     a->toxicity, "attributes", attrs);
}

/* A network fault on one link proxy: on = 1 adds it, 0 removes it. */
static void link_fault(struct demo *d, const rs_action_t *a, const char *proxy, int on) {
    if (a->fault == RS_NET_PARTITION) {
        json_t *spec = json_pack("{s:b}", "enabled", !on);
        struct chaos_op op = {.kind = CHAOS_UPDATE, .proxy = proxy, .spec = spec};
        if (!chaos_do(d, &op)) event_text(d, "%s: proxy %s: %s", a->name, proxy, op.err);
        json_decref(spec);
        return;
    }
    const char *streams[2] = {a->upstream ? "upstream" : NULL, a->downstream ? "downstream" : NULL};
    for (int i = 0; i < 2; i++) {
        if (!streams[i]) continue;
        json_t *spec = toxic_spec(a, streams[i]);
        struct chaos_op op = {.kind = on ? CHAOS_TOXIC_ADD : CHAOS_TOXIC_DELETE, .proxy = proxy, .spec = spec,
                              .toxic = json_string_value(json_object_get(spec, "name"))};
        if (!chaos_do(d, &op) && on) event_text(d, "%s: proxy %s: %s", a->name, proxy, op.err);
        json_decref(spec);
    }
}

static const char *link_label(const char *link) {
    return !strcmp(link, "app") ? "its app" : !strcmp(link, "redis") ? "Redis" : "blob storage";
}

/* pause (SIGSTOP / SIGCONT) and network faults, on every target of the action. */
static void targets_apply(struct demo *d, const rs_action_t *a, int on) {
    for (int k = 0; k < a->nkills; k++) {
        const rs_kill_target_t *t = &a->kills[k];
        if (a->type == RS_ACT_PAUSE) {
            rs_proc_kind_t which = t->infra ? RS_PROC_INFRA : t->sidecar ? RS_PROC_SIDECAR : RS_PROC_APP;
            pid_t pid = rs_runner_kill(d->runner, t->app, t->instance, which, on ? SIGSTOP : SIGCONT);
            event_text(d, "%s: %s %s%s (pid %d)%s", a->name, on ? "paused (SIGSTOP)" : "resumed (SIGCONT)", t->app,
                       t->infra ? "" : t->sidecar ? " sidecar" : " app", (int)pid, pid < 0 ? ": not running" : "");
            continue;
        }
        rs_runner_instance_t in;
        int n = 0;
        for (int inst = 1; rs_runner_find(d->runner, t->app, inst, &in) == 0; inst++) {
            if (t->instance && inst != t->instance) continue;
            char proxy[160];
            link_proxy_name(proxy, sizeof proxy, t->app, inst, t->link);
            link_fault(d, a, proxy, on);
            n++;
        }
        if (!on) continue;
        char what[160];
        switch (a->fault) {
        case RS_NET_LATENCY:
        case RS_NET_JITTER:
            snprintf(what, sizeof what, "%lld ms ± %lld ms latency", (long long)a->latency_ms, (long long)a->jitter_ms);
            break;
        case RS_NET_TIMEOUT:
            snprintf(what, sizeof what, "a black hole (no data; closed after %lld ms, 0 = never)",
                     (long long)a->timeout_ms);
            break;
        case RS_NET_RESET: snprintf(what, sizeof what, "connection resets after %lld ms", (long long)a->timeout_ms); break;
        case RS_NET_BANDWIDTH: snprintf(what, sizeof what, "bandwidth capped at %.0f KB/s", a->rate_kbs); break;
        case RS_NET_SLICER:
            snprintf(what, sizeof what, "data sliced into %lld-byte pieces", (long long)a->slice_bytes);
            break;
        default: snprintf(what, sizeof what, "a partition (connections refused and cut)"); break;
        }
        char inst[12] = "*";
        if (t->instance) snprintf(inst, sizeof inst, "%d", t->instance);
        event_text(d, "%s: %s#%s sidecar -> %s: %s%s (%d proxies)", a->name, t->app, inst, link_label(t->link), what,
                   a->toxicity < 1 ? " on some connections" : "", n);
    }
}

/* One target of a kill action: the signal, the event, and the kill's record for the traces (trace_view.h). */
static void kill_target(struct demo *d, const rs_action_t *a, const rs_kill_target_t *t) {
    pid_t pid = rs_runner_kill(d->runner, t->app, t->instance, t->sidecar ? RS_PROC_SIDECAR : RS_PROC_APP, a->signal);
    event_text(d, "%s: signal %d to %s#%d %s (pid %d)%s", a->name, a->signal, t->app, t->instance,
               t->sidecar ? "sidecar" : "app", (int)pid, pid < 0 ? ": not running" : "");
    rs_runner_instance_t in;
    if (pid > 0 && rs_runner_find(d->runner, t->app, t->instance, &in) == 0)
        json_array_append_new(d->kills, json_pack("{s:s, s:s, s:i, s:i, s:b, s:i, s:i, s:I}", "action", a->name, "app",
                                                  t->app, "instance", t->instance, "replicas", in.replicas, "sidecar",
                                                  t->sidecar, "signal", a->signal, "port", in.http_port, "t_ms",
                                                  (json_int_t)rel_now(d)));
}

/* 1 when t is the target a kill's whenHolding waits for (its app process). */
static int is_held_target(const rs_action_t *a, const rs_kill_target_t *t) {
    return a->hold_within_ms > 0 && !t->sidecar && !t->infra && t->instance == a->hold_instance &&
           !strcmp(t->app, a->hold_app);
}

static void on_hold_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what, (void)arg; /* only wakes the loop: step_load looks at the lock store */
}

/* A kill with whenHolding: its other targets are killed when it is due; this one once it holds a matching lock
 * (hold_due). */
static void hold_begin(struct demo *d, int i) {
    const rs_action_t *a = &d->scn.actions[i];
    struct action_state *s = &d->acts[i];
    s->hold_pending = 1;
    s->hold_since_ms = rel_now(d);
    s->hold_next_ms = rs_now_ms();
    event_text(d, "%s: waiting up to %.1f s for %s#%d to hold a lock matching %s", a->name,
               (double)a->hold_within_ms / 1000.0, a->hold_app, a->hold_instance, a->hold_lock);
    if (!d->hold_timer) d->hold_timer = event_new(d->base, -1, EV_PERSIST, on_hold_timer, d);
    struct timeval tv = {0, HOLD_POLL_MS * 1000};
    event_add(d->hold_timer, &tv);
}

static void action_start(struct demo *d, int i) {
    const rs_action_t *a = &d->scn.actions[i];
    char url[512];
    switch (a->type) {
    case RS_ACT_KAFKA_LATENCY: {
        snprintf(url, sizeof url, "%s/brokers/%s/latency", d->kafka_control, a->brokers);
        json_t *b = json_pack("{s:I, s:I}", "latency_ms", (json_int_t)a->latency_ms, "jitter_ms",
                              (json_int_t)a->jitter_ms);
        send_action_http(d, a->name, "PUT", url, b);
        json_decref(b);
        event_text(d, "%s: Kafka brokers (%s) answer after %lld ms ± %lld ms", a->name, a->brokers,
                   (long long)a->latency_ms, (long long)a->jitter_ms);
        break;
    }
    case RS_ACT_KAFKA_DOWN:
        snprintf(url, sizeof url, "%s/brokers/%s/down", d->kafka_control, a->brokers);
        send_action_http(d, a->name, "POST", url, NULL);
        event_text(d, "%s: Kafka brokers (%s) down", a->name, a->brokers);
        break;
    case RS_ACT_KILL:
        for (int k = 0; k < a->nkills; k++) {
            if (is_held_target(a, &a->kills[k])) {
                hold_begin(d, i);
                continue;
            }
            kill_target(d, a, &a->kills[k]);
        }
        break;
    case RS_ACT_HTTP:
        if (a->on_start) {
            expand_url(d, json_string_value(json_object_get(a->on_start, "url")), url, sizeof url);
            const char *m = json_string_value(json_object_get(a->on_start, "method"));
            send_action_http(d, a->name, m ? m : "POST", url, json_object_get(a->on_start, "body"));
        }
        event_text(d, "%s: started", a->name);
        break;
    case RS_ACT_RESTART:
        if (!strcmp(a->infra, "kafka")) {
            snprintf(url, sizeof url, "%s/brokers/all/down", d->kafka_control);
            send_action_http(d, a->name, "POST", url, NULL);
            event_text(d, "%s: every Kafka broker stopped (the cluster keeps its data)", a->name);
        } else {
            pid_t pid = rs_runner_infra_stop(d->runner, a->infra);
            event_text(d, "%s: %s stopped (SIGTERM to pid %d)%s", a->name, a->infra, (int)pid,
                       pid < 0 ? ": not running" : "");
        }
        break;
    case RS_ACT_PAUSE:
    case RS_ACT_NETWORK: targets_apply(d, a, 1); break;
    case RS_ACT_NTYPES: break;
    }
}

static void action_stop(struct demo *d, int i) {
    const rs_action_t *a = &d->scn.actions[i];
    char url[512];
    switch (a->type) {
    case RS_ACT_KAFKA_LATENCY: {
        snprintf(url, sizeof url, "%s/brokers/%s/latency", d->kafka_control, a->brokers);
        json_t *b = json_pack("{s:i, s:i}", "latency_ms", 0, "jitter_ms", 0);
        send_action_http(d, a->name, "PUT", url, b);
        json_decref(b);
        break;
    }
    case RS_ACT_KAFKA_DOWN:
        snprintf(url, sizeof url, "%s/brokers/%s/up", d->kafka_control, a->brokers);
        send_action_http(d, a->name, "POST", url, NULL);
        break;
    case RS_ACT_HTTP:
        if (a->on_stop) {
            expand_url(d, json_string_value(json_object_get(a->on_stop, "url")), url, sizeof url);
            const char *m = json_string_value(json_object_get(a->on_stop, "method"));
            send_action_http(d, a->name, m ? m : "POST", url, json_object_get(a->on_stop, "body"));
        }
        break;
    case RS_ACT_RESTART:
        if (!strcmp(a->infra, "kafka")) {
            snprintf(url, sizeof url, "%s/brokers/all/up", d->kafka_control);
            send_action_http(d, a->name, "POST", url, NULL);
        } else {
            char err[512];
            pid_t pid = rs_runner_infra_start(d->runner, a->infra, err, sizeof err);
            if (pid < 0) event_text(d, "%s: %s did not start again: %s", a->name, a->infra, err);
            else event_text(d, "%s: %s started again on the same port and data (pid %d)", a->name, a->infra, (int)pid);
        }
        break;
    case RS_ACT_PAUSE:
    case RS_ACT_NETWORK: targets_apply(d, a, 0); break;
    case RS_ACT_KILL:
    case RS_ACT_NTYPES: break;
    }
    event_text(d, "%s: ended", a->name);
}

/* Runner lifecycle events feed the event list, and close crash windows when the killed apps are back. */
static void on_runner_event(const rs_runner_event_t *ev, void *arg) {
    struct demo *d = arg;
    const char *what = ev->proc == RS_PROC_APP ? "app" : ev->proc == RS_PROC_SIDECAR ? "sidecar" : "infra";
    switch (ev->kind) {
    case RS_RUNNER_EV_EXITED:
        if (WIFSIGNALED(ev->status))
            event_text(d, "%s#%d %s exited (signal %d)", ev->app_id, ev->instance, what, WTERMSIG(ev->status));
        else
            event_text(d, "%s#%d %s exited (status %d)", ev->app_id, ev->instance, what, WEXITSTATUS(ev->status));
        break;
    case RS_RUNNER_EV_RESTARTING:
        event_text(d, "%s#%d %s restarting in %lld ms", ev->app_id, ev->instance, what, (long long)ev->delay_ms);
        break;
    case RS_RUNNER_EV_READY:
        if (d->stage >= ST_LOAD) {
            event_text(d, "%s#%d ready", ev->app_id, ev->instance);
            /* a crash window ends when every process it killed is ready again */
            for (int i = 0; i < d->scn.nactions; i++) {
                const rs_action_t *a = &d->scn.actions[i];
                struct action_state *s = &d->acts[i];
                if (a->type != RS_ACT_KILL || !s->started || s->ended_ms > 0) continue;
                int all = !s->hold_pending; /* its held target is still to be killed */
                for (int k = 0; k < a->nkills; k++) {
                    rs_runner_instance_t in;
                    if (rs_runner_find(d->runner, a->kills[k].app, a->kills[k].instance, &in) != 0 || !in.ready ||
                        (a->kills[k].sidecar ? in.sidecar_pid : in.app_pid) == 0)
                        all = 0;
                }
                if (all) s->ended_ms = rel_now(d);
            }
        }
        break;
    case RS_RUNNER_EV_GAVE_UP: event_text(d, "%s#%d %s stays down (restart policy)", ev->app_id, ev->instance, what); break;
    default: break;
    }
}

/* ---------- stages ---------- */

struct probe {
    struct demo *d;
    int target;
};

static void on_warm_probe(void *arg, rs_http_response_t *resp) {
    struct probe *p = arg;
    p->d->warm_inflight[p->target] = 0;
    if (resp->result == RS_HTTP_OK && resp->status >= 200 && resp->status < 300) {
        if (!p->d->warm_ok[p->target])
            event_text(p->d, "warm-up: %s answered %d (order %s)", p->d->scn.targets[p->target].name, resp->status,
                       rs_kvlist_get_ci(&resp->headers, "X-Order-Id") ? rs_kvlist_get_ci(&resp->headers, "X-Order-Id")
                                                                      : "without X-Order-Id");
        p->d->warm_ok[p->target] = 1;
    }
    free(p);
}

static void start_load(struct demo *d) {
    rs_load_target_t ts[RS_SCN_MAX_TARGETS];
    for (int i = 0; i < d->scn.ntargets; i++) ts[i] = (rs_load_target_t){d->scn.targets[i].name, d->urls[i]};
    /* Every order starts a trace of its own; the run's part of the trace ids tells runs apart. */
    uint64_t run = ((uint64_t)rs_wall_ms() << 16) ^ (uint64_t)getpid();
    rs_load_opts_t o = {.rate = d->scn.rate, .duration_ms = d->scn.load_ms, .timeout_ms = d->scn.timeout_ms,
                        .trace_run = d->traces ? (run ? run : 1) : 0};
    d->load = rs_load_new(d->base, d->http, ts, d->scn.ntargets, &o);
    d->t0 = rs_now_ms();
    d->t0_wall_ms = rs_wall_ms();
    json_array_clear(d->breaker);
    rs_load_start(d->load, d->t0);
    d->stage = ST_LOAD;
}

static void step_warmup(struct demo *d) {
    int64_t now = rs_now_ms();
    int all = 1;
    for (int i = 0; i < d->scn.ntargets; i++) all &= d->warm_ok[i];
    if (all && now - d->warm_start >= d->scn.warmup_ms) {
        start_load(d);
        return;
    }
    if (now - d->warm_start > d->scn.warmup_ms + 90000) {
        fprintf(stderr, "ripstop demo: warm-up: the frontends did not answer with success within 90 s:");
        for (int i = 0; i < d->scn.ntargets; i++)
            if (!d->warm_ok[i]) fprintf(stderr, " %s (%s)", d->scn.targets[i].name, d->urls[i]);
        fprintf(stderr, "\n  logs: %s/logs\n", d->out);
        d->exit_code = 1;
        d->stage = ST_DONE;
        return;
    }
    if (now < d->warm_next_probe) return;
    d->warm_next_probe = now + 1000;
    for (int i = 0; i < d->scn.ntargets; i++) {
        if (d->warm_ok[i] || d->warm_inflight[i]) continue;
        struct probe *p = rs_xcalloc(1, sizeof *p);
        p->d = d;
        p->target = i;
        rs_http_request_t req = {.method = "GET", .url = d->urls[i], .timeout_ms = 30000};
        d->warm_inflight[i] = 1;
        if (!rs_http_send(d->http, &req, on_warm_probe, p)) {
            d->warm_inflight[i] = 0;
            free(p);
        }
    }
}

/* A kill with alignEvery waits, once due, for the first wall-clock instant that is alignOffset past a multiple of
 * alignEvery (the 100 ms step makes it up to 100 ms later). */
static int align_due(const rs_action_t *a, struct action_state *s) {
    if (a->align_every_ms <= 0) return 1;
    int64_t now = rs_wall_ms();
    if (!s->due_wall_ms) {
        int64_t next = (now - a->align_offset_ms) / a->align_every_ms * a->align_every_ms + a->align_offset_ms;
        s->due_wall_ms = next < now ? next + a->align_every_ms : next;
    }
    return now >= s->due_wall_ms;
}

/* The held target of kill i, once it holds a matching lock: the lock store is read every HOLD_POLL_MS; when it
 * shows such a lock, the process is stopped (SIGSTOP) and the store read again, and only a lock still held then
 * counts: a stopped process cannot send the call that would let it go, so the kill lands while it holds it. After
 * `within`, the kill goes ahead anyway and says so. 1 = kill now (*frozen: the pid stopped, else 0). */
static int hold_due(struct demo *d, int i, pid_t *frozen) {
    const rs_action_t *a = &d->scn.actions[i];
    struct action_state *s = &d->acts[i];
    int64_t now = rs_now_ms(), waited = rel_now(d) - s->hold_since_ms;
    *frozen = 0;
    if (waited >= a->hold_within_ms) {
        event_text(d, "%s: %s#%d held no lock matching %s within %.1f s: killing it anyway", a->name, a->hold_app,
                   a->hold_instance, a->hold_lock, (double)a->hold_within_ms / 1000.0);
        return 1;
    }
    if (now < s->hold_next_ms) return 0;
    s->hold_next_ms = now + HOLD_POLL_MS;
    rs_runner_instance_t in;
    if (rs_runner_find(d->runner, a->hold_app, a->hold_instance, &in) != 0 || in.app_pid <= 0) return 0;
    if (!d->locks)
        d->locks = rs_lock_watch_new(rs_runner_infra_env(d->runner, "RIPSTOP_REDIS_HOST"),
                                     rs_runner_infra_env(d->runner, "RIPSTOP_REDIS_PASSWORD"));
    char res[128], err[512];
    int h = rs_lock_watch_held(d->locks, a->hold_app, a->hold_lock, in.app_pid, a->hold_unless, res, sizeof res, err,
                               sizeof err);
    if (h == 1 && rs_runner_kill(d->runner, a->hold_app, a->hold_instance, RS_PROC_APP, SIGSTOP) == in.app_pid) {
        h = rs_lock_watch_held(d->locks, a->hold_app, a->hold_lock, in.app_pid, a->hold_unless, res, sizeof res, err,
                               sizeof err);
        if (h == 1) {
            *frozen = in.app_pid;
            char unless[256] = "";
            if (a->hold_unless[0]) {
                char key[192];
                rs_lock_unless_key(a->hold_unless, res, key, sizeof key);
                snprintf(unless, sizeof unless, ", no key %s", key);
            }
            event_text(d, "%s: %s#%d holds lock %s%s (after %.2f s); stopped while the lock store was read again, "
                       "so the kill lands before it gets further", a->name, a->hold_app, a->hold_instance, res, unless,
                       (double)waited / 1000.0);
            return 1;
        }
        rs_runner_kill(d->runner, a->hold_app, a->hold_instance, RS_PROC_APP, SIGCONT);
    }
    if (h < 0 && !s->hold_said_err) {
        s->hold_said_err = 1;
        event_text(d, "%s: cannot read the lock store (%s); still trying until the wait ends", a->name, err);
    }
    return 0;
}

/* Kills whose held target is due now; the timer stops when none waits any more. */
static void step_holds(struct demo *d) {
    int waiting = 0;
    for (int i = 0; i < d->scn.nactions; i++) {
        const rs_action_t *a = &d->scn.actions[i];
        struct action_state *s = &d->acts[i];
        if (!s->hold_pending) continue;
        pid_t frozen = 0;
        if (!hold_due(d, i, &frozen)) {
            waiting = 1;
            continue;
        }
        s->hold_pending = 0;
        for (int k = 0; k < a->nkills; k++)
            if (is_held_target(a, &a->kills[k])) kill_target(d, a, &a->kills[k]);
        if (frozen && a->signal != SIGKILL) kill(frozen, SIGCONT); /* a stopped process acts on no other signal */
    }
    if (!waiting && d->hold_timer) event_del(d->hold_timer);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* How many distinct orders the frontends answered with success. Each of them is on the broker (the verdict checks
 * it), so the lock variant must count at least this many before the drain can be over: empty containers and
 * totals that hold still are not enough when a delivery is late (a redelivery after an Azurite restart came 17 s
 * after its publish, longer than the settle time). */
static long answered_orders(const rs_load_t *load) {
    size_t n, k = 0;
    const rs_load_record_t *r = rs_load_records(load, &n);
    const char **ids = rs_xcalloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        if (r[i].ok && r[i].order_id[0]) ids[k++] = r[i].order_id;
    qsort(ids, k, sizeof *ids, cmp_str);
    long distinct = 0;
    for (size_t i = 0; i < k; i++) distinct += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
    free(ids);
    return distinct;
}

static void step_load(struct demo *d) {
    int64_t rel = rel_now(d);
    for (int i = 0; i < d->scn.nactions; i++) {
        const rs_action_t *a = &d->scn.actions[i];
        struct action_state *s = &d->acts[i];
        if (!s->started && rel >= a->start_ms && align_due(a, s)) {
            s->started = 1;
            s->started_ms = rel;
            s->ended_ms = -1;
            action_start(d, i);
        }
        if (s->started && !s->stopped && a->stop_ms >= 0 && rel >= a->stop_ms) {
            s->stopped = 1;
            s->ended_ms = rel;
            action_stop(d, i);
        }
    }
    step_holds(d);
    /* The phase: the most recent open window, else load/recovery. */
    const char *kind = "load", *name = NULL;
    int any_started = 0;
    for (int i = 0; i < d->scn.nactions; i++) {
        const struct action_state *s = &d->acts[i];
        any_started |= s->started;
        int open = s->started && (d->scn.actions[i].stop_ms >= 0 ? !s->stopped : s->ended_ms < 0);
        if (open) {
            kind = d->scn.actions[i].kind;
            name = d->scn.actions[i].name;
        }
    }
    if (name) set_phase(d, kind, "%s: %s", kind, name);
    else if (rs_load_sending(d->load)) set_phase(d, "load", any_started ? "recovery (load continues)" : "steady load");
    else set_phase(d, "load", "waiting for the last answers");
    int64_t end = rs_scenario_end_ms(&d->scn);
    int actions_done = 1;
    for (int i = 0; i < d->scn.nactions; i++)
        if (!d->acts[i].started || (d->scn.actions[i].stop_ms >= 0 && !d->acts[i].stopped) || d->acts[i].hold_pending)
            actions_done = 0;
    int give_up = rel > end + d->scn.timeout_ms + 15000; /* answers that never come count as failures */
    if ((rel >= end && actions_done && rs_load_finished(d->load)) || give_up) {
        rs_load_stop_sending(d->load);
        if (give_up && !rs_load_finished(d->load)) event_text(d, "some requests never completed; counted as failed");
        d->stage = ST_DRAIN;
        d->drain_start = rs_now_ms();
        d->stable_since = 0;
        d->last_totals = -1;
        d->answered_orders = answered_orders(d->load);
        d->told_floor = 0;
        set_phase(d, "drain", "drain: waiting for the jobs to process every order");
    }
}

static long loyalty_totals(const json_t *st) {
    long t = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)st, k, v) t += (long)json_integer_value(json_object_get(v, "orderCount"));
    return t;
}

static void step_drain(struct demo *d) {
    int64_t now = rs_now_ms();
    if (now >= d->next_drain_probe && !d->blobs_inflight && !d->loyalty_inflight) {
        /* Evaluate the previous probe, then start the next one. */
        if (d->next_drain_probe) {
            long lock_counted = loyalty_totals(d->loyalty_lock);
            long tot = lock_counted * 100003 + loyalty_totals(d->loyalty_nolock);
            int empty = d->blobs_lock == 0 && d->blobs_nolock == 0;
            int floor_met = lock_counted >= d->answered_orders;
            if (empty && !floor_met && !d->told_floor) {
                event_text(d, "drain: no blobs left, but the lock variant has counted %ld of the %ld orders answered "
                              "with success; waiting for the rest (late deliveries)",
                           lock_counted, d->answered_orders);
                d->told_floor = 1;
            }
            if (empty && floor_met && tot == d->last_totals) {
                if (!d->stable_since) d->stable_since = now;
            } else {
                d->stable_since = 0;
            }
            d->last_totals = tot;
            if (d->stable_since && now - d->stable_since >= d->scn.settle_ms) {
                d->drained = 1;
                event_text(d, "drained: no blobs left, the loyalty totals are stable and the lock variant has counted at "
                              "least the %ld orders answered with success", d->answered_orders);
                d->stage = ST_VERIFY;
                return;
            }
        }
        d->next_drain_probe = now + 1000;
        d->blobs_inflight = 2;
        rs_observe_blobs(d->http, d->lock_port, d->scn.lock_binding, on_blobs_lock, d);
        rs_observe_blobs(d->http, d->nolock_port, d->scn.nolock_binding, on_blobs_nolock, d);
        read_loyalty(d);
    }
    if (now - d->drain_start > d->scn.drain_timeout_ms) {
        event_text(d, "drain timed out after %lld s (blobs left: lock %d, no-lock %d)",
                   (long long)(d->scn.drain_timeout_ms / 1000), d->blobs_lock, d->blobs_nolock);
        d->drained = 0;
        d->stage = ST_VERIFY;
    }
}

/* Runs the loop until the loyalty reads in flight are back (bounded). */
static void wait_loyalty(struct demo *d) {
    int64_t until = rs_now_ms() + 15000;
    while (d->loyalty_inflight > 0 && rs_now_ms() < until) event_base_loop(d->base, EVLOOP_ONCE);
}

static int write_json(const char *dir, const char *name, const json_t *v) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (json_dump_file(v, p, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "ripstop demo: cannot write %s\n", p);
        return -1;
    }
    return 0;
}

/* The broker read-back blocks (librdkafka) for up to 30 s: it runs on a thread of its own while this loop goes
 * on serving the runner's children, the dashboard and the trace collector. */
struct readback {
    const char *brokers, *topic;
    json_t *orders;
    char err[512];
    int done; /* atomic */
};

static void *readback_main(void *arg) {
    struct readback *rb = arg;
    rb->orders = rs_verdict_read_orders(rb->brokers, rb->topic, 30000, rb->err, sizeof rb->err);
    __atomic_store_n(&rb->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static json_t *read_back_orders(struct demo *d, char *err, size_t errlen) {
    struct readback rb = {.brokers = d->kafka_brokers, .topic = d->scn.topic};
    pthread_t th;
    if (pthread_create(&th, NULL, readback_main, &rb) != 0) {
        readback_main(&rb);
    } else {
        while (!__atomic_load_n(&rb.done, __ATOMIC_ACQUIRE)) event_base_loop(d->base, EVLOOP_ONCE); /* the tick wakes it */
        pthread_join(th, NULL);
    }
    snprintf(err, errlen, "%s", rb.err);
    return rb.orders;
}

static void step_verify(struct demo *d) {
    set_phase(d, "verify", "verify: reading the broker and the state stores");
    char err[512] = "";
    json_t *pub = read_back_orders(d, err, sizeof err);
    if (!pub) {
        fprintf(stderr, "ripstop demo: reading topic '%s' back from %s: %s\n", d->scn.topic, d->kafka_brokers, err);
        event_text(d, "broker read-back failed: %s", err);
    }
    d->published = pub;
    wait_loyalty(d);
    read_loyalty(d); /* a final read after everything settled */
    wait_loyalty(d);

    json_t *rec = json_object();
    json_object_set(rec, "scenario", d->scn.json);
    json_object_set_new(rec, "load", rs_load_json(d->load));
    json_object_set_new(rec, "windows", windows_json(d, 1));
    if (pub) json_object_set(rec, "published", pub);
    json_t *loy = json_object();
    if (d->loyalty_lock) json_object_set(loy, "lock", d->loyalty_lock);
    if (d->loyalty_nolock) json_object_set(loy, "nolock", d->loyalty_nolock);
    json_object_set_new(rec, "loyalty", loy);
    json_object_set_new(rec, "drained", json_boolean(d->drained));
    json_object_set(rec, "criteria", d->scn.criteria);
    json_object_set(rec, "breaker", d->breaker);
    json_object_set(rec, "resiliency", d->resiliency);
    json_object_set(rec, "events", d->events);
    d->verdict = rs_verdict_compute(rec);
    /* expected points per customer for the loyalty chart */
    d->expected = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(json_object_get(json_object_get(d->verdict, "loyalty"), "lock"), "customers"), i,
                       row) {
        char k[16];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(row, "customerId")));
        json_object_set_new(d->expected, k, json_pack("{s:O, s:O}", "points", json_object_get(row, "expected_points"),
                                                      "count", json_object_get(row, "expected_count")));
    }
    d->stage = ST_DONE;
    set_phase(d, "done", json_is_true(json_object_get(d->verdict, "pass")) ? "finished: verdict PASS"
                                                                            : "finished: verdict FAIL");
    rs_verdict_print(stdout, d->verdict);
    write_json(d->out, "recording.json", rec);
    write_json(d->out, "verdict.json", d->verdict);
    json_t *st = state_json(d);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/report.html", d->out);
    if (rs_report_write(path, st, err, sizeof err) != 0) fprintf(stderr, "ripstop demo: report: %s\n", err);
    else printf("\nreport:  %s\nverdict: %s/verdict.json\nlogs:    %s/logs\n", path, d->out, d->out);
    fflush(stdout);
    json_decref(st);
    json_decref(rec);
    d->exit_code = json_is_true(json_object_get(d->verdict, "pass")) ? 0 : 1;
    d->done_ms = rs_now_ms();
}

/* Lets every request we started finish (bounded), so their state is freed by their own callbacks. */
static void settle_inflight(struct demo *d, int64_t ms) {
    int64_t until = rs_now_ms() + ms;
    for (;;) {
        int n = d->breaker_inflight + d->loyalty_inflight + d->blobs_inflight + d->actions_inflight + d->res_inflight;
        for (int i = 0; i < d->scn.ntargets; i++) n += d->warm_inflight[i];
        if (n <= 0 || rs_now_ms() >= until) return;
        event_base_loop(d->base, EVLOOP_ONCE);
    }
}

/* ---------- command ---------- */

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg; /* only wakes the loop; step() runs after each event */
}

static struct demo *g_demo; /* for the signal handler's flag */
static void on_signal(int sig) {
    (void)sig;
    if (g_demo) g_demo->cancel = 1;
}

/* --check: validate the scenario and its run file, print the plan, start nothing. */
static int print_plan(struct demo *d, const char *path) {
    char err[1024];
    if (rs_runner_check_file(d->scn.run_file, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop demo: %s\n", err);
        return 1;
    }
    const rs_scenario_t *s = &d->scn;
    printf("scenario %s (%s)%s: seed %lu, run file %s\n", s->name, path, d->quick ? ", quick" : "", s->seed,
           s->run_file);
    printf("warm-up %.1f s, then load %.3g req/s per target for %.1f s (timeout %.1f s):", (double)s->warmup_ms / 1000,
           s->rate, (double)s->load_ms / 1000, (double)s->timeout_ms / 1000);
    for (int i = 0; i < s->ntargets; i++) printf(" %s=%s%s", s->targets[i].name, s->targets[i].app, s->targets[i].path);
    printf("\n");
    for (int i = 0; i < s->nactions; i++) {
        const rs_action_t *a = &s->actions[i];
        printf("  %6.1f s", (double)a->start_ms / 1000);
        if (a->stop_ms >= 0) printf(" .. %6.1f s", (double)a->stop_ms / 1000);
        else printf("           ");
        printf("  %-14s %-6s %s", a->name, a->kind, rs_action_type_names[a->type]);
        if (a->type == RS_ACT_KAFKA_LATENCY)
            printf(" %lld ms +- %lld ms on brokers %s", (long long)a->latency_ms, (long long)a->jitter_ms, a->brokers);
        if (a->type == RS_ACT_KILL) printf(" signal %d:", a->signal);
        if (a->type == RS_ACT_RESTART) printf(" %s", a->infra);
        if (a->type == RS_ACT_NETWORK)
            printf(" %s%s:", rs_net_fault_names[a->fault],
                   a->upstream && a->downstream ? "" : a->upstream ? " upstream" : " downstream");
        for (int k = 0; k < a->nkills; k++) {
            const rs_kill_target_t *t = &a->kills[k];
            if (t->infra) printf(" %s", t->app);
            else if (a->type == RS_ACT_NETWORK && !t->instance) printf(" %s#*->%s", t->app, t->link);
            else if (a->type == RS_ACT_NETWORK) printf(" %s#%d->%s", t->app, t->instance, t->link);
            else printf(" %s#%d%s", t->app, t->instance, t->sidecar ? "(sidecar)" : "");
        }
        if (a->type == RS_ACT_KILL && a->align_every_ms > 0)
            printf("; at %lld ms past a multiple of %lld ms", (long long)a->align_offset_ms, (long long)a->align_every_ms);
        if (a->type == RS_ACT_KILL && a->hold_within_ms > 0)
            printf("; once %s#%d holds a lock matching %s%s%s (at most %.1f s)", a->hold_app, a->hold_instance,
                   a->hold_lock, a->hold_unless[0] ? " without a key " : "", a->hold_unless,
                   (double)a->hold_within_ms / 1000);
        printf("\n");
    }
    for (char **e = s->env; e && *e; e++) printf("env %s\n", *e);
    char *crit = json_dumps(s->criteria, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
    printf("drain: settle %.1f s, timeout %.1f s; verify: %s\n", (double)s->settle_ms / 1000,
           (double)s->drain_timeout_ms / 1000, crit ? crit : "{}");
    free(crit);
    return 0;
}

static void usage(FILE *o) {
    fprintf(o, "usage: ripstop demo [--quick] [--out DIR] [--scenario FILE] [--dashboard-port N] [--linger SECONDS]\n"
               "                    [--seed N] [--check] [--proxy-all-links]\n"
               "  Starts the order system with its infrastructure, runs the chaos scenario against both\n"
               "  frontends, prints the verdict and writes DIR/report.html, verdict.json, recording.json.\n"
               "  Exit 0 only when the verdict holds. --check validates the scenario and prints its plan.\n"
               "  --linger keeps the dashboard up that long after the verdict; --seed replaces the scenario's.\n"
               "  --proxy-all-links: a fault proxy on every chaosLinks link, so any can be faulted through the\n"
               "  chaos API while the demo runs (default: only on the links a network action targets).\n"
               "  See docs/demo.md.\n");
}

/* Phase 1: the command line. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct demo *d, char *scenario, size_t scenario_len, int *dash_port,
                      int *check, long long *seed) {
    static const struct option opts[] = {{"quick", no_argument, 0, 'q'},
                                         {"out", required_argument, 0, 'o'},
                                         {"scenario", required_argument, 0, 's'},
                                         {"dashboard-port", required_argument, 0, 'p'},
                                         {"linger", required_argument, 0, 'l'},
                                         {"check", no_argument, 0, 'c'},
                                         {"seed", required_argument, 0, 'S'},
                                         {"proxy-all-links", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int ch;
    long long port;
    while ((ch = getopt_long(argc, argv, "qo:s:p:l:cS:Ah", opts, NULL)) != -1) {
        switch (ch) {
        case 'q': d->quick = 1; break;
        case 'o': snprintf(d->out, sizeof d->out, "%s", optarg); break;
        case 's': snprintf(scenario, scenario_len, "%s", optarg); break;
        case 'p':
            if (rs_parse_int64(optarg, &port) || port < 0 || port > 65535) {
                fprintf(stderr, "ripstop demo: --dashboard-port wants a port (0..65535, 0 = any free one)\n");
                return 2;
            }
            *dash_port = (int)port;
            break;
        case 'l':
            if (rs_duration_parse_seconds(optarg, 86400, &d->linger_ms)) {
                fprintf(stderr, "ripstop demo: --linger wants seconds (0..86400)\n");
                return 2;
            }
            break;
        case 'c': *check = 1; break;
        case 'A': d->all_links = 1; break;
        case 'S':
            if (rs_parse_int64(optarg, seed) || *seed < 0) {
                fprintf(stderr, "ripstop demo: --seed wants a whole number >= 0\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!scenario[0] && rs_find_project_path("deploy/local/scenario.yaml", scenario, scenario_len) != 0) {
        fprintf(stderr, "ripstop demo: no scenario given and deploy/local/scenario.yaml not found (use --scenario)\n");
        return 2;
    }
    return -1;
}

/* Phase 2: the scenario and its run file. Returns -1 to go on, else the exit code. */
static int load_scenario(struct demo *d, const char *scenario, long long seed) {
    char err[1024];
    if (rs_scenario_load(scenario, d->quick, &d->scn, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop demo: %s\n", err);
        return 2;
    }
    if (access(d->scn.run_file, R_OK) != 0) {
        fprintf(stderr, "ripstop demo: the scenario's run file %s is missing (the order system's deploy/local)\n",
                d->scn.run_file);
        return 1;
    }
    /* Every name the scenario uses must exist in the run file: refused here, before anything starts. */
    rs_runfile_t rf;
    if (rs_runfile_load(&rf, d->scn.run_file, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop demo: %s\n", err);
        return 2;
    }
    int bad = rs_scenario_check_system(&d->scn, &rf, err, sizeof err);
    rs_runfile_free(&rf);
    if (bad) {
        fprintf(stderr, "ripstop demo: %s\n", err);
        return 2;
    }
    if (seed >= 0) {
        d->scn.seed = (unsigned long)seed;
        json_object_set_new(d->scn.json, "seed", json_integer(seed));
    }
    return -1;
}

/* Phase 3: the output directory (made absolute) and its logs/ (into logs). */
static int prepare_output(struct demo *d, char logs[PATH_MAX]) {
    snprintf(logs, PATH_MAX, "%.*s/logs", PATH_MAX - 8, d->out);
    if (rs_mkdir_p(logs, 0755) != 0) {
        fprintf(stderr, "ripstop demo: cannot create %s: %s\n", logs, strerror(errno));
        return -1;
    }
    char *abs = realpath(d->out, NULL);
    if (abs) {
        snprintf(d->out, sizeof d->out, "%s", abs);
        free(abs);
    }
    snprintf(logs, PATH_MAX, "%.*s/logs", PATH_MAX - 8, d->out);
    return 0;
}

/* The demo's own Zipkin endpoint and the Configuration that sends the sidecars' spans to it (sampling 1, as
 * `dapr init`'s default configuration); apps whose run file names a Configuration keep theirs. Without it the
 * demo runs untraced. */
static void open_trace_collector(struct demo *d) {
    d->traces = rs_traces_new(MAX_SPANS);
    d->traces_port = rs_traces_listen(d->traces, d->base, 0);
    snprintf(d->trace_config, sizeof d->trace_config, "%.*s/tracing-config.yaml", PATH_MAX - 32, d->out);
    FILE *f = d->traces_port > 0 ? fopen(d->trace_config, "w") : NULL;
    if (f) {
        fprintf(f, "# Written by ripstop demo: every sidecar of the run exports its spans to the demo.\n"
                   "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: ripstop-demo-tracing\n"
                   "spec:\n  tracing:\n    samplingRate: \"1\"\n    zipkin:\n"
                   "      endpointAddress: http://127.0.0.1:%d/api/v2/spans\n", d->traces_port);
        if (fclose(f) == 0) return;
    }
    fprintf(stderr, "ripstop demo: no trace collector (%s): the run goes on untraced\n",
            d->traces_port > 0 ? d->trace_config : "cannot listen");
    rs_traces_free(d->traces);
    d->traces = NULL;
    d->trace_config[0] = 0;
}

/* Phase 4: the event loop and what the demo serves itself: the chaos API and the live dashboard. */
static int open_services(struct demo *d, int dash_port, const char *scenario) {
    char err[1024];
    d->phases = json_array();
    d->events = json_array();
    d->instances = json_object();
    d->kills = json_array();
    d->breaker = json_array();
    d->resiliency = json_array();
    d->blobs_lock = d->blobs_nolock = -1;
    d->created_ms = rs_now_ms();
    d->base = event_base_new();
    d->http = rs_http_client_new(d->base);
    d->chaos = rs_chaos_thread_start(d->scn.seed, err, sizeof err);
    if (!d->chaos) {
        fprintf(stderr, "ripstop demo: %s\n", err);
        return -1;
    }
    struct chaos_op op = {.kind = CHAOS_API};
    d->chaos_port = chaos_do(d, &op) ? op.port : -1;
    d->dash = rs_dashboard_start(d->base, dash_port, state_json, d, err, sizeof err);
    if (!d->dash) fprintf(stderr, "ripstop demo: no live dashboard: %s\n", err);
    open_trace_collector(d);
    printf("ripstop demo: scenario '%s' (%s, seed %lu)%s\n", d->scn.name, scenario, d->scn.seed,
           d->quick ? ", quick" : "");
    if (d->dash) printf("  dashboard: http://127.0.0.1:%d/\n", rs_dashboard_port(d->dash));
    if (d->traces) printf("  traces:    http://127.0.0.1:%d/api/v2/spans (Zipkin v2, %s)\n", d->traces_port, d->trace_config);
    printf("  chaos API: http://127.0.0.1:%d/ (Toxiproxy-compatible)\n  output:    %s\n", d->chaos_port, d->out);
    fflush(stdout);
    return 0;
}

/* Phase 5: the order system with its infrastructure, through the runner. */
static int start_system(struct demo *d, const char *logs) {
    /* Also into our own environment: the run file's ${VAR} expansion reads the runner's environment. */
    for (char **e = d->scn.env; e && *e; e++) {
        char *eq = strchr(*e, '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        setenv(name, eq + 1, 1);
    }
    /* The runner gives this run a private name-resolution table (XDG_RUNTIME_DIR), so another order
     * system on this machine cannot receive our invocations. */
    set_phase(d, "starting", "starting infrastructure and the order system");
    rs_runner_opts_t ro = {.run_file = d->scn.run_file, .base = d->base, .infra = RS_INFRA_FROM_FILE,
                           .log_dir = logs, .console = 0, .ready_timeout_ms = 120000,
                           .on_event = on_runner_event, .on_event_arg = d, .cancel = &d->cancel,
                           .extra_env = (const char *const *)d->scn.env,
                           .config_default = d->trace_config[0] ? d->trace_config : NULL, .link_fn = on_link,
                           .link_arg = d};
    /* kafka-mock's latency jitter follows the scenario's seed too (the runner passes our environment on). */
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%lu", d->scn.seed);
    setenv("KAFKA_MOCK_SEED", seed_text, 1);
    char err[1024];
    d->runner = rs_runner_start(&ro, err, sizeof err);
    if (!d->runner) {
        fprintf(stderr, "ripstop demo: cannot start the order system: %s\n  logs: %s\n", err, logs);
        return -1;
    }
    d->redis_aof = rs_runner_infra_ready(d->runner, "redis"); /* started by us: with append-only persistence */
    if (d->redis_aof)
        event_text(d, "Redis runs with append-only persistence (fsync every second, all of it on shutdown): a "
                      "restart keeps every loyalty total and lock");
    return 0;
}

/* Phase 6: what the scenario talks to: the load targets' URLs, Kafka, and the sidecars the verdict reads. */
static int resolve_targets(struct demo *d) {
    for (int i = 0; i < d->scn.ntargets; i++) {
        int port = rs_runner_app_port(d->runner, d->scn.targets[i].app, 1);
        if (port <= 0) {
            fprintf(stderr, "ripstop demo: load target '%s': app '%s' has no port in %s\n", d->scn.targets[i].name,
                    d->scn.targets[i].app, d->scn.run_file);
            return -1;
        }
        snprintf(d->urls[i], sizeof d->urls[i], "http://127.0.0.1:%d%s", port, d->scn.targets[i].path);
    }
    const char *kc = rs_runner_infra_env(d->runner, "RIPSTOP_KAFKA_CONTROL"),
               *kb = rs_runner_infra_env(d->runner, "RIPSTOP_KAFKA_BROKERS");
    snprintf(d->kafka_control, sizeof d->kafka_control, "%s", kc ? kc : "");
    snprintf(d->kafka_brokers, sizeof d->kafka_brokers, "%s", kb ? kb : "");
    if (!kb) {
        fprintf(stderr, "ripstop demo: the runner started no Kafka (RIPSTOP_KAFKA_BROKERS unknown); the verdict "
                        "needs the broker\n");
        return -1;
    }
    rs_runner_instance_t in;
    for (size_t i = 0; i < rs_runner_count(d->runner); i++) /* sidecar ports are fixed for the run (runner.h) */
        if (rs_runner_instance(d->runner, i, &in) == 0 && in.has_sidecar && in.http_port > 0) {
            char port[16];
            snprintf(port, sizeof port, "%d", in.http_port);
            json_object_set_new(d->instances, port, json_pack("{s:s, s:i, s:i}", "app", in.app_id, "instance",
                                                              in.instance, "replicas", in.replicas));
        }
    d->breaker_port = rs_runner_find(d->runner, d->scn.breaker_app, 1, &in) == 0 ? in.metrics_port : -1;
    d->lock_port = rs_runner_sidecar_port(d->runner, d->scn.lock_app, 1);
    d->nolock_port = rs_runner_sidecar_port(d->runner, d->scn.nolock_app, 1);
    if (d->lock_port <= 0 || d->nolock_port <= 0) {
        fprintf(stderr, "ripstop demo: apps '%s' and '%s' (with sidecars) are needed to read the loyalty state\n",
                d->scn.lock_app, d->scn.nolock_app);
        return -1;
    }
    for (int i = 0; i < d->scn.nactions; i++)
        if ((d->scn.actions[i].type == RS_ACT_KAFKA_LATENCY || d->scn.actions[i].type == RS_ACT_KAFKA_DOWN) && !kc) {
            fprintf(stderr, "ripstop demo: action '%s' needs kafka-mock's control API (RIPSTOP_KAFKA_CONTROL)\n",
                    d->scn.actions[i].name);
            return -1;
        }
    printf("  targets:  ");
    for (int i = 0; i < d->scn.ntargets; i++) printf(" %s=%s", d->scn.targets[i].name, d->urls[i]);
    printf("\n");
    return 0;
}

/* Phase 7: warm-up, load, drain, verify, each a step run after every event, until done (and lingered) or
 * interrupted. */
static void run_stages(struct demo *d) {
    d->stage = ST_WARMUP;
    d->warm_start = rs_now_ms();
    set_phase(d, "warmup", "warm-up: waiting for both frontends to answer");
    while (!d->cancel) {
        event_base_loop(d->base, EVLOOP_ONCE);
        if (d->stage >= ST_LOAD && d->stage < ST_VERIFY) observe(d);
        if (d->stage == ST_WARMUP) step_warmup(d);
        else if (d->stage == ST_LOAD) step_load(d);
        else if (d->stage == ST_DRAIN) step_drain(d);
        else if (d->stage == ST_VERIFY) step_verify(d);
        else if (d->stage == ST_DONE && rs_now_ms() - d->done_ms >= d->linger_ms) break;
    }
    if (d->cancel) {
        fprintf(stderr, "ripstop demo: interrupted\n");
        d->exit_code = 130;
    }
    settle_inflight(d, d->cancel ? 2000 : 15000);
}

/* Frees what open_services and the stages made (the runner is stopped by then). */
static void close_services(struct demo *d) {
    rs_load_free(d->load);
    rs_dashboard_free(d->dash);
    rs_traces_free(d->traces);
    rs_chaos_thread_stop(d->chaos);
    rs_http_client_free(d->http);
    if (d->hold_timer) event_free(d->hold_timer);
    rs_lock_watch_free(d->locks);
    event_base_free(d->base);
    json_decref(d->phases);
    json_decref(d->events);
    json_decref(d->instances);
    json_decref(d->kills);
    json_decref(d->breaker);
    json_decref(d->resiliency);
    json_decref(d->loyalty_lock);
    json_decref(d->loyalty_nolock);
    json_decref(d->published);
    json_decref(d->verdict);
    json_decref(d->expected);
}

int rs_cmd_demo(int argc, char **argv) {
    struct demo *d = rs_xcalloc(1, sizeof *d);
    char scenario[PATH_MAX] = "", logs[PATH_MAX];
    int dash_port = 0, check = 0;
    long long seed = -1;
    snprintf(d->out, sizeof d->out, "demo-out");
    int rc = parse_args(argc, argv, d, scenario, sizeof scenario, &dash_port, &check, &seed);
    if (rc < 0) rc = load_scenario(d, scenario, seed);
    if (rc < 0 && check) rc = print_plan(d, scenario);
    if (rc < 0 && prepare_output(d, logs) != 0) rc = 1;
    if (rc >= 0) {
        rs_scenario_free(&d->scn);
        free(d);
        return rc;
    }
    int opened = open_services(d, dash_port, scenario) == 0;
    g_demo = d;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct event *tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    struct timeval tv = {0, 100000};
    event_add(tick, &tv);

    if (opened && start_system(d, logs) == 0 && resolve_targets(d) == 0) run_stages(d);
    else d->exit_code = 1;

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (d->runner) {
        printf("stopping everything the demo started...\n");
        fflush(stdout);
        rs_runner_stop(d->runner);
    } else if (d->cancel && d->exit_code == 1) {
        d->exit_code = 130;
    }
    event_free(tick);
    close_services(d);
    rc = d->exit_code;
    rs_scenario_free(&d->scn);
    g_demo = NULL;
    free(d);
    return rc;
}

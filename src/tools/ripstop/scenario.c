/* SPDX-License-Identifier: MIT */
/* Scenario files are read as YAML, turned into JSON, merged with the `quick:`
 * overrides when asked, then validated field by field into rs_scenario_t. */
#include "tools/ripstop/scenario.h"

#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/str.h"
#include "core/yaml.h"

const char *const rs_action_type_names[RS_ACT_NTYPES] = {"kafka-latency", "kafka-down", "kill", "http",
                                                         "restart", "pause", "network"};
const char *const rs_net_fault_names[RS_NET_NFAULTS] = {"latency", "jitter", "timeout", "reset",
                                                       "bandwidth", "slicer", "partition"};

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    struct fy_document *doc; /* the file as written, for line numbers */
    int line;                /* the line errors name, 0: none */
};

/* The line of a node: its own for a scalar, else its first key or item's. */
static int node_line(struct fy_node *n) {
    for (int depth = 0; n && !fy_node_is_scalar(n) && depth < 16; depth++) {
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            n = NULL;
        }
    }
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    return m ? m->line + 1 : 0;
}

/* Sets the line errors name to that of a path such as "/actions/2/type" (unchanged when not found). */
static int at(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int at(struct ctx *c, const char *fmt, ...) {
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    struct fy_node *n = c->doc ? fy_node_by_path(fy_document_root(c->doc), path, FY_NT, FYNWF_DONT_FOLLOW) : NULL;
    int l = node_line(n);
    if (l > 0) c->line = l;
    return c->line;
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...) {
    int n = c->line > 0 ? snprintf(c->err, c->errlen, "%s:%d: ", c->file, c->line)
                        : snprintf(c->err, c->errlen, "%s: ", c->file);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen) vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A duration: a Go duration string ("20s", "6000ms") or a bare number of milliseconds. */
static int get_ms(struct ctx *c, const json_t *o, const char *key, const char *where, int64_t dflt, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && rs_duration_parse_ms_default(json_string_value(v), out) == 0 && *out >= 0) return 0;
    return fail(c, "%s.%s: not a duration (e.g. 20s, 6000ms)", where, key);
}

static int get_num(struct ctx *c, const json_t *o, const char *key, const char *where, double dflt, double *out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    /* YAML gives "0.9" as a string (only integers become numbers) */
    if (json_is_string(v) && rs_parse_double(json_string_value(v), out) == 0) return 0;
    return fail(c, "%s.%s: not a number", where, key);
}

/* A whole number in [min, max]. */
static int get_int(struct ctx *c, const json_t *o, const char *key, const char *where, long long dflt, long long min,
                   long long max, long long *out) {
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) *out = json_integer_value(v);
    else if (!json_is_string(v) || rs_parse_int64(json_string_value(v), out))
        return fail(c, "%s.%s: not a whole number", where, key);
    if (*out < min || *out > max) return fail(c, "%s.%s: must be in %lld..%lld", where, key, min, max);
    return 0;
}

/* Every key of o must be one of `known` (NULL-terminated): a misspelt key would otherwise silently mean its
 * default. */
static int check_keys(struct ctx *c, const json_t *o, const char *where, const char *const *known) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        (void)v;
        const char *const *q = known;
        while (*q && strcmp(*q, k) != 0) q++;
        if (!*q) return fail(c, "%s%s%s: unknown field (see docs/demo.md)", where, *where ? "." : "", k);
    }
    return 0;
}

static const char *const top_keys[] = {"name", "seed", "runFile", "warmup", "env", "load", "actions", "drain",
                                       "verify", "quick", NULL};
static const char *const load_keys[] = {"rate", "duration", "timeout", "targets", NULL};
static const char *const target_keys[] = {"name", "app", "path", NULL};
static const char *const drain_keys[] = {"timeout", "settle", NULL};
static const char *const action_keys[] = {"name",   "type",     "kind",    "start",   "stop",    "brokers",
                                          "latency", "jitter",  "signal",  "targets", "onStart", "onStop",
                                          "infra",  "fault",    "stream",  "toxicity", "timeout", "rate",
                                          "sliceSize", "sliceVariation", "sliceDelay", "alignEvery", "alignOffset",
                                          "whenHolding", NULL};
static const char *const kill_keys[] = {"app", "instance", "process", "infra", NULL};
static const char *const link_keys[] = {"app", "instance", "link", NULL};
static const char *const hold_keys[] = {"app", "instance", "lock", "unlessKey", "within", NULL};
/* The verdict's thresholds, renamed to its keys; then the names of things the verdict reads. */
static const char *const criteria_keys[][2] = {{"chaosWindow", "chaos_window"},
                                               {"minDaprChaosSuccess", "min_dapr_chaos_success"},
                                               {"minSuccessGap", "min_success_gap"},
                                               {"minChaosRequests", "min_chaos_requests"},
                                               {"daprTarget", "dapr_target"},
                                               {"directTarget", "direct_target"},
                                               {"minRetries", "min_retries"},
                                               {"minTimeouts", "min_timeouts"},
                                               {"minRedeliveries", "min_redeliveries"},
                                               {"compareFrontends", "compare_frontends"},
                                               {"breakerOpensAndCloses", "breaker_cycle"}};
static const char *const verify_keys[] = {"chaosWindow", "minDaprChaosSuccess", "minSuccessGap", "minChaosRequests",
                                          "daprTarget", "directTarget", "compareFrontends",
                                          "breakerOpensAndCloses", "minRetries", "minTimeouts", "minRedeliveries",
                                          "topic", "lockApp", "lockStore", "lockBinding",
                                          "nolockApp", "nolockStore", "nolockBinding", "breakerApp", NULL};

/* The `quick:` overrides, before they are merged: the same fields as the scenario (actions by name). */
static int check_quick(struct ctx *c, const json_t *q) {
    if (!json_is_object(q)) return q ? fail(c, "quick: a mapping of overrides") : 0;
    if (check_keys(c, q, "quick", top_keys)) return -1;
    const json_t *load = json_object_get(q, "load");
    if (json_is_object(load) && check_keys(c, load, "quick.load", load_keys)) return -1;
    const json_t *drain = json_object_get(q, "drain");
    if (json_is_object(drain) && check_keys(c, drain, "quick.drain", drain_keys)) return -1;
    const json_t *verify = json_object_get(q, "verify");
    if (json_is_object(verify) && check_keys(c, verify, "quick.verify", verify_keys)) return -1;
    const char *an;
    json_t *av;
    json_object_foreach((json_t *)json_object_get(q, "actions"), an, av) {
        char w[96];
        snprintf(w, sizeof w, "quick.actions.%s", an);
        if (json_is_object(av) && check_keys(c, av, w, action_keys)) return -1;
    }
    return 0;
}

static int get_str(struct ctx *c, const json_t *o, const char *key, const char *where, const char *dflt, char *out,
                   size_t outlen) {
    json_t *v = json_object_get(o, key);
    const char *s = dflt;
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) return fail(c, "%s.%s: not a string", where, key);
        s = json_string_value(v);
    }
    if (!s) return fail(c, "%s.%s: required", where, key);
    if (strlen(s) >= outlen) return fail(c, "%s.%s: too long", where, key);
    snprintf(out, outlen, "%s", s);
    return 0;
}

/* Deep merge of `over` into `base`; "actions" in the override is a mapping name -> fields. */
static void merge(json_t *base, const json_t *over) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)over, k, v) {
        json_t *b = json_object_get(base, k);
        if (strcmp(k, "actions") == 0 && json_is_object(v) && json_is_array(b)) {
            const char *an;
            json_t *av;
            json_object_foreach(v, an, av) {
                size_t i;
                json_t *a;
                json_array_foreach(b, i, a) if (json_is_string(json_object_get(a, "name")) &&
                                                strcmp(json_string_value(json_object_get(a, "name")), an) == 0)
                    merge(a, av);
            }
        } else if (json_is_object(v) && json_is_object(b)) {
            merge(b, v);
        } else {
            json_object_set(base, k, v);
        }
    }
}

static int parse_http(struct ctx *c, json_t *v, const char *where, json_t **out) {
    if (!v) return 0;
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "url")))
        return fail(c, "%s: wants {method, url, body}", where);
    *out = json_incref(v);
    return 0;
}

/* One target of kill or pause: {app, instance, process} or (pause) {infra}. */
static int parse_proc_target(struct ctx *c, json_t *t, const char *tw, int allow_infra, rs_kill_target_t *k) {
    char proc[16];
    long long inst;
    if (!json_is_object(t)) return fail(c, "%s: not a mapping", tw);
    if (check_keys(c, t, tw, kill_keys)) return -1;
    if (json_object_get(t, "infra")) {
        if (!allow_infra) return fail(c, "%s.infra: only pause takes infrastructure targets (restart: use infra:)", tw);
        if (json_object_size(t) != 1) return fail(c, "%s: {infra: NAME} takes nothing else", tw);
        if (get_str(c, t, "infra", tw, NULL, k->app, sizeof k->app)) return -1;
        if (strcmp(k->app, "redis") && strcmp(k->app, "azurite") && strcmp(k->app, "kafka-mock"))
            return fail(c, "%s.infra: '%s' is not one of redis, azurite, kafka-mock", tw, k->app);
        k->infra = 1;
        k->instance = 1;
        return 0;
    }
    if (get_str(c, t, "app", tw, NULL, k->app, sizeof k->app) || get_int(c, t, "instance", tw, 1, 1, 64, &inst) ||
        get_str(c, t, "process", tw, "app", proc, sizeof proc))
        return -1;
    k->instance = (int)inst;
    if (strcmp(proc, "app") != 0 && strcmp(proc, "sidecar") != 0)
        return fail(c, "%s.process: '%s' is not one of app, sidecar", tw, proc);
    k->sidecar = strcmp(proc, "sidecar") == 0;
    return 0;
}

/* The targets list of kill, pause and network actions. */
static int parse_targets(struct ctx *c, json_t *a, int idx, const char *where, rs_action_t *out) {
    json_t *ts = json_object_get(a, "targets");
    at(c, "/actions/%d/targets", idx);
    int net = out->type == RS_ACT_NETWORK;
    if (!json_is_array(ts) || json_array_size(ts) == 0 || json_array_size(ts) > RS_SCN_MAX_KILLS)
        return fail(c, "%s.targets: a list of 1..%d %s", where, RS_SCN_MAX_KILLS,
                    net ? "{app, instance, link}" : "{app, instance, process}");
    size_t i;
    json_t *t;
    json_array_foreach(ts, i, t) {
        rs_kill_target_t *k = &out->kills[out->nkills++];
        char tw[96];
        snprintf(tw, sizeof tw, "%s.targets[%zu]", where, i);
        k->line = at(c, "/actions/%d/targets/%zu", idx, i);
        if (!net) {
            if (parse_proc_target(c, t, tw, out->type == RS_ACT_PAUSE, k)) return -1;
            continue;
        }
        long long inst;
        if (!json_is_object(t)) return fail(c, "%s: not a mapping", tw);
        if (check_keys(c, t, tw, link_keys) || get_str(c, t, "app", tw, NULL, k->app, sizeof k->app) ||
            get_int(c, t, "instance", tw, 0, 1, 64, &inst) || get_str(c, t, "link", tw, NULL, k->link, sizeof k->link))
            return -1;
        k->instance = (int)inst;
        if (strcmp(k->link, "app") && strcmp(k->link, "redis") && strcmp(k->link, "blob"))
            return fail(c, "%s.link: '%s' is not one of app, redis, blob", tw, k->link);
    }
    return 0;
}

/* A kill's whenHolding {app, instance, lock, unlessKey, within}: the kill waits for that target's app to hold a
 * lock whose resource id matches `lock` (a glob) and for which the Redis key unlessKey names does not exist, at
 * most `within`. */
static int parse_holding(struct ctx *c, json_t *a, int idx, const char *where, rs_action_t *out) {
    json_t *h = json_object_get(a, "whenHolding");
    if (!h || json_is_null(h)) return 0;
    char hw[96];
    snprintf(hw, sizeof hw, "%s.whenHolding", where);
    at(c, "/actions/%d/whenHolding", idx);
    if (!json_is_object(h)) return fail(c, "%s: a mapping {app, instance, lock, unlessKey, within}", hw);
    long long inst;
    if (check_keys(c, h, hw, hold_keys) || get_str(c, h, "app", hw, NULL, out->hold_app, sizeof out->hold_app) ||
        get_int(c, h, "instance", hw, 1, 1, 64, &inst) ||
        get_str(c, h, "lock", hw, NULL, out->hold_lock, sizeof out->hold_lock) ||
        get_str(c, h, "unlessKey", hw, "", out->hold_unless, sizeof out->hold_unless) ||
        get_ms(c, h, "within", hw, 10000, &out->hold_within_ms))
        return -1;
    out->hold_instance = (int)inst;
    if (!out->hold_lock[0] || strstr(out->hold_lock, "||") || strpbrk(out->hold_lock, " \t\r\n"))
        return fail(c, "%s.lock: a lock resource id or glob (no '||', no spaces)", hw);
    if (strpbrk(out->hold_unless, " \t\r\n")) return fail(c, "%s.unlessKey: a Redis key (no spaces)", hw);
    if (out->hold_within_ms <= 0 || out->hold_within_ms > 600000)
        return fail(c, "%s.within: more than 0 and at most 10m", hw);
    for (int i = 0; i < out->nkills; i++)
        if (!out->kills[i].sidecar && !out->kills[i].infra && out->kills[i].instance == out->hold_instance &&
            !strcmp(out->kills[i].app, out->hold_app))
            return 0;
    return fail(c, "%s: %s#%d's app is not one of the action's targets", hw, out->hold_app, out->hold_instance);
}

/* The fields of a network action: the fault and its attributes. */
static int parse_network(struct ctx *c, json_t *a, int idx, const char *where, rs_action_t *out) {
    char fault[16], stream[16];
    at(c, "/actions/%d/fault", idx);
    if (get_str(c, a, "fault", where, NULL, fault, sizeof fault)) return -1;
    int f = -1;
    for (int i = 0; i < RS_NET_NFAULTS; i++)
        if (!strcmp(fault, rs_net_fault_names[i])) f = i;
    if (f < 0)
        return fail(c, "%s.fault: '%s' is not one of latency, jitter, timeout, reset, bandwidth, slicer, partition",
                    where, fault);
    out->fault = (rs_net_fault_t)f;
    at(c, "/actions/%d", idx);
    if (get_str(c, a, "stream", where, f == RS_NET_LATENCY || f == RS_NET_JITTER ? "downstream" : "both", stream,
                sizeof stream))
        return -1;
    if (!strcmp(stream, "both")) out->upstream = out->downstream = 1;
    else if (!strcmp(stream, "upstream")) out->upstream = 1;
    else if (!strcmp(stream, "downstream")) out->downstream = 1;
    else return fail(c, "%s.stream: '%s' is not one of upstream, downstream, both", where, stream);
    int64_t dflt_latency = f == RS_NET_JITTER ? -1 : 1000;
    long long size, var;
    if (get_ms(c, a, "latency", where, dflt_latency, &out->latency_ms) ||
        get_ms(c, a, "jitter", where, 0, &out->jitter_ms) || get_ms(c, a, "timeout", where, 0, &out->timeout_ms) ||
        get_num(c, a, "rate", where, 0, &out->rate_kbs) || get_num(c, a, "toxicity", where, 1, &out->toxicity) ||
        get_int(c, a, "sliceSize", where, 64, 1, 1 << 20, &size) ||
        get_int(c, a, "sliceVariation", where, 0, 0, 1 << 20, &var) ||
        get_ms(c, a, "sliceDelay", where, 10, &out->slice_delay_us))
        return -1;
    if (f == RS_NET_JITTER) {
        if (out->jitter_ms <= 0) return fail(c, "%s.jitter: required (> 0) for the jitter fault", where);
        if (out->latency_ms < 0) out->latency_ms = out->jitter_ms; /* default: delays of 0 .. 2 x jitter */
    }
    out->slice_bytes = size;
    out->slice_var_bytes = var;
    out->slice_delay_us *= 1000;
    if (!(out->toxicity >= 0 && out->toxicity <= 1)) return fail(c, "%s.toxicity: must be in 0..1", where);
    if (f == RS_NET_BANDWIDTH && !(out->rate_kbs >= 1 && out->rate_kbs <= 1e9))
        return fail(c, "%s.rate: required for bandwidth, in KB/s (>= 1)", where);
    return 0;
}

static int parse_action(struct ctx *c, json_t *a, int idx, rs_action_t *out) {
    char where[64];
    snprintf(where, sizeof where, "actions[%d]", idx);
    out->line = at(c, "/actions/%d", idx);
    if (!json_is_object(a)) return fail(c, "%s: not a mapping", where);
    if (check_keys(c, a, where, action_keys)) return -1;
    char type[32];
    if (get_str(c, a, "name", where, NULL, out->name, sizeof out->name)) return -1;
    at(c, "/actions/%d/type", idx);
    if (get_str(c, a, "type", where, NULL, type, sizeof type)) return -1;
    int ti = -1;
    for (int i = 0; i < RS_ACT_NTYPES; i++)
        if (!strcmp(type, rs_action_type_names[i])) ti = i;
    if (ti < 0) return fail(c, "%s.type: '%s' is not one of " RS_ACT_TYPE_LIST, where, type);
    out->type = (rs_action_type_t)ti;
    at(c, "/actions/%d", idx);
    const char *dkind = out->type == RS_ACT_KILL ? "crash" : "chaos";
    if (get_str(c, a, "kind", where, dkind, out->kind, sizeof out->kind)) return -1;
    if (get_ms(c, a, "start", where, -1, &out->start_ms)) return -1;
    if (out->start_ms < 0) return fail(c, "%s.start: required", where);
    if (get_ms(c, a, "stop", where, -1, &out->stop_ms)) return -1;
    if (out->stop_ms >= 0 && out->stop_ms < out->start_ms) return fail(c, "%s.stop: before start", where);
    if (get_str(c, a, "brokers", where, "all", out->brokers, sizeof out->brokers)) return -1;
    long long sig;
    switch (out->type) {
    case RS_ACT_KAFKA_LATENCY:
        if (get_ms(c, a, "latency", where, 6000, &out->latency_ms) || get_ms(c, a, "jitter", where, 0, &out->jitter_ms))
            return -1;
        break;
    case RS_ACT_KAFKA_DOWN: break;
    case RS_ACT_KILL:
        if (get_int(c, a, "signal", where, SIGKILL, 1, SIGRTMAX, &sig)) return -1;
        out->signal = (int)sig;
        if (get_ms(c, a, "alignEvery", where, 0, &out->align_every_ms) ||
            get_ms(c, a, "alignOffset", where, 0, &out->align_offset_ms))
            return -1;
        if (out->align_every_ms > 3600000) return fail(c, "%s.alignEvery: at most 1h", where);
        if (out->align_offset_ms && out->align_offset_ms >= out->align_every_ms)
            return fail(c, "%s.alignOffset: wants alignEvery, and less than it", where);
        if (parse_targets(c, a, idx, where, out)) return -1;
        if (parse_holding(c, a, idx, where, out)) return -1;
        break;
    case RS_ACT_PAUSE:
    case RS_ACT_NETWORK:
        if (parse_targets(c, a, idx, where, out)) return -1;
        at(c, "/actions/%d", idx);
        if (out->type == RS_ACT_NETWORK && parse_network(c, a, idx, where, out)) return -1;
        break;
    case RS_ACT_RESTART:
        at(c, "/actions/%d/infra", idx);
        if (get_str(c, a, "infra", where, NULL, out->infra, sizeof out->infra)) return -1;
        if (strcmp(out->infra, "redis") && strcmp(out->infra, "azurite") && strcmp(out->infra, "kafka"))
            return fail(c, "%s.infra: '%s' is not one of redis, azurite, kafka", where, out->infra);
        break;
    case RS_ACT_HTTP:
        if (parse_http(c, json_object_get(a, "onStart"), where, &out->on_start) ||
            parse_http(c, json_object_get(a, "onStop"), where, &out->on_stop))
            return -1;
        if (!out->on_start && !out->on_stop) return fail(c, "%s: http wants onStart and/or onStop", where);
        break;
    case RS_ACT_NTYPES: break;
    }
    at(c, "/actions/%d", idx);
    /* Faults that last: a window with an end, where the thing comes back. */
    if (out->stop_ms < 0 && out->type != RS_ACT_KILL && out->type != RS_ACT_HTTP)
        return fail(c, "%s.stop: required for %s", where, type);
    /* Fields that belong to another type are mistakes too. */
    static const struct { const char *key; unsigned types; } only[] = {
        {"latency", 1u << RS_ACT_KAFKA_LATENCY | 1u << RS_ACT_NETWORK},
        {"jitter", 1u << RS_ACT_KAFKA_LATENCY | 1u << RS_ACT_NETWORK},
        {"brokers", 1u << RS_ACT_KAFKA_LATENCY | 1u << RS_ACT_KAFKA_DOWN},
        {"signal", 1u << RS_ACT_KILL}, {"alignEvery", 1u << RS_ACT_KILL}, {"alignOffset", 1u << RS_ACT_KILL},
        {"whenHolding", 1u << RS_ACT_KILL},
        {"targets", 1u << RS_ACT_KILL | 1u << RS_ACT_PAUSE | 1u << RS_ACT_NETWORK},
        {"onStart", 1u << RS_ACT_HTTP}, {"onStop", 1u << RS_ACT_HTTP}, {"infra", 1u << RS_ACT_RESTART},
        {"fault", 1u << RS_ACT_NETWORK}, {"stream", 1u << RS_ACT_NETWORK}, {"toxicity", 1u << RS_ACT_NETWORK},
        {"timeout", 1u << RS_ACT_NETWORK}, {"rate", 1u << RS_ACT_NETWORK}, {"sliceSize", 1u << RS_ACT_NETWORK},
        {"sliceVariation", 1u << RS_ACT_NETWORK}, {"sliceDelay", 1u << RS_ACT_NETWORK}};
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++)
        if (json_object_get(a, only[i].key) && !(only[i].types & (1u << out->type))) {
            at(c, "/actions/%d/%s", idx, only[i].key);
            return fail(c, "%s.%s: not a field of a %s action", where, only[i].key, type);
        }
    return 0;
}

/* Phase 1: the YAML as JSON, with the `quick:` overrides merged in when asked. NULL on error. */
static json_t *read_scenario(struct ctx *c, const char *path, int quick) {
    struct fy_document *doc = fy_document_build_from_file(NULL, path);
    if (!doc) {
        fail(c, "cannot read or parse the YAML");
        return NULL;
    }
    json_t *root = rs_yaml_to_json(fy_document_root(doc));
    c->doc = doc; /* destroyed by rs_scenario_load */
    if (!json_is_object(root)) {
        json_decref(root);
        fail(c, "the top level must be a mapping");
        return NULL;
    }
    if (check_keys(c, root, "", top_keys) || check_quick(c, json_object_get(root, "quick"))) {
        json_decref(root);
        return NULL;
    }
    if (quick && json_is_object(json_object_get(root, "quick"))) merge(root, json_object_get(root, "quick"));
    json_object_del(root, "quick");
    return root;
}

/* Phase 2: name, seed, run file, warm-up, the load (rate, duration, targets) and the drain. */
static int parse_load(struct ctx *c, rs_scenario_t *s) {
    const json_t *root = s->json, *load = json_object_get(root, "load"), *drain = json_object_get(root, "drain");
    if ((load && !json_is_object(load)) || (drain && !json_is_object(drain)))
        return fail(c, "%s: a mapping", load && !json_is_object(load) ? "load" : "drain");
    long long seed;
    double rate;
    char run[PATH_MAX];
    if (check_keys(c, load, "load", load_keys) || check_keys(c, drain, "drain", drain_keys) ||
        get_str(c, root, "name", "", "scenario", s->name, sizeof s->name) ||
        get_int(c, root, "seed", "", 1, 0, LLONG_MAX, &seed) ||
        get_str(c, root, "runFile", "", "dapr.yaml", run, sizeof run) ||
        get_ms(c, root, "warmup", "", 5000, &s->warmup_ms) || get_num(c, load, "rate", "load", 1, &rate) ||
        get_ms(c, load, "duration", "load", 60000, &s->load_ms) ||
        get_ms(c, load, "timeout", "load", 60000, &s->timeout_ms) ||
        get_ms(c, drain, "timeout", "drain", 120000, &s->drain_timeout_ms) ||
        get_ms(c, drain, "settle", "drain", 7000, &s->settle_ms))
        return -1;
    if (!(rate > 0) || rate > 1000) return fail(c, "load.rate: must be in (0, 1000]");
    if (s->load_ms <= 0) return fail(c, "load.duration: must be > 0");
    s->seed = (unsigned long)seed;
    s->rate = rate;
    if (run[0] == '/') snprintf(s->run_file, sizeof s->run_file, "%s", run);
    else {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", s->path);
        snprintf(s->run_file, sizeof s->run_file, "%.*s/%s", PATH_MAX / 2, dirname(tmp), run);
    }
    json_t *ts = json_object_get(load, "targets");
    if (!json_is_array(ts) || json_array_size(ts) < 1 || json_array_size(ts) > RS_SCN_MAX_TARGETS)
        return fail(c, "load.targets: a list of 1..%d {name, app, path}", RS_SCN_MAX_TARGETS);
    size_t i;
    json_t *t;
    json_array_foreach(ts, i, t) {
        rs_scn_target_t *x = &s->targets[s->ntargets++];
        char w[32];
        snprintf(w, sizeof w, "load.targets[%zu]", i);
        x->line = at(c, "/load/targets/%zu", i);
        if (!json_is_object(t)) return fail(c, "%s: not a mapping", w);
        if (check_keys(c, t, w, target_keys) || get_str(c, t, "name", w, NULL, x->name, sizeof x->name) ||
            get_str(c, t, "app", w, NULL, x->app, sizeof x->app) ||
            get_str(c, t, "path", w, "/", x->path, sizeof x->path))
            return -1;
    }
    return 0;
}

/* Phase 3: env, as the NULL-terminated "KEY=VALUE" list the runner takes. */
static int parse_env(struct ctx *c, rs_scenario_t *s) {
    json_t *env = json_object_get(s->json, "env");
    if (env && !json_is_object(env)) return fail(c, "env: a mapping of NAME: value");
    s->env = rs_xcalloc(json_object_size(env) + 1, sizeof(char *));
    const char *ek;
    json_t *ev;
    size_t ne = 0;
    json_object_foreach(env, ek, ev) {
        char val[1024];
        if (json_is_string(ev)) snprintf(val, sizeof val, "%s", json_string_value(ev));
        else if (json_is_integer(ev)) snprintf(val, sizeof val, "%lld", (long long)json_integer_value(ev));
        else if (json_is_boolean(ev)) snprintf(val, sizeof val, "%s", json_is_true(ev) ? "true" : "false");
        else return fail(c, "env.%s: a string or number", ek);
        if (!*ek || strchr(ek, '=')) return fail(c, "env: bad variable name '%s'", ek);
        s->env[ne] = rs_xmalloc(strlen(ek) + strlen(val) + 2);
        sprintf(s->env[ne++], "%s=%s", ek, val);
    }
    return 0;
}

/* Phase 4: the actions, each name used once. */
static int parse_actions(struct ctx *c, rs_scenario_t *s) {
    json_t *acts = json_object_get(s->json, "actions");
    if (acts && (!json_is_array(acts) || json_array_size(acts) > RS_SCN_MAX_ACTIONS))
        return fail(c, "actions: a list of at most %d actions", RS_SCN_MAX_ACTIONS);
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a) {
        if (parse_action(c, a, (int)i, &s->actions[s->nactions++]) != 0) return -1;
        for (int j = 0; j + 1 < s->nactions; j++)
            if (strcmp(s->actions[j].name, s->actions[s->nactions - 1].name) == 0)
                return fail(c, "actions[%zu].name: '%s' used twice", i, s->actions[j].name);
    }
    return 0;
}

/* Phase 5: verify: where the verdict reads its inputs, and its thresholds (renamed to the verdict's keys). */
static int parse_verify(struct ctx *c, rs_scenario_t *s) {
    const json_t *verify = json_object_get(s->json, "verify");
    if (verify && !json_is_object(verify)) return fail(c, "verify: a mapping");
    if (check_keys(c, verify, "verify", verify_keys) ||
        get_str(c, verify, "topic", "verify", "order", s->topic, sizeof s->topic) ||
        get_str(c, verify, "lockApp", "verify", "customer-loyalty-job", s->lock_app, sizeof s->lock_app) ||
        get_str(c, verify, "lockStore", "verify", "loyalty-store", s->lock_store, sizeof s->lock_store) ||
        get_str(c, verify, "lockBinding", "verify", "order-binding", s->lock_binding, sizeof s->lock_binding) ||
        get_str(c, verify, "nolockApp", "verify", "customer-loyalty-job-nolock", s->nolock_app,
                sizeof s->nolock_app) ||
        get_str(c, verify, "nolockStore", "verify", "loyalty-store-nolock", s->nolock_store,
                sizeof s->nolock_store) ||
        get_str(c, verify, "nolockBinding", "verify", "order-binding-nolock", s->nolock_binding,
                sizeof s->nolock_binding) ||
        get_str(c, verify, "breakerApp", "verify", "customer-order-service", s->breaker_app, sizeof s->breaker_app))
        return -1;
    s->criteria = json_object();
    for (size_t k = 0; k < sizeof criteria_keys / sizeof criteria_keys[0]; k++) {
        json_t *v = json_object_get(verify, criteria_keys[k][0]);
        if (!v) continue;
        if (k >= 9) { /* the yes/no ones */
            int b = json_is_true(v);
            if (!json_is_boolean(v) && !(json_is_string(v) && !rs_parse_bool(json_string_value(v), &b)))
                return fail(c, "verify.%s: true or false", criteria_keys[k][0]);
            json_object_set_new(s->criteria, criteria_keys[k][1], json_boolean(b));
        } else if (json_is_string(v) && ((k > 0 && k < 4) || (k >= 6 && k < 9))) {
            double d;
            if (get_num(c, verify, criteria_keys[k][0], "verify", 0, &d)) return -1;
            json_object_set_new(s->criteria, criteria_keys[k][1], json_real(d));
        } else {
            json_object_set(s->criteria, criteria_keys[k][1], v);
        }
    }
    return 0;
}

int rs_scenario_load(const char *path, int quick, rs_scenario_t *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    struct ctx c = {path, err, errlen, NULL, 0};
    snprintf(s->path, sizeof s->path, "%s", path);
    s->json = read_scenario(&c, path, quick);
    int rc = 0;
    if (!s->json || parse_load(&c, s) || parse_env(&c, s) || parse_actions(&c, s) || (c.line = 0, parse_verify(&c, s))) {
        rs_scenario_free(s);
        rc = -1;
    }
    if (c.doc) fy_document_destroy(c.doc);
    return rc;
}

void rs_scenario_free(rs_scenario_t *s) {
    for (int i = 0; i < s->nactions; i++) {
        json_decref(s->actions[i].on_start);
        json_decref(s->actions[i].on_stop);
    }
    for (char **e = s->env; e && *e; e++) free(*e);
    free(s->env);
    json_decref(s->criteria);
    json_decref(s->json);
    memset(s, 0, sizeof *s);
}

int64_t rs_scenario_end_ms(const rs_scenario_t *s) {
    int64_t end = s->load_ms;
    for (int i = 0; i < s->nactions; i++) {
        int64_t e = s->actions[i].stop_ms >= 0 ? s->actions[i].stop_ms : s->actions[i].start_ms;
        if (e > end) end = e;
    }
    return end;
}

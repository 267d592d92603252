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

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...) {
    int n = snprintf(c->err, c->errlen, "%s: ", c->file);
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
    if (json_is_string(v)) {
        char *end;
        *out = strtod(json_string_value(v), &end);
        if (end != json_string_value(v) && !*end) return 0;
    }
    return fail(c, "%s.%s: not a number", where, key);
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

static int parse_action(struct ctx *c, json_t *a, int idx, rs_action_t *out) {
    char where[64];
    snprintf(where, sizeof where, "actions[%d]", idx);
    if (!json_is_object(a)) return fail(c, "%s: not a mapping", where);
    char type[32];
    if (get_str(c, a, "name", where, NULL, out->name, sizeof out->name) ||
        get_str(c, a, "type", where, NULL, type, sizeof type))
        return -1;
    if (strcmp(type, "kafka-latency") == 0) out->type = RS_ACT_KAFKA_LATENCY;
    else if (strcmp(type, "kafka-down") == 0) out->type = RS_ACT_KAFKA_DOWN;
    else if (strcmp(type, "kill") == 0) out->type = RS_ACT_KILL;
    else if (strcmp(type, "http") == 0) out->type = RS_ACT_HTTP;
    else return fail(c, "%s.type: '%s' is not one of kafka-latency, kafka-down, kill, http", where, type);
    const char *dkind = out->type == RS_ACT_KILL ? "crash" : "chaos";
    if (get_str(c, a, "kind", where, dkind, out->kind, sizeof out->kind)) return -1;
    if (get_ms(c, a, "start", where, -1, &out->start_ms)) return -1;
    if (out->start_ms < 0) return fail(c, "%s.start: required", where);
    if (get_ms(c, a, "stop", where, -1, &out->stop_ms)) return -1;
    if (out->stop_ms >= 0 && out->stop_ms < out->start_ms) return fail(c, "%s.stop: before start", where);
    if (get_str(c, a, "brokers", where, "all", out->brokers, sizeof out->brokers)) return -1;
    double sig;
    switch (out->type) {
    case RS_ACT_KAFKA_LATENCY:
        if (get_ms(c, a, "latency", where, 6000, &out->latency_ms) || get_ms(c, a, "jitter", where, 0, &out->jitter_ms))
            return -1;
        /* fallthrough */
    case RS_ACT_KAFKA_DOWN:
        if (out->stop_ms < 0) return fail(c, "%s.stop: required for %s", where, type);
        break;
    case RS_ACT_KILL: {
        if (get_num(c, a, "signal", where, SIGKILL, &sig)) return -1;
        out->signal = (int)sig;
        json_t *ts = json_object_get(a, "targets");
        if (!json_is_array(ts) || json_array_size(ts) == 0 || json_array_size(ts) > RS_SCN_MAX_KILLS)
            return fail(c, "%s.targets: a list of 1..%d {app, instance, process}", where, RS_SCN_MAX_KILLS);
        size_t i;
        json_t *t;
        json_array_foreach(ts, i, t) {
            rs_kill_target_t *k = &out->kills[out->nkills++];
            char tw[96], proc[16];
            double inst;
            snprintf(tw, sizeof tw, "%s.targets[%zu]", where, i);
            if (get_str(c, t, "app", tw, NULL, k->app, sizeof k->app) ||
                get_num(c, t, "instance", tw, 1, &inst) || get_str(c, t, "process", tw, "app", proc, sizeof proc))
                return -1;
            if (inst < 1) return fail(c, "%s.instance: must be >= 1", tw);
            k->instance = (int)inst;
            if (strcmp(proc, "app") != 0 && strcmp(proc, "sidecar") != 0)
                return fail(c, "%s.process: app or sidecar", tw);
            k->sidecar = strcmp(proc, "sidecar") == 0;
        }
        break;
    }
    case RS_ACT_HTTP:
        if (parse_http(c, json_object_get(a, "onStart"), where, &out->on_start) ||
            parse_http(c, json_object_get(a, "onStop"), where, &out->on_stop))
            return -1;
        if (!out->on_start && !out->on_stop) return fail(c, "%s: http wants onStart and/or onStop", where);
        break;
    }
    return 0;
}

int rs_scenario_load(const char *path, int quick, rs_scenario_t *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    struct ctx c = {path, err, errlen};
    struct fy_document *doc = fy_document_build_from_file(NULL, path);
    if (!doc) return fail(&c, "cannot read or parse the YAML");
    json_t *root = rs_yaml_to_json(fy_document_root(doc));
    fy_document_destroy(doc);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(&c, "the top level must be a mapping");
    }
    if (quick && json_is_object(json_object_get(root, "quick"))) merge(root, json_object_get(root, "quick"));
    json_object_del(root, "quick");
    s->json = root;
    snprintf(s->path, sizeof s->path, "%s", path);
    double seed, rate;
    char run[PATH_MAX];
    const json_t *load = json_object_get(root, "load"), *drain = json_object_get(root, "drain"),
                 *verify = json_object_get(root, "verify");
    if (get_str(&c, root, "name", "", "scenario", s->name, sizeof s->name) ||
        get_num(&c, root, "seed", "", 1, &seed) || get_str(&c, root, "runFile", "", "dapr.yaml", run, sizeof run) ||
        get_ms(&c, root, "warmup", "", 5000, &s->warmup_ms) || get_num(&c, load, "rate", "load", 1, &rate) ||
        get_ms(&c, load, "duration", "load", 60000, &s->load_ms) ||
        get_ms(&c, load, "timeout", "load", 60000, &s->timeout_ms) ||
        get_ms(&c, drain, "timeout", "drain", 120000, &s->drain_timeout_ms) ||
        get_ms(&c, drain, "settle", "drain", 7000, &s->settle_ms))
        goto bad;
    if (!(rate > 0) || rate > 1000) {
        fail(&c, "load.rate: must be in (0, 1000]");
        goto bad;
    }
    if (s->load_ms <= 0) {
        fail(&c, "load.duration: must be > 0");
        goto bad;
    }
    s->seed = (unsigned long)seed;
    s->rate = rate;
    if (run[0] == '/') snprintf(s->run_file, sizeof s->run_file, "%s", run);
    else {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        snprintf(s->run_file, sizeof s->run_file, "%.*s/%s", PATH_MAX / 2, dirname(tmp), run);
    }
    json_t *ts = json_object_get(load, "targets");
    if (!json_is_array(ts) || json_array_size(ts) < 1 || json_array_size(ts) > RS_SCN_MAX_TARGETS) {
        fail(&c, "load.targets: a list of 1..%d {name, app, path}", RS_SCN_MAX_TARGETS);
        goto bad;
    }
    size_t i;
    json_t *t;
    json_array_foreach(ts, i, t) {
        rs_scn_target_t *x = &s->targets[s->ntargets++];
        char w[32];
        snprintf(w, sizeof w, "load.targets[%zu]", i);
        if (get_str(&c, t, "name", w, NULL, x->name, sizeof x->name) ||
            get_str(&c, t, "app", w, NULL, x->app, sizeof x->app) ||
            get_str(&c, t, "path", w, "/", x->path, sizeof x->path))
            goto bad;
    }
    json_t *env = json_object_get(root, "env");
    if (env && !json_is_object(env)) {
        fail(&c, "env: a mapping of NAME: value");
        goto bad;
    }
    s->env = rs_xcalloc(json_object_size(env) + 1, sizeof(char *));
    const char *ek;
    json_t *ev;
    size_t ne = 0;
    json_object_foreach(env, ek, ev) {
        char val[1024];
        if (json_is_string(ev)) snprintf(val, sizeof val, "%s", json_string_value(ev));
        else if (json_is_integer(ev)) snprintf(val, sizeof val, "%lld", (long long)json_integer_value(ev));
        else if (json_is_boolean(ev)) snprintf(val, sizeof val, "%s", json_is_true(ev) ? "true" : "false");
        else {
            fail(&c, "env.%s: a string or number", ek);
            goto bad;
        }
        if (!*ek || strchr(ek, '=')) {
            fail(&c, "env: bad variable name '%s'", ek);
            goto bad;
        }
        s->env[ne] = rs_xmalloc(strlen(ek) + strlen(val) + 2);
        sprintf(s->env[ne++], "%s=%s", ek, val);
    }
    json_t *acts = json_object_get(root, "actions");
    if (acts && (!json_is_array(acts) || json_array_size(acts) > RS_SCN_MAX_ACTIONS)) {
        fail(&c, "actions: a list of at most %d actions", RS_SCN_MAX_ACTIONS);
        goto bad;
    }
    json_t *a;
    json_array_foreach(acts, i, a) {
        if (parse_action(&c, a, (int)i, &s->actions[s->nactions++]) != 0) goto bad;
        for (int j = 0; j + 1 < s->nactions; j++)
            if (strcmp(s->actions[j].name, s->actions[s->nactions - 1].name) == 0) {
                fail(&c, "actions[%zu].name: '%s' used twice", i, s->actions[j].name);
                goto bad;
            }
    }
    if (get_str(&c, verify, "topic", "verify", "order", s->topic, sizeof s->topic) ||
        get_str(&c, verify, "lockApp", "verify", "customer-loyalty-job", s->lock_app, sizeof s->lock_app) ||
        get_str(&c, verify, "lockStore", "verify", "loyalty-store", s->lock_store, sizeof s->lock_store) ||
        get_str(&c, verify, "lockBinding", "verify", "order-binding", s->lock_binding, sizeof s->lock_binding) ||
        get_str(&c, verify, "nolockApp", "verify", "customer-loyalty-job-nolock", s->nolock_app,
                sizeof s->nolock_app) ||
        get_str(&c, verify, "nolockStore", "verify", "loyalty-store-nolock", s->nolock_store,
                sizeof s->nolock_store) ||
        get_str(&c, verify, "nolockBinding", "verify", "order-binding-nolock", s->nolock_binding,
                sizeof s->nolock_binding) ||
        get_str(&c, verify, "breakerApp", "verify", "customer-order-service", s->breaker_app, sizeof s->breaker_app))
        goto bad;
    /* The verdict's thresholds, renamed to its keys. */
    s->criteria = json_object();
    static const char *const keys[][2] = {{"chaosWindow", "chaos_window"},
                                          {"minDaprChaosSuccess", "min_dapr_chaos_success"},
                                          {"minSuccessGap", "min_success_gap"},
                                          {"minChaosRequests", "min_chaos_requests"},
                                          {"daprTarget", "dapr_target"},
                                          {"directTarget", "direct_target"}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *v = json_object_get(verify, keys[k][0]);
        if (!v) continue;
        if (json_is_string(v) && k > 0 && k < 4) {
            double d;
            if (get_num(&c, verify, keys[k][0], "verify", 0, &d)) goto bad;
            json_object_set_new(s->criteria, keys[k][1], json_real(d));
        } else {
            json_object_set(s->criteria, keys[k][1], v);
        }
    }
    return 0;
bad:
    rs_scenario_free(s);
    return -1;
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

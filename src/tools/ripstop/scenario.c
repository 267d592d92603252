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
static const char *const action_keys[] = {"name", "type", "kind", "start", "stop", "brokers", "latency", "jitter",
                                          "signal", "targets", "onStart", "onStop", NULL};
static const char *const kill_keys[] = {"app", "instance", "process", NULL};
/* The verdict's thresholds, renamed to its keys; then the names of things the verdict reads. */
static const char *const criteria_keys[][2] = {{"chaosWindow", "chaos_window"},
                                               {"minDaprChaosSuccess", "min_dapr_chaos_success"},
                                               {"minSuccessGap", "min_success_gap"},
                                               {"minChaosRequests", "min_chaos_requests"},
                                               {"daprTarget", "dapr_target"},
                                               {"directTarget", "direct_target"}};
static const char *const verify_keys[] = {"chaosWindow", "minDaprChaosSuccess", "minSuccessGap", "minChaosRequests",
                                          "daprTarget", "directTarget", "topic", "lockApp", "lockStore", "lockBinding",
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

static int parse_action(struct ctx *c, json_t *a, int idx, rs_action_t *out) {
    char where[64];
    snprintf(where, sizeof where, "actions[%d]", idx);
    if (!json_is_object(a)) return fail(c, "%s: not a mapping", where);
    if (check_keys(c, a, where, action_keys)) return -1;
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
    long long sig;
    switch (out->type) {
    case RS_ACT_KAFKA_LATENCY:
        if (get_ms(c, a, "latency", where, 6000, &out->latency_ms) || get_ms(c, a, "jitter", where, 0, &out->jitter_ms))
            return -1;
        /* fallthrough */
    case RS_ACT_KAFKA_DOWN:
        if (out->stop_ms < 0) return fail(c, "%s.stop: required for %s", where, type);
        break;
    case RS_ACT_KILL: {
        if (get_int(c, a, "signal", where, SIGKILL, 1, SIGRTMAX, &sig)) return -1;
        out->signal = (int)sig;
        json_t *ts = json_object_get(a, "targets");
        if (!json_is_array(ts) || json_array_size(ts) == 0 || json_array_size(ts) > RS_SCN_MAX_KILLS)
            return fail(c, "%s.targets: a list of 1..%d {app, instance, process}", where, RS_SCN_MAX_KILLS);
        size_t i;
        json_t *t;
        json_array_foreach(ts, i, t) {
            rs_kill_target_t *k = &out->kills[out->nkills++];
            char tw[96], proc[16];
            long long inst;
            snprintf(tw, sizeof tw, "%s.targets[%zu]", where, i);
            if (!json_is_object(t)) return fail(c, "%s: not a mapping", tw);
            if (check_keys(c, t, tw, kill_keys) || get_str(c, t, "app", tw, NULL, k->app, sizeof k->app) ||
                get_int(c, t, "instance", tw, 1, 1, 64, &inst) ||
                get_str(c, t, "process", tw, "app", proc, sizeof proc))
                return -1;
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

/* Phase 1: the YAML as JSON, with the `quick:` overrides merged in when asked. NULL on error. */
static json_t *read_scenario(struct ctx *c, const char *path, int quick) {
    struct fy_document *doc = fy_document_build_from_file(NULL, path);
    if (!doc) {
        fail(c, "cannot read or parse the YAML");
        return NULL;
    }
    json_t *root = rs_yaml_to_json(fy_document_root(doc));
    fy_document_destroy(doc);
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
        if (json_is_string(v) && k > 0 && k < 4) {
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
    struct ctx c = {path, err, errlen};
    snprintf(s->path, sizeof s->path, "%s", path);
    s->json = read_scenario(&c, path, quick);
    if (!s->json || parse_load(&c, s) || parse_env(&c, s) || parse_actions(&c, s) || parse_verify(&c, s)) {
        rs_scenario_free(s);
        return -1;
    }
    return 0;
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

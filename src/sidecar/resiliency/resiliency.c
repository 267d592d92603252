/* SPDX-License-Identifier: MIT */
/* The resiliency provider: parses every Resiliency document into named
 * policies and targets, then answers lookups the way Dapr does (spec §1.3):
 * a named target uses exactly the kinds it names; without one, each kind
 * falls back through the default policy names on its own.
 *
 * Breakers live here: per app id an LRU of `appId:method` breakers
 * (circuitBreakerCacheSize, default 100), and one breaker per component name
 * shared by its inbound and outbound policies. */
#include "sidecar/resiliency/resiliency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/json_util.h"
#include "core/log.h"
#include "core/str.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/breaker.h"
#include "sidecar/resiliency/policy.h"
#include "sidecar/resiliency/retry.h"
#include "sidecar/resiliency/values.h"

#define DEFAULT_CB_CACHE 100
/* App ids come from requests: bound how many per-app breaker caches exist (least recently used goes). */
#define MAX_APP_CACHES 1024

typedef struct {
    char *name, *doc;
    int64_t ms;
} named_timeout_t;

typedef struct {
    char *name, *doc;
    rs_retry_spec_t spec;
} named_retry_t;

typedef struct {
    char *name, *doc;
    rs_breaker_spec_t spec;
} named_cb_t;

typedef struct {
    char *timeout, *retry, *cb; /* policy names, NULL if not given */
} names_t;

typedef struct {
    char *app_id;
    names_t names;
    long long cache_size;
} app_target_t;

typedef struct {
    char *name;
    int has_out, has_in;
    names_t out, in;
} comp_target_t;

typedef struct {
    char *key;
    rs_breaker_t *b;
    uint64_t used;
} cb_entry_t;

/* The breakers of one app id (LRU) or of all components (unbounded: one per component). */
typedef struct {
    char *app_id;
    size_t cap;
    cb_entry_t *items;
    size_t len, alloc;
    uint64_t used;
} cb_cache_t;

struct rs_resiliency {
    char *app_id;
    named_timeout_t *timeouts;
    size_t ntimeouts;
    named_retry_t *retries;
    size_t nretries;
    named_cb_t *cbs;
    size_t ncbs;
    app_target_t *apps;
    size_t napps;
    comp_target_t *comps;
    size_t ncomps;
    char **doc_names;
    size_t ndocs;
    cb_cache_t *app_caches;
    size_t napp_caches;
    cb_cache_t comp_cache;
    uint64_t tick;
    rs_clock_t *clock;
    double (*rand)(void);
    rs_res_sink_t *sink;
};

#define GROW(arr, n) ((arr) = rs_xrealloc((arr), ((n) + 1) * sizeof *(arr)))

/* ---------- sink: metrics and transition logs ---------- */

static void sink_unref(rs_res_sink_t *s) {
    if (!s || --s->refs > 0) return;
    free(s->app_id);
    free(s);
}

void rs_policy_note_activation(const rs_policy_t *p, const char *kind, const char *status) {
    if (!p->sink || !p->sink->metrics) return;
    const char *name = strcmp(kind, "retry") == 0     ? p->retry_doc
                       : strcmp(kind, "timeout") == 0 ? p->timeout_doc
                                                      : p->cb_doc;
    const char *labels[] = {"name", name ? name : "", "policy", kind, "flow_direction", p->flow,
                            "target", p->target, "status", status ? status : "", NULL};
    rs_metrics_inc(p->sink->metrics, "dapr_resiliency_activations_total",
                   "Number of times a resiliency policy has been activated after a failure or a state change.", labels,
                   1);
}

void rs_policy_note_applied(const rs_policy_t *p) {
    if (!p->sink || !p->sink->metrics) return;
    static const char *const kinds[] = {"timeout", "retry", "circuitbreaker"};
    const char *docs[] = {p->timeout_name ? p->timeout_doc : NULL, p->has_retry ? p->retry_doc : NULL,
                          p->breaker ? p->cb_doc : NULL};
    for (int i = 0; i < 3; i++) {
        if (!docs[i]) continue;
        const char *labels[] = {"name", docs[i], "policy", kinds[i], "flow_direction", p->flow,
                                "target", p->target, "status", "", NULL};
        rs_metrics_inc(p->sink->metrics, "dapr_resiliency_count",
                       "Number of times a resiliency policy has been applied to a call.", labels, 1);
    }
}

static void on_transition(void *arg, rs_breaker_t *b, rs_cb_state_t from, rs_cb_state_t to) {
    rs_res_sink_t *s = arg;
    RS_INFO("resiliency", "circuit breaker \"%s\" for %s changed state: %s -> %s", rs_breaker_policy(b),
            rs_breaker_name(b), rs_cb_state_name(from), rs_cb_state_name(to));
    if (!s->metrics) return;
    const char *labels[] = {"name", rs_breaker_policy(b), "policy", "circuitbreaker", "flow_direction", "",
                            "target", rs_breaker_name(b), "status", rs_cb_state_name(to), NULL};
    rs_metrics_inc(s->metrics, "dapr_resiliency_activations_total",
                   "Number of times a resiliency policy has been activated after a failure or a state change.", labels,
                   1);
    const char *glabels[] = {"name", rs_breaker_policy(b), "target", rs_breaker_name(b), NULL};
    rs_metrics_set(s->metrics, "dapr_resiliency_cb_state",
                   "Circuit breaker state by target: 0 closed, 1 half-open, 2 open.", glabels, (double)to);
}

/* ---------- parsing ---------- */

static void set_name(char **dst, const json_t *v) {
    free(*dst);
    *dst = json_is_string(v) && json_string_value(v)[0] ? rs_strdup(json_string_value(v)) : NULL;
}

static void names_free(names_t *n) {
    RS_SAFEFREE(n->timeout);
    RS_SAFEFREE(n->retry);
    RS_SAFEFREE(n->cb);
}

static void names_parse(names_t *n, const json_t *o) {
    names_free(n);
    set_name(&n->timeout, json_object_get(o, "timeout"));
    set_name(&n->retry, json_object_get(o, "retry"));
    set_name(&n->cb, json_object_get(o, "circuitBreaker"));
}

static int parse_doc(rs_resiliency_t *r, const rs_resource_doc_t *d, char *err, size_t errlen) {
    const char *docname = d->name ? d->name : rs_json_str(json_object_get(d->doc, "metadata"), "name");
    if (!docname) docname = "";
    GROW(r->doc_names, r->ndocs);
    r->doc_names[r->ndocs++] = rs_strdup(docname);
    const char *file = d->file ? d->file : "?";
    const json_t *spec = json_object_get(d->doc, "spec");
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "%s:%d: Resiliency %s: spec must be a mapping", file, d->line, docname);
        return -1;
    }
    const json_t *pol = json_object_get(spec, "policies");
    const char *key;
    const json_t *v;
    char why[300];
    json_object_foreach((json_t *)json_object_get(pol, "timeouts"), key, v) {
        int64_t ms;
        if (rs_res_duration_ms(v, &ms) != 0) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: timeout %s: invalid duration", file, d->line, docname, key);
            return -1;
        }
        size_t i;
        for (i = 0; i < r->ntimeouts && strcmp(r->timeouts[i].name, key) != 0; i++) {}
        if (i == r->ntimeouts) {
            GROW(r->timeouts, r->ntimeouts);
            r->timeouts[r->ntimeouts++] = (named_timeout_t){rs_strdup(key), NULL, 0};
        }
        free(r->timeouts[i].doc);
        r->timeouts[i].doc = rs_strdup(docname);
        r->timeouts[i].ms = ms;
    }
    json_object_foreach((json_t *)json_object_get(pol, "retries"), key, v) {
        rs_retry_spec_t spec_r;
        if (rs_retry_spec_parse(v, &spec_r, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: retry %s: %s", file, d->line, docname, key, why);
            return -1;
        }
        size_t i;
        for (i = 0; i < r->nretries && strcmp(r->retries[i].name, key) != 0; i++) {}
        if (i == r->nretries) {
            GROW(r->retries, r->nretries);
            memset(&r->retries[i], 0, sizeof r->retries[i]);
            r->retries[r->nretries++].name = rs_strdup(key);
        }
        free(r->retries[i].doc);
        r->retries[i].doc = rs_strdup(docname);
        r->retries[i].spec = spec_r;
    }
    json_object_foreach((json_t *)json_object_get(pol, "circuitBreakers"), key, v) {
        rs_breaker_spec_t spec_c;
        if (rs_breaker_spec_parse(v, &spec_c, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: circuitBreaker %s: %s", file, d->line, docname, key, why);
            return -1;
        }
        size_t i;
        for (i = 0; i < r->ncbs && strcmp(r->cbs[i].name, key) != 0; i++) {}
        if (i == r->ncbs) {
            GROW(r->cbs, r->ncbs);
            memset(&r->cbs[i], 0, sizeof r->cbs[i]);
            r->cbs[r->ncbs++].name = rs_strdup(key);
        }
        free(r->cbs[i].doc);
        rs_breaker_spec_free(&r->cbs[i].spec);
        r->cbs[i].doc = rs_strdup(docname);
        r->cbs[i].spec = spec_c;
    }
    const json_t *targets = json_object_get(spec, "targets");
    json_object_foreach((json_t *)json_object_get(targets, "apps"), key, v) {
        if (!json_is_object(v)) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: targets.apps.%s must be a mapping", file, d->line, docname, key);
            return -1;
        }
        long long cache = DEFAULT_CB_CACHE;
        const json_t *c = json_object_get(v, "circuitBreakerCacheSize");
        if (c && !json_is_null(c) && (rs_res_int(c, &cache) != 0 || cache < 0)) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: targets.apps.%s.circuitBreakerCacheSize must be an integer",
                     file, d->line, docname, key);
            return -1;
        }
        size_t i;
        for (i = 0; i < r->napps && strcmp(r->apps[i].app_id, key) != 0; i++) {}
        if (i == r->napps) {
            GROW(r->apps, r->napps);
            memset(&r->apps[i], 0, sizeof r->apps[i]);
            r->apps[r->napps++].app_id = rs_strdup(key);
        }
        names_parse(&r->apps[i].names, v);
        r->apps[i].cache_size = cache ? cache : DEFAULT_CB_CACHE;
    }
    json_object_foreach((json_t *)json_object_get(targets, "components"), key, v) {
        if (!json_is_object(v)) {
            snprintf(err, errlen, "%s:%d: Resiliency %s: targets.components.%s must be a mapping", file, d->line,
                     docname, key);
            return -1;
        }
        size_t i;
        for (i = 0; i < r->ncomps && strcmp(r->comps[i].name, key) != 0; i++) {}
        if (i == r->ncomps) {
            GROW(r->comps, r->ncomps);
            memset(&r->comps[i], 0, sizeof r->comps[i]);
            r->comps[r->ncomps++].name = rs_strdup(key);
        }
        comp_target_t *t = &r->comps[i];
        const json_t *o = json_object_get(v, "outbound"), *in = json_object_get(v, "inbound");
        t->has_out = json_is_object(o);
        t->has_in = json_is_object(in);
        names_parse(&t->out, t->has_out ? o : NULL);
        names_parse(&t->in, t->has_in ? in : NULL);
    }
    return 0;
}

static double default_rand(void) { return rs_random_unit(); }

rs_resiliency_t *rs_resiliency_new(struct event_base *base, const rs_resources_t *res, const char *app_id, char *err,
                                   size_t errlen) {
    (void)base;
    rs_resiliency_t *r = rs_xcalloc(1, sizeof *r);
    r->app_id = rs_strdup(app_id ? app_id : "");
    r->clock = rs_clock_system();
    r->rand = default_rand;
    r->sink = rs_xcalloc(1, sizeof *r->sink);
    r->sink->refs = 1;
    r->sink->app_id = rs_strdup(r->app_id);
    for (size_t i = 0; res && i < res->nresiliencies; i++) {
        if (parse_doc(r, &res->resiliencies[i], err, errlen) != 0) {
            rs_resiliency_free(r);
            return NULL;
        }
        RS_INFO("resiliency", "loaded Resiliency %s", r->doc_names[r->ndocs - 1]);
    }
    return r;
}

static void cache_free(cb_cache_t *c) {
    for (size_t i = 0; i < c->len; i++) {
        rs_breaker_detach(c->items[i].b);
        rs_breaker_unref(c->items[i].b);
        free(c->items[i].key);
    }
    free(c->items);
    free(c->app_id);
}

void rs_resiliency_free(rs_resiliency_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->ntimeouts; i++) {
        free(r->timeouts[i].name);
        free(r->timeouts[i].doc);
    }
    for (size_t i = 0; i < r->nretries; i++) {
        free(r->retries[i].name);
        free(r->retries[i].doc);
    }
    for (size_t i = 0; i < r->ncbs; i++) {
        free(r->cbs[i].name);
        free(r->cbs[i].doc);
        rs_breaker_spec_free(&r->cbs[i].spec);
    }
    for (size_t i = 0; i < r->napps; i++) {
        free(r->apps[i].app_id);
        names_free(&r->apps[i].names);
    }
    for (size_t i = 0; i < r->ncomps; i++) {
        free(r->comps[i].name);
        names_free(&r->comps[i].out);
        names_free(&r->comps[i].in);
    }
    for (size_t i = 0; i < r->ndocs; i++) free(r->doc_names[i]);
    for (size_t i = 0; i < r->napp_caches; i++) cache_free(&r->app_caches[i]);
    cache_free(&r->comp_cache);
    free(r->timeouts);
    free(r->retries);
    free(r->cbs);
    free(r->apps);
    free(r->comps);
    free(r->doc_names);
    free(r->app_caches);
    r->sink->metrics = NULL;
    sink_unref(r->sink);
    free(r->app_id);
    free(r);
}

void rs_resiliency_set_metrics(rs_resiliency_t *r, struct rs_metrics *m) {
    r->sink->metrics = m;
    for (size_t i = 0; i < r->ndocs; i++) {
        const char *labels[] = {"name", r->doc_names[i], NULL};
        rs_metrics_set(m, "dapr_resiliency_loaded", "Number of resiliency policies loaded.", labels, 1);
    }
}

void rs_resiliency_set_clock(rs_resiliency_t *r, rs_clock_t *clock, double (*rand_fn)(void)) {
    if (clock) r->clock = clock;
    if (rand_fn) r->rand = rand_fn;
}

size_t rs_resiliency_count(const rs_resiliency_t *r) { return r ? r->ndocs : 0; }

/* ---------- lookups ---------- */

static const named_timeout_t *find_timeout(const rs_resiliency_t *r, const char *name) {
    for (size_t i = 0; name && i < r->ntimeouts; i++)
        if (strcmp(r->timeouts[i].name, name) == 0) return &r->timeouts[i];
    return NULL;
}

static const named_retry_t *find_retry(const rs_resiliency_t *r, const char *name) {
    for (size_t i = 0; name && i < r->nretries; i++)
        if (strcmp(r->retries[i].name, name) == 0) return &r->retries[i];
    return NULL;
}

static const named_cb_t *find_cb(const rs_resiliency_t *r, const char *name) {
    for (size_t i = 0; name && i < r->ncbs; i++)
        if (strcmp(r->cbs[i].name, name) == 0) return &r->cbs[i];
    return NULL;
}

/* Returns the breaker for key in cache c (creating it, evicting the least recently used when full). */
static rs_breaker_t *cache_get(rs_resiliency_t *r, cb_cache_t *c, const char *key, const named_cb_t *cb) {
    r->tick++;
    for (size_t i = 0; i < c->len; i++) {
        if (strcmp(c->items[i].key, key) == 0) {
            c->items[i].used = r->tick;
            return c->items[i].b;
        }
    }
    if (c->cap && c->len >= c->cap) {
        size_t old = 0;
        for (size_t i = 1; i < c->len; i++)
            if (c->items[i].used < c->items[old].used) old = i;
        rs_breaker_unref(c->items[old].b); /* a policy in use keeps it alive */
        free(c->items[old].key);
        c->items[old] = c->items[--c->len];
    }
    if (c->len == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 8;
        c->items = rs_xrealloc(c->items, c->alloc * sizeof *c->items);
    }
    cb_entry_t *e = &c->items[c->len++];
    e->key = rs_strdup(key);
    e->used = r->tick;
    e->b = rs_breaker_new(&cb->spec, key, cb->name, r->clock, on_transition, r->sink);
    return e->b;
}

static cb_cache_t *app_cache(rs_resiliency_t *r, const char *app_id, size_t cap) {
    for (size_t i = 0; i < r->napp_caches; i++) {
        if (strcmp(r->app_caches[i].app_id, app_id) == 0) {
            r->app_caches[i].used = r->tick;
            return &r->app_caches[i];
        }
    }
    cb_cache_t *c;
    if (r->napp_caches >= MAX_APP_CACHES) {
        size_t old = 0;
        for (size_t i = 1; i < r->napp_caches; i++)
            if (r->app_caches[i].used < r->app_caches[old].used) old = i;
        c = &r->app_caches[old];
        for (size_t i = 0; i < c->len; i++) { /* breakers in use live on (and keep reporting) in their policies */
            rs_breaker_unref(c->items[i].b);
            free(c->items[i].key);
        }
        free(c->items);
        free(c->app_id);
    } else {
        GROW(r->app_caches, r->napp_caches);
        c = &r->app_caches[r->napp_caches++];
    }
    memset(c, 0, sizeof *c);
    c->app_id = rs_strdup(app_id);
    c->cap = cap;
    c->used = r->tick;
    return c;
}

/* Builds a policy from resolved parts; NULL when nothing applies. */
static rs_policy_t *make_policy(rs_resiliency_t *r, const named_timeout_t *t, const named_retry_t *rt,
                                const named_cb_t *cb, rs_breaker_t *breaker, const char *target, const char *flow) {
    if (!t && !rt && !breaker) return NULL;
    rs_policy_t *p = rs_xcalloc(1, sizeof *p);
    p->refs = 1;
    p->timeout_ms = t ? t->ms : 0;
    if (t) {
        p->timeout_name = rs_strdup(t->name);
        p->timeout_doc = rs_strdup(t->doc);
    }
    if (rt) {
        p->has_retry = 1;
        p->retry = rt->spec;
        p->retry_name = rs_strdup(rt->name);
        p->retry_doc = rs_strdup(rt->doc);
    }
    if (breaker) {
        rs_breaker_ref(breaker);
        p->breaker = breaker;
        p->cb_name = rs_strdup(cb->name);
        p->cb_doc = rs_strdup(cb->doc);
    }
    p->target = rs_strdup(target);
    p->flow = flow;
    p->clock = r->clock;
    p->rand = r->rand;
    p->sink = r->sink;
    r->sink->refs++;
    return p;
}

/* Default-name lookup for one kind: tries each candidate in order. */
static const char *first_defined(rs_resiliency_t *r, int kind, char names[][96], int n) {
    for (int i = 0; i < n; i++) {
        if (kind == 0 && find_timeout(r, names[i])) return names[i];
        if (kind == 1 && find_retry(r, names[i])) return names[i];
        if (kind == 2 && find_cb(r, names[i])) return names[i];
    }
    return NULL;
}

static const char *const kind_words[] = {"Timeout", "Retry", "CircuitBreaker"};

/* The default names an app target falls back to, per kind, in lookup order (spec §3.8). */
static char default_app_names[3][2][96] = {{"DefaultAppTimeoutPolicy", "DefaultTimeoutPolicy"},
                                           {"DefaultAppRetryPolicy", "DefaultRetryPolicy"},
                                           {"DefaultAppCircuitBreakerPolicy", "DefaultCircuitBreakerPolicy"}};

rs_policy_t *rs_resiliency_app_policy(rs_resiliency_t *r, const char *app_id, const char *method) {
    if (!r || !app_id) return NULL;
    if (!r->ntimeouts && !r->nretries && !r->ncbs) return NULL; /* no policies at all: every call asks */
    const char *tn = NULL, *rn = NULL, *cn = NULL;
    size_t cap = DEFAULT_CB_CACHE;
    const app_target_t *target = NULL;
    for (size_t i = 0; i < r->napps; i++)
        if (strcmp(r->apps[i].app_id, app_id) == 0) target = &r->apps[i];
    if (target) {
        tn = target->names.timeout;
        rn = target->names.retry;
        cn = target->names.cb;
        cap = (size_t)target->cache_size;
    } else {
        const char **out[3] = {&tn, &rn, &cn};
        for (int k = 0; k < 3; k++) *out[k] = first_defined(r, k, default_app_names[k], 2);
    }
    const named_timeout_t *t = find_timeout(r, tn);
    const named_retry_t *rt = find_retry(r, rn);
    const named_cb_t *cb = find_cb(r, cn);
    if (!t && !rt && !cb) return NULL;
    char tgt[300];
    const char *tgt_parts[] = {"app_", app_id, NULL};
    rs_str_join(tgt, sizeof tgt, tgt_parts);
    rs_breaker_t *b = NULL;
    if (cb) {
        char key[600];
        const char *key_parts[] = {"app_", app_id, ":", method ? method : "", NULL};
        if (rs_str_join(key, sizeof key, key_parts) < 0) /* a very long method: its first 600 bytes name it */
            snprintf(key, sizeof key, "app_%s:%s", app_id, method);
        b = cache_get(r, app_cache(r, app_id, cap), key, cb);
    }
    return make_policy(r, t, rt, cb, b, tgt, "outbound");
}

rs_policy_t *rs_resiliency_component_policy(rs_resiliency_t *r, const rs_component_t *c, rs_direction_t dir) {
    if (!r || !c || !c->name) return NULL;
    /* No policies at all: nothing can apply, and every state, publish and binding call asks (the default-name
     * candidates below cost a dozen snprintf calls). */
    if (!r->ntimeouts && !r->nretries && !r->ncbs) return NULL;
    const char *dirw = dir == RS_DIR_INBOUND ? "Inbound" : "Outbound";
    const char *typew = c->type ? rs_component_kind_policy_word(c->type->kind) : "";
    const char *tn = NULL, *rn = NULL, *cn = NULL;
    const comp_target_t *target = NULL;
    char names[3][4][96]; /* candidates must outlive the lookup: tn/rn/cn point into them */
    for (size_t i = 0; i < r->ncomps; i++)
        if (strcmp(r->comps[i].name, c->name) == 0) target = &r->comps[i];
    if (target) {
        const names_t *n = dir == RS_DIR_INBOUND ? &target->in : &target->out;
        tn = n->timeout;
        rn = n->retry;
        cn = n->cb;
    } else {
        const char **out[3] = {&tn, &rn, &cn};
        for (int k = 0; k < 3; k++) {
            int n = 0;
            const char *kw = kind_words[k];
            const char *typed[] = {"Default", typew, "Component", dirw, kw, "Policy", NULL},
                       *directed[] = {"DefaultComponent", dirw, kw, "Policy", NULL},
                       *any[] = {"DefaultComponent", kw, "Policy", NULL}, *plain[] = {"Default", kw, "Policy", NULL};
            if (typew[0]) rs_str_join(names[k][n++], 96, typed);
            rs_str_join(names[k][n++], 96, directed);
            rs_str_join(names[k][n++], 96, any);
            rs_str_join(names[k][n++], 96, plain);
            *out[k] = first_defined(r, k, names[k], n);
        }
    }
    const named_timeout_t *t = find_timeout(r, tn);
    const named_retry_t *rt = find_retry(r, rn);
    const named_cb_t *cb = find_cb(r, cn); /* an undefined name is "no breaker" (Dapr would crash) */
    if (!t && !rt && !cb) return NULL;
    char tgt[300];
    const char *tgt_parts[] = {"component_", c->name, NULL};
    if (rs_str_join(tgt, sizeof tgt, tgt_parts) < 0) snprintf(tgt, sizeof tgt, "component_%s", c->name);
    rs_breaker_t *b = cb ? cache_get(r, &r->comp_cache, tgt, cb) : NULL;
    return make_policy(r, t, rt, cb, b, tgt, dir == RS_DIR_INBOUND ? "inbound" : "outbound");
}

void rs_policy_ref(rs_policy_t *p) {
    if (p) p->refs++;
}

void rs_policy_release(rs_policy_t *p) {
    if (!p || --p->refs > 0) return;
    rs_breaker_unref(p->breaker);
    free(p->target);
    free(p->timeout_name);
    free(p->retry_name);
    free(p->cb_name);
    free(p->timeout_doc);
    free(p->retry_doc);
    free(p->cb_doc);
    sink_unref(p->sink);
    free(p);
}

/* SPDX-License-Identifier: MIT */
/* Each name is looked up in the run file; an error lists the values that would have been accepted. */
#include "tools/ripstop/scenario_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct chk {
    const rs_scenario_t *s;
    const rs_runfile_t *rf;
    char *err;
    size_t errlen;
};

static int fail(struct chk *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct chk *c, int line, const char *fmt, ...) {
    int n = line > 0 ? snprintf(c->err, c->errlen, "%s:%d: ", c->s->path, line)
                     : snprintf(c->err, c->errlen, "%s: ", c->s->path);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen) vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static const rs_runfile_app_t *find_app(const rs_runfile_t *rf, const char *id) {
    for (size_t i = 0; i < rf->napps; i++)
        if (!strcmp(rf->apps[i].app_id, id)) return &rf->apps[i];
    return NULL;
}

/* "a, b, c": the app ids (only those with a sidecar when sidecar_only). */
static void app_list(const rs_runfile_t *rf, int sidecar_only, char *out, size_t outlen) {
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < rf->napps && o < outlen; i++) {
        if (sidecar_only && rf->apps[i].no_sidecar) continue;
        int n = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", rf->apps[i].app_id);
        if (n < 0) break;
        o += (size_t)n;
    }
    if (!out[0]) snprintf(out, outlen, "none");
}

static void link_list(int bits, char *out, size_t outlen) {
    size_t o = 0;
    out[0] = 0;
    for (int b = 1; b <= RS_LINK_BLOB; b <<= 1)
        if (bits & b) o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", rs_runfile_link_name(b));
    if (!out[0]) snprintf(out, outlen, "none: the app has no chaosLinks in the run file");
}

/* An app (with the instance and, when wanted, a sidecar) the run file starts. */
static int check_app(struct chk *c, int line, const char *where, const char *app, int instance, int need_sidecar,
                     const rs_runfile_app_t **out) {
    char list[1024];
    const rs_runfile_app_t *a = find_app(c->rf, app);
    if (!a) {
        app_list(c->rf, need_sidecar, list, sizeof list);
        return fail(c, line, "%s.app: '%s' is not an app of %s (one of: %s)", where, app, c->rf->path, list);
    }
    if (instance > a->replicas)
        return fail(c, line, "%s.instance: %d, but %s has %d instance%s (1..%d)", where, instance, app, a->replicas,
                    a->replicas == 1 ? "" : "s", a->replicas);
    if (need_sidecar && a->no_sidecar) {
        app_list(c->rf, 1, list, sizeof list);
        return fail(c, line, "%s: %s has no sidecar (noSidecar: true); apps with one: %s", where, app, list);
    }
    if (out) *out = a;
    return 0;
}

static int infra_started(const rs_runfile_t *rf, const char *name) {
    if (!strcmp(name, "redis")) return rf->infra_redis;
    if (!strcmp(name, "azurite")) return rf->infra_azurite;
    return rf->infra_kafka; /* kafka, kafka-mock */
}

static int check_action(struct chk *c, int idx) {
    const rs_action_t *a = &c->s->actions[idx];
    char where[96];
    if (a->type == RS_ACT_RESTART) {
        snprintf(where, sizeof where, "actions[%d] (%s).infra", idx, a->name);
        if (!infra_started(c->rf, a->infra))
            return fail(c, a->line, "%s: %s is not started by %s (its infra: section)", where, a->infra, c->rf->path);
        return 0;
    }
    for (int k = 0; k < a->nkills; k++) {
        const rs_kill_target_t *t = &a->kills[k];
        snprintf(where, sizeof where, "actions[%d] (%s).targets[%d]", idx, a->name, k);
        if (t->infra) {
            if (!infra_started(c->rf, t->app))
                return fail(c, t->line, "%s.infra: %s is not started by %s (its infra: section)", where, t->app,
                            c->rf->path);
            continue;
        }
        const rs_runfile_app_t *app;
        int need_sidecar = a->type == RS_ACT_NETWORK || t->sidecar;
        if (check_app(c, t->line, where, t->app, t->instance, need_sidecar, &app)) return -1;
        if (a->type == RS_ACT_NETWORK) {
            int bit = rs_runfile_link_bit(t->link);
            if (bit < 0 || !(app->chaos_links & bit)) {
                char list[256];
                link_list(app->chaos_links, list, sizeof list);
                return fail(c, t->line, "%s.link: '%s' is not a chaos link of %s in %s (its chaosLinks: %s)", where,
                            t->link, t->app, c->rf->path, list);
            }
        }
    }
    if ((a->type == RS_ACT_KAFKA_LATENCY || a->type == RS_ACT_KAFKA_DOWN) && !c->rf->infra_kafka)
        return fail(c, a->line, "actions[%d] (%s): %s needs the run file to start kafka-mock (infra: kafka: true)",
                    idx, a->name, rs_action_type_names[a->type]);
    return 0;
}

int rs_scenario_check_system(const rs_scenario_t *s, const rs_runfile_t *rf, char *err, size_t errlen) {
    struct chk c = {s, rf, err, errlen};
    for (int i = 0; i < s->ntargets; i++) {
        char where[64];
        snprintf(where, sizeof where, "load.targets[%d]", i);
        if (check_app(&c, s->targets[i].line, where, s->targets[i].app, 1, 0, NULL)) return -1;
    }
    for (int i = 0; i < s->nactions; i++)
        if (check_action(&c, i)) return -1;
    const char *apps[][2] = {{"verify.lockApp", s->lock_app}, {"verify.nolockApp", s->nolock_app},
                             {"verify.breakerApp", s->breaker_app}};
    for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++)
        if (check_app(&c, 0, apps[i][0], apps[i][1], 1, 1, NULL)) return -1;
    return 0;
}

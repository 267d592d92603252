/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/subscriptions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "core/log.h"

#define SCOPE "pubsub"

static char *route_path(const char *p) {
    while (*p == '/') p++;
    size_t n = strlen(p);
    char *out = rs_xmalloc(n + 2);
    out[0] = '/';
    memcpy(out + 1, p, n + 1);
    return out;
}

static int add_rule(rs_subscription_t *s, const char *match, const char *path, char *err, size_t errlen) {
    rs_cel_t *e = NULL;
    if (match && *match) {
        char why[200];
        e = rs_cel_compile(match, why, sizeof why);
        if (!e) {
            snprintf(err, errlen, "invalid match %s: %s", match, why);
            return -1;
        }
    }
    s->rules = rs_xrealloc(s->rules, (s->nrules + 1) * sizeof *s->rules);
    s->rules[s->nrules].match_src = rs_strdup(match ? match : "");
    s->rules[s->nrules].match = e;
    s->rules[s->nrules].path = route_path(path);
    s->nrules++;
    return 0;
}

static rs_subscription_t *sub_new(const char *pubsub, const char *topic, int programmatic) {
    rs_subscription_t *s = rs_xcalloc(1, sizeof *s);
    s->pubsubname = rs_strdup(pubsub);
    s->topic = rs_strdup(topic);
    s->programmatic = programmatic;
    return s;
}

/* Dapr's defaults for bulkSubscribe. */
static void set_bulk(rs_subscription_t *s, int enabled, long long max_messages, long long max_await_ms) {
    s->bulk_enabled = enabled;
    s->bulk_max_messages = max_messages > 0 && max_messages <= 10000 ? (int)max_messages : 100;
    s->bulk_max_await_ms = max_await_ms > 0 && max_await_ms <= 3600000 ? (int)max_await_ms : 1000;
}

static void sub_finish_metadata(rs_subscription_t *s) {
    const char *raw = rs_kvlist_get(&s->metadata, "rawPayload");
    int b = 0;
    s->raw_payload = raw && rs_parse_bool(raw, &b) == 0 && b;
}

static void list_add(rs_subscriptions_t *l, rs_subscription_t *s) {
    l->items = rs_xrealloc(l->items, (l->len + 1) * sizeof *l->items);
    l->items[l->len++] = s;
}

void rs_subscriptions_add_declarative(rs_subscriptions_t *l, const rs_resources_t *r) {
    for (size_t i = 0; i < r->nsubscriptions; i++) {
        const rs_resource_subscription_t *d = &r->subscriptions[i];
        if (!d->pubsubname || !*d->pubsubname || !d->topic || !*d->topic) {
            RS_WARN(SCOPE, "%s:%d: subscription %s has no pubsubname or topic; ignored", d->file, d->line,
                    d->name ? d->name : "");
            continue;
        }
        rs_subscription_t *s = sub_new(d->pubsubname, d->topic, 0);
        char err[256] = "";
        int bad = 0;
        for (size_t k = 0; k < d->nrules && !bad; k++) {
            if (!d->rules[k].path || !*d->rules[k].path) continue;
            bad = add_rule(s, d->rules[k].match, d->rules[k].path, err, sizeof err) != 0;
        }
        if (!bad && d->route && *d->route) bad = add_rule(s, NULL, d->route, err, sizeof err) != 0;
        if (bad || s->nrules == 0) {
            RS_ERROR(SCOPE, "%s:%d: subscription %s (topic %s): %s; ignored", d->file, d->line, d->name ? d->name : "",
                     d->topic, bad ? err : "no routes");
            rs_subscription_free(s);
            continue;
        }
        if (d->dead_letter_topic && *d->dead_letter_topic) s->dead_letter_topic = rs_strdup(d->dead_letter_topic);
        rs_kvlist_copy(&s->metadata, &d->metadata);
        sub_finish_metadata(s);
        set_bulk(s, d->bulk_enabled, d->bulk_max_messages, d->bulk_max_await_ms);
        list_add(l, s);
    }
}

int rs_subscriptions_add_programmatic(rs_subscriptions_t *l, const char *body, size_t len, char *err, size_t errlen) {
    char why[200];
    json_t *arr = rs_json_parse(body, len, why, sizeof why);
    if (!arr) {
        snprintf(err, errlen, "invalid JSON: %s", why);
        return -1;
    }
    if (!json_is_array(arr)) {
        json_decref(arr);
        snprintf(err, errlen, "expected a JSON array of subscriptions");
        return -1;
    }
    rs_subscriptions_t tmp = {0};
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        if (!json_is_object(it)) {
            snprintf(err, errlen, "item %zu is not an object", i);
            goto fail;
        }
        const char *pubsub = rs_json_str(it, "pubsubname"), *topic = rs_json_str(it, "topic");
        if (!pubsub || !*pubsub || !topic || !*topic) {
            RS_WARN(SCOPE, "programmatic subscription %zu has no pubsubname or topic; ignored", i);
            continue;
        }
        rs_subscription_t *s = sub_new(pubsub, topic, 1);
        list_add(&tmp, s);
        json_t *routes = json_object_get(it, "routes");
        json_t *rules = json_object_get(routes, "rules");
        size_t k;
        json_t *rule;
        json_array_foreach(rules, k, rule) {
            const char *path = rs_json_str(rule, "path");
            if (!path || !*path) continue;
            if (add_rule(s, rs_json_str(rule, "match"), path, err, errlen) != 0) goto fail;
        }
        const char *def = rs_json_str(it, "route");
        const char *rdef = rs_json_str(routes, "default");
        if (rdef && *rdef) def = rdef; /* routes.default takes precedence over route */
        if (def && *def) add_rule(s, NULL, def, err, errlen);
        json_t *md = json_object_get(it, "metadata");
        const char *mk;
        json_t *mv;
        json_object_foreach(md, mk, mv) {
            if (!json_is_string(mv)) {
                snprintf(err, errlen, "metadata %s of topic %s is not a string", mk, topic);
                goto fail;
            }
            rs_kvlist_set(&s->metadata, mk, json_string_value(mv));
        }
        sub_finish_metadata(s);
        json_t *bulk = json_object_get(it, "bulkSubscribe");
        json_t *mm = json_object_get(bulk, "maxMessagesCount"), *ma = json_object_get(bulk, "maxAwaitDurationMs");
        set_bulk(s, json_is_true(json_object_get(bulk, "enabled")), json_is_integer(mm) ? json_integer_value(mm) : 0,
                 json_is_integer(ma) ? json_integer_value(ma) : 0);
        const char *dlq = rs_json_str(it, "deadLetterTopic");
        if (dlq && *dlq) s->dead_letter_topic = rs_strdup(dlq);
        if (s->nrules == 0) {
            RS_WARN(SCOPE, "topic %s has an empty routes. removing from subscriptions list", topic);
            tmp.len--;
            rs_subscription_free(s);
        }
    }
    json_decref(arr);
    for (size_t n = 0; n < tmp.len; n++) list_add(l, tmp.items[n]);
    free(tmp.items);
    return 0;
fail:
    json_decref(arr);
    rs_subscriptions_free(&tmp);
    return -1;
}

rs_subscription_t *rs_subscriptions_find(const rs_subscriptions_t *l, const char *pubsub, const char *topic) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i]->pubsubname, pubsub) == 0 && strcmp(l->items[i]->topic, topic) == 0)
            return l->items[i];
    return NULL;
}

void rs_subscriptions_merge(rs_subscriptions_t *into, rs_subscriptions_t *from) {
    for (size_t i = 0; i < from->len; i++) {
        rs_subscription_t *s = from->items[i];
        if (rs_subscriptions_find(into, s->pubsubname, s->topic)) {
            RS_WARN(SCOPE, "two identical subscriptions found (sources: %s, %s). pubsubname: %s, topic: %s",
                    rs_subscriptions_find(into, s->pubsubname, s->topic)->programmatic ? "app endpoint" : "declarative",
                    s->programmatic ? "app endpoint" : "declarative", s->pubsubname, s->topic);
            rs_subscription_free(s);
            continue;
        }
        list_add(into, s);
    }
    free(from->items);
    from->items = NULL;
    from->len = 0;
}

/* ---- routing ---- */

/* Resolves `event.a.b` by walking the CloudEvent object. Objects and arrays are not CEL values here. */
static int resolve_event(void *ctx, const char *path, rs_cel_value_t *out) {
    const json_t *v = ctx;
    if (strncmp(path, "event.", 6) != 0) return -1;
    const char *p = path + 6;
    char seg[256];
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof seg) return -1;
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (!json_is_object(v)) return -1;
        v = json_object_get(v, seg);
        if (!v) return -1;
        p = dot ? dot + 1 : p + n;
    }
    memset(out, 0, sizeof *out);
    switch (json_typeof(v)) {
    case JSON_STRING: out->type = RS_CEL_STRING; out->s = json_string_value(v); return 0;
    case JSON_INTEGER: out->type = RS_CEL_INT; out->i = json_integer_value(v); return 0;
    case JSON_REAL: out->type = RS_CEL_DOUBLE; out->d = json_real_value(v); return 0;
    case JSON_TRUE: out->type = RS_CEL_BOOL; out->i = 1; return 0;
    case JSON_FALSE: out->type = RS_CEL_BOOL; out->i = 0; return 0;
    case JSON_NULL: out->type = RS_CEL_NULL; return 0;
    default: return -1;
    }
}

const char *rs_subscription_route(const rs_subscription_t *s, const json_t *event) {
    for (size_t i = 0; i < s->nrules; i++) {
        const rs_route_rule_t *r = &s->rules[i];
        if (!r->match) return r->path;
        if (rs_cel_eval_bool(r->match, resolve_event, (void *)event)) return r->path;
    }
    return NULL;
}

json_t *rs_subscription_json(const rs_subscription_t *s) {
    json_t *o = json_pack("{s:s, s:s}", "pubsubname", s->pubsubname, "topic", s->topic);
    if (s->metadata.len) {
        json_t *md = json_object();
        for (size_t i = 0; i < s->metadata.len; i++)
            json_object_set_new(md, s->metadata.items[i].key, json_string(s->metadata.items[i].value));
        json_object_set_new(o, "metadata", md);
    }
    json_t *rules = json_array();
    for (size_t i = 0; i < s->nrules; i++) {
        json_t *r = json_object();
        if (*s->rules[i].match_src) json_object_set_new(r, "match", json_string(s->rules[i].match_src));
        json_object_set_new(r, "path", json_string(s->rules[i].path));
        json_array_append_new(rules, r);
    }
    json_object_set_new(o, "rules", rules);
    if (s->dead_letter_topic) json_object_set_new(o, "deadLetterTopic", json_string(s->dead_letter_topic));
    json_object_set_new(o, "type", json_string(s->programmatic ? "PROGRAMMATIC" : "DECLARATIVE"));
    return o;
}

void rs_subscription_free(rs_subscription_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nrules; i++) {
        free(s->rules[i].match_src);
        rs_cel_free(s->rules[i].match);
        free(s->rules[i].path);
    }
    free(s->rules);
    free(s->pubsubname);
    free(s->topic);
    free(s->dead_letter_topic);
    rs_kvlist_free(&s->metadata);
    free(s);
}

void rs_subscriptions_free(rs_subscriptions_t *l) {
    for (size_t i = 0; i < l->len; i++) rs_subscription_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

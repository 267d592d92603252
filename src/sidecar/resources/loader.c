/* SPDX-License-Identifier: MIT */
/* Loads Dapr resource files (spec §2.8). Components and Subscriptions are
 * validated field by field so a mistake stops start-up with file, line and
 * reason; Resiliency and Configuration are kept as JSON for their modules. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/str.h"
#include "sidecar/resources/resources.h"
#include "core/yaml.h"

struct load_ctx {
    rs_resources_t *out;
    const char *app_id;
    int config_only; /* loading --config: only kind Configuration is expected */
};

#define FAIL(node, ...)                                                                                         \
    do {                                                                                                        \
        char reason_[400];                                                                                      \
        snprintf(reason_, sizeof reason_, __VA_ARGS__);                                                         \
        snprintf(err, errlen, "%s:%d: %s", file, rs_yaml_line(node), reason_);                                  \
        return -1;                                                                                              \
    } while (0)

/* Reads top-level `scopes`; returns 1 if the resource applies to app_id. */
static int read_scopes(struct fy_node *root, const char *app_id, rs_strlist_t *scopes, const char *file, char *err,
                       size_t errlen) {
    struct fy_node *s = rs_yaml_get(root, "scopes");
    if (!s || (fy_node_is_scalar(s) && !*fy_node_get_scalar0(s))) return 1;
    if (!fy_node_is_sequence(s)) FAIL(s, "scopes must be a list of app ids");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(s, &it))) {
        const char *v = rs_yaml_scalar(item);
        if (!v) FAIL(item, "scopes must be a list of app ids");
        rs_strlist_add(scopes, v);
    }
    return scopes->len == 0 || rs_strlist_contains(scopes, app_id ? app_id : "");
}

static char *opt_str(struct fy_node *n) {
    const char *s = rs_yaml_scalar(n);
    return s ? rs_strdup(s) : NULL;
}

static int parse_meta_item(rs_resource_meta_item_t *mi, struct fy_node *item, const char *file, char *err,
                           size_t errlen) {
    if (!fy_node_is_mapping(item)) FAIL(item, "metadata item must be a mapping with name and value");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(item, &it))) {
        const char *k = rs_yaml_scalar(fy_node_pair_key(p));
        struct fy_node *v = fy_node_pair_value(p);
        if (!k) FAIL(item, "metadata item has a non-scalar key");
        if (strcmp(k, "name") == 0) {
            if (!rs_yaml_scalar(v)) FAIL(v, "metadata name must be a string");
            mi->name = opt_str(v);
        } else if (strcmp(k, "value") == 0) {
            if (v && !fy_node_is_scalar(v)) {
                /* Dapr's DynamicValue: structured values are passed on as JSON text. */
                json_t *j = rs_yaml_to_json(v);
                mi->value = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
                json_decref(j);
            } else {
                mi->value = rs_strdup(v ? fy_node_get_scalar0(v) : "");
            }
        } else if (strcmp(k, "secretKeyRef") == 0) {
            if (!v || !fy_node_is_mapping(v)) FAIL(v ? v : item, "secretKeyRef must be a mapping with name and key");
            mi->secret_name = opt_str(rs_yaml_get(v, "name"));
            mi->secret_key = opt_str(rs_yaml_get(v, "key"));
            if (!mi->secret_name) FAIL(v, "secretKeyRef needs a name");
        } else if (strcmp(k, "envRef") == 0) {
            if (!rs_yaml_scalar(v)) FAIL(v ? v : item, "envRef must be a string");
            mi->env_ref = opt_str(v);
        } else {
            FAIL(fy_node_pair_key(p), "unknown field '%s' in metadata item (expected name, value, secretKeyRef or envRef)",
                 k);
        }
    }
    if (!mi->name || !*mi->name) FAIL(item, "metadata item without a name");
    mi->line = rs_yaml_line(item);
    return 0;
}

static void free_component(rs_resource_component_t *x) {
    for (size_t j = 0; j < x->nitems; j++) {
        free(x->items[j].name);
        free(x->items[j].value);
        free(x->items[j].secret_name);
        free(x->items[j].secret_key);
        free(x->items[j].env_ref);
    }
    free(x->items);
    free(x->name);
    free(x->type);
    free(x->version);
    free(x->init_timeout);
    free(x->secret_store);
    free(x->file);
    rs_strlist_free(&x->scopes);
}

/* No silent ignores: a spec field other than the ones read below has no effect, so say so. */
static void warn_unknown_spec_keys(const char *file, struct fy_node *spec, const char *name) {
    static const char *const known[] = {"type", "version", "metadata", "initTimeout", "ignoreErrors", NULL};
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(spec, &it))) {
        const char *k = rs_yaml_scalar(fy_node_pair_key(p));
        if (!k) continue;
        const char *const *kn = known;
        while (*kn && strcmp(*kn, k) != 0) kn++;
        if (!*kn)
            RS_WARN("config", "%s:%d: component '%s' spec.%s is not supported and is ignored", file,
                    rs_yaml_line(fy_node_pair_key(p)), name, k);
    }
}

static int load_component(struct load_ctx *ctx, const char *file, struct fy_node *root, const char *name, char *err,
                          size_t errlen) {
    rs_resource_component_t c = {0};
    int in_scope = read_scopes(root, ctx->app_id, &c.scopes, file, err, errlen);
    if (in_scope < 0) goto fail;
    struct fy_node *spec = rs_yaml_get(root, "spec");
    if (!spec || !fy_node_is_mapping(spec)) {
        snprintf(err, errlen, "%s:%d: component '%s' has no spec", file, rs_yaml_line(root), name);
        goto fail;
    }
    struct fy_node *type = rs_yaml_get(spec, "type");
    if (!rs_yaml_scalar(type) || !*rs_yaml_scalar(type)) {
        snprintf(err, errlen, "%s:%d: component '%s' has no spec.type", file, rs_yaml_line(spec), name);
        goto fail;
    }
    warn_unknown_spec_keys(file, spec, name);
    c.name = rs_strdup(name);
    c.type = opt_str(type);
    c.version = opt_str(rs_yaml_get(spec, "version"));
    if (!c.version) c.version = rs_strdup("v1");
    c.init_timeout = opt_str(rs_yaml_get(spec, "initTimeout"));
    struct fy_node *ign = rs_yaml_get(spec, "ignoreErrors");
    if (ign) {
        if (!rs_yaml_scalar(ign) || rs_parse_bool(rs_yaml_scalar(ign), &c.ignore_errors) != 0) {
            snprintf(err, errlen, "%s:%d: ignoreErrors must be true or false", file, rs_yaml_line(ign));
            goto fail;
        }
    }
    c.secret_store = opt_str(rs_yaml_get(rs_yaml_get(root, "auth"), "secretStore"));
    struct fy_node *md = rs_yaml_get(spec, "metadata");
    if (md && !(fy_node_is_scalar(md) && !*fy_node_get_scalar0(md))) {
        if (!fy_node_is_sequence(md)) {
            snprintf(err, errlen, "%s:%d: spec.metadata of '%s' must be a list of {name, value} items", file,
                     rs_yaml_line(md), name);
            goto fail;
        }
        int n = fy_node_sequence_item_count(md);
        c.items = rs_xcalloc((size_t)(n > 0 ? n : 1), sizeof *c.items);
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(md, &it))) {
            if (parse_meta_item(&c.items[c.nitems++], item, file, err, errlen) != 0) goto fail;
        }
    }
    c.file = rs_strdup(file);
    c.line = rs_yaml_line(root);
    if (!in_scope) {
        RS_DEBUG("resources", "component %s skipped: not in scope for %s", name, ctx->app_id);
        free_component(&c);
        return 0;
    }
    for (size_t i = 0; i < ctx->out->ncomponents; i++) {
        if (strcmp(ctx->out->components[i].name, name) == 0) {
            snprintf(err, errlen, "%s:%d: duplicate component name '%s' (first defined in %s:%d)", file, c.line, name,
                     ctx->out->components[i].file, ctx->out->components[i].line);
            goto fail;
        }
    }
    ctx->out->components = rs_xrealloc(ctx->out->components, (ctx->out->ncomponents + 1) * sizeof c);
    ctx->out->components[ctx->out->ncomponents++] = c;
    return 0;
fail:
    free_component(&c);
    return -1;
}

static void free_subscription(rs_resource_subscription_t *s) {
    free(s->name);
    free(s->pubsubname);
    free(s->topic);
    free(s->route);
    for (size_t i = 0; i < s->nrules; i++) {
        free(s->rules[i].match);
        free(s->rules[i].path);
    }
    free(s->rules);
    free(s->dead_letter_topic);
    rs_kvlist_free(&s->metadata);
    rs_strlist_free(&s->scopes);
    free(s->file);
}

static int load_subscription(struct load_ctx *ctx, const char *file, struct fy_node *root, const char *name,
                             const char *api_version, char *err, size_t errlen) {
    rs_resource_subscription_t s = {0};
    int rc = -1;
    int in_scope = read_scopes(root, ctx->app_id, &s.scopes, file, err, errlen);
    if (in_scope < 0) goto out;
    s.name = rs_strdup(name);
    s.file = rs_strdup(file);
    s.line = rs_yaml_line(root);
    s.v2 = api_version && strstr(api_version, "v2alpha1") != NULL;
    struct fy_node *spec = rs_yaml_get(root, "spec");
    if (!spec || !fy_node_is_mapping(spec)) {
        snprintf(err, errlen, "%s:%d: subscription '%s' has no spec", file, s.line, name);
        goto out;
    }
    s.pubsubname = opt_str(rs_yaml_get(spec, "pubsubname"));
    s.topic = opt_str(rs_yaml_get(spec, "topic"));
    if (!s.pubsubname || !s.topic) {
        snprintf(err, errlen, "%s:%d: subscription '%s' needs spec.pubsubname and spec.topic", file, rs_yaml_line(spec),
                 name);
        goto out;
    }
    s.route = opt_str(rs_yaml_get(spec, "route"));
    struct fy_node *routes = rs_yaml_get(spec, "routes");
    if (routes) {
        if (!fy_node_is_mapping(routes)) {
            snprintf(err, errlen, "%s:%d: spec.routes must be a mapping with rules and default", file,
                     rs_yaml_line(routes));
            goto out;
        }
        char *def = opt_str(rs_yaml_get(routes, "default"));
        if (def) {
            free(s.route);
            s.route = def;
        }
        struct fy_node *rules = rs_yaml_get(routes, "rules");
        if (rules) {
            if (!fy_node_is_sequence(rules)) {
                snprintf(err, errlen, "%s:%d: routes.rules must be a list of {match, path}", file, rs_yaml_line(rules));
                goto out;
            }
            int n = fy_node_sequence_item_count(rules);
            s.rules = rs_xcalloc((size_t)(n > 0 ? n : 1), sizeof *s.rules);
            void *it = NULL;
            struct fy_node *r;
            while ((r = fy_node_sequence_iterate(rules, &it))) {
                char *path = opt_str(rs_yaml_get(r, "path"));
                if (!path) {
                    snprintf(err, errlen, "%s:%d: route rule without a path", file, rs_yaml_line(r));
                    goto out;
                }
                s.rules[s.nrules].match = opt_str(rs_yaml_get(r, "match"));
                if (!s.rules[s.nrules].match) s.rules[s.nrules].match = rs_strdup("");
                s.rules[s.nrules++].path = path;
            }
        }
    }
    if (!s.route && s.nrules == 0) {
        snprintf(err, errlen, "%s:%d: subscription '%s' has no route", file, rs_yaml_line(spec), name);
        goto out;
    }
    s.dead_letter_topic = opt_str(rs_yaml_get(spec, "deadLetterTopic"));
    struct fy_node *md = rs_yaml_get(spec, "metadata");
    if (md && fy_node_is_mapping(md)) {
        void *it = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(md, &it))) {
            const char *k = rs_yaml_scalar(fy_node_pair_key(p));
            const char *v = rs_yaml_scalar(fy_node_pair_value(p));
            if (k) rs_kvlist_set(&s.metadata, k, v ? v : "");
        }
    }
    struct fy_node *bulk = rs_yaml_get(spec, "bulkSubscribe");
    if (bulk) {
        const char *en = rs_yaml_scalar(rs_yaml_get(bulk, "enabled"));
        if (en) rs_parse_bool(en, &s.bulk_enabled);
        long long v;
        if (rs_parse_int64(rs_yaml_scalar(rs_yaml_get(bulk, "maxMessagesCount")), &v) == 0) s.bulk_max_messages = (int)v;
        if (rs_parse_int64(rs_yaml_scalar(rs_yaml_get(bulk, "maxAwaitDurationMs")), &v) == 0) s.bulk_max_await_ms = (int)v;
    }
    if (!in_scope) {
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < ctx->out->nsubscriptions; i++) {
        if (strcmp(ctx->out->subscriptions[i].name, name) == 0) {
            snprintf(err, errlen, "%s:%d: duplicate subscription name '%s'", file, s.line, name);
            goto out;
        }
    }
    ctx->out->subscriptions = rs_xrealloc(ctx->out->subscriptions, (ctx->out->nsubscriptions + 1) * sizeof s);
    ctx->out->subscriptions[ctx->out->nsubscriptions++] = s;
    return 0;
out:
    free_subscription(&s);
    return rc;
}

static int load_json_doc(rs_resource_doc_t *d, const char *file, struct fy_node *root, const char *name) {
    d->name = rs_strdup(name);
    d->doc = rs_yaml_to_json(root);
    d->file = rs_strdup(file);
    d->line = rs_yaml_line(root);
    return 0;
}

static int on_document(void *arg, const char *file, struct fy_document *doc, char *err, size_t errlen) {
    struct load_ctx *ctx = arg;
    struct fy_node *root = fy_document_root(doc);
    if (!fy_node_is_mapping(root)) FAIL(root, "a resource must be a mapping with apiVersion, kind and metadata");
    const char *kind = rs_yaml_scalar(rs_yaml_get(root, "kind"));
    const char *api_version = rs_yaml_scalar(rs_yaml_get(root, "apiVersion"));
    if (!kind) FAIL(root, "resource without a kind");
    const char *name = rs_yaml_scalar(rs_yaml_get(rs_yaml_get(root, "metadata"), "name"));
    if (ctx->config_only) {
        if (strcmp(kind, "Configuration") != 0) FAIL(root, "--config file must hold a Configuration, found %s", kind);
        if (ctx->out->configuration.doc) FAIL(root, "more than one Configuration");
        return load_json_doc(&ctx->out->configuration, file, root, name ? name : "");
    }
    if (!name || !*name) FAIL(root, "%s without metadata.name", kind);
    if (strcmp(kind, "Component") == 0) return load_component(ctx, file, root, name, err, errlen);
    if (strcmp(kind, "Subscription") == 0) return load_subscription(ctx, file, root, name, api_version, err, errlen);
    if (strcmp(kind, "Resiliency") == 0) {
        rs_strlist_t scopes = {0};
        int in_scope = read_scopes(root, ctx->app_id, &scopes, file, err, errlen);
        rs_strlist_free(&scopes);
        if (in_scope < 0) return -1;
        if (!in_scope) return 0;
        rs_resources_t *o = ctx->out;
        o->resiliencies = rs_xrealloc(o->resiliencies, (o->nresiliencies + 1) * sizeof *o->resiliencies);
        return load_json_doc(&o->resiliencies[o->nresiliencies++], file, root, name);
    }
    if (strcmp(kind, "Configuration") == 0 || strcmp(kind, "HTTPEndpoint") == 0) {
        RS_WARN("resources", "%s:%d: %s '%s' in a resources path is ignored", file, rs_yaml_line(root), kind, name);
        return 0;
    }
    RS_WARN("resources", "%s:%d: unknown resource kind '%s' ignored", file, rs_yaml_line(root), kind);
    return 0;
}

static int has_yaml_ext(const char *n) {
    size_t l = strlen(n);
    return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) || (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_path(struct load_ctx *ctx, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: resources path does not exist", path);
        return -1;
    }
    if (S_ISREG(st.st_mode)) return rs_yaml_each_document(path, on_document, ctx, err, errlen);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open resources path", path);
        return -1;
    }
    rs_strlist_t files = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name)) continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) rs_strlist_add(&files, full);
    }
    closedir(d);
    /* Sorted, so the load order (and "later name wins" for Resiliency) is stable. */
    if (files.len) qsort(files.items, files.len, sizeof *files.items, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < files.len && rc == 0; i++) rc = rs_yaml_each_document(files.items[i], on_document, ctx, err, errlen);
    rs_strlist_free(&files);
    return rc;
}

int rs_resources_load(rs_resources_t *out, const rs_strlist_t *paths, const char *config_path, const char *app_id,
                      char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct load_ctx ctx = {out, app_id, 0};
    int rc = 0;
    for (size_t i = 0; i < paths->len && rc == 0; i++) rc = load_path(&ctx, paths->items[i], err, errlen);
    if (rc == 0 && config_path && *config_path) {
        ctx.config_only = 1;
        rc = rs_yaml_each_document(config_path, on_document, &ctx, err, errlen);
    }
    if (rc != 0) rs_resources_free(out); /* nothing half-loaded is left behind */
    return rc;
}

static void free_doc(rs_resource_doc_t *d) {
    free(d->name);
    json_decref(d->doc);
    free(d->file);
    memset(d, 0, sizeof *d);
}

void rs_resources_free(rs_resources_t *r) {
    for (size_t i = 0; i < r->ncomponents; i++) free_component(&r->components[i]);
    free(r->components);
    for (size_t i = 0; i < r->nsubscriptions; i++) free_subscription(&r->subscriptions[i]);
    free(r->subscriptions);
    for (size_t i = 0; i < r->nresiliencies; i++) free_doc(&r->resiliencies[i]);
    free(r->resiliencies);
    free_doc(&r->configuration);
    memset(r, 0, sizeof *r);
}

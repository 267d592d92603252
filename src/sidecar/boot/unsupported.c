/* SPDX-License-Identifier: MIT */
/* The Configuration's sections are checked against the ones ripstopd applies;
 * everything else gets a warning with the reason, so a setting that looks
 * accepted is never quietly without effect. */
#include "sidecar/boot/unsupported.h"

#include <string.h>

#include "core/log.h"

/* spec sections of a Dapr Configuration that ripstopd applies in full. */
static const char *const applied[] = {"secrets", "nameResolution", "tracing", NULL};

/* Known Dapr sections ripstopd ignores, with the reason given in the warning. */
static const struct {
    const char *section, *why;
} known[] = {
    {"httpPipeline", "no middleware runs on the API"},
    {"appHttpPipeline", "no middleware runs on calls to the app"},
    {"accessControl", "service invocation is not filtered by caller"},
    {"mtls", "sidecars talk plain HTTP on loopback or the pod network"},
    {"features", "no preview features exist in ripstopd"},
    {"api", "every implemented API is enabled; allow/deny lists are not applied"},
    {"components", "component deny lists are not applied"},
    {"logging", "use --log-level, --log-as-json and --enable-api-logging"},
    {"workflow", "there is no workflow engine"},
    {"wasm", "there is no WebAssembly runtime"},
    {"appHealth", "app health checks are not performed"},
    {"signingCertificate", "there is no mTLS"},
    {NULL, NULL},
};

static int is_applied(const char *section) {
    for (const char *const *a = applied; *a; a++)
        if (strcmp(*a, section) == 0) return 1;
    return 0;
}

static const char *why_ignored(const char *section) {
    for (size_t i = 0; known[i].section; i++)
        if (strcmp(known[i].section, section) == 0) return known[i].why;
    return "not a section ripstopd knows";
}

/* spec.metrics: metrics are always served on --metrics-port; only `enabled: true` matches what happens. */
static int warn_metrics(const rs_resource_doc_t *cfg, json_t *metrics) {
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(metrics, key, v) {
        if (strcmp(key, "enabled") == 0 && json_is_true(v)) continue;
        RS_WARN("config", "%s: Configuration '%s' spec.metrics.%s is not supported and is ignored (%s)", cfg->file,
                cfg->name, key,
                strcmp(key, "enabled") == 0 ? "metrics are controlled by --metrics-port; 0 disables them"
                                            : "ripstopd's metric labels and buckets are fixed");
        n++;
    }
    return n;
}

/* spec.tracing is applied (tracing/tracing.h); fields it does not read are named. */
static int warn_tracing(const rs_resource_doc_t *cfg, json_t *tracing) {
    static const char *const read[] = {"samplingRate", "stdout", "zipkin", "otel", NULL};
    static const char *const otel_read[] = {"endpointAddress", "isSecure", "protocol", NULL};
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(tracing, key, v) {
        int known_key = 0;
        for (const char *const *r = read; *r; r++) known_key |= strcmp(*r, key) == 0;
        if (!known_key) {
            RS_WARN("config", "%s: Configuration '%s' spec.tracing.%s is not supported and is ignored", cfg->file,
                    cfg->name, key);
            n++;
        }
    }
    json_t *otel = json_object_get(tracing, "otel");
    if (json_is_object(otel)) json_object_foreach(otel, key, v) {
            int known_key = 0;
            for (const char *const *r = otel_read; *r; r++) known_key |= strcmp(*r, key) == 0;
            if (!known_key) {
                RS_WARN("config", "%s: Configuration '%s' spec.tracing.otel.%s is not supported and is ignored",
                        cfg->file, cfg->name, key);
                n++;
            }
        }
    return n;
}

static int warn_configuration(const rs_resource_doc_t *cfg) {
    json_t *spec = json_object_get(cfg->doc, "spec");
    if (!json_is_object(spec)) return 0;
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(spec, key, v) {
        if (strcmp(key, "tracing") == 0 && json_is_object(v)) n += warn_tracing(cfg, v);
        if (is_applied(key)) continue;
        if (strcmp(key, "metrics") == 0) {
            n += json_is_object(v) ? warn_metrics(cfg, v) : 0;
            continue;
        }
        RS_WARN("config", "%s: Configuration '%s' spec.%s is not supported and is ignored (%s)", cfg->file, cfg->name,
                key, why_ignored(key));
        n++;
    }
    return n;
}

static int warn_components(const rs_resources_t *res) {
    int n = 0;
    for (size_t i = 0; i < res->ncomponents; i++) {
        const rs_resource_component_t *c = &res->components[i];
        if (c->init_timeout) {
            RS_WARN("config", "%s:%d: component '%s' spec.initTimeout is read but not enforced", c->file, c->line,
                    c->name);
            n++;
        }
    }
    return n;
}

int rs_warn_unsupported(const rs_resources_t *res) {
    int n = warn_components(res);
    if (res->configuration.doc) n += warn_configuration(&res->configuration);
    return n;
}

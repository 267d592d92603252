/* SPDX-License-Identifier: MIT */
/* secretstores.local.env: each secret is an environment variable
 * (`prefix` + name). Like Dapr, a missing variable is an empty string rather
 * than an error, and APP_API_TOKEN and DAPR_* always read as empty so the
 * sidecar's own credentials never leak through this store. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/components/secretstores/secretstore.h"

extern char **environ;

struct env_store {
    char *prefix;
};

static int denied(const char *var) { return strcmp(var, "APP_API_TOKEN") == 0 || rs_has_prefix(var, "DAPR_"); }

static int env_init(rs_component_t *c, char *err, size_t errlen) {
    struct env_store *es = rs_xcalloc(1, sizeof *es);
    const char *prefix = rs_component_meta(c, "prefix");
    es->prefix = rs_strdup(prefix ? prefix : "");
    c->impl = es;
    return 0;
}

static void env_close(rs_component_t *c) {
    struct env_store *es = c->impl;
    if (!es) return;
    free(es->prefix);
    free(es);
    c->impl = NULL;
}

static int env_get(rs_component_t *c, const char *name, json_t **out, char *err, size_t errlen) {
    struct env_store *es = c->impl;
    const char *prefix = es ? es->prefix : "";
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *var = rs_xmalloc(n);
    snprintf(var, n, "%s%s", prefix, name);
    const char *v = denied(var) ? NULL : getenv(var);
    free(var);
    *out = json_pack("{s:s}", name, v ? v : "");
    return 0;
}

static int env_bulk_get(rs_component_t *c, json_t **out, char *err, size_t errlen) {
    struct env_store *es = c->impl;
    const char *prefix = es ? es->prefix : "";
    size_t plen = strlen(prefix);
    json_t *all = json_object();
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        char *var = strndup(*e, (size_t)(eq - *e));
        if (!var) abort();
        if (!denied(var) && strncmp(var, prefix, plen) == 0 && var[plen]) {
            const char *name = var + plen;
            json_object_set_new(all, name, json_pack("{s:s}", name, eq + 1));
        }
        free(var);
    }
    *out = all;
    return 0;
}

static const rs_secretstore_ops_t env_ops = {.get = env_get, .bulk_get = env_bulk_get};

const rs_component_type_t rs_secretstore_local_env_type = {
    .type = "secretstores.local.env",
    .kind = RS_KIND_SECRETSTORE,
    .capabilities = NULL,
    .init = env_init,
    .close = env_close,
    .ops = &env_ops,
};

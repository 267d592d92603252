/* SPDX-License-Identifier: MIT */
#include "sidecar/boot/resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ids.h"
#include "core/log.h"
#include "sidecar/components/secretstores/secretstore.h"
#include "sidecar/runtime/sidecar.h"

char *rs_resolve_templates(const char *value, const char *app_id, char *err, size_t errlen) {
    if (strstr(value, "{podName}")) {
        snprintf(err, errlen, "{podName} cannot be used in self-hosted mode");
        return NULL;
    }
    rs_buf_t b;
    rs_buf_init(&b, 1 << 20);
    const char *ns = getenv("NAMESPACE");
    for (const char *p = value; *p;) {
        if (strncmp(p, "{uuid}", 6) == 0) {
            char u[37];
            rs_uuid(u);
            rs_buf_puts(&b, u);
            p += 6;
        } else if (strncmp(p, "{appID}", 7) == 0) {
            rs_buf_puts(&b, app_id ? app_id : "");
            p += 7;
        } else if (strncmp(p, "{namespace}", 11) == 0) {
            rs_buf_printf(&b, "%s.%s", ns && *ns ? ns : "default", app_id ? app_id : "");
            p += 11;
        } else {
            rs_buf_append(&b, p, 1);
            p++;
        }
    }
    if (!b.data) rs_buf_puts(&b, "");
    return rs_buf_steal(&b, NULL);
}

static int env_ref_denied(const char *name) {
    return strcmp(name, "APP_API_TOKEN") == 0 || strncmp(name, "DAPR_", 5) == 0;
}

static rs_resolve_result_t resolve_secret(rs_sidecar_t *sc, const rs_resource_component_t *rc,
                                          const rs_resource_meta_item_t *mi, char **value, char *err, size_t errlen) {
    if (!rc->secret_store) {
        /* Self-hosted Dapr has no default secret store: the reference stays unresolved. */
        RS_WARN("resources", "%s: metadata '%s' has a secretKeyRef but the component has no auth.secretStore; left empty",
                rc->name, mi->name);
        *value = rs_strdup("");
        return RS_RESOLVE_OK;
    }
    rs_component_t *store = rs_sidecar_component(sc, RS_KIND_SECRETSTORE, rc->secret_store);
    if (!store) return RS_RESOLVE_DEFERRED;
    const rs_secretstore_ops_t *ops = store->type->ops;
    json_t *secret = NULL;
    char why[256] = "";
    if (ops->get(store, mi->secret_name, &secret, why, sizeof why) != 0) {
        snprintf(err, errlen, "metadata '%s': secret '%s' from store '%s': %s", mi->name, mi->secret_name,
                 rc->secret_store, why);
        return RS_RESOLVE_ERROR;
    }
    const char *key = mi->secret_key && *mi->secret_key ? mi->secret_key : mi->secret_name;
    json_t *v = json_object_get(secret, key);
    if (!json_is_string(v)) {
        snprintf(err, errlen, "metadata '%s': secret '%s' in store '%s' has no key '%s'", mi->name, mi->secret_name,
                 rc->secret_store, key);
        json_decref(secret);
        return RS_RESOLVE_ERROR;
    }
    *value = rs_strdup(json_string_value(v));
    json_decref(secret);
    return RS_RESOLVE_OK;
}

rs_resolve_result_t rs_resolve_component_metadata(rs_sidecar_t *sc, const rs_resource_component_t *rc,
                                                  rs_kvlist_t *out, char *err, size_t errlen) {
    for (size_t i = 0; i < rc->nitems; i++) {
        const rs_resource_meta_item_t *mi = &rc->items[i];
        char *value = NULL;
        if (mi->secret_name) {
            rs_resolve_result_t r = resolve_secret(sc, rc, mi, &value, err, errlen);
            if (r != RS_RESOLVE_OK) return r;
        } else if (mi->env_ref) {
            if (env_ref_denied(mi->env_ref)) {
                snprintf(err, errlen, "metadata '%s': envRef to %s is not allowed", mi->name, mi->env_ref);
                return RS_RESOLVE_ERROR;
            }
            const char *v = getenv(mi->env_ref);
            value = rs_strdup(v ? v : "");
        } else {
            value = rs_resolve_templates(mi->value ? mi->value : "", sc->cfg.app_id, err, errlen);
            if (!value) return RS_RESOLVE_ERROR;
        }
        rs_kvlist_set(out, mi->name, value);
        free(value);
    }
    return RS_RESOLVE_OK;
}

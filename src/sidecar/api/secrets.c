/* SPDX-License-Identifier: MIT */
/* The secrets API (spec §2.7):
 *   GET /v1.0/secrets/{store}/{key}  -> {"k":"v",...}
 *   GET /v1.0/secrets/{store}/bulk   -> {"name":{"k":"v"},...}
 * Access is filtered by the Configuration's spec.secrets.scopes (403 when a
 * secret is denied; bulk leaves denied secrets out). Local stores answer
 * synchronously; the call still runs under the store's outbound policy so a
 * breaker or retry configured for it behaves as in Dapr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "sidecar/api/api.h"
#include "sidecar/components/secretstores/secretstore.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

struct sec_req {
    rs_sidecar_t *sc;
    rs_http_req_t *r;
    rs_component_t *c;
    char *key;          /* NULL for bulk */
    json_t *out;
    rs_run_t *run;
    char error[RS_ERR_MAX];
};

static void free_req(struct sec_req *q) {
    json_decref(q->out);
    free(q->key);
    free(q);
}

static int in_list(const json_t *list, const char *key) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (json_is_string(v) && strcmp(json_string_value(v), key) == 0) return 1;
    return 0;
}

/* Dapr's SecretsScope.IsSecretAllowed for the scope naming `store`, if any. */
static int secret_allowed(rs_sidecar_t *sc, const char *store, const char *key) {
    const json_t *doc = sc->resources.configuration.doc;
    json_t *scopes = json_object_get(json_object_get(json_object_get(doc, "spec"), "secrets"), "scopes");
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s) {
        const char *name = json_string_value(json_object_get(s, "storeName"));
        if (!name || strcmp(name, store) != 0) continue;
        const char *def = json_string_value(json_object_get(s, "defaultAccess"));
        json_t *allowed = json_object_get(s, "allowedSecrets"), *denied = json_object_get(s, "deniedSecrets");
        if (json_array_size(allowed)) return in_list(allowed, key);
        if (json_is_array(denied) && in_list(denied, key)) return 0;
        return !(def && strcasecmp(def, "deny") == 0);
    }
    return 1;
}

static void sec_start(rs_attempt_t *a, void *arg) {
    struct sec_req *q = arg;
    const rs_secretstore_ops_t *ops = q->c->type->ops;
    json_decref(q->out);
    q->out = NULL;
    int rc = q->key ? ops->get(q->c, q->key, &q->out, q->error, sizeof q->error)
                    : ops->bulk_get(q->c, &q->out, q->error, sizeof q->error);
    rs_outcome_t o;
    if (rc == 0) rs_outcome_ok(&o);
    else rs_outcome_error(&o, 0, 0, "%s", q->error);
    rs_attempt_done(a, &o);
}

static void sec_done(void *arg, const rs_outcome_t *final) {
    struct sec_req *q = arg;
    q->run = NULL;
    rs_http_req_on_close(q->r, NULL, NULL);
    if (final->kind != RS_OUTCOME_OK || !q->out) {
        if (q->key)
            rs_api_reply_err(q->r, RS_ERR_SECRET_GET, "failed getting secret with key %s from secret store %s: %s",
                                q->key, q->c->name, final->error);
        else
            rs_api_reply_err(q->r, RS_ERR_SECRET_GET, "failed getting secrets from secret store %s: %s",
                                q->c->name, final->error);
    } else {
        json_t *out = q->out;
        q->out = NULL;
        if (!q->key) { /* bulk: leave out what the scopes deny */
            const char *name;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(out, tmp, name, v) if (!secret_allowed(q->sc, q->c->name, name)) json_object_del(out, name);
        }
        rs_http_reply_json(q->r, 200, out);
    }
    free_req(q);
}

/* The client left (e.g. while a retry back-off was pending): stop the run. */
static void on_hangup(rs_http_req_t *r, void *arg) {
    struct sec_req *q = arg;
    if (q->run) rs_run_cancel(q->run);
    rs_http_reply_empty(r, 499); /* only frees: the client is gone */
    free_req(q);
}

static int handle_secrets(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    if (strcmp(r->method, "GET") != 0) return 0;
    const char *rest = rs_api_match(r, "/v1.0/secrets/");
    if (!rest) return 0;
    char store[256];
    const char *key = rs_api_next_segment(rest, store, sizeof store);
    if (!*store || !*key) return 0;
    int bulk = strcmp(key, "bulk") == 0;
    rs_http_req_set_route(r, bulk ? "/v1.0/secrets/{store}/bulk" : "/v1.0/secrets/{store}/{key}");
    rs_component_t *c = NULL;
    if (rs_sidecar_count(sc, RS_KIND_SECRETSTORE) == 0) {
        rs_api_reply_err(r, RS_ERR_SECRET_STORES_NOT_CONFIGURED, "secret store is not configured");
    } else if (!(c = rs_sidecar_component(sc, RS_KIND_SECRETSTORE, store))) {
        rs_api_reply_err(r, RS_ERR_SECRET_STORE_NOT_FOUND, "failed finding secret store with key %s", store);
    } else if (!bulk && !secret_allowed(sc, store, key)) {
        rs_api_reply_err(r, RS_ERR_PERMISSION_DENIED, "access denied by policy to get \"%s\" from \"%s\"", key,
                            store);
    } else {
        struct sec_req *q = rs_xcalloc(1, sizeof *q);
        q->sc = sc;
        q->r = r;
        q->c = c;
        q->key = bulk ? NULL : rs_strdup(key);
        rs_http_req_on_close(r, on_hangup, q);
        rs_policy_t *p = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
        q->run = rs_run_start(sc->base, p, sec_start, NULL, sec_done, q);
        rs_policy_release(p);
        if (!q->run) {
            rs_http_req_on_close(r, NULL, NULL);
            rs_api_reply_err(r, RS_ERR_SECRET_GET, "cannot start operation");
            free_req(q);
        }
    }
    return 1;
}

void rs_api_secrets_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_secrets, sc); }

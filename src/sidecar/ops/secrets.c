/* SPDX-License-Identifier: MIT */
/* Secrets: scope checks (Dapr's SecretsScope.IsSecretAllowed) and the store
 * call under the store's outbound policy. */
#include "sidecar/ops/secrets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/str.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/components/secretstores/secretstore.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/runtime/sidecar.h"

struct sec_op {
    rs_op_t op;
    rs_sidecar_t *sc;
    rs_component_t *c;
    char *key; /* NULL for bulk */
    json_t *out;
    char error[RS_ERR_MAX];
    int64_t start_us;
    rs_secrets_done_fn done;
    void *arg;
};

static void free_op(rs_op_t *op) {
    struct sec_op *q = (struct sec_op *)op;
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
    struct sec_op *q = arg;
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
    struct sec_op *q = arg;
    q->op.run = NULL;
    const char *labels[] = {"component", q->c->name, "operation", q->key ? "get" : "bulk_get",
                            "success", final->kind == RS_OUTCOME_OK && q->out ? "true" : "false", NULL};
    rs_metrics_count_observe(q->sc->metrics, "dapr_component_secret_count",
                             "The number of operations performed on the secret component.",
                             "dapr_component_secret_latencies", "The latency of the response from the secret component.",
                             labels, (double)(rs_now_us() - q->start_us) / 1000.0);
    if (final->kind != RS_OUTCOME_OK || !q->out) {
        if (q->key)
            RS_OP_FAIL(q->done, q->arg, RS_ERR_SECRET_GET, "failed getting secret with key %s from secret store %s: %s",
                       q->key, q->c->name, final->error);
        else
            RS_OP_FAIL(q->done, q->arg, RS_ERR_SECRET_GET, "failed getting secrets from secret store %s: %s",
                       q->c->name, final->error);
    } else {
        if (!q->key) { /* bulk: leave out what the scopes deny */
            const char *name;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(q->out, tmp, name, v) if (!secret_allowed(q->sc, q->c->name, name))
                json_object_del(q->out, name);
        }
        q->done(q->arg, q->out, NULL);
    }
    free_op(&q->op);
}

rs_op_t *rs_ops_secrets_get(rs_sidecar_t *sc, const rs_secrets_request_t *req, rs_secrets_done_fn done, void *arg) {
    rs_component_t *c = NULL;
    if (rs_sidecar_count(sc, RS_KIND_SECRETSTORE) == 0) {
        RS_OP_FAIL(done, arg, RS_ERR_SECRET_STORES_NOT_CONFIGURED, "secret store is not configured");
    } else if (!(c = rs_sidecar_component(sc, RS_KIND_SECRETSTORE, req->store))) {
        RS_OP_FAIL(done, arg, RS_ERR_SECRET_STORE_NOT_FOUND, "failed finding secret store with key %s", req->store);
    } else if (req->key && !secret_allowed(sc, req->store, req->key)) {
        RS_OP_FAIL(done, arg, RS_ERR_PERMISSION_DENIED, "access denied by policy to get \"%s\" from \"%s\"", req->key,
                   req->store);
    } else {
        struct sec_op *q = rs_xcalloc(1, sizeof *q);
        q->op.free = free_op;
        q->sc = sc;
        q->c = c;
        q->key = req->key ? rs_strdup(req->key) : NULL;
        q->start_us = rs_now_us();
        q->done = done;
        q->arg = arg;
        if (rs_op_run_start(&q->op, sc, c, sec_start, NULL, sec_done) == 0) return &q->op;
        RS_OP_FAIL(done, arg, RS_ERR_SECRET_GET, "cannot start operation");
        free_op(&q->op);
    }
    return NULL;
}

/* SPDX-License-Identifier: MIT */
/* sdk-probe: drives one libdapr client call per run and prints the outcome as
 * one JSON object, so Python tests can check the SDK against a real sidecar.
 *
 *   sdk-probe wait <ms>
 *   sdk-probe state-get <store> <key>
 *   sdk-probe state-save <store> <key> <value-json> [etag|-] [first-write|last-write|-]
 *   sdk-probe state-delete <store> <key> [etag]
 *   sdk-probe state-bulk <store> <key>...
 *   sdk-probe state-txn <store> '[{"op":"upsert|delete","key":..,"value":..,"etag":..}]'
 *   sdk-probe lock <store> <resource> <owner> <expiry-s>
 *   sdk-probe unlock <store> <resource> <owner>
 *   sdk-probe secret <store> <key> | secret-value <store> <key> | secret-bulk <store>
 *   sdk-probe metadata
 *   sdk-probe publish <pubsub> <topic> <data> <content-type|-> [k=v ...]
 *   sdk-probe binding <name> <operation> <data-json|-> [k=v ...]
 *   sdk-probe invoke <app-id> <verb> <method> [body]
 *   sdk-probe state-threads <store> <threads> <per-thread>   (one shared client)
 *
 * Output: {"rc":0|-1,"status":N,"code":"ERR_..","message":"..", ...results}.
 * Exit status 0 when rc is 0. Sidecar from DAPR_HTTP_PORT / DAPR_API_TOKEN. */
#include <dapr/dapr.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *out;

static int finish(int rc, const dapr_error_t *err) {
    json_object_set_new(out, "rc", json_integer(rc));
    if (rc != 0 && err) {
        json_object_set_new(out, "status", json_integer(err->status));
        json_object_set_new(out, "code", json_string(err->code));
        json_object_set_new(out, "message", json_string(err->message));
    }
    char *s = json_dumps(out, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(out);
    return rc == 0 ? 0 : 1;
}

static json_t *state_json(const dapr_state_t *s) {
    json_t *o = json_object();
    if (s->key) json_object_set_new(o, "key", json_string(s->key));
    json_object_set_new(o, "found", json_boolean(s->found));
    if (s->value) json_object_set_new(o, "value", json_string(s->value));
    if (s->etag) json_object_set_new(o, "etag", json_string(s->etag));
    if (s->error) json_object_set_new(o, "error", json_string(s->error));
    return o;
}

/* "k=v" arguments → pairs (pointing into argv). */
static size_t kv_args(char **argv, int argc, dapr_kv_t *kv, size_t max) {
    size_t n = 0;
    for (int i = 0; i < argc && n < max; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) continue;
        *eq = '\0';
        kv[n++] = (dapr_kv_t){argv[i], eq + 1};
    }
    return n;
}

typedef struct {
    dapr_client_t *c;
    const char *store;
    int id, n, ok;
} worker_t;

static void *state_worker(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        char key[64], val[64];
        snprintf(key, sizeof key, "t%d-k%d", w->id, i);
        snprintf(val, sizeof val, "{\"t\":%d,\"i\":%d}", w->id, i);
        dapr_state_t s = {0};
        if (dapr_state_save_one(w->c, w->store, key, val, NULL) == 0 &&
            dapr_state_get(w->c, w->store, key, DAPR_CONSISTENCY_DEFAULT, &s, NULL) == 0 && s.found) {
            json_t *a = json_loads(val, 0, NULL), *b = json_loads(s.value, 0, NULL);
            if (json_equal(a, b)) w->ok++;
            json_decref(a);
            json_decref(b);
        }
        dapr_state_free(&s);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: sdk-probe <command> ... (see the source's header)\n");
        return 2;
    }
    out = json_object();
    dapr_client_t *c = dapr_client_new(NULL);
    dapr_error_t err = {0};
    const char *cmd = argv[1];
    char **a = argv + 2;
    int na = argc - 2, rc = -1;
#define NEED(k)                                                                                                        \
    if (na < (k)) {                                                                                                    \
        fprintf(stderr, "%s: missing arguments\n", cmd);                                                               \
        return 2;                                                                                                      \
    }
    if (!strcmp(cmd, "wait")) {
        NEED(1);
        rc = dapr_wait_for_sidecar(c, atol(a[0]), &err);
    } else if (!strcmp(cmd, "state-get")) {
        NEED(2);
        dapr_state_t s = {0};
        rc = dapr_state_get(c, a[0], a[1], DAPR_CONSISTENCY_DEFAULT, &s, &err);
        if (rc == 0) {
            json_t *sj = state_json(&s);
            json_object_update(out, sj);
            json_decref(sj);
        }
        dapr_state_free(&s);
    } else if (!strcmp(cmd, "state-save")) {
        NEED(3);
        dapr_state_item_t it = {.key = a[1], .value = a[2]};
        if (na > 3 && strcmp(a[3], "-")) it.etag = a[3];
        if (na > 4 && !strcmp(a[4], "first-write")) it.concurrency = DAPR_CONCURRENCY_FIRST_WRITE;
        if (na > 4 && !strcmp(a[4], "last-write")) it.concurrency = DAPR_CONCURRENCY_LAST_WRITE;
        rc = dapr_state_save(c, a[0], &it, 1, &err);
    } else if (!strcmp(cmd, "state-delete")) {
        NEED(2);
        rc = dapr_state_delete(c, a[0], a[1], na > 2 ? a[2] : NULL, DAPR_CONCURRENCY_DEFAULT, &err);
    } else if (!strcmp(cmd, "state-bulk")) {
        NEED(2);
        dapr_state_t *items = NULL;
        size_t n = 0;
        rc = dapr_state_get_bulk(c, a[0], (const char *const *)(a + 1), (size_t)(na - 1), 0, &items, &n, &err);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, state_json(&items[i]));
        json_object_set_new(out, "items", arr);
        dapr_state_free_array(items, n);
    } else if (!strcmp(cmd, "state-txn")) {
        NEED(2);
        json_t *ops = json_loads(a[1], 0, NULL);
        size_t n = json_array_size(ops);
        dapr_state_op_t *o = calloc(n + 1, sizeof *o);
        char **vals = calloc(n + 1, sizeof *vals);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(ops, i);
            o[i].kind = !strcmp(json_string_value(json_object_get(e, "op")), "delete") ? DAPR_STATE_DELETE
                                                                                        : DAPR_STATE_UPSERT;
            o[i].item.key = json_string_value(json_object_get(e, "key"));
            o[i].item.etag = json_string_value(json_object_get(e, "etag"));
            json_t *v = json_object_get(e, "value");
            if (v) vals[i] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            o[i].item.value = vals[i];
        }
        rc = dapr_state_transaction(c, a[0], o, n, &err);
        for (size_t i = 0; i < n; i++) free(vals[i]);
        free(vals);
        free(o);
        json_decref(ops);
    } else if (!strcmp(cmd, "lock")) {
        NEED(4);
        int got = 0;
        rc = dapr_lock_try(c, a[0], a[1], a[2], atoi(a[3]), &got, &err);
        json_object_set_new(out, "acquired", json_boolean(got));
    } else if (!strcmp(cmd, "unlock")) {
        NEED(3);
        dapr_unlock_status_t st = DAPR_UNLOCK_INTERNAL_ERROR;
        rc = dapr_unlock(c, a[0], a[1], a[2], &st, &err);
        if (rc == 0) json_object_set_new(out, "unlock", json_integer(st));
    } else if (!strcmp(cmd, "secret") || !strcmp(cmd, "secret-bulk") || !strcmp(cmd, "metadata")) {
        char *text = NULL;
        if (!strcmp(cmd, "secret")) {
            NEED(2);
            rc = dapr_secret_get(c, a[0], a[1], NULL, 0, &text, &err);
        } else if (!strcmp(cmd, "secret-bulk")) {
            NEED(1);
            rc = dapr_secret_bulk(c, a[0], &text, &err);
        } else {
            rc = dapr_metadata_get(c, &text, &err);
        }
        if (text) json_object_set_new(out, "json", json_loads(text, 0, NULL));
        free(text);
    } else if (!strcmp(cmd, "secret-value")) {
        NEED(2);
        char *v = NULL;
        rc = dapr_secret_get_value(c, a[0], a[1], &v, &err);
        if (v) json_object_set_new(out, "value", json_string(v));
        free(v);
    } else if (!strcmp(cmd, "publish")) {
        NEED(4);
        dapr_kv_t kv[16];
        size_t nkv = kv_args(a + 4, na - 4, kv, 16);
        rc = dapr_publish(c, a[0], a[1], a[2], strlen(a[2]), strcmp(a[3], "-") ? a[3] : NULL, kv, nkv, &err);
    } else if (!strcmp(cmd, "binding")) {
        NEED(3);
        dapr_kv_t kv[16];
        size_t nkv = kv_args(a + 3, na - 3, kv, 16);
        dapr_response_t r = {0};
        rc = dapr_binding_invoke(c, a[0], a[1], strcmp(a[2], "-") ? a[2] : NULL, kv, nkv, &r, &err);
        json_object_set_new(out, "status", json_integer(r.status));
        if (r.body) json_object_set_new(out, "body", json_string(r.body));
        dapr_response_free(&r);
    } else if (!strcmp(cmd, "invoke")) {
        NEED(3);
        dapr_response_t r = {0};
        rc = dapr_invoke(c, a[0], a[1], a[2], na > 3 ? a[3] : NULL, na > 3 ? strlen(a[3]) : 0, NULL, &r, &err);
        json_object_set_new(out, "http", json_integer(r.status));
        if (r.body) json_object_set_new(out, "body", json_string(r.body));
        dapr_response_free(&r);
    } else if (!strcmp(cmd, "state-threads")) {
        NEED(3);
        int nt = atoi(a[1]), per = atoi(a[2]);
        if (nt < 1 || nt > 64) nt = 4;
        worker_t w[64];
        pthread_t th[64];
        for (int i = 0; i < nt; i++) {
            w[i] = (worker_t){.c = c, .store = a[0], .id = i, .n = per};
            pthread_create(&th[i], NULL, state_worker, &w[i]);
        }
        int ok = 0;
        for (int i = 0; i < nt; i++) {
            pthread_join(th[i], NULL);
            ok += w[i].ok;
        }
        json_object_set_new(out, "ok", json_integer(ok));
        rc = ok == nt * per ? 0 : -1;
        if (rc) dapr_error_set(&err, 0, "PROBE", "%d of %d round trips failed", nt * per - ok, nt * per);
    } else {
        fprintf(stderr, "unknown command %s\n", cmd);
        return 2;
    }
    dapr_client_free(c);
    return finish(rc, &err);
}

/* SPDX-License-Identifier: MIT */
/* Secrets: GET /v1.0/secrets/<store>/<key> and /bulk. */
#include <stdlib.h>
#include <string.h>

#include "dapr/secrets.h"
#include "internal.h"

static int get_json(dapr_client_t *c, char *path, char **json_out, dapr_error_t *err) {
    dapr_response_t r = {0};
    int rc = dapr_client_request(c, "GET", path, NULL, 0, NULL, 0, &r, err);
    if (rc == 0) {
        *json_out = r.body;
        r.body = NULL;
    }
    dapr_response_free(&r);
    free(path);
    return rc;
}

int dapr_secret_get(dapr_client_t *c, const char *store, const char *key, const dapr_kv_t *metadata,
                    size_t nmetadata, char **json_out, dapr_error_t *err) {
    char *s = dapr_url_escape(store), *k = dapr_url_escape(key);
    char *path = dapri_sprintf("/v1.0/secrets/%s/%s", s, k);
    free(s);
    free(k);
    for (size_t i = 0; metadata && i < nmetadata; i++) {
        char *mk = dapr_url_escape(metadata[i].key), *mv = dapr_url_escape(metadata[i].value);
        char *p = dapri_sprintf("%s%cmetadata.%s=%s", path, i == 0 ? '?' : '&', mk, mv);
        free(path);
        path = p;
        free(mk);
        free(mv);
    }
    return get_json(c, path, json_out, err);
}

int dapr_secret_get_value(dapr_client_t *c, const char *store, const char *key, char **value_out,
                          dapr_error_t *err) {
    char *text = NULL;
    *value_out = NULL;
    if (dapr_secret_get(c, store, key, NULL, 0, &text, err) != 0) return -1;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    json_t *v = json_object_get(o, key);
    if (!v && json_object_size(o) == 1) v = json_object_iter_value(json_object_iter(o));
    if (!json_is_string(v)) {
        json_decref(o);
        dapr_error_set(err, 200, DAPR_ERR_CLIENT, "secret %s: no string value named %s in the answer", key, key);
        return -1;
    }
    *value_out = dapri_xstrdup(json_string_value(v));
    json_decref(o);
    return 0;
}

int dapr_secret_bulk(dapr_client_t *c, const char *store, char **json_out, dapr_error_t *err) {
    char *s = dapr_url_escape(store);
    char *path = dapri_sprintf("/v1.0/secrets/%s/bulk", s);
    free(s);
    return get_json(c, path, json_out, err);
}

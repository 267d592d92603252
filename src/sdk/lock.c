/* SPDX-License-Identifier: MIT */
/* Distributed lock (alpha API): try-lock and unlock. */
#include <stdlib.h>
#include <string.h>

#include "dapr/lock.h"
#include "internal.h"

static int lock_call(dapr_client_t *c, const char *verb, const char *store, json_t *req, json_t **answer,
                     dapr_error_t *err) {
    char *s = dapr_url_escape(store);
    char *path = dapri_sprintf("/v1.0-alpha1/%s/%s", verb, s);
    dapr_response_t r = {0};
    int rc = dapri_send_json(c, "POST", path, req, &r, err);
    if (rc == 0) {
        *answer = json_loadb(r.body, r.body_len, 0, NULL);
        if (!json_is_object(*answer)) {
            json_decref(*answer);
            *answer = NULL;
            dapr_error_set(err, r.status, DAPR_ERR_CLIENT, "%s: the answer is not a JSON object", verb);
            rc = -1;
        }
    }
    dapr_response_free(&r);
    free(path);
    free(s);
    return rc;
}

int dapr_lock_try(dapr_client_t *c, const char *store, const char *resource_id, const char *owner,
                  int expiry_seconds, int *acquired, dapr_error_t *err) {
    *acquired = 0;
    json_t *req = json_object();
    json_object_set_new(req, "resourceId", json_string(resource_id ? resource_id : ""));
    json_object_set_new(req, "lockOwner", json_string(owner ? owner : ""));
    json_object_set_new(req, "expiryInSeconds", json_integer(expiry_seconds));
    json_t *ans = NULL;
    if (lock_call(c, "lock", store, req, &ans, err) != 0) return -1;
    *acquired = json_is_true(json_object_get(ans, "success"));
    json_decref(ans);
    return 0;
}

int dapr_unlock(dapr_client_t *c, const char *store, const char *resource_id, const char *owner,
                dapr_unlock_status_t *status, dapr_error_t *err) {
    json_t *req = json_object();
    json_object_set_new(req, "resourceId", json_string(resource_id ? resource_id : ""));
    json_object_set_new(req, "lockOwner", json_string(owner ? owner : ""));
    json_t *ans = NULL;
    if (lock_call(c, "unlock", store, req, &ans, err) != 0) return -1;
    /* Dapr omits "status" when it is 0 (proto3 JSON drops default values). */
    json_t *st = json_object_get(ans, "status");
    int v = json_is_integer(st) ? (int)json_integer_value(st) : 0;
    if (json_is_string(st)) { /* enum names, in case a runtime writes them */
        const char *s = json_string_value(st);
        v = strcmp(s, "LOCK_DOES_NOT_EXIST") == 0 ? 1 : strcmp(s, "LOCK_BELONGS_TO_OTHERS") == 0 ? 2
            : strcmp(s, "INTERNAL_ERROR") == 0 ? 3 : 0;
    }
    json_decref(ans);
    if (status) *status = (dapr_unlock_status_t)v;
    return 0;
}

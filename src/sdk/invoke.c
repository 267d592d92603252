/* SPDX-License-Identifier: MIT */
/* Service invocation through the sidecar: /v1.0/invoke/<app>/method/<method>. */
#include <stdlib.h>

#include "dapr/client.h"
#include "internal.h"

int dapr_invoke(dapr_client_t *c, const char *app_id, const char *verb, const char *method, const void *body,
                size_t body_len, const char *content_type, dapr_response_t *out, dapr_error_t *err) {
    char *app = dapr_url_escape(app_id);
    while (method && *method == '/') method++; /* "/order" and "order" name the same method */
    char *path = dapri_sprintf("/v1.0/invoke/%s/method/%s", app, method ? method : "");
    dapr_kv_t h = {"Content-Type", content_type ? content_type : "application/json"};
    int has_ct = body != NULL || content_type != NULL;
    int rc = dapr_client_request(c, verb ? verb : "POST", path, has_ct ? &h : NULL, has_ct ? 1 : 0, body, body_len,
                                 out, err);
    free(path);
    free(app);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* Output bindings: POST /v1.0/bindings/<name> {"data","metadata","operation"}. */
#include <stdlib.h>

#include "dapr/bindings.h"
#include "internal.h"

int dapr_binding_invoke(dapr_client_t *c, const char *name, const char *operation, const char *data_json,
                        const dapr_kv_t *metadata, size_t nmetadata, dapr_response_t *out, dapr_error_t *err) {
    json_t *req = json_object();
    json_object_set_new(req, "data", dapri_json_value(data_json));
    json_object_set_new(req, "metadata", dapri_kv_object(metadata, nmetadata));
    json_object_set_new(req, "operation", json_string(operation ? operation : ""));
    char *n = dapr_url_escape(name);
    char *path = dapri_sprintf("/v1.0/bindings/%s", n);
    int rc = dapri_send_json(c, "POST", path, req, out, err);
    free(path);
    free(n);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* Publishing: POST /v1.0/publish/<pubsub>/<topic>?metadata.k=v. */
#include <stdlib.h>
#include <string.h>

#include "dapr/pubsub.h"
#include "internal.h"

int dapr_publish(dapr_client_t *c, const char *pubsub, const char *topic, const void *data, size_t len,
                 const char *content_type, const dapr_kv_t *metadata, size_t nmetadata, dapr_error_t *err) {
    char *ps = dapr_url_escape(pubsub), *tp = dapr_url_escape(topic);
    char *path = dapri_sprintf("/v1.0/publish/%s/%s", ps, tp);
    for (size_t i = 0; metadata && i < nmetadata; i++) {
        char *k = dapr_url_escape(metadata[i].key), *v = dapr_url_escape(metadata[i].value);
        char *p = dapri_sprintf("%s%cmetadata.%s=%s", path, i == 0 ? '?' : '&', k, v);
        free(path);
        path = p;
        free(k);
        free(v);
    }
    dapr_kv_t h = {"Content-Type", content_type ? content_type : "text/plain"};
    int rc = dapr_client_request(c, "POST", path, &h, 1, data ? data : "", data ? len : 0, NULL, err);
    free(path);
    free(ps);
    free(tp);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* libdapr output bindings (Dapr POST /v1.0/bindings/<name>).
 * Input bindings are on the app side: see app.h (dapr_app_binding). */
#ifndef DAPR_BINDINGS_H
#define DAPR_BINDINGS_H

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Invokes operation (e.g. "create", "get", "delete", "list") on binding `name`.
 * data_json is the request's `data` as JSON text (NULL = null; text that is not
 * valid JSON is sent as a JSON string). Dapr re-marshals it before the component
 * sees it: a JSON object arrives as its JSON text, a string arrives quoted
 * unless the component unquotes it (the blob binding does).
 * metadata (may be NULL) becomes the request's `metadata` object, e.g.
 * {"blobName","order-1"}. `out` (may be NULL) receives the answer: its body is
 * the component's data, response metadata comes as `Metadata.<k>` headers
 * (dapr_response_header is case-insensitive). Returns 0 on 2xx.
 */
int dapr_binding_invoke(dapr_client_t *c, const char *name, const char *operation, const char *data_json,
                        const dapr_kv_t *metadata, size_t nmetadata, dapr_response_t *out, dapr_error_t *err);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/* libdapr secrets API (Dapr GET /v1.0/secrets/<store>/<key> and /bulk). */
#ifndef DAPR_SECRETS_H
#define DAPR_SECRETS_H

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/** GET /v1.0/secrets/<store>/<key>: on 0, *json_out is the answer, a JSON object
 *  {"<name>":"<value>",...} (caller frees with free()). metadata may be NULL. */
int dapr_secret_get(dapr_client_t *c, const char *store, const char *key, const dapr_kv_t *metadata,
                    size_t nmetadata, char **json_out, dapr_error_t *err);

/** Convenience: the value of secret `key` (the map entry named key, or the only
 *  entry). On 0, *value_out is a malloc'd string. */
int dapr_secret_get_value(dapr_client_t *c, const char *store, const char *key, char **value_out,
                          dapr_error_t *err);

/** GET /v1.0/secrets/<store>/bulk: on 0, *json_out is {"<secret>":{"k":"v"}} (caller frees). */
int dapr_secret_bulk(dapr_client_t *c, const char *store, char **json_out, dapr_error_t *err);

#ifdef __cplusplus
}
#endif
#endif

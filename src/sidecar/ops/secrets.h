/* SPDX-License-Identifier: MIT */
/* The secrets operations: one secret, or every secret of a store, filtered
 * by the Configuration's spec.secrets.scopes, under the store's outbound
 * resiliency policy (local stores answer at once; a breaker or retry still
 * behaves as in Dapr). The contract every operation follows is in ops/ops.h. */
#ifndef RS_SIDECAR_OPS_SECRETS_H
#define RS_SIDECAR_OPS_SECRETS_H

#include <jansson.h>

#include "sidecar/ops/ops.h"

/** A secret request; key NULL asks for every secret (bulk). */
typedef struct {
    const char *store;
    const char *key;
} rs_secrets_request_t;

/** Exactly one of secrets and err is non-NULL. secrets is borrowed for the call: one secret is an object of
 *  string values ({"k":"v"}); bulk is an object of such objects, keyed by secret name, without the denied ones. */
typedef void (*rs_secrets_done_fn)(void *arg, json_t *secrets, const rs_dapr_error_t *err);

/** Gets one secret (req->key) or all of them. Errors: SECRET_STORES_NOT_CONFIGURED, SECRET_STORE_NOT_FOUND,
 *  PERMISSION_DENIED (the scopes deny the key), SECRET_GET (store failure). */
rs_op_t *rs_ops_secrets_get(struct rs_sidecar *sc, const rs_secrets_request_t *req, rs_secrets_done_fn done,
                            void *arg);

#endif

/* SPDX-License-Identifier: MIT */
/* The secret store kind (secretstores.local.file, secretstores.local.env).
 * Local stores answer synchronously; the calls return at once. */
#ifndef RS_SIDECAR_SECRETSTORE_H
#define RS_SIDECAR_SECRETSTORE_H

#include <jansson.h>
#include <stddef.h>

#include "sidecar/components/component.h"

typedef struct rs_secretstore_ops {
    /** Looks up secret `name`. On success returns 0 and a new JSON object {"k":"v",...} in *out.
     *  Returns -1 with a reason in err when it does not exist or the store fails. */
    int (*get)(rs_component_t *c, const char *name, json_t **out, char *err, size_t errlen);
    /** Every secret: a new JSON object {"name":{"k":"v"}}. Returns 0 or -1. */
    int (*bulk_get)(rs_component_t *c, json_t **out, char *err, size_t errlen);
} rs_secretstore_ops_t;

#endif

/* SPDX-License-Identifier: MIT */
/* Turns a component's metadata items into final name/value pairs: templates
 * ({uuid}, {appID}, {namespace}), envRef, and secretKeyRef through the secret
 * store named in the component's auth.secretStore (spec §2.8). */
#ifndef RS_SIDECAR_RESOURCES_RESOLVE_H
#define RS_SIDECAR_RESOURCES_RESOLVE_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/resources/resources.h"

struct rs_sidecar;

typedef enum {
    RS_RESOLVE_OK = 0,
    RS_RESOLVE_ERROR = -1,    /* err says why */
    RS_RESOLVE_DEFERRED = 1,  /* the named secret store is not loaded yet */
} rs_resolve_result_t;

/** Fills out (which must be empty) with the component's resolved metadata. */
rs_resolve_result_t rs_resolve_component_metadata(struct rs_sidecar *sc, const rs_resource_component_t *rc,
                                                  rs_kvlist_t *out, char *err, size_t errlen);
/** Applies {uuid}, {appID}, {namespace} templates to value. Returns a new string, or NULL with err
 *  (e.g. {podName} in self-hosted mode). */
char *rs_resolve_templates(const char *value, const char *app_id, char *err, size_t errlen);

#endif

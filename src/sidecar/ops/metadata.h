/* SPDX-License-Identifier: MIT */
/* The metadata operations: what this sidecar reports about itself, and the
 * extended metadata an app sets. Both are synchronous (no component call). */
#ifndef RS_SIDECAR_OPS_METADATA_H
#define RS_SIDECAR_OPS_METADATA_H

#include <jansson.h>
#include <stddef.h>

#include "core/str.h"
#include "sidecar/ops/ops.h"

/** One loaded component. */
typedef struct {
    const char *name, *type, *version;
    const char *const *capabilities; /**< NULL-terminated, or NULL */
} rs_metadata_component_t;

/** The sidecar's metadata. Strings are borrowed from the sidecar; valid until the next put or shutdown. */
typedef struct {
    const char *id;
    const char *runtime_version;          /**< "ripstopd-<version>" */
    rs_metadata_component_t *components;  /**< owned (rs_ops_metadata_release) */
    size_t ncomponents;
    const rs_kvlist_t *extended;          /**< set with rs_ops_metadata_put */
    json_t *subscriptions;                /**< owned: Dapr's subscription list (messaging) */
    int app_port;                         /**< 0 = no app */
    const char *app_channel_address;
    const char *app_protocol;             /**< "http" or "grpc" */
    int app_health;                       /**< app health checks are on: the four below are daprd's `health` */
    const char *health_check_path;        /**< NULL for a gRPC app (daprd leaves it out there) */
    char health_probe_interval[32];       /**< a Go duration as Go prints it: "5s" */
    char health_probe_timeout[32];        /**< "500ms" */
    int health_threshold;
} rs_metadata_t;

/** Fills *out. Release it with rs_ops_metadata_release. */
void rs_ops_metadata_get(struct rs_sidecar *sc, rs_metadata_t *out);
/** Frees what rs_ops_metadata_get allocated. */
void rs_ops_metadata_release(rs_metadata_t *m);
/** Bounds of the extended metadata: it lives as long as the sidecar, so a client may not grow it forever. */
#define RS_METADATA_MAX_KEYS 256
#define RS_METADATA_MAX_KEY 256
#define RS_METADATA_MAX_VALUE 65536
/** Sets extended metadata key to value (copied). Returns 0, or -1 with RS_ERR_MALFORMED_REQUEST in err when the
 *  key or value is too long or a new key would pass RS_METADATA_MAX_KEYS (an existing key may always be set). */
int rs_ops_metadata_put(struct rs_sidecar *sc, const char *key, const char *value, rs_dapr_error_t *err);

#endif

/* SPDX-License-Identifier: MIT */
/* The sidecar's metadata, read from the runtime object. */
#include "sidecar/ops/metadata.h"

#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "sidecar/messaging/messaging.h"
#include "sidecar/runtime/sidecar.h"

void rs_ops_metadata_get(rs_sidecar_t *sc, rs_metadata_t *out) {
    *out = (rs_metadata_t){.id = sc->cfg.app_id,
                           .runtime_version = "ripstopd-" RIPSTOP_VERSION,
                           .ncomponents = sc->ncomponents,
                           .extended = &sc->extended_metadata,
                           .subscriptions = rs_subscriptions_metadata_json(sc),
                           .app_port = sc->cfg.app_port,
                           .app_channel_address = sc->cfg.app_channel_address,
                           .app_protocol = sc->cfg.app_protocol ? sc->cfg.app_protocol : "http"};
    if (sc->cfg.app_health_check) {
        out->app_health = 1;
        out->health_check_path = strcmp(out->app_protocol, "grpc") == 0 ? NULL : sc->cfg.app_health_path;
        rs_duration_format_go(sc->cfg.app_health_interval_ms, out->health_probe_interval,
                              sizeof out->health_probe_interval);
        rs_duration_format_go(sc->cfg.app_health_timeout_ms, out->health_probe_timeout,
                              sizeof out->health_probe_timeout);
        out->health_threshold = sc->cfg.app_health_threshold;
    }
    out->components = rs_xcalloc(sc->ncomponents ? sc->ncomponents : 1, sizeof *out->components);
    for (size_t i = 0; i < sc->ncomponents; i++) {
        const rs_component_t *c = sc->components[i];
        out->components[i] = (rs_metadata_component_t){.name = c->name, .type = c->type->type,
                                                       .version = c->version, .capabilities = c->type->capabilities};
    }
}

void rs_ops_metadata_release(rs_metadata_t *m) {
    free(m->components);
    json_decref(m->subscriptions);
    *m = (rs_metadata_t){0};
}

int rs_ops_metadata_put(rs_sidecar_t *sc, const char *key, const char *value, rs_dapr_error_t *err) {
    if (strlen(key) > RS_METADATA_MAX_KEY || strlen(value) > RS_METADATA_MAX_VALUE) {
        rs_dapr_error_set(err, RS_ERR_MALFORMED_REQUEST, "metadata keys hold at most %d bytes and values %d",
                          RS_METADATA_MAX_KEY, RS_METADATA_MAX_VALUE);
        return -1;
    }
    if (!rs_kvlist_get(&sc->extended_metadata, key) && sc->extended_metadata.len >= RS_METADATA_MAX_KEYS) {
        rs_dapr_error_set(err, RS_ERR_MALFORMED_REQUEST, "at most %d extended metadata keys", RS_METADATA_MAX_KEYS);
        return -1;
    }
    rs_kvlist_set(&sc->extended_metadata, key, value);
    return 0;
}

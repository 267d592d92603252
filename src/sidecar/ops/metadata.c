/* SPDX-License-Identifier: MIT */
/* The sidecar's metadata, read from the runtime object. */
#include "sidecar/ops/metadata.h"

#include <stdlib.h>

#include "sidecar/messaging/messaging.h"
#include "sidecar/runtime/sidecar.h"

void rs_ops_metadata_get(rs_sidecar_t *sc, rs_metadata_t *out) {
    *out = (rs_metadata_t){.id = sc->cfg.app_id,
                           .runtime_version = "ripstopd-" RIPSTOP_VERSION,
                           .ncomponents = sc->ncomponents,
                           .extended = &sc->extended_metadata,
                           .subscriptions = rs_subscriptions_metadata_json(sc),
                           .app_port = sc->cfg.app_port,
                           .app_channel_address = sc->cfg.app_channel_address};
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

void rs_ops_metadata_put(rs_sidecar_t *sc, const char *key, const char *value) {
    rs_kvlist_set(&sc->extended_metadata, key, value);
}

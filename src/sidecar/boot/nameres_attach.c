/* SPDX-License-Identifier: MIT */
/* Name resolution inside ripstopd. The sidecar registers only once its app
 * answers, so peers are never routed to a sidecar that cannot deliver yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sidecar/boot/attach.h"
#include "sidecar/nameres/nameres.h"
#include "sidecar/runtime/sidecar.h"

/* The address peers use to reach our HTTP API. */
static void own_address(const rs_sidecar_t *sc, char *out, size_t outlen) {
    const char *host = sc->cfg.listen_addresses.len ? sc->cfg.listen_addresses.items[0] : "127.0.0.1";
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "localhost") == 0) {
        const char *env = getenv("DAPR_HOST_IP");
        host = env && *env ? env : "127.0.0.1";
    }
    if (strchr(host, ':')) snprintf(out, outlen, "[%s]:%d", host, sc->cfg.http_port);
    else snprintf(out, outlen, "%s:%d", host, sc->cfg.http_port);
}

static void register_now(rs_sidecar_t *sc, void *arg) {
    (void)arg;
    if (!sc->nameres || sc->shutting_down) return;
    char addr[128], err[256];
    own_address(sc, addr, sizeof addr);
    if (rs_nameres_register(sc->nameres, sc->cfg.app_id, addr, err, sizeof err) != 0) RS_ERROR("nameres", "%s", err);
}

int rs_nameres_attach(rs_sidecar_t *sc, char *err, size_t errlen) {
    rs_nameres_config_t cfg;
    char why[300];
    if (rs_nameres_config_parse(sc->resources.configuration.doc, &cfg, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", sc->resources.configuration.file ? sc->resources.configuration.file : "config",
                 why);
        return -1;
    }
    sc->nameres = rs_nameres_new(sc->base, &cfg, NULL, NULL, err, errlen);
    rs_nameres_config_free(&cfg);
    if (!sc->nameres) return -1;
    if (sc->cfg.app_port) rs_sidecar_on_app_ready(sc, register_now, NULL);
    else register_now(sc, NULL);
    return 0;
}

void rs_nameres_detach(rs_sidecar_t *sc) {
    rs_nameres_free(sc->nameres);
    sc->nameres = NULL;
}

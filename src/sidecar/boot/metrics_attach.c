/* SPDX-License-Identifier: MIT */
/* Metrics inside ripstopd: the registry, its own HTTP server on
 * --metrics-port, and the observers that feed it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/server.h"
#include "sidecar/boot/attach.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/runtime/sidecar.h"

int rs_metrics_attach(rs_sidecar_t *sc, char *err, size_t errlen) {
    sc->metrics = rs_metrics_new(sc->cfg.app_id);
    if (sc->api) rs_http_server_set_observer(sc->api, rs_metrics_http_observer, sc->metrics);
    if (sc->resiliency) rs_resiliency_set_metrics(sc->resiliency, sc->metrics);
    if (sc->cfg.metrics_port <= 0) return 0;
    sc->metrics_server = rs_http_server_new(sc->base, 64 * 1024);
    const char *addr = sc->cfg.listen_addresses.len ? sc->cfg.listen_addresses.items[0] : "127.0.0.1";
    if (rs_http_server_listen(sc->metrics_server, addr, sc->cfg.metrics_port) < 0) {
        snprintf(err, errlen, "cannot listen for metrics on %s:%d: %s", addr, sc->cfg.metrics_port, strerror(errno));
        return -1;
    }
    rs_metrics_serve(sc->metrics, sc->metrics_server);
    RS_INFO("metrics", "metrics server listening on %s:%d", addr, sc->cfg.metrics_port);
    return 0;
}

void rs_metrics_detach(rs_sidecar_t *sc) {
    if (sc->api) rs_http_server_set_observer(sc->api, NULL, NULL);
    if (sc->resiliency) rs_resiliency_set_metrics(sc->resiliency, NULL);
    rs_http_server_free(sc->metrics_server);
    sc->metrics_server = NULL;
    rs_metrics_free(sc->metrics);
    sc->metrics = NULL;
}

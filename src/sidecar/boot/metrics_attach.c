/* SPDX-License-Identifier: MIT */
/* Metrics inside ripstopd: the registry, its own HTTP server on
 * --metrics-port, and the observers that feed it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/server.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/boot/attach.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/runtime/sidecar.h"

/* daprd's component families, recorded once the registry exists (components are initialised before it): loaded and
 * init_total per component that came up, init_fail_total per one skipped under ignoreErrors. */
static void count_components(rs_sidecar_t *sc) {
    for (size_t i = 0; i < sc->resources.ncomponents; i++) {
        const rs_resource_component_t *rc = &sc->resources.components[i];
        int up = 0;
        for (size_t j = 0; j < sc->ncomponents && !up; j++) up = strcmp(sc->components[j]->name, rc->name) == 0;
        if (up) {
            rs_metrics_inc(sc->metrics, "dapr_runtime_component_loaded", "The number of successfully loaded components.",
                           NULL, 1);
            const char *labels[] = {"component", rc->type, NULL};
            rs_metrics_inc(sc->metrics, "dapr_runtime_component_init_total", "The number of initialized components.",
                           labels, 1);
        } else {
            const char *labels[] = {"component", rc->type, "reason", "init", "componentName", rc->name, NULL};
            rs_metrics_inc(sc->metrics, "dapr_runtime_component_init_fail_total",
                           "The number of component initialization failures.", labels, 1);
        }
    }
}

int rs_metrics_attach(rs_sidecar_t *sc, char *err, size_t errlen) {
    sc->metrics = rs_metrics_new(sc->cfg.app_id);
    count_components(sc);
    if (sc->api) rs_http_server_set_observer(sc->api, rs_metrics_http_observer, sc->metrics);
    if (sc->resiliency) rs_resiliency_set_metrics(sc->resiliency, sc->metrics);
    if (sc->app) rs_app_channel_set_metrics(sc->app, sc->metrics);
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
    if (sc->app) rs_app_channel_set_metrics(sc->app, NULL);
    rs_http_server_free(sc->metrics_server);
    sc->metrics_server = NULL;
    rs_metrics_free(sc->metrics);
    sc->metrics = NULL;
}

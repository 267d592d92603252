/* SPDX-License-Identifier: MIT */
/* Steps of the boot sequence that tie a module to the runtime object: the
 * metrics registry and its server, and name resolution. They live here, not
 * in metrics/ or nameres/, so that those modules stay below the runtime. */
#ifndef RS_SIDECAR_BOOT_ATTACH_H
#define RS_SIDECAR_BOOT_ATTACH_H

#include <stddef.h>

#include "sidecar/runtime/sidecar.h"

/** Wires metrics into ripstopd: creates sc->metrics, serves /metrics on --metrics-port (0 = off), observes
 *  the API server and reports resiliency activations. Returns 0, or -1 with a reason (port in use). */
int rs_metrics_attach(rs_sidecar_t *sc, char *err, size_t errlen);
/** Stops the metrics server and frees sc->metrics (detaches the observers first). */
void rs_metrics_detach(rs_sidecar_t *sc);
/** Wires name resolution into ripstopd: builds sc->nameres from the Configuration's nameResolution and
 *  registers this sidecar's HTTP endpoint once the app port answers (at once when there is no app port).
 *  Returns 0, or -1 with a reason. */
int rs_nameres_attach(rs_sidecar_t *sc, char *err, size_t errlen);
/** Removes the registration and frees sc->nameres. */
void rs_nameres_detach(rs_sidecar_t *sc);

#endif

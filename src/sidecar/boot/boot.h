/* SPDX-License-Identifier: MIT */
/* The boot sequence: builds a runtime object (runtime/sidecar.h) from its
 * configuration, starts it, and frees it. main.c and tests that need a whole
 * runtime call these; nothing else includes boot/. */
#ifndef RS_SIDECAR_BOOT_H
#define RS_SIDECAR_BOOT_H

#include <event2/event.h>
#include <stddef.h>

#include "sidecar/runtime/sidecar.h"

/** Loads resources and initialises components. Returns 0, or -1 with a reason ("file:line: ...",
 *  "component X: ...") in err; the caller then exits non-zero. */
int rs_sidecar_init(rs_sidecar_t *sc, struct event_base *base, char *err, size_t errlen);
/** Starts listening, probes the app port, and marks the outbound side ready. Returns 0 or -1. */
int rs_sidecar_start(rs_sidecar_t *sc, char *err, size_t errlen);
/** Frees everything rs_sidecar_init created (runs shutdown hooks first if not yet run). */
void rs_sidecar_free(rs_sidecar_t *sc);

#endif

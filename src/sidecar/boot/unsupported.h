/* SPDX-License-Identifier: MIT */
/* No silent ignores: at start, one warning for each part of the input that
 * ripstopd accepts but does not act on, naming it. */
#ifndef RS_SIDECAR_BOOT_UNSUPPORTED_H
#define RS_SIDECAR_BOOT_UNSUPPORTED_H

#include "sidecar/resources/resources.h"

/** Logs one warning (scope "config") per Configuration spec section ripstopd does not apply, and per
 *  component field it reads but does not enforce. Returns the number of warnings (for tests). */
int rs_warn_unsupported(const rs_resources_t *res);

#endif

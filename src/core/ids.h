/* SPDX-License-Identifier: MIT */
/* Identifiers: UUIDs, W3C trace ids, random numbers. */
#ifndef RS_CORE_IDS_H
#define RS_CORE_IDS_H

#include <stdint.h>

/** Writes a lowercase random (v4) UUID, 36 characters + NUL. */
void rs_uuid(char out[37]);
/** Writes a new W3C traceparent "00-<32 hex>-<16 hex>-01" (55 chars + NUL). */
void rs_traceparent_new(char out[56]);
/** Returns 1 if `s` is a well-formed W3C traceparent. */
int rs_traceparent_valid(const char *s);
/** Uniform random double in [0,1), from a cryptographic source. */
double rs_random_unit(void);
/** Uniform random integer in [0, n). n must be > 0. */
uint32_t rs_random_below(uint32_t n);

#endif

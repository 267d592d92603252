/* SPDX-License-Identifier: MIT */
/* Identifiers: UUIDs, W3C trace ids, random numbers. */
#ifndef RS_CORE_IDS_H
#define RS_CORE_IDS_H

#include <stddef.h>
#include <stdint.h>

/** Writes a lowercase random (v4) UUID, 36 characters + NUL. */
void rs_uuid(char out[37]);
/** Writes a new W3C traceparent "00-<32 hex>-<16 hex>-01" (55 chars + NUL). */
void rs_traceparent_new(char out[56]);
/** Returns 1 if `s` is a well-formed W3C traceparent. */
int rs_traceparent_valid(const char *s);
/** Fills `out` with `n` random bytes from a fast per-thread generator seeded from the kernel.
 *  Unpredictable enough for ids and jitter; not for keys or tokens. */
void rs_random_bytes(void *out, size_t n);
/** Fills `out` with `n` bytes from the kernel's cryptographic generator (getrandom), for secrets. Returns 0, or -1
 *  when the kernel gives none. (Not OpenSSL's RAND_bytes: its first call sets up the provider machinery, ~8 million
 *  instructions at start-up.) */
int rs_secure_random(void *out, size_t n);
/** Writes `n` bytes as 2n lowercase hex digits and a NUL. */
void rs_hex_encode(const void *in, size_t n, char *out);
/** Uniform random double in [0,1), from rs_random_bytes' generator. */
double rs_random_unit(void);
/** Uniform random integer in [0, n). n must be > 0. */
uint32_t rs_random_below(uint32_t n);

/** Longest app id accepted (Kubernetes' DNS label limit, less daprd's "-dapr" service suffix). */
#define RS_APP_ID_MAX 58
/** Checks an app id: 1 to RS_APP_ID_MAX characters of [A-Za-z0-9_-], not starting with '-'. Stricter than daprd's
 *  self-hosted rule (no '.'): an app id goes into state keys ("app||key"), metric labels, headers, log lines and
 *  file names unescaped, so it may hold nothing that means something there. Returns 0, or -1 with a reason in why. */
int rs_app_id_check(const char *id, char *why, size_t whylen);

#endif

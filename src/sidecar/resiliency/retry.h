/* SPDX-License-Identifier: MIT */
/* Retry policies (spec §1.2): constant or exponential back-off, maxRetries,
 * and the `matching` status-code lists. Pure functions of their inputs (the
 * random draw and the elapsed time are passed in) so schedules and jitter
 * bounds are unit-testable without a clock. */
#ifndef RS_SIDECAR_RESILIENCY_RETRY_H
#define RS_SIDECAR_RESILIENCY_RETRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { RS_RETRY_CONSTANT = 0, RS_RETRY_EXPONENTIAL } rs_retry_kind_t;

/* Dapr's exponential settings that are not configurable. */
#define RS_RETRY_EXP_INITIAL_MS 500
#define RS_RETRY_EXP_MULTIPLIER 1.5
#define RS_RETRY_EXP_JITTER 0.5
#define RS_RETRY_EXP_MAX_ELAPSED_MS (15LL * 60 * 1000)

typedef struct {
    rs_retry_kind_t kind;
    int64_t duration_ms;      /* constant wait (default 5s) */
    int64_t max_interval_ms;  /* exponential cap (default 60s) */
    int64_t max_retries;      /* retries after the first try; -1 = unlimited (the default) */
    int has_http_codes;       /* matching.httpStatusCodes was set */
    int has_grpc_codes;       /* matching.gRPCStatusCodes was set */
    uint8_t http_codes[600];  /* 1 = retry this HTTP status */
    uint8_t grpc_codes[17];   /* 1 = retry this gRPC code */
} rs_retry_spec_t;

/** Fills the defaults (constant 5s, maxInterval 60s, unlimited retries, no matching). */
void rs_retry_spec_default(rs_retry_spec_t *s);
/** Parses one `policies.retries.<name>` object; integers may be JSON numbers or strings.
 *  Returns 0, or -1 with a reason in err (e.g. a spaced `matching` list). */
int rs_retry_spec_parse(const json_t *obj, rs_retry_spec_t *out, char *err, size_t errlen);
/** Parses a `matching` list ("429,500-599") into bitmap[lo..hi]. Spaces are an error, empty items are
 *  skipped, ranges need end >= start. Returns 0, or -1 with a reason. */
int rs_retry_codes_parse(const char *list, int lo, int hi, uint8_t *bitmap, char *err, size_t errlen);
/** Returns 1 if an error carrying `status` may be retried: status 0 (no code) always; 0-16 against the gRPC
 *  list, else the HTTP list; an unset list allows every code. */
int rs_retry_status_retriable(const rs_retry_spec_t *s, int status);
/** The wait before the next retry, after `retries_done` retries and `elapsed_ms` since the first attempt began;
 *  `rnd` is a uniform draw in [0,1) used for the exponential jitter. Returns -1 when retries are over. */
int64_t rs_retry_next_delay(const rs_retry_spec_t *s, int64_t retries_done, int64_t elapsed_ms, double rnd);

#endif

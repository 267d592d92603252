/* SPDX-License-Identifier: MIT */
/* W3C `baggage` (https://www.w3.org/TR/baggage/) as daprd's tracing middleware
 * checks it: when tracing is on, the values of every `baggage` header (HTTP)
 * or metadata entry (gRPC) of an API call are joined with "," and parsed with
 * OpenTelemetry's rules; a value that does not parse fails the call (HTTP 400,
 * gRPC INVALID_ARGUMENT, "invalid baggage header: ..."), one that does is
 * echoed in the response's `baggage` header and travels on with the call
 * (invocation headers/metadata, output binding metadata). */
#ifndef RS_SIDECAR_BAGGAGE_H
#define RS_SIDECAR_BAGGAGE_H

#include <stddef.h>

#include "core/str.h"

/** Largest baggage value, list-member and number of members (OpenTelemetry's limits, from the W3C spec). */
#define RS_BAGGAGE_MAX 8192
#define RS_BAGGAGE_MEMBER_MAX 4096
#define RS_BAGGAGE_MEMBERS_MAX 180

/** Checks a baggage value: list-members `key=value` separated by "," (optional whitespace around them), each with
 *  optional `;key[=value]` properties; keys are RFC 7230 tokens, values baggage-octets or %XX escapes; no empty
 *  member; at most RS_BAGGAGE_MAX bytes, RS_BAGGAGE_MEMBER_MAX per member, RS_BAGGAGE_MEMBERS_MAX members.
 *  Returns 0, or -1 with the reason in why. */
int rs_baggage_check(const char *value, char *why, size_t whylen);

/** Joins the values of every entry named `baggage` (case-insensitive) in list with "," into a new string (NULL when
 *  there is none, or when the joined value would exceed RS_BAGGAGE_MAX: *too_long is then set). */
char *rs_baggage_join(const rs_kvlist_t *list, int *too_long);

/** The baggage of list (rs_baggage_join), checked: 0 with *out the value to pass on (NULL when there is none;
 *  the caller frees it), or -1 with the reason in why ("baggage exceeds ..." or rs_baggage_check's) and *out NULL. */
int rs_baggage_get(const rs_kvlist_t *list, char **out, char *why, size_t whylen);

#endif

/* SPDX-License-Identifier: MIT */
/* Checking JSON text without building a tree: for hot paths that only need
 * to know the text is valid and to read a few top-level members (a delivered
 * CloudEvent). Accepts what rs_json_loadb accepts (RFC 8259; strings
 * well-formed UTF-8 without \u0000 or lone surrogates; numbers that fit a
 * double; nesting up to 2048), so a caller may swap one for the other. */
#ifndef RS_CORE_JSON_SCAN_H
#define RS_CORE_JSON_SCAN_H

#include <stddef.h>

#include "core/json_util.h"

/** If s[0..len) is exactly one valid JSON object (whitespace around it allowed), calls fn for each top-level
 *  member (key with its quotes, value as written) in order and returns 0; otherwise returns -1, possibly after
 *  some calls to fn (so a caller acts on the members only after 0). */
int rs_json_scan_object(const char *s, size_t len, rs_json_member_fn fn, void *arg);

/** The decoded value of a JSON string text (quotes included) that rs_json_scan_object accepted: a new
 *  NUL-terminated copy, NULL if the text is not a string. Strings without escapes are copied directly. */
char *rs_json_scan_string(const char *text, size_t len);

#endif

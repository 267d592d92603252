/* SPDX-License-Identifier: MIT */
/* Encodings of text that comes from outside: percent-escapes in URLs and
 * UTF-8. Every string a client sends is checked or converted here, once, where
 * it enters (the HTTP server, the loaders), so that the code behind can take
 * it for what it claims to be. */
#ifndef RS_CORE_ENCODING_H
#define RS_CORE_ENCODING_H

#include <stddef.h>

/** Decodes the %XX escapes of in[0..len) (and '+' as a space when plus_is_space, as in query strings).
 *  Returns a new NUL-terminated string and its length in *out_len (it may hold NUL bytes: compare *out_len
 *  with strlen to refuse them), or NULL when an escape is malformed ("%", "%4", "%zz"), as Go's url package. */
char *rs_percent_decode(const char *in, size_t len, int plus_is_space, size_t *out_len);

/** Returns a new string: in with every byte but '/' and RFC 3986's pchar (letters, digits, "-._~!$&'()*+,;=:@")
 *  written as %XX, '%' included — a raw name (a gRPC method) made into a URL path whose escapes are literal. */
char *rs_percent_encode_path(const char *in);

/** Cleans the URL path in[0..len) (no leading '/') as daprd cleans a service-invocation method since the fix of
 *  GHSA-85gx-3qv6-4463 — Go's path.Clean of the decoded path — but keeps each segment's own escapes: '/' and
 *  %2F both separate segments; empty, "." and ".." segments (also when written with escapes, %2e%2e) are
 *  resolved, never above the root; a trailing separator stays (daprd's open fix for trailing slashes); a byte
 *  that may not stand raw in a path (bytes >= 0x80, '"', '<', ...) is written as %XX. Refuses a path whose
 *  decoded form holds a control character (< 0x20, 0x7f), '#' or '?', or a malformed escape.
 *  Writes the result without a leading '/' ("" for the root) and a NUL to out, which needs 3 * len + 1 bytes.
 *  Returns its length, or -1 with a reason in why. */
long rs_url_path_clean(const char *in, size_t len, char *out, char *why, size_t whylen);

/** Returns 1 if s[0..len) is well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF), else 0. */
int rs_utf8_valid(const char *s, size_t len);

/** Returns a new NUL-terminated copy of s[0..len) with every byte that does not belong to well-formed UTF-8
 *  replaced by U+FFFD, as Go's encoding/json writes such strings; its length in *outlen when outlen is not NULL. */
char *rs_utf8_sanitize(const char *s, size_t len, size_t *outlen);

#endif

/* SPDX-License-Identifier: MIT */
/* JSON helpers on top of jansson. */
#ifndef RS_CORE_JSON_UTIL_H
#define RS_CORE_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>

/** Parses `len` bytes. Returns a new reference, or NULL with a reason in err. */
json_t *rs_json_parse(const char *data, size_t len, char *err, size_t errlen);
/** Returns the string member `key` of object o, or NULL if absent or not a string. */
const char *rs_json_str(const json_t *o, const char *key);
/** Serialises compactly; the caller frees the result. Keeps key insertion order. */
char *rs_json_dump(const json_t *v);
/** If the `len` bytes are exactly one JSON string (quotes included), returns its decoded value (as Go's
 *  strconv.Unquote would), NUL-terminated, with its length (it may hold NULs) in *outlen; the caller frees it.
 *  Returns NULL, leaving *outlen alone, for anything else. */
char *rs_json_unquote(const char *data, size_t len, size_t *outlen);

#endif

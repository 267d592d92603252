/* SPDX-License-Identifier: MIT */
/* JSON helpers on top of jansson. */
#ifndef RS_CORE_JSON_UTIL_H
#define RS_CORE_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>

/** json_loadb for text from outside: also refuses a NUL byte. JSON text never holds one (a string holds only
 *  \u0000), but jansson 2.14 skips one after a number or literal ("[1\0,2]" loads as [1,2]), so text kept as
 *  written after this check would be cut short by the C string functions that handle it later. e may be NULL. */
json_t *rs_json_loadb(const char *data, size_t len, size_t flags, json_error_t *e);
/** Parses `len` bytes (rs_json_loadb, any value). Returns a new reference, or NULL with a reason in err. */
json_t *rs_json_parse(const char *data, size_t len, char *err, size_t errlen);
/** Returns the string member `key` of object o, or NULL if absent or not a string. */
const char *rs_json_str(const json_t *o, const char *key);
/** Serialises compactly; the caller frees the result. Keeps key insertion order. */
char *rs_json_dump(const json_t *v);
/** If the `len` bytes are exactly one JSON string (quotes included), returns its decoded value (as Go's
 *  strconv.Unquote would), NUL-terminated, with its length (it may hold NULs) in *outlen; the caller frees it.
 *  Returns NULL, leaving *outlen alone, for anything else. */
char *rs_json_unquote(const char *data, size_t len, size_t *outlen);

/** Called for each member of an object text: the key as written (with its quotes) and the value as written. */
typedef void (*rs_json_member_fn)(void *arg, const char *key, size_t klen, const char *value, size_t vlen);
/** Walks the members of the JSON object text s (len bytes, already known to be valid JSON, e.g. parsed once)
 *  without decoding them, so values keep their exact text (numbers beyond double or int64, spacing inside).
 *  Returns 0, or -1 if s is not an object. */
int rs_json_object_members(const char *s, size_t len, rs_json_member_fn fn, void *arg);
/** The same for the items of an array text: fn(arg, item, item_len) for each, as written. Returns 0, or -1 if s is
 *  not an array. */
int rs_json_array_items(const char *s, size_t len, void (*fn)(void *arg, const char *item, size_t ilen), void *arg);

#endif

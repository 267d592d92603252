/* SPDX-License-Identifier: MIT */
/* Small string containers: an ordered key/value list (metadata maps, headers)
 * and a string list (scopes, paths). Both own copies of their strings. */
#ifndef RS_CORE_STR_H
#define RS_CORE_STR_H

#include <stddef.h>

/* An item's key and value share one allocation owned by `key` (`value` points
 * into it): free an item with rs_kv_free, never its value on its own. */
typedef struct {
    char *key;
    char *value;
} rs_kv_t;

typedef struct {
    rs_kv_t *items;
    size_t len, alloc;
    int refs; /* reference mode (rs_kvlist_init_refs): items point at strings owned elsewhere */
} rs_kvlist_t;

/** Puts an empty list in reference mode: add and set store the pointers they are given, and free releases
 *  only the list itself. The strings must outlive the list. For per-request header lists made of strings
 *  that are alive anyway (the request's own headers, the caller's buffers): nothing is copied.
 *  rs_kvlist_add_n, which copies by nature, must not be used on such a list. */
void rs_kvlist_init_refs(rs_kvlist_t *l);

/** Sets key to value (copies both, unless in reference mode), replacing an existing equal key. Returns 0. */
int rs_kvlist_set(rs_kvlist_t *l, const char *key, const char *value);
/** Appends without looking for an existing key (for repeated headers). */
int rs_kvlist_add(rs_kvlist_t *l, const char *key, const char *value);
/** rs_kvlist_add with lengths: copies key[0..klen) and value[0..vlen), which need no NUL. */
int rs_kvlist_add_n(rs_kvlist_t *l, const char *key, size_t klen, const char *value, size_t vlen);
/** Frees one item taken out of a list (its key and value). */
void rs_kv_free(rs_kv_t *kv);
/** Returns the value for key (exact match), or NULL. */
const char *rs_kvlist_get(const rs_kvlist_t *l, const char *key);
/** Returns the value for key compared case-insensitively, or NULL. */
const char *rs_kvlist_get_ci(const rs_kvlist_t *l, const char *key);
/** Copies every item of src into dst (set semantics). */
int rs_kvlist_copy(rs_kvlist_t *dst, const rs_kvlist_t *src);
/** Frees the items (unless in reference mode) and the list; the list is empty, in copying mode, after. */
void rs_kvlist_free(rs_kvlist_t *l);

typedef struct {
    char **items;
    size_t len, alloc;
} rs_strlist_t;

int rs_strlist_add(rs_strlist_t *l, const char *s);
int rs_strlist_contains(const rs_strlist_t *l, const char *s);
void rs_strlist_free(rs_strlist_t *l);

/** The size of a reason buffer filled under the `char *err, size_t errlen` convention: `char why[RS_ERR_MAX]`. */
#define RS_ERR_MAX 512

/** strdup that aborts on OOM (our policy: out of memory is fatal, as in h2o/redis). */
char *rs_strdup(const char *s);
/** malloc/calloc/realloc that abort on OOM. */
void *rs_xmalloc(size_t n);
void *rs_xcalloc(size_t n, size_t size);
void *rs_xrealloc(void *p, size_t n);
/** Frees *pp and sets it to NULL. */
#define RS_SAFEFREE(p) do { free(p); (p) = NULL; } while (0)

/** Parses a boolean the way Go's strconv.ParseBool does (1 t T TRUE true True / 0 f F FALSE false False).
 *  Returns 0 and sets *out, or -1 if not a boolean. */
int rs_parse_bool(const char *s, int *out);
/** Parses a base-10 integer with no trailing junk. Returns 0 or -1. */
int rs_parse_int64(const char *s, long long *out);
/** Parses a finite decimal number (strtod syntax, no leading space, no trailing junk, no inf/nan, no
 *  overflow). Returns 0 or -1. */
int rs_parse_double(const char *s, double *out);
/** 1 if `got` equals the secret `want` (tokens, keys), else 0 (also when got is NULL). Takes as long for every
 *  `got` of a given length, so a client cannot learn the secret byte by byte from response times. */
int rs_secret_equal(const char *got, const char *want);
/** Returns 1 if s starts with prefix. */
int rs_has_prefix(const char *s, const char *prefix);
/** A fixed set of names (HTTP header names), matched case-insensitively. Most names that are not in it are
 *  turned away by their length alone, so testing every header of every request against a few sets stays
 *  cheap. Define one at file scope: `static rs_name_set_t hop = RS_NAME_SET("connection", "te");` */
typedef struct {
    const char *const *names;           /* NULL-terminated */
    _Atomic unsigned long long lengths; /* bit n: some name is n bytes long (mod 64); 0 until first use */
} rs_name_set_t;
#define RS_NAME_SET(...) {(const char *const[]){__VA_ARGS__, NULL}, 0}
/** 1 if `name` is in the set (ASCII case ignored), else 0. */
int rs_name_set_has(rs_name_set_t *set, const char *name);
/** Writes v in decimal and a NUL to out; returns the digits' count. A printf-free path for per-request use. */
size_t rs_utoa(unsigned long long v, char out[21]);
/** Concatenates the NULL-terminated `parts` into out (NUL-terminated); returns the length, or -1 if the
 *  result would not fit in `cap` bytes (out is then an empty string). */
long rs_str_join(char *out, size_t cap, const char *const *parts);

#endif

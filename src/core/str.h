/* SPDX-License-Identifier: MIT */
/* Small string containers: an ordered key/value list (metadata maps, headers)
 * and a string list (scopes, paths). Both own copies of their strings. */
#ifndef RS_CORE_STR_H
#define RS_CORE_STR_H

#include <stddef.h>

typedef struct {
    char *key;
    char *value;
} rs_kv_t;

typedef struct {
    rs_kv_t *items;
    size_t len, alloc;
} rs_kvlist_t;

/** Sets key to value (copies both), replacing an existing equal key. Returns 0 or -1 (OOM). */
int rs_kvlist_set(rs_kvlist_t *l, const char *key, const char *value);
/** Appends without looking for an existing key (for repeated headers). */
int rs_kvlist_add(rs_kvlist_t *l, const char *key, const char *value);
/** Returns the value for key (exact match), or NULL. */
const char *rs_kvlist_get(const rs_kvlist_t *l, const char *key);
/** Returns the value for key compared case-insensitively, or NULL. */
const char *rs_kvlist_get_ci(const rs_kvlist_t *l, const char *key);
/** Copies every item of src into dst (set semantics). */
int rs_kvlist_copy(rs_kvlist_t *dst, const rs_kvlist_t *src);
void rs_kvlist_free(rs_kvlist_t *l);

typedef struct {
    char **items;
    size_t len, alloc;
} rs_strlist_t;

int rs_strlist_add(rs_strlist_t *l, const char *s);
int rs_strlist_contains(const rs_strlist_t *l, const char *s);
void rs_strlist_free(rs_strlist_t *l);

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
/** Returns 1 if s starts with prefix. */
int rs_has_prefix(const char *s, const char *prefix);
/** Returns 1 if `s` equals one of `list` (NULL-terminated) ignoring ASCII case. Cheap on misses: it
 *  compares first letters before whole names (header filters run on every proxied header). */
int rs_str_in_ci(const char *s, const char *const *list);

#endif

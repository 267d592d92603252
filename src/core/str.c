/* SPDX-License-Identifier: MIT */
#include "core/str.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void *rs_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *rs_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *rs_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *rs_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = rs_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* Header names are ASCII: no locale lookup per character. */
static inline int ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : (unsigned char)c; }

/* One block "key\0value\0": headers are added and freed on every request. */
static rs_kv_t kv_make(const char *key, size_t klen, const char *value, size_t vlen) {
    char *block = rs_xmalloc(klen + vlen + 2);
    memcpy(block, key, klen);
    block[klen] = '\0';
    memcpy(block + klen + 1, value, vlen);
    block[klen + 1 + vlen] = '\0';
    return (rs_kv_t){block, block + klen + 1};
}

static rs_kv_t *kvlist_slot(rs_kvlist_t *l) {
    if (l->len == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 16; /* 16: a request's headers usually fit at once */
        l->items = rs_xrealloc(l->items, l->alloc * sizeof *l->items);
    }
    return &l->items[l->len++];
}

void rs_kvlist_init_refs(rs_kvlist_t *l) {
    memset(l, 0, sizeof *l);
    l->refs = 1;
}

int rs_kvlist_add_n(rs_kvlist_t *l, const char *key, size_t klen, const char *value, size_t vlen) {
    if (l->refs) {
        fputs("fatal: rs_kvlist_add_n on a list in reference mode\n", stderr);
        abort();
    }
    *kvlist_slot(l) = kv_make(key, klen, value, vlen);
    return 0;
}

int rs_kvlist_add(rs_kvlist_t *l, const char *key, const char *value) {
    if (!value) value = "";
    if (l->refs) {
        *kvlist_slot(l) = (rs_kv_t){(char *)key, (char *)value};
        return 0;
    }
    return rs_kvlist_add_n(l, key, strlen(key), value, strlen(value));
}

void rs_kv_free(rs_kv_t *kv) {
    free(kv->key); /* the value lives in the same block */
    kv->key = kv->value = NULL;
}

int rs_kvlist_set(rs_kvlist_t *l, const char *key, const char *value) {
    if (!value) value = "";
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            if (l->refs) {
                l->items[i].value = (char *)value;
                return 0;
            }
            rs_kv_t kv = kv_make(key, strlen(key), value, strlen(value));
            rs_kv_free(&l->items[i]);
            l->items[i] = kv;
            return 0;
        }
    }
    return rs_kvlist_add(l, key, value);
}

const char *rs_kvlist_get(const rs_kvlist_t *l, const char *key) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i].key, key) == 0) return l->items[i].value;
    return NULL;
}

const char *rs_kvlist_get_ci(const rs_kvlist_t *l, const char *key) {
    int first = ascii_lower(key[0]); /* header lookups run many times per request: cheap test first */
    for (size_t i = 0; i < l->len; i++)
        if (ascii_lower(l->items[i].key[0]) == first && strcasecmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

int rs_kvlist_copy(rs_kvlist_t *dst, const rs_kvlist_t *src) {
    for (size_t i = 0; i < src->len; i++) rs_kvlist_set(dst, src->items[i].key, src->items[i].value);
    return 0;
}

void rs_kvlist_free(rs_kvlist_t *l) {
    for (size_t i = 0; i < l->len && !l->refs; i++) rs_kv_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int rs_strlist_add(rs_strlist_t *l, const char *s) {
    if (l->len == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 8;
        l->items = rs_xrealloc(l->items, l->alloc * sizeof *l->items);
    }
    l->items[l->len++] = rs_strdup(s);
    return 0;
}

int rs_strlist_contains(const rs_strlist_t *l, const char *s) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], s) == 0) return 1;
    return 0;
}

void rs_strlist_free(rs_strlist_t *l) {
    for (size_t i = 0; i < l->len; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int rs_parse_bool(const char *s, int *out) {
    static const char *yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    if (!s) return -1;
    for (int i = 0; yes[i]; i++)
        if (strcmp(s, yes[i]) == 0) return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (strcmp(s, no[i]) == 0) return *out = 0, 0;
    return -1;
}

int rs_parse_int64(const char *s, long long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int rs_parse_double(const char *s, double *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int rs_secret_equal(const char *got, const char *want) {
    if (!got || !want) return 0;
    size_t n = strlen(want), m = strlen(got);
    volatile unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < m; i++) diff |= (unsigned char)(got[i] ^ want[i % (n ? n : 1)]);
    return diff == 0 && n > 0;
}

int rs_has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

int rs_name_set_has(rs_name_set_t *set, const char *name) {
    unsigned long long lengths = atomic_load_explicit(&set->lengths, memory_order_relaxed);
    if (!lengths) { /* first use: every thread computes the same value, so a race is harmless */
        for (const char *const *n = set->names; *n; n++) lengths |= 1ULL << (strlen(*n) % 64);
        atomic_store_explicit(&set->lengths, lengths, memory_order_relaxed);
    }
    size_t len = strlen(name);
    if (!(lengths & (1ULL << (len % 64)))) return 0;
    int first = ascii_lower(name[0]);
    for (const char *const *n = set->names; *n; n++) /* first letter, then length, then the whole name */
        if (ascii_lower((*n)[0]) == first && strlen(*n) == len && strcasecmp(name, *n) == 0) return 1;
    return 0;
}

size_t rs_utoa(unsigned long long v, char out[21]) {
    char rev[20];
    size_t n = 0;
    do rev[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++) out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}

long rs_str_join(char *out, size_t cap, const char *const *parts) {
    size_t len = 0;
    for (; *parts; parts++) {
        size_t n = strlen(*parts);
        if (len + n >= cap) {
            if (cap) out[0] = '\0';
            return -1;
        }
        memcpy(out + len, *parts, n);
        len += n;
    }
    if (cap) out[len] = '\0';
    return cap ? (long)len : -1;
}

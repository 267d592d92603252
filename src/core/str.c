/* SPDX-License-Identifier: MIT */
#include "core/str.h"

#include <ctype.h>
#include <errno.h>
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

int rs_kvlist_add(rs_kvlist_t *l, const char *key, const char *value) {
    if (l->len == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 8;
        l->items = rs_xrealloc(l->items, l->alloc * sizeof *l->items);
    }
    l->items[l->len].key = rs_strdup(key);
    l->items[l->len].value = rs_strdup(value ? value : "");
    l->len++;
    return 0;
}

int rs_kvlist_set(rs_kvlist_t *l, const char *key, const char *value) {
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            free(l->items[i].value);
            l->items[i].value = rs_strdup(value ? value : "");
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
    for (size_t i = 0; i < l->len; i++)
        if (strcasecmp(l->items[i].key, key) == 0) return l->items[i].value;
    return NULL;
}

int rs_kvlist_copy(rs_kvlist_t *dst, const rs_kvlist_t *src) {
    for (size_t i = 0; i < src->len; i++) rs_kvlist_set(dst, src->items[i].key, src->items[i].value);
    return 0;
}

void rs_kvlist_free(rs_kvlist_t *l) {
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
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

int rs_has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

int rs_str_in_ci(const char *s, const char *const *list) {
    int first = tolower((unsigned char)s[0]);
    for (; *list; list++)
        if (tolower((unsigned char)(*list)[0]) == first && strcasecmp(s, *list) == 0) return 1;
    return 0;
}

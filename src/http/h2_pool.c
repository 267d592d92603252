/* SPDX-License-Identifier: MIT */
/* The nghttp2 block pool (h2_pool.h). Every block starts with a 16-byte
 * header holding its size class (CLASS_BIG for a malloc'd block), so free
 * and realloc know where it goes without nghttp2 telling the size. */
#include "http/h2_pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define HDR 16
#define NCLASS 9 /* 64, 128, ..., 16384 bytes with the header */
#define BIG_CLASS_KEEP 8 /* blocks kept per class above 2 KiB */
#define CLASS_BIG 0xff

typedef union block {
    union block *next; /* while in a free list */
    unsigned char hdr[HDR];
} block_t;

struct rs_h2_pool {
    nghttp2_mem mem;
    block_t *free_list[NCLASS];
    int kept[NCLASS];
};

static size_t class_size(int k) { return (size_t)64 << k; }

/* The smallest class that holds n bytes after the header, or CLASS_BIG. */
static int class_of(size_t n) {
    for (int k = 0; k < NCLASS; k++)
        if (n <= class_size(k) - HDR) return k;
    return CLASS_BIG;
}

static void *pool_malloc(size_t n, void *user) {
    rs_h2_pool_t *p = user;
    int k = class_of(n);
    block_t *b;
    if (k != CLASS_BIG && p->free_list[k]) {
        b = p->free_list[k];
        p->free_list[k] = b->next;
        p->kept[k]--;
    } else {
        if (n > SIZE_MAX - HDR) return NULL;
        b = malloc(k == CLASS_BIG ? HDR + n : class_size(k));
        if (!b) return NULL;
    }
    b->hdr[0] = (unsigned char)k;
    return b->hdr + HDR;
}

static void pool_free(void *ptr, void *user) {
    if (!ptr) return;
    rs_h2_pool_t *p = user;
    block_t *b = (block_t *)((unsigned char *)ptr - HDR);
    int k = b->hdr[0];
    if (k == CLASS_BIG || p->kept[k] >= (k > 5 ? BIG_CLASS_KEEP : RS_H2_POOL_KEEP)) {
        free(b);
        return;
    }
    b->next = p->free_list[k];
    p->free_list[k] = b;
    p->kept[k]++;
}

static void *pool_calloc(size_t nmemb, size_t size, void *user) {
    if (size && nmemb > SIZE_MAX / size) return NULL;
    void *ptr = pool_malloc(nmemb * size, user);
    if (ptr) memset(ptr, 0, nmemb * size);
    return ptr;
}

static void *pool_realloc(void *ptr, size_t n, void *user) {
    if (!ptr) return pool_malloc(n, user);
    block_t *b = (block_t *)((unsigned char *)ptr - HDR);
    int k = b->hdr[0];
    if (k == CLASS_BIG) {
        if (n > SIZE_MAX - HDR) return NULL;
        block_t *nb = realloc(b, HDR + n);
        return nb ? nb->hdr + HDR : NULL;
    }
    size_t have = class_size(k) - HDR;
    if (n <= have) return ptr;
    void *np = pool_malloc(n, user);
    if (!np) return NULL;
    memcpy(np, ptr, have);
    pool_free(ptr, user);
    return np;
}

rs_h2_pool_t *rs_h2_pool_new(void) {
    rs_h2_pool_t *p = rs_xcalloc(1, sizeof *p);
    p->mem = (nghttp2_mem){p, pool_malloc, pool_free, pool_calloc, pool_realloc};
    return p;
}

void rs_h2_pool_free(rs_h2_pool_t *p) {
    if (!p) return;
    for (int k = 0; k < NCLASS; k++)
        while (p->free_list[k]) {
            block_t *b = p->free_list[k];
            p->free_list[k] = b->next;
            free(b);
        }
    free(p);
}

nghttp2_mem *rs_h2_pool_mem(rs_h2_pool_t *p) { return &p->mem; }

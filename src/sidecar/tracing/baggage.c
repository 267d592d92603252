/* SPDX-License-Identifier: MIT */
/* W3C baggage checking; see baggage.h. A single pass over the value, member by member. */
#include "sidecar/tracing/baggage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 7230 tchar */
static int tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no space, '"', ',', ';', '\') */
static int boctet(unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E);
}

static int hex(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static int ows(char c) { return c == ' ' || c == '\t'; }

/* Trims [*b, *e) of optional whitespace. */
static void trim(const char **b, const char **e) {
    while (*b < *e && ows(**b)) (*b)++;
    while (*e > *b && ows((*e)[-1])) (*e)--;
}

static int is_token(const char *b, const char *e) {
    if (b == e) return 0;
    for (; b < e; b++)
        if (!tchar((unsigned char)*b)) return 0;
    return 1;
}

/* A value: baggage-octets, '%' only as the start of a %XX escape (OpenTelemetry unescapes it). */
static int is_value(const char *b, const char *e) {
    for (; b < e; b++) {
        if (*b == '%' && !(e - b >= 3 && hex((unsigned char)b[1]) && hex((unsigned char)b[2]))) return 0;
        if (!boctet((unsigned char)*b)) return 0;
    }
    return 1;
}

/* key [OWS "=" OWS value] with the key a token; the value part is required when need_value. */
static int key_value(const char *b, const char *e, int need_value) {
    const char *eq = memchr(b, '=', (size_t)(e - b));
    if (!eq) {
        trim(&b, &e);
        return !need_value && is_token(b, e);
    }
    const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    return is_token(kb, ke) && is_value(vb, ve);
}

int rs_baggage_check(const char *value, char *why, size_t whylen) {
    size_t len = strlen(value);
    if (len > RS_BAGGAGE_MAX) {
        snprintf(why, whylen, "baggage of %zu bytes exceeds %d", len, RS_BAGGAGE_MAX);
        return -1;
    }
    if (!len) return 0; /* an empty header is no baggage, as for OpenTelemetry */
    int members = 0;
    for (const char *m = value;;) {
        const char *end = strchr(m, ',');
        if (!end) end = m + strlen(m);
        if ((size_t)(end - m) > RS_BAGGAGE_MEMBER_MAX) {
            snprintf(why, whylen, "a list-member exceeds %d bytes", RS_BAGGAGE_MEMBER_MAX);
            return -1;
        }
        /* the key=value part, then ;-separated properties */
        const char *p = memchr(m, ';', (size_t)(end - m));
        if (!key_value(m, p ? p : end, 1)) {
            snprintf(why, whylen, "invalid list-member \"%.*s\"", (int)((end - m) > 64 ? 64 : end - m), m);
            return -1;
        }
        while (p) {
            const char *q = memchr(p + 1, ';', (size_t)(end - p - 1));
            if (!key_value(p + 1, q ? q : end, 0)) {
                snprintf(why, whylen, "invalid property in \"%.*s\"", (int)((end - m) > 64 ? 64 : end - m), m);
                return -1;
            }
            p = q;
        }
        if (++members > RS_BAGGAGE_MEMBERS_MAX) {
            snprintf(why, whylen, "more than %d list-members", RS_BAGGAGE_MEMBERS_MAX);
            return -1;
        }
        if (!*end) break;
        m = end + 1;
    }
    return 0;
}

char *rs_baggage_join(const rs_kvlist_t *list, int *too_long) {
    *too_long = 0;
    size_t n = 0;
    for (size_t i = 0; i < list->len; i++)
        if (strcasecmp(list->items[i].key, "baggage") == 0) n += strlen(list->items[i].value) + 1;
    if (!n) return NULL;
    if (n - 1 > RS_BAGGAGE_MAX) {
        *too_long = 1;
        return NULL;
    }
    char *out = rs_xmalloc(n), *w = out;
    for (size_t i = 0; i < list->len; i++)
        if (strcasecmp(list->items[i].key, "baggage") == 0) {
            if (w != out) *w++ = ',';
            size_t l = strlen(list->items[i].value);
            memcpy(w, list->items[i].value, l);
            w += l;
        }
    *w = '\0';
    return out;
}

int rs_baggage_get(const rs_kvlist_t *list, char **out, char *why, size_t whylen) {
    int too_long;
    *out = rs_baggage_join(list, &too_long);
    if (too_long) {
        snprintf(why, whylen, "baggage exceeds %d bytes", RS_BAGGAGE_MAX);
        return -1;
    }
    if (*out && rs_baggage_check(*out, why, whylen) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

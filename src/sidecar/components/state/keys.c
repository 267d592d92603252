/* SPDX-License-Identifier: MIT */
/* keyPrefix strategies for state keys (spec §2.5). The runtime, not the
 * store, applies them, so every store sees the same storage keys Dapr uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "sidecar/components/state/state.h"

/* "<a>||<key>", or "<a>.<b>||<key>" when b is not empty (built on every state call: no printf). */
static char *join(const char *a, const char *b, const char *key) {
    size_t la = strlen(a), lb = strlen(b), lk = strlen(key);
    char *s = rs_xmalloc(la + 1 + lb + 2 + lk + 1), *p = s;
    memcpy(p, a, la), p += la;
    if (lb) *p++ = '.', memcpy(p, b, lb), p += lb;
    memcpy(p, "||", 2), p += 2;
    memcpy(p, key, lk + 1);
    return s;
}

char *rs_state_storage_key(const rs_component_t *c, const char *app_id, const char *key, char *err, size_t errlen) {
    if (strstr(key, "||")) {
        snprintf(err, errlen, "input key/keyPrefix '%s' can't contain '||'", key);
        return NULL;
    }
    const char *mode = rs_component_meta(c, "keyPrefix");
    if (!mode || !*mode || strcasecmp(mode, "appid") == 0) {
        if (!app_id || !*app_id) return rs_strdup(key);
        return join(app_id, "", key);
    }
    if (strcasecmp(mode, "none") == 0) return rs_strdup(key);
    if (strcasecmp(mode, "name") == 0) return join(c->name, "", key);
    if (strcasecmp(mode, "namespace") == 0) {
        const char *ns = getenv("NAMESPACE");
        if (!app_id || !*app_id) return rs_strdup(key);
        if (ns && *ns) return join(ns, app_id, key);
        return join(app_id, "", key);
    }
    return join(mode, "", key);
}

/* SPDX-License-Identifier: MIT */
/* Lock keys (spec §2.6): "lock||<appId>||<resourceId>" by default, so a
 * Redis shared with Dapr sees the same keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "sidecar/components/lock/lock.h"

char *rs_lock_storage_key(const rs_component_t *c, const char *app_id, const char *resource_id, char *err,
                          size_t errlen) {
    if (strstr(resource_id, "||")) {
        snprintf(err, errlen, "input key/keyPrefix '%s' can't contain '||'", resource_id);
        return NULL;
    }
    const char *mode = rs_component_meta(c, "keyPrefix");
    const char *middle = app_id ? app_id : "";
    if (mode && *mode && strcasecmp(mode, "appid") != 0) {
        if (strcasecmp(mode, "none") == 0) middle = "";
        else if (strcasecmp(mode, "name") == 0) middle = c->name;
        else middle = mode;
    }
    size_t n = strlen(middle) + strlen(resource_id) + 16;
    char *s = rs_xmalloc(n);
    if (*middle) snprintf(s, n, "lock||%s||%s", middle, resource_id);
    else snprintf(s, n, "lock||%s", resource_id);
    return s;
}

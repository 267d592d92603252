/* SPDX-License-Identifier: MIT */
/* The `direction` metadata of binding components (Dapr's
 * isBindingOfExplicitDirection): "input", "output" or "input, output". */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sidecar/components/bindings/bindings.h"

int rs_binding_has_direction(const rs_component_t *c, const char *dir) {
    for (size_t i = 0; i < c->metadata.len; i++) {
        if (strcasecmp(c->metadata.items[i].key, "direction") != 0) continue;
        const char *p = c->metadata.items[i].value;
        while (p && *p) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            const char *a = p, *b = p + n;
            while (a < b && isspace((unsigned char)*a)) a++;
            while (b > a && isspace((unsigned char)b[-1])) b--;
            if ((size_t)(b - a) == strlen(dir) && strncasecmp(a, dir, (size_t)(b - a)) == 0) return 1;
            p = end ? end + 1 : NULL;
        }
    }
    return 0;
}

int rs_binding_is_output(const rs_component_t *c) {
    const rs_binding_ops_t *ops = rs_binding_ops(c);
    if (!ops || !ops->invoke) return 0;
    /* An explicit direction limits what the component is; no direction means both. */
    if (rs_kvlist_get_ci(&c->metadata, "direction"))
        return rs_binding_has_direction(c, "output");
    return 1;
}

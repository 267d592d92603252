/* SPDX-License-Identifier: MIT */
#include "core/json_util.h"

#include "core/str.h"

#include <stdio.h>
#include <string.h>

json_t *rs_json_parse(const char *data, size_t len, char *err, size_t errlen) {
    json_error_t e;
    /* JSON_DECODE_ANY: Dapr accepts any JSON value where a value is expected. */
    json_t *v = json_loadb(data ? data : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v && err) snprintf(err, errlen, "%s (line %d, column %d)", e.text, e.line, e.column);
    return v;
}

const char *rs_json_str(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

char *rs_json_dump(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER); }

char *rs_json_unquote(const char *data, size_t len, size_t *outlen) {
    if (!data || len < 2 || data[0] != '"' || data[len - 1] != '"') return NULL;
    json_error_t e;
    json_t *s = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!json_is_string(s)) {
        json_decref(s);
        return NULL;
    }
    *outlen = json_string_length(s);
    char *out = rs_xmalloc(*outlen + 1);
    memcpy(out, json_string_value(s), *outlen);
    out[*outlen] = 0;
    json_decref(s);
    return out;
}

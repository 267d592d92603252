/* SPDX-License-Identifier: MIT */
#include "core/json_util.h"

#include "core/str.h"

#include <stdio.h>
#include <string.h>

json_t *rs_json_loadb(const char *data, size_t len, size_t flags, json_error_t *e) {
    const char *nul = data ? memchr(data, '\0', len) : NULL;
    if (nul) {
        if (e) {
            memset(e, 0, sizeof *e);
            e->line = e->column = 1;
            for (const char *p = data; p < nul; p++) {
                if (*p == '\n') e->line++, e->column = 1;
                else e->column++;
            }
            e->position = (int)(nul - data);
            snprintf(e->text, sizeof e->text, "invalid character NUL in JSON text");
        }
        return NULL;
    }
    return json_loadb(data ? data : "", data ? len : 0, flags, e);
}

json_t *rs_json_parse(const char *data, size_t len, char *err, size_t errlen) {
    json_error_t e;
    /* JSON_DECODE_ANY: Dapr accepts any JSON value where a value is expected. */
    json_t *v = rs_json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
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
    json_t *s = rs_json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
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

/* ---- walking object text ---- */

static size_t skip_ws(const char *s, size_t i, size_t len) {
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

static size_t skip_string(const char *s, size_t i, size_t len) {
    /* s[i] == '"' */
    for (i++; i < len; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return len;
}

static size_t skip_value(const char *s, size_t i, size_t len) {
    if (i >= len) return len;
    if (s[i] == '"') return skip_string(s, i, len);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < len) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, len);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return len;
    }
    while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
           s[i] != '\r')
        i++;
    return i;
}

int rs_json_object_members(const char *s, size_t len, rs_json_member_fn fn, void *arg) {
    size_t i = skip_ws(s, 0, len);
    if (i >= len || s[i] != '{') return -1;
    i++;
    for (;;) {
        i = skip_ws(s, i, len);
        if (i >= len || s[i] == '}') return 0;
        if (s[i] == ',') {
            i++;
            continue;
        }
        size_t ks = i, ke = skip_string(s, i, len);
        i = skip_ws(s, ke, len);
        if (i < len && s[i] == ':') i++;
        i = skip_ws(s, i, len);
        size_t vs = i, ve = skip_value(s, i, len);
        fn(arg, s + ks, ke - ks, s + vs, ve - vs);
        i = ve;
    }
}

int rs_json_array_items(const char *s, size_t len, void (*fn)(void *arg, const char *item, size_t ilen), void *arg) {
    size_t i = skip_ws(s, 0, len);
    if (i >= len || s[i] != '[') return -1;
    i++;
    for (;;) {
        i = skip_ws(s, i, len);
        if (i >= len || s[i] == ']') return 0;
        if (s[i] == ',') {
            i++;
            continue;
        }
        size_t vs = i, ve = skip_value(s, i, len);
        fn(arg, s + vs, ve - vs);
        i = ve;
    }
}

/* SPDX-License-Identifier: MIT */
/* secretstores.local.file: secrets from one JSON file, read once at init
 * (as Dapr does). Default mode flattens nested objects and arrays into names
 * joined by `nestedSeparator` ("a:b", "list:0"); `multiValued: true` makes
 * each top-level key one secret holding a map of its (flattened) members. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "sidecar/components/secretstores/secretstore.h"

struct file_store {
    json_t *secrets; /* {"name":{"k":"v"}}, ready to hand out */
};

/* Scalars become the text Go's fmt would print for them; strings stay as they are. */
static char *scalar_text(const json_t *v) {
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING: return rs_strdup(json_string_value(v));
    case JSON_INTEGER: snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: snprintf(buf, sizeof buf, "%g", json_real_value(v)); break;
    case JSON_TRUE: return rs_strdup("true");
    case JSON_FALSE: return rs_strdup("false");
    default: return rs_strdup("");
    }
    return rs_strdup(buf);
}

/* "prefix<sep>tail", or just tail when prefix is empty; the caller frees it. */
static char *join_name(const char *prefix, const char *sep, const char *tail) {
    size_t n = strlen(prefix) + strlen(sep) + strlen(tail) + 1;
    char *s = rs_xmalloc(n);
    snprintf(s, n, "%s%s%s", prefix, *prefix ? sep : "", tail);
    return s;
}

/* Adds every leaf under v to out as prefix<sep>path -> text. */
static void flatten(json_t *out, const char *prefix, const json_t *v, const char *sep) {
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            char *name = join_name(prefix, sep, k);
            flatten(out, name, child, sep);
            free(name);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", i);
            char *name = join_name(prefix, sep, idx);
            flatten(out, name, child, sep);
            free(name);
        }
    } else {
        char *text = scalar_text(v);
        json_object_set_new(out, prefix, json_string(text));
        free(text);
    }
}

static int file_init(rs_component_t *c, char *err, size_t errlen) {
    const char *path = rs_component_meta(c, "secretsFile");
    if (!path || !*path) {
        snprintf(err, errlen, "missing local secrets file in metadata (secretsFile)");
        return -1;
    }
    const char *sep = rs_component_meta(c, "nestedSeparator");
    if (!sep || !*sep) sep = ":";
    int multi = 0;
    const char *mv = rs_component_meta(c, "multiValued");
    if (mv && *mv && rs_parse_bool(mv, &multi) != 0) {
        snprintf(err, errlen, "multiValued: not a boolean: %s", mv);
        return -1;
    }
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "cannot read secrets file %s: %s (line %d)", path, je.text, je.line);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "secrets file %s: top level must be a JSON object", path);
        return -1;
    }
    struct file_store *fs = rs_xcalloc(1, sizeof *fs);
    fs->secrets = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        json_t *map = json_object();
        if (multi && json_is_object(v)) {
            flatten(map, "", v, sep);
            json_object_set_new(fs->secrets, k, map);
        } else if (multi) {
            flatten(map, k, v, sep); /* a scalar top-level value is its own one-key map */
            json_object_set_new(fs->secrets, k, map);
        } else {
            /* every flattened leaf is a secret of its own: {"a:b":{"a:b":"x"}} */
            flatten(map, k, v, sep);
            const char *leaf;
            json_t *text;
            json_object_foreach(map, leaf, text) json_object_set_new(fs->secrets, leaf, json_pack("{s:O}", leaf, text));
            json_decref(map);
        }
    }
    json_decref(root);
    c->impl = fs;
    RS_DEBUG("secretstores.local.file", "%s: %zu secrets from %s", c->name, json_object_size(fs->secrets), path);
    return 0;
}

static void file_close(rs_component_t *c) {
    struct file_store *fs = c->impl;
    if (!fs) return;
    json_decref(fs->secrets);
    free(fs);
    c->impl = NULL;
}

static int file_get(rs_component_t *c, const char *name, json_t **out, char *err, size_t errlen) {
    struct file_store *fs = c->impl;
    json_t *v = fs ? json_object_get(fs->secrets, name) : NULL;
    if (!v) {
        snprintf(err, errlen, "secret %s not found", name);
        return -1;
    }
    *out = json_deep_copy(v);
    return 0;
}

static int file_bulk_get(rs_component_t *c, json_t **out, char *err, size_t errlen) {
    struct file_store *fs = c->impl;
    if (!fs) {
        snprintf(err, errlen, "secret store not initialised");
        return -1;
    }
    *out = json_deep_copy(fs->secrets);
    return 0;
}

static const rs_secretstore_ops_t file_ops = {.get = file_get, .bulk_get = file_bulk_get};
static const char *const file_caps[] = {"MULTIPLE_KEY_VALUES_PER_SECRET", NULL};

const rs_component_type_t rs_secretstore_local_file_type = {
    .type = "secretstores.local.file",
    .kind = RS_KIND_SECRETSTORE,
    .capabilities = file_caps,
    .init = file_init,
    .close = file_close,
    .ops = &file_ops,
};

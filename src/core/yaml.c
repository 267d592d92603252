/* SPDX-License-Identifier: MIT */
#include "core/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/str.h"

struct fy_node *rs_yaml_get(struct fy_node *m, const char *key) {
    if (!m || !fy_node_is_mapping(m)) return NULL;
    return fy_node_mapping_lookup_by_string(m, key, FY_NT);
}

const char *rs_yaml_scalar(struct fy_node *n) {
    if (!n || !fy_node_is_scalar(n)) return NULL;
    return fy_node_get_scalar0(n);
}

int rs_yaml_line(struct fy_node *n) {
    if (!n) return 0;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : 0;
    }
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
        return p ? rs_yaml_line(fy_node_pair_key(p)) : 0;
    }
    struct fy_node *first = fy_node_sequence_iterate(n, &it);
    return rs_yaml_line(first);
}

static json_t *scalar_to_json(struct fy_node *n) {
    const char *s = fy_node_get_scalar0(n);
    if (!s) return json_null();
    if (fy_node_get_style(n) != FYNS_PLAIN) return json_string(s);
    if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0) return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0) return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0) return json_false();
    long long v;
    if (rs_parse_int64(s, &v) == 0) return json_integer(v);
    return json_string(s);
}

json_t *rs_yaml_to_json(struct fy_node *n) {
    if (!n) return json_null();
    if (fy_node_is_scalar(n)) return scalar_to_json(n);
    void *it = NULL;
    if (fy_node_is_sequence(n)) {
        json_t *a = json_array();
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it))) json_array_append_new(a, rs_yaml_to_json(item));
        return a;
    }
    json_t *o = json_object();
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        const char *k = rs_yaml_scalar(fy_node_pair_key(p));
        if (k) json_object_set_new(o, k, rs_yaml_to_json(fy_node_pair_value(p)));
    }
    return o;
}

struct diag_capture {
    char *err;
    size_t errlen;
    int got;
};

/* libfyaml formats its diagnostics as "file:line:col: error: reason"; keep the first one. */
static void capture_diag(struct fy_diag *diag, void *user, const char *buf, size_t len) {
    struct diag_capture *c = user;
    (void)diag;
    if (c->got || !c->err) return;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
    snprintf(c->err, c->errlen, "%.*s", (int)len, buf);
    c->got = 1;
}

/* The largest resource file read (Dapr's are a few KiB). */
#define RS_YAML_MAX_FILE (16u << 20)

/* Reads the whole file (at most RS_YAML_MAX_FILE bytes) into a new buffer. NULL with a reason in err. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read file", path);
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = rs_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > RS_YAML_MAX_FILE) break;
        if (n == cap) buf = rs_xrealloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || n > RS_YAML_MAX_FILE) {
        snprintf(err, errlen, bad ? "%s: cannot read file" : "%s: larger than 16 MiB", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* 1 if the line s[0..end) starts a block explicit key: '?' and a blank or the line's end, after indentation and
 * "- " entries. Debian's libfyaml 0.7.12 crashes destroying its parser after some explicit keys followed by a ':'
 * and a tab ("? t:<TAB>?", "?\n s:<TAB>:"; found by fuzz/resources: it reports "cannot use tab for indentation of
 * block entry" and leaves its indent stack broken). Dapr's resources and Kubernetes manifests do not use explicit
 * keys, so the whole form is refused before libfyaml reads it, rather than each crashing shape found so far. */
static int block_explicit_key(const char *s, size_t end) {
    size_t i = 0;
    for (;;) {
        while (i < end && is_blank(s[i])) i++;
        if (i + 1 < end && s[i] == '-' && is_blank(s[i + 1])) i += 2;
        else break;
    }
    return i < end && s[i] == '?' && (i + 1 == end || is_blank(s[i + 1]) || s[i + 1] == '\r');
}

int rs_yaml_each_document(const char *path, rs_yaml_doc_fn fn, void *ctx, char *err, size_t errlen) {
    /* YAML text is UTF-8 (we do not take the UTF-16/32 forms); checking it here, before libfyaml, also keeps
     * invalid bytes away from its scanner, which loops for ever on some (e.g. after a '%' directive), and NUL
     * bytes and lines that break its parser (block_explicit_key). */
    size_t len = 0;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    /* Line by line ('\n' is never part of a multi-byte sequence), so the error names the line. */
    size_t line = 1;
    for (size_t at = 0; at < len; line++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *bad = !rs_utf8_valid(text + at, end - at)  ? "not valid UTF-8"
                          : memchr(text + at, '\0', end - at)       ? "a NUL byte" /* not a YAML character */
                          : block_explicit_key(text + at, end - at) ? "an explicit key ('? '): not supported "
                                                                      "(libfyaml 0.7.12 can crash on it)"
                                                                    : NULL;
        if (bad) {
            snprintf(err, errlen, "%s:%zu: %s", path, line, bad);
            free(text);
            return -1;
        }
        at = end + 1;
    }
    struct diag_capture cap = {err, errlen, 0};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = capture_diag;
    dcfg.user = &cap;
    dcfg.colorize = false;
    dcfg.show_source = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    struct fy_parse_cfg cfg = {.search_path = "", .flags = FYPCF_DEFAULT_DOC, .userdata = NULL, .diag = diag};
    struct fy_parser *fyp = fy_parser_create(&cfg);
    int rc = 0;
    if (!fyp || fy_parser_set_string(fyp, text, len) != 0) {
        snprintf(err, errlen, "%s: cannot parse", path);
        rc = -1;
        goto out;
    }
    struct fy_document *doc;
    while ((doc = fy_parse_load_document(fyp))) {
        int frc = fy_document_root(doc) ? fn(ctx, path, doc, err, errlen) : 0;
        fy_parse_document_destroy(fyp, doc);
        if (frc != 0) {
            rc = -1;
            goto out;
        }
    }
    if (fy_parser_get_stream_error(fyp)) {
        const char *gt = cap.got && err[0] == '<' ? strstr(err, ">:") : NULL;
        if (!cap.got) snprintf(err, errlen, "%s: invalid YAML", path);
        else if (gt) { /* libfyaml names text parsed from memory "<memory-@...>": put the file's name there */
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s%s", path, gt + 1);
            snprintf(err, errlen, "%s", tmp);
        } else if (!strstr(err, path)) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s: %s", path, err);
            snprintf(err, errlen, "%s", tmp);
        }
        rc = -1;
    }
out:
    if (fyp) fy_parser_destroy(fyp);
    if (diag) fy_diag_destroy(diag);
    free(text); /* after the parser: its documents may point into the text */
    return rc;
}

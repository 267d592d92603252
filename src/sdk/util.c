/* SPDX-License-Identifier: MIT */
/* Small private helpers: allocation that aborts on OOM, JSON conversions, URL escaping. */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void oom(void) {
    fputs("libdapr: out of memory\n", stderr);
    abort();
}

void *dapri_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

void *dapri_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom();
    return p;
}

void *dapri_xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) oom();
    return p;
}

char *dapri_xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) oom();
    return d;
}

char *dapri_xstrndup(const char *s, size_t n) {
    char *d = dapri_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *dapri_sprintf(const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) oom();
    return s;
}

json_t *dapri_json_value(const char *text) {
    if (!text) return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

json_t *dapri_kv_object(const dapr_kv_t *kv, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; kv && i < n; i++) {
        if (kv[i].key) json_object_set_new(o, kv[i].key, json_string(kv[i].value ? kv[i].value : ""));
    }
    return o;
}

char *dapr_url_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s ? s : "");
    char *out = dapri_xmalloc(n * 3 + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '_' || ch == '.' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

int dapri_send_json(dapr_client_t *c, const char *method, const char *path, json_t *body, dapr_response_t *out,
                    dapr_error_t *err) {
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (!text) {
        dapr_error_set(err, 0, DAPR_ERR_CLIENT, "cannot encode the request as JSON");
        return -1;
    }
    dapr_kv_t h = {"Content-Type", "application/json"};
    int rc = dapr_client_request(c, method, path, &h, 1, text, strlen(text), out, err);
    free(text);
    return rc;
}

int dapri_env_int(const char *name, int def, int min, int max) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max) return def;
    return (int)x;
}

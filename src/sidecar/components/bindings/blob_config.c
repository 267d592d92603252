/* SPDX-License-Identifier: MIT */
#include "sidecar/components/bindings/blob_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *get_ci(const rs_kvlist_t *md, const char *const *names) {
    for (size_t i = 0; names[i]; i++) {
        const char *v = rs_kvlist_get_ci(md, names[i]);
        if (v && *v) return v;
    }
    return NULL;
}

static int parse_bool_field(const rs_kvlist_t *md, const char *name, int *out, char *err, size_t errlen) {
    const char *v = rs_kvlist_get_ci(md, name);
    *out = 0;
    if (!v || !*v) return 0;
    if (rs_parse_bool(v, out) != 0) {
        snprintf(err, errlen, "failed to decode metadata: %s: invalid boolean \"%s\"", name, v);
        return -1;
    }
    return 0;
}

static char *trim_slash(const char *s) {
    char *d = rs_strdup(s);
    size_t n = strlen(d);
    while (n && d[n - 1] == '/') d[--n] = 0;
    return d;
}

/* Splits "scheme://host[:port]/path" into origin and path (without trailing '/'). */
static int split_url(const char *url, char **origin, char **path) {
    const char *p = strstr(url, "://");
    if (!p || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)) return -1;
    const char *slash = strchr(p + 3, '/');
    if (slash == p + 3) return -1;
    *origin = slash ? strndup(url, (size_t)(slash - url)) : rs_strdup(url);
    *path = trim_slash(slash ? slash : "");
    return 0;
}

typedef struct {
    char *account, *key, *blob_endpoint, *protocol, *suffix;
    int dev;
} connstr_t;

static void connstr_free(connstr_t *c) {
    free(c->account);
    free(c->key);
    free(c->blob_endpoint);
    free(c->protocol);
    free(c->suffix);
}

static int parse_connstr(const char *s, connstr_t *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    char *copy = rs_strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "cannot init blob storage container client with connection string: "
                                  "connection string is either blank or malformed");
            free(copy);
            connstr_free(c);
            return -1;
        }
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        char **slot = NULL;
        if (strcasecmp(k, "AccountName") == 0) slot = &c->account;
        else if (strcasecmp(k, "AccountKey") == 0) slot = &c->key;
        else if (strcasecmp(k, "BlobEndpoint") == 0) slot = &c->blob_endpoint;
        else if (strcasecmp(k, "DefaultEndpointsProtocol") == 0) slot = &c->protocol;
        else if (strcasecmp(k, "EndpointSuffix") == 0) slot = &c->suffix;
        else if (strcasecmp(k, "UseDevelopmentStorage") == 0) c->dev = strcasecmp(v, "true") == 0;
        else if (strcasecmp(k, "SharedAccessSignature") == 0) {
            snprintf(err, errlen, "connection strings with SharedAccessSignature are not supported by ripstopd; "
                                  "use AccountName and AccountKey");
            free(copy);
            connstr_free(c);
            return -1;
        }
        if (slot) {
            free(*slot);
            *slot = rs_strdup(v);
        }
    }
    free(copy);
    if (c->dev) {
        if (!c->account) c->account = rs_strdup(RS_AZURITE_ACCOUNT);
        if (!c->key) c->key = rs_strdup(RS_AZURITE_KEY);
        if (!c->blob_endpoint) c->blob_endpoint = rs_strdup("http://127.0.0.1:10000/" RS_AZURITE_ACCOUNT);
    }
    if (!c->account || !c->key) {
        snprintf(err, errlen, "cannot init blob storage container client with connection string: "
                              "connection string needs AccountName and AccountKey");
        connstr_free(c);
        return -1;
    }
    return 0;
}

int rs_blob_config_parse(rs_blob_config_t *cfg, const rs_kvlist_t *md, char *err, size_t errlen) {
    static const char *const k_account[] = {"accountName", "storageAccount", "storageAccountName", NULL};
    static const char *const k_key[] = {"accountKey", "accessKey", "storageAccessKey", "storageAccountKey", NULL};
    static const char *const k_container[] = {"containerName", "container", "storageAccountContainer", NULL};
    static const char *const k_endpoint[] = {"endpoint", "storageEndpoint", NULL};
    static const char *const k_connstr[] = {"connectionString", NULL};
    memset(cfg, 0, sizeof *cfg);
    cfg->retry_count = 3;
    const char *connstr = get_ci(md, k_connstr);
    const char *account = get_ci(md, k_account), *key = get_ci(md, k_key);
    const char *container = get_ci(md, k_container), *endpoint = get_ci(md, k_endpoint);
    if (!connstr && !account) {
        snprintf(err, errlen, "missing or empty accountName field from metadata");
        return -1;
    }
    if (!container) {
        snprintf(err, errlen, "missing or empty containerName field from metadata");
        return -1;
    }
    cfg->container = rs_strdup(container);
    if (parse_bool_field(md, "decodeBase64", &cfg->decode_base64, err, errlen) != 0 ||
        parse_bool_field(md, "disableEntityManagement", &cfg->disable_entity_management, err, errlen) != 0)
        goto bad;
    const char *pal = rs_kvlist_get_ci(md, "publicAccessLevel");
    if (pal && *pal && strcmp(pal, "none") != 0) {
        if (strcmp(pal, "blob") != 0 && strcmp(pal, "container") != 0) {
            snprintf(err, errlen, "invalid public access level: %s; allowed: [blob container]", pal);
            goto bad;
        }
        cfg->public_access = rs_strdup(pal);
    }
    const char *rc = rs_kvlist_get_ci(md, "getBlobRetryCount");
    if (!rc || !*rc) rc = rs_kvlist_get_ci(md, "retryCount");
    if (rc && *rc) {
        long long v;
        if (rs_parse_int64(rc, &v) != 0 || v < 0 || v > 100) {
            snprintf(err, errlen, "failed to decode metadata: retryCount: invalid value \"%s\"", rc);
            goto bad;
        }
        cfg->retry_count = (int)v;
    }
    char url[1024];
    if (connstr) {
        connstr_t cs;
        if (parse_connstr(connstr, &cs, err, errlen) != 0) goto bad;
        cfg->account = rs_strdup(cs.account);
        cfg->account_key = rs_strdup(cs.key);
        if (cs.blob_endpoint) {
            char *ep = trim_slash(cs.blob_endpoint);
            snprintf(url, sizeof url, "%s/%s", ep, cfg->container);
            free(ep);
        } else {
            snprintf(url, sizeof url, "%s://%s.blob.%s/%s", cs.protocol ? cs.protocol : "https", cs.account,
                     cs.suffix ? cs.suffix : "core.windows.net", cfg->container);
        }
        connstr_free(&cs);
    } else {
        if (!key) {
            snprintf(err, errlen, "missing or empty accountKey field from metadata "
                                  "(Azure AD authentication is not supported by ripstopd)");
            goto bad;
        }
        cfg->account = rs_strdup(account);
        cfg->account_key = rs_strdup(key);
        if (endpoint) {
            char *ep = trim_slash(endpoint);
            snprintf(url, sizeof url, "%s/%s/%s", ep, cfg->account, cfg->container);
            free(ep);
        } else {
            snprintf(url, sizeof url, "https://%s.blob.core.windows.net/%s", cfg->account, cfg->container);
        }
    }
    if (split_url(url, &cfg->origin, &cfg->container_path) != 0) {
        snprintf(err, errlen, "failed to parse custom endpoint \"%s\": not an http(s) URL", url);
        goto bad;
    }
    return 0;
bad:
    rs_blob_config_free(cfg);
    return -1;
}

void rs_blob_config_free(rs_blob_config_t *cfg) {
    free(cfg->account);
    free(cfg->account_key);
    free(cfg->container);
    free(cfg->origin);
    free(cfg->container_path);
    free(cfg->public_access);
    memset(cfg, 0, sizeof *cfg);
}

char *rs_blob_path_escape(const char *name) {
    /* Go's url.PathEscape: unreserved characters and $&+,:;=@ stay; everything else is %XX. */
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(name);
    char *out = rs_xmalloc(3 * n + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~$&+,:;=@", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = 0;
    return out;
}

/* SPDX-License-Identifier: MIT */
/* bindings.azure.blobstorage (spec §3.6): the Azure Blob REST API with Shared
 * Key auth, over the sidecar's non-blocking HTTP client (keep-alive
 * connections reused per host: the h1 pool for http://<IP> endpoints such as
 * Azurite, libcurl for https:// and host names, see http/client.h).
 *
 * Every operation is a small state object (blob_op_t) that owns one HTTP
 * attempt at a time. Failed attempts that the Azure SDK would retry
 * (transport errors, 408/429/500/502/503/504) are retried up to retryCount
 * times after the SDK's exponential delay (4s, 12s, 28s ... with jitter,
 * capped at 60s), on a libevent timer.
 *
 * The container is created at start-up (unless disableEntityManagement) by an
 * asynchronous Create Container; operations that arrive while it is pending
 * wait for it. If it fails (e.g. Azurite is not up yet) it is logged and tried
 * again before the next operation, instead of failing the sidecar's start. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/log.h"
#include "http/wire.h"
#include "sidecar/components/bindings/azure_sharedkey.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/bindings/blob_config.h"
#include "sidecar/components/bindings/blob_xml.h"

#define API_VERSION "2021-12-02"
#define TRY_TIMEOUT_MS 60000
#define RETRY_DELAY_MS 4000
#define MAX_RETRY_DELAY_MS 60000
#define DEFAULT_MAX_RESULTS 5000
#define MAX_PAGES 1000

typedef enum { OP_ENSURE, OP_CREATE, OP_GET, OP_DELETE, OP_LIST } op_kind_t;
typedef enum { CONTAINER_READY = 0, CONTAINER_PENDING, CONTAINER_FAILED } container_state_t;

typedef struct blob blob_t;

struct rs_binding_call {
    blob_t *b;
    op_kind_t kind;
    rs_binding_done_fn done;
    void *arg;
    rs_http_call_t *http;
    struct event *retry_timer;
    int tries;
    int waiting;            /* queued behind the container creation */
    int send_failed;        /* rs_http_send refused: report it from the timer */
    /* the request, re-signed on every attempt */
    const char *method;
    char *path;             /* escaped URL path */
    rs_kvlist_t query;      /* decoded parameters (for signing); the URL is built from them */
    rs_kvlist_t headers;    /* without x-ms-date / Authorization */
    char *body;
    size_t body_len;
    /* per-operation results */
    char *blob_name;
    int include_metadata;
    json_t *items;          /* list: collected BlobItems */
    int max_results, pages;
    struct rs_binding_call *prev, *next;
};
typedef struct rs_binding_call blob_op_t;

struct blob {
    rs_component_t *c;
    rs_blob_config_t cfg;
    rs_azure_cred_t cred;
    container_state_t container;
    blob_op_t *ops;         /* every op in flight or waiting */
};

static const char *const operations[] = {"create", "get", "delete", "list", NULL};

static void start_attempt(blob_op_t *op);
static void ensure_container(blob_t *b);

/* ---- op lifetime ---- */

static blob_op_t *op_new(blob_t *b, op_kind_t kind, rs_binding_done_fn done, void *arg) {
    blob_op_t *op = rs_xcalloc(1, sizeof *op);
    op->b = b;
    op->kind = kind;
    op->done = done;
    op->arg = arg;
    op->next = b->ops;
    if (b->ops) b->ops->prev = op;
    b->ops = op;
    return op;
}

static void op_free(blob_op_t *op) {
    blob_t *b = op->b;
    if (op->prev) op->prev->next = op->next;
    else b->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    if (op->http) rs_http_cancel(op->http);
    if (op->retry_timer) event_free(op->retry_timer);
    free(op->path);
    rs_kvlist_free(&op->query);
    rs_kvlist_free(&op->headers);
    free(op->body);
    free(op->blob_name);
    json_decref(op->items);
    free(op);
}

static void finish_err(blob_op_t *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish_err(blob_op_t *op, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs_binding_done_fn done = op->done;
    void *arg = op->arg;
    op_free(op);
    if (done) done(arg, 0, NULL, msg);
}

static void finish_ok(blob_op_t *op, const rs_binding_resp_t *resp) {
    rs_binding_done_fn done = op->done;
    void *arg = op->arg;
    /* resp may point into op (list JSON): call back before freeing. */
    op->done = NULL;
    if (done) done(arg, 1, resp, NULL);
    op_free(op);
}

/* ---- requests ---- */

static void url_encode(rs_buf_t *out, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
            rs_buf_append(out, p, 1);
        else
            rs_buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

static char *build_url(const blob_op_t *op) {
    rs_buf_t u;
    rs_buf_init(&u, 64 * 1024);
    rs_buf_printf(&u, "%s%s", op->b->cfg.origin, op->path);
    for (size_t i = 0; i < op->query.len; i++) {
        rs_buf_puts(&u, i ? "&" : "?");
        url_encode(&u, op->query.items[i].key);
        rs_buf_puts(&u, "=");
        url_encode(&u, op->query.items[i].value);
    }
    size_t n;
    return rs_buf_steal(&u, &n);
}

static int retriable_status(int st) { return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504; }

/* azcore's calcDelay: (2^try - 1) * RetryDelay, jittered by [0.8, 1.3), capped. */
static int64_t retry_delay_ms(int try) {
    double d = (double)((1LL << (try > 20 ? 20 : try)) - 1) * RETRY_DELAY_MS;
    d *= 0.8 + rs_random_unit() * 0.5;
    return d > MAX_RETRY_DELAY_MS ? MAX_RETRY_DELAY_MS : (int64_t)d;
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg) {
    blob_op_t *op = arg;
    (void)fd;
    (void)what;
    if (op->send_failed) finish_err(op, "%s %s: cannot start the HTTP request", op->method, op->path);
    else start_attempt(op);
}

static void arm_timer(blob_op_t *op, int64_t ms) {
    if (!op->retry_timer) op->retry_timer = evtimer_new(op->b->c->host->base, on_retry_timer, op);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(op->retry_timer, &tv);
}

static void describe_failure(const blob_op_t *op, const rs_http_response_t *resp, char *out, size_t outlen,
                             char *code, size_t codelen);

/* Returns 1 if the op was scheduled for another try. */
static int maybe_retry(blob_op_t *op, const rs_http_response_t *resp) {
    if (op->tries > op->b->cfg.retry_count) return 0;
    int64_t ms = retry_delay_ms(op->tries);
    arm_timer(op, ms);
    if (rs_log_enabled(RS_LOG_DEBUG)) {
        char why[768], code[64];
        describe_failure(op, resp, why, sizeof why, code, sizeof code);
        RS_DEBUG("bindings.azure.blobstorage", "%s: retrying %s %s in %lld ms (try %d; try %d failed after %lld ms: %s)",
                 op->b->c->name, op->method, op->path, (long long)ms, op->tries + 1, op->tries,
                 (long long)(resp->latency_us / 1000), why);
    }
    return 1;
}

/* A one-line version of azcore's ResponseError: method, URL, status, error code and message. */
static void describe_failure(const blob_op_t *op, const rs_http_response_t *resp, char *out, size_t outlen,
                             char *code, size_t codelen) {
    char *url = build_url(op);
    code[0] = 0;
    if (resp->result != RS_HTTP_OK) {
        snprintf(out, outlen, "%s %s: %s", op->method, url, resp->error);
    } else {
        char msg[512];
        rs_blob_xml_error(resp->body.data, resp->body.len, code, codelen, msg, sizeof msg);
        /* HEAD-like answers carry the code in a header only. */
        const char *hcode = rs_kvlist_get_ci(&resp->headers, "x-ms-error-code");
        if (!code[0] && hcode) snprintf(code, codelen, "%s", hcode);
        snprintf(out, outlen, "%s %s: RESPONSE %d%s%s%s%s", op->method, url, resp->status, code[0] ? ": " : "", code,
                 msg[0] ? ": " : "", msg);
    }
    free(url);
}

static void complete(blob_op_t *op, rs_http_response_t *resp);

static void on_http_done(void *arg, rs_http_response_t *resp) {
    blob_op_t *op = arg;
    op->http = NULL;
    int transient = resp->result != RS_HTTP_OK || retriable_status(resp->status);
    if (transient && resp->result != RS_HTTP_ERR_TOO_LARGE && maybe_retry(op, resp)) return;
    complete(op, resp);
}

static void start_attempt(blob_op_t *op) {
    blob_t *b = op->b;
    op->tries++;
    rs_kvlist_t h = {0};
    rs_kvlist_copy(&h, &op->headers);
    char date[32], auth[300];
    rs_azure_http_date(rs_wall_ms() / 1000, date);
    rs_kvlist_set(&h, "x-ms-date", date);
    rs_kvlist_set(&h, "x-ms-version", API_VERSION);
    char *sts = rs_azure_string_to_sign(&b->cred, op->method, op->path, &op->query, &h, op->body_len);
    if (rs_azure_authorization(&b->cred, sts, auth, sizeof auth) == 0) rs_kvlist_set(&h, "Authorization", auth);
    free(sts);
    char *url = build_url(op);
    rs_http_request_t req = {.method = op->method,
                             .url = url,
                             .headers = &h,
                             .body = op->body,
                             .body_len = op->body_len,
                             .timeout_ms = TRY_TIMEOUT_MS};
    op->http = rs_http_send(b->c->host->http, &req, on_http_done, op);
    free(url);
    rs_kvlist_free(&h);
    if (!op->http) {
        /* Report from the loop, never from inside invoke: callers may still be setting up. */
        op->send_failed = 1;
        arm_timer(op, 0);
    }
}

/* Starts the op now, or queues it behind the container creation. */
static void launch(blob_op_t *op) {
    blob_t *b = op->b;
    if (b->container == CONTAINER_FAILED) ensure_container(b);
    if (b->container == CONTAINER_PENDING) {
        op->waiting = 1;
        return;
    }
    start_attempt(op);
}

static void blob_path(blob_op_t *op, const char *name) {
    char *esc = rs_blob_path_escape(name);
    size_t n = strlen(op->b->cfg.container_path) + strlen(esc) + 2;
    op->path = rs_xmalloc(n);
    snprintf(op->path, n, "%s/%s", op->b->cfg.container_path, esc);
    free(esc);
}

/* ---- container creation ---- */

static void release_waiting(blob_t *b) {
    /* Collect first, then start: the list changes as ops start and finish. */
    size_t n = 0;
    for (blob_op_t *o = b->ops; o; o = o->next) n += o->waiting;
    if (!n) return;
    blob_op_t **list = rs_xcalloc(n, sizeof *list);
    size_t i = 0;
    for (blob_op_t *o = b->ops; o; o = o->next)
        if (o->waiting) list[i++] = o;
    for (i = 0; i < n; i++) {
        list[i]->waiting = 0;
        start_attempt(list[i]);
    }
    free(list);
}

static void ensure_done(void *arg, int ok, const rs_binding_resp_t *resp, const char *err) {
    blob_t *b = arg;
    (void)resp;
    if (ok) {
        b->container = CONTAINER_READY;
        RS_INFO("bindings.azure.blobstorage", "%s: container %s ready", b->c->name, b->cfg.container);
    } else {
        b->container = CONTAINER_FAILED;
        RS_ERROR("bindings.azure.blobstorage", "%s: failed to create Azure Storage container %s: %s (will retry before "
                 "the next operation)", b->c->name, b->cfg.container, err);
    }
    release_waiting(b);
}

static void ensure_container(blob_t *b) {
    b->container = CONTAINER_PENDING;
    blob_op_t *op = op_new(b, OP_ENSURE, ensure_done, b);
    op->method = "PUT";
    op->path = rs_strdup(b->cfg.container_path);
    rs_kvlist_add(&op->query, "restype", "container");
    if (b->cfg.public_access) rs_kvlist_add(&op->headers, "x-ms-blob-public-access", b->cfg.public_access);
    start_attempt(op);
}

/* ---- completion per operation ---- */

static void complete_list(blob_op_t *op, rs_http_response_t *resp) {
    char err[512], *next = NULL;
    int n = rs_blob_xml_list(resp->body.data, resp->body.len, op->items, &next, err, sizeof err);
    if (n < 0) {
        finish_err(op, "%s", err);
        return;
    }
    op->pages++;
    int total = (int)json_array_size(op->items);
    /* Dapr fetches pages until it has maxResults items; the last page may overshoot. */
    if (next[0] && total < op->max_results && op->pages < MAX_PAGES) {
        rs_kvlist_set(&op->query, "marker", next);
        free(next);
        op->tries = 0;
        start_attempt(op);
        return;
    }
    char *body = json_dumps(op->items, JSON_COMPACT | JSON_PRESERVE_ORDER);
    rs_binding_resp_t r = {.data = body, .len = strlen(body)};
    char num[32], pages[32];
    snprintf(num, sizeof num, "%d", total);
    snprintf(pages, sizeof pages, "%d", op->pages);
    /* We report the marker for the NEXT page (Dapr reports the one it was called with; see docs). */
    rs_kvlist_set(&r.metadata, "marker", next);
    rs_kvlist_set(&r.metadata, "number", num);
    rs_kvlist_set(&r.metadata, "pagesTraversed", pages);
    free(next);
    finish_ok(op, &r);
    rs_kvlist_free(&r.metadata);
    free(body);
}

static void complete(blob_op_t *op, rs_http_response_t *resp) {
    char why[1024], code[128];
    int ok = resp->result == RS_HTTP_OK && resp->status >= 200 && resp->status < 300;
    if (!ok) describe_failure(op, resp, why, sizeof why, code, sizeof code);
    switch (op->kind) {
    case OP_ENSURE:
        if (ok || (resp->result == RS_HTTP_OK && resp->status == 409 &&
                   (strcmp(code, "ContainerAlreadyExists") == 0 || strcmp(code, "ResourceAlreadyExists") == 0)))
            finish_ok(op, NULL);
        else
            finish_err(op, "%s", why);
        return;
    case OP_CREATE: {
        if (!ok) {
            finish_err(op, "error uploading az blob: %s", why);
            return;
        }
        char *esc = rs_blob_path_escape(op->blob_name);
        json_t *j = json_object();
        char url[4096];
        snprintf(url, sizeof url, "%s%s/%s", op->b->cfg.origin, op->b->cfg.container_path, esc);
        free(esc);
        json_object_set_new(j, "blobURL", json_string(url));
        json_object_set_new(j, "blobName", json_string(op->blob_name));
        char *body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        rs_binding_resp_t r = {.data = body, .len = strlen(body)};
        rs_kvlist_set(&r.metadata, "blobName", op->blob_name);
        finish_ok(op, &r);
        rs_kvlist_free(&r.metadata);
        free(body);
        return;
    }
    case OP_GET: {
        if (!ok) {
            if (resp->result == RS_HTTP_OK && resp->status == 404 && strcmp(code, "BlobNotFound") == 0)
                finish_err(op, "blob not found");
            else
                finish_err(op, "error downloading az blob: %s", why);
            return;
        }
        rs_binding_resp_t r = {.data = resp->body.data ? resp->body.data : "", .len = resp->body.len};
        if (op->include_metadata) {
            /* The download answer already carries x-ms-meta-*: no separate Get Properties call needed. */
            for (size_t i = 0; i < resp->headers.len; i++) {
                const rs_kv_t *kv = &resp->headers.items[i];
                if (strncasecmp(kv->key, "x-ms-meta-", 10) != 0 || !kv->key[10]) continue;
                rs_kvlist_set(&r.metadata, kv->key + 10, kv->value);
            }
        }
        finish_ok(op, &r);
        rs_kvlist_free(&r.metadata);
        return;
    }
    case OP_DELETE:
        if (ok) finish_ok(op, NULL);
        else if (resp->result == RS_HTTP_OK && resp->status == 404 && strcmp(code, "BlobNotFound") == 0)
            finish_err(op, "blob not found");
        else
            finish_err(op, "%s", why);
        return;
    case OP_LIST:
        if (!ok) finish_err(op, "error listing blobs: %s", why);
        else complete_list(op, resp);
        return;
    }
}

/* ---- operations ---- */

static const char *meta_ci(const rs_kvlist_t *md, const char *k) {
    const char *v = md ? rs_kvlist_get_ci(md, k) : NULL;
    return v && *v ? v : NULL;
}

static int is_content_key(const char *k) {
    static const char *const keys[] = {"contentType",        "contentMD5",   "contentEncoding", "contentLanguage",
                                       "contentDisposition", "cacheControl", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (strcasecmp(k, keys[i]) == 0) return 1;
    return 0;
}

static blob_op_t *op_create(blob_t *b, const char *data, size_t len, const rs_kvlist_t *md, rs_binding_done_fn done,
                            void *arg) {
    blob_op_t *op = op_new(b, OP_CREATE, done, arg);
    const char *name = md ? rs_kvlist_get(md, "blobName") : NULL;
    if (name && *name) {
        op->blob_name = rs_strdup(name);
    } else {
        char id[37];
        rs_uuid(id);
        op->blob_name = rs_strdup(id);
    }
    static const struct {
        const char *meta, *header;
    } content[] = {{"contentType", "x-ms-blob-content-type"},
                   {"contentEncoding", "x-ms-blob-content-encoding"},
                   {"contentLanguage", "x-ms-blob-content-language"},
                   {"contentDisposition", "x-ms-blob-content-disposition"},
                   {"cacheControl", "x-ms-blob-cache-control"}};
    for (size_t i = 0; i < sizeof content / sizeof content[0]; i++) {
        const char *v = meta_ci(md, content[i].meta);
        if (v) rs_kvlist_set(&op->headers, content[i].header, v);
    }
    const char *md5 = meta_ci(md, "contentMD5");
    if (md5) {
        unsigned char *raw = NULL;
        size_t rawlen = 0;
        if (rs_base64_decode(md5, strlen(md5), &raw, &rawlen) != 0 || rawlen != 16) {
            free(raw);
            finish_err(op, "the MD5 value specified in Content MD5 is invalid, MD5 value must be 128 bits and base64 "
                           "encoded");
            return NULL;
        }
        free(raw);
        rs_kvlist_set(&op->headers, "x-ms-blob-content-md5", md5);
        rs_kvlist_set(&op->headers, "Content-MD5", md5); /* transactional: Azure checks the body against it */
    }
    /* Other metadata becomes blob metadata: keys keep [A-Za-z0-9], values keep ASCII (Dapr's SanitizeMetadata). */
    for (size_t i = 0; md && i < md->len; i++) {
        const char *k = md->items[i].key, *v = md->items[i].value;
        if (strcmp(k, "blobName") == 0 || strcmp(k, "signTTL") == 0 || is_content_key(k)) continue;
        char key[256], val[2048];
        size_t kn = 0, vn = 0;
        for (const char *p = k; *p && kn < sizeof key - 12; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) key[kn++] = *p;
        key[kn] = 0;
        for (const unsigned char *p = (const unsigned char *)v; *p && vn < sizeof val - 1; p++)
            if (*p < 128) val[vn++] = (char)*p;
        val[vn] = 0;
        if (!kn) continue;
        char hname[300];
        snprintf(hname, sizeof hname, "x-ms-meta-%s", key);
        rs_kvlist_set(&op->headers, hname, val);
    }
    /* Values travel as HTTP headers: refuse line breaks and other control characters, as Go's client does. */
    for (size_t i = 0; i < op->headers.len; i++)
        if (!rs_http_field_value_ok(op->headers.items[i].value, strlen(op->headers.items[i].value))) {
            finish_err(op, "net/http: invalid header field value for \"%s\"", op->headers.items[i].key);
            return NULL;
        }
    rs_kvlist_set(&op->headers, "x-ms-blob-type", "BlockBlob");
    size_t ulen;
    char *uq = rs_json_unquote(data, len, &ulen); /* Go's strconv.Unquote on the re-marshalled data */
    const char *payload = uq ? uq : data;
    size_t plen = uq ? ulen : len;
    if (b->cfg.decode_base64) {
        unsigned char *dec;
        size_t declen;
        if (rs_base64_decode(payload, plen, &dec, &declen) != 0) {
            free(uq);
            finish_err(op, "illegal base64 data in the request data (decodeBase64 is set)");
            return NULL;
        }
        op->body = (char *)dec;
        op->body_len = declen;
        free(uq);
    } else {
        op->body = rs_xmalloc(plen + 1);
        memcpy(op->body, payload, plen);
        op->body[plen] = 0;
        op->body_len = plen;
        free(uq);
    }
    op->method = "PUT";
    blob_path(op, op->blob_name);
    return op;
}

static blob_op_t *op_get_or_delete(blob_t *b, op_kind_t kind, const rs_kvlist_t *md, rs_binding_done_fn done,
                                   void *arg) {
    blob_op_t *op = op_new(b, kind, done, arg);
    const char *name = md ? rs_kvlist_get(md, "blobName") : NULL;
    if (!name || !*name) {
        finish_err(op, "blobName is a required attribute");
        return NULL;
    }
    op->blob_name = rs_strdup(name);
    blob_path(op, name);
    if (kind == OP_GET) {
        op->method = "GET";
        const char *im = md ? rs_kvlist_get(md, "includeMetadata") : NULL;
        if (im && *im && rs_parse_bool(im, &op->include_metadata) != 0) {
            finish_err(op, "error parsing metadata: strconv.ParseBool: parsing \"%s\": invalid syntax", im);
            return NULL;
        }
    } else {
        op->method = "DELETE";
        const char *ds = md ? rs_kvlist_get(md, "deleteSnapshots") : NULL;
        if (ds && *ds) {
            if (strcmp(ds, "include") != 0 && strcmp(ds, "only") != 0) {
                finish_err(op, "invalid delete snapshot option type: %s; allowed: [include only]", ds);
                return NULL;
            }
            rs_kvlist_set(&op->headers, "x-ms-delete-snapshots", ds);
        }
    }
    return op;
}

/* Go's encoding/json matches field names case-insensitively. */
static json_t *field_ci(json_t *o, const char *name) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) if (strcasecmp(k, name) == 0) return v;
    return NULL;
}

static blob_op_t *op_list(blob_t *b, const char *data, size_t len, rs_binding_done_fn done, void *arg) {
    blob_op_t *op = op_new(b, OP_LIST, done, arg);
    op->items = json_array();
    op->max_results = DEFAULT_MAX_RESULTS;
    json_error_t e;
    json_t *p = len ? rs_json_loadb(data, len, JSON_DECODE_ANY, &e) : json_null();
    if (!p) {
        finish_err(op, "invalid list payload: %s", e.text);
        return NULL;
    }
    if (!json_is_object(p) && !json_is_null(p)) {
        const char *kind =
            json_is_string(p) ? "string" : json_is_array(p) ? "array" : json_is_boolean(p) ? "bool" : "number";
        json_decref(p);
        finish_err(op, "json: cannot unmarshal %s into Go value of type blobstorage.listPayload", kind);
        return NULL;
    }
    const char *prefix = NULL, *marker = NULL;
    static const char *const incl_names[] = {"copy", "deleted", "metadata", "snapshots", "uncommittedBlobs"};
    char include[128] = "";
    if (json_is_object(p)) {
        json_t *mr = field_ci(p, "maxResults"), *pf = field_ci(p, "prefix"), *mk = field_ci(p, "marker"),
               *in = field_ci(p, "include");
        if (mr && !json_is_null(mr)) {
            double d = json_number_value(mr);
            /* range first: casting 1e300 to an integer is undefined behaviour */
            if (!json_is_number(mr) || d > 2147483647.0 || d < -2147483648.0 || d != (double)(long long)d) {
                const char *kind = json_is_number(mr) ? "number" : "string"; /* mr dies with p */
                json_decref(p);
                finish_err(op, "json: cannot unmarshal %s into Go struct field listPayload.maxResults of type int32",
                           kind);
                return NULL;
            }
            if (d > 0) op->max_results = (int)d;
        }
        if (pf && json_is_string(pf)) prefix = json_string_value(pf);
        if (mk && json_is_string(mk)) marker = json_string_value(mk);
        if ((pf && !json_is_string(pf) && !json_is_null(pf)) || (mk && !json_is_string(mk) && !json_is_null(mk))) {
            /* read before p (and with it pf) is freed */
            const char *field = pf && !json_is_string(pf) && !json_is_null(pf) ? "prefix" : "marker";
            json_decref(p);
            finish_err(op, "json: cannot unmarshal into Go struct field listPayload.%s of type string", field);
            return NULL;
        }
        if (json_is_object(in)) {
            for (size_t i = 0; i < sizeof incl_names / sizeof incl_names[0]; i++) {
                json_t *v = field_ci(in, incl_names[i]);
                if (!json_is_true(v)) continue;
                size_t l = strlen(include);
                snprintf(include + l, sizeof include - l, "%s%s", l ? "," : "",
                         strcmp(incl_names[i], "uncommittedBlobs") == 0 ? "uncommittedblobs" : incl_names[i]);
            }
        }
    }
    op->method = "GET";
    op->path = rs_strdup(b->cfg.container_path);
    rs_kvlist_add(&op->query, "restype", "container");
    rs_kvlist_add(&op->query, "comp", "list");
    char mr[32];
    snprintf(mr, sizeof mr, "%d", op->max_results);
    rs_kvlist_add(&op->query, "maxresults", mr);
    if (prefix && *prefix) rs_kvlist_add(&op->query, "prefix", prefix);
    if (marker && *marker) rs_kvlist_add(&op->query, "marker", marker);
    if (include[0]) rs_kvlist_add(&op->query, "include", include);
    json_decref(p);
    return op;
}

static rs_binding_call_t *blob_invoke(rs_component_t *c, const char *operation, const char *data, size_t len,
                                      const rs_kvlist_t *metadata, rs_binding_done_fn done, void *arg) {
    blob_t *b = c->impl;
    blob_op_t *op = NULL;
    if (strcmp(operation, "create") == 0) op = op_create(b, data, len, metadata, done, arg);
    else if (strcmp(operation, "get") == 0) op = op_get_or_delete(b, OP_GET, metadata, done, arg);
    else if (strcmp(operation, "delete") == 0) op = op_get_or_delete(b, OP_DELETE, metadata, done, arg);
    else if (strcmp(operation, "list") == 0) op = op_list(b, data, len, done, arg);
    else {
        done(arg, 0, NULL, "unsupported operation");
        return NULL;
    }
    if (!op) return NULL; /* finished with an error already */
    launch(op);           /* never finishes op synchronously */
    return op;
}

static void blob_cancel(rs_component_t *c, rs_binding_call_t *call) {
    (void)c;
    op_free(call);
}

static int blob_init(rs_component_t *c, char *err, size_t errlen) {
    blob_t *b = rs_xcalloc(1, sizeof *b);
    b->c = c;
    c->impl = b;
    if (rs_blob_config_parse(&b->cfg, &c->metadata, err, errlen) != 0) return -1;
    if (rs_azure_cred_init(&b->cred, b->cfg.account, b->cfg.account_key, err, errlen) != 0) return -1;
    if (!c->host || !c->host->http) {
        snprintf(err, errlen, "no HTTP client");
        return -1;
    }
    RS_INFO("bindings.azure.blobstorage", "%s: container URL %s%s", c->name, b->cfg.origin, b->cfg.container_path);
    if (!b->cfg.disable_entity_management) ensure_container(b);
    return 0;
}

static void blob_close(rs_component_t *c) {
    blob_t *b = c->impl;
    if (!b) return;
    /* The runtime cancels its calls before closing components; anything left is dropped without callbacks. */
    while (b->ops) op_free(b->ops);
    rs_blob_config_free(&b->cfg);
    free(b);
    c->impl = NULL;
}

static const rs_binding_ops_t blob_ops = {
    .operations = operations,
    .invoke = blob_invoke,
    .cancel = blob_cancel,
};

const rs_component_type_t rs_bindings_azure_blobstorage_type = {
    .type = "bindings.azure.blobstorage",
    .kind = RS_KIND_BINDING,
    .init = blob_init,
    .close = blob_close,
    .ops = &blob_ops,
};

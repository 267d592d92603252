/* SPDX-License-Identifier: MIT */
/* The client transport: configuration from the environment, a pool of libcurl
 * easy handles (each keeps its own connection to the sidecar alive, so reusing
 * handles reuses connections), and one request function every API uses. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dapr/client.h"
#include "internal.h"

/* Handles kept idle for reuse; more concurrent calls than this create extra handles that are
 * closed after use. */
#define POOL_MAX 32
/* A sidecar answer larger than this is refused rather than buffered without bound. */
#define MAX_RESPONSE (64u * 1024u * 1024u)

struct dapr_client {
    char *base;          /* "http://host:port", no trailing slash */
    char *token;         /* NULL: no dapr-api-token header */
    long timeout_ms, connect_timeout_ms;
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    int nidle;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char *env_or(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

dapr_client_t *dapr_client_new(const dapr_client_options_t *opts) {
    pthread_once(&curl_once, curl_init_once);
    dapr_client_options_t o = {0};
    if (opts) o = *opts;
    dapr_client_t *c = dapri_xcalloc(1, sizeof *c);
    if (o.base_url && *o.base_url) {
        c->base = dapri_xstrdup(o.base_url);
        size_t n = strlen(c->base);
        while (n > 0 && c->base[n - 1] == '/') c->base[--n] = '\0';
    } else {
        const char *endpoint = getenv("DAPR_HTTP_ENDPOINT"); /* what Dapr's own SDKs read first */
        if (!o.host && o.port <= 0 && endpoint && strncmp(endpoint, "http", 4) == 0) {
            c->base = dapri_xstrdup(endpoint);
            size_t n = strlen(c->base);
            while (n > 0 && c->base[n - 1] == '/') c->base[--n] = '\0';
        } else {
            const char *host = o.host ? o.host : env_or("DAPR_HTTP_HOST", "127.0.0.1");
            int port = o.port > 0 ? o.port : dapri_env_int("DAPR_HTTP_PORT", 3500, 1, 65535);
            if (port <= 0 || port > 65535) port = 3500;
            c->base = dapri_sprintf("http://%s:%d", host, port);
        }
        const char *tok = o.api_token ? o.api_token : getenv("DAPR_API_TOKEN");
        if (tok && *tok) c->token = dapri_xstrdup(tok);
    }
    c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 60000;
    c->connect_timeout_ms = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : 5000;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void dapr_client_free(dapr_client_t *c) {
    if (!c) return;
    for (int i = 0; i < c->nidle; i++) curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->mu);
    free(c->base);
    free(c->token);
    free(c);
}

const char *dapr_client_base_url(const dapr_client_t *c) { return c->base; }

static CURL *borrow(dapr_client_t *c) {
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->nidle > 0) h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->mu);
    if (!h) h = curl_easy_init();
    if (!h) abort();
    return h;
}

static void give_back(dapr_client_t *c, CURL *h) {
    curl_easy_reset(h); /* keeps the live connection, forgets the options */
    pthread_mutex_lock(&c->mu);
    if (c->nidle < POOL_MAX) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h) curl_easy_cleanup(h);
}

typedef struct {
    dapr_response_t *r;
    size_t cap;
    int too_big;
} sink_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
    sink_t *s = arg;
    size_t n = size * nmemb;
    if (s->r->body_len + n > MAX_RESPONSE) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->r->body_len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->r->body_len + n + 1) cap *= 2;
        s->r->body = dapri_xrealloc(s->r->body, cap);
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->body_len, ptr, n);
    s->r->body_len += n;
    s->r->body[s->r->body_len] = '\0';
    return n;
}

static void clear_headers(dapr_response_t *r) {
    for (size_t i = 0; i < r->nheaders; i++) {
        free((char *)r->headers[i].key);
        free((char *)r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg) {
    sink_t *s = arg;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        clear_headers(s->r); /* a new status line (after 100 Continue): start over */
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) return n;
    size_t klen = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    if (s->r->nheaders >= 256) return n; /* enough for any sidecar answer */
    s->r->headers = dapri_xrealloc(s->r->headers, (s->r->nheaders + 1) * sizeof *s->r->headers);
    s->r->headers[s->r->nheaders].key = dapri_xstrndup(line, klen);
    s->r->headers[s->r->nheaders].value = dapri_xstrndup(v, (size_t)(end - v));
    s->r->nheaders++;
    return n;
}

void dapr_response_free(dapr_response_t *r) {
    if (!r) return;
    clear_headers(r);
    free(r->body);
    memset(r, 0, sizeof *r);
}

const char *dapr_response_header(const dapr_response_t *r, const char *name) {
    for (size_t i = 0; r && i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].key, name) == 0) return r->headers[i].value;
    }
    return NULL;
}

int dapr_client_request(dapr_client_t *c, const char *method, const char *path, const dapr_kv_t *headers,
                        size_t nheaders, const void *body, size_t body_len, dapr_response_t *out, dapr_error_t *err) {
    dapr_error_clear(err);
    dapr_response_t local = {0};
    dapr_response_t *r = out ? out : &local;
    memset(r, 0, sizeof *r);
    sink_t sink = {.r = r};
    char *url = dapri_sprintf("%s%s", c->base, path);

    struct curl_slist *hl = NULL;
    char *tokhdr = NULL;
    if (c->token) {
        tokhdr = dapri_sprintf("dapr-api-token: %s", c->token);
        hl = curl_slist_append(hl, tokhdr);
    }
    int own_traceparent = 0;
    for (size_t i = 0; headers && i < nheaders; i++) {
        char *h = dapri_sprintf("%s: %s", headers[i].key, headers[i].value ? headers[i].value : "");
        hl = curl_slist_append(hl, h);
        free(h);
        if (strcasecmp(headers[i].key, "traceparent") == 0) own_traceparent = 1;
    }
    /* The request this thread is serving (trace.h): its context goes on with every call made for it. */
    const dapr_trace_context_t *tc = dapri_trace_current();
    if (!own_traceparent && tc->traceparent[0]) {
        char tp[80], ts[sizeof tc->tracestate + 16];
        snprintf(tp, sizeof tp, "traceparent: %s", tc->traceparent);
        hl = curl_slist_append(hl, tp);
        if (tc->tracestate[0]) {
            snprintf(ts, sizeof ts, "tracestate: %s", tc->tracestate);
            hl = curl_slist_append(hl, ts);
        }
    }
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip for larger bodies */

    CURL *h = borrow(c);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L); /* a HEAD answer has no body to wait for */
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        }
    }

    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    give_back(c, h);
    curl_slist_free_all(hl);
    free(tokhdr);

    int rc = 0;
    if (cc != CURLE_OK) {
        if (sink.too_big) {
            dapr_error_set(err, (int)status, DAPR_ERR_CLIENT, "%s %s: response larger than %u bytes", method, url,
                           MAX_RESPONSE);
        } else {
            dapr_error_set(err, 0, DAPR_ERR_CLIENT, "%s %s: %s", method, url, curl_easy_strerror(cc));
        }
        dapr_response_free(r);
        rc = -1;
    } else {
        r->status = (int)status;
        if (!r->body) r->body = dapri_xstrdup("");
        if (status < 200 || status >= 300) {
            dapri_error_from_response(err, r);
            rc = -1;
        }
        if (!out) dapr_response_free(&local);
    }
    free(url);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* Families hold their series in a small open-addressing table keyed by the
 * rendered label string, so the per-request cost is one format + one lookup. */
#include "sidecar/metrics/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/str.h"
#include "http/server.h"
#include "sidecar/errors/errors.h"

/* M_SIZES is a histogram of byte counts, with daprd's size buckets (defaultSizeDistribution). */
typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM, M_SIZES } mtype_t;

/* Labels can carry request input (a target app id): cap the series per family so a client cannot grow
 * the registry without bound. Observations for new label sets beyond the cap are dropped. */
#define MAX_SERIES_PER_FAMILY 10000

static const double bucket_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
#define NBUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])
static const double size_bounds[] = {1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
                                     268435456, 1073741824, 4294967296};
#define NSIZES (sizeof size_bounds / sizeof size_bounds[0])

/* The bucket bounds of a histogram type (n = 0 for a counter or gauge). */
static const double *bounds_of(mtype_t type, size_t *n) {
    *n = type == M_HISTOGRAM ? NBUCKETS : type == M_SIZES ? NSIZES : 0;
    return type == M_SIZES ? size_bounds : bucket_bounds;
}

typedef struct {
    char *labels; /* rendered: app_id="x",k="v" */
    uint64_t hash;
    double value; /* counter / gauge; histogram sum */
    uint64_t count;
    uint64_t *buckets; /* histogram only */
    const double *bounds; /* its bucket bounds, nbounds of them */
    size_t nbounds;
} series_t;

typedef struct {
    char *name;
    const char *name_seen; /* the pointer the family was first asked for by (callers pass literals) */
    char *help;
    mtype_t type;
    series_t **slots; /* open addressing, power-of-two size; each series allocated once, so it never moves */
    size_t nslots, nused;
} family_t;

/* The HTTP observer's label sets repeat (a few routes, methods and statuses) and its method and route strings
 * are static (server.h), so each (method, route, status) seen is remembered by pointer with its two series:
 * a request then costs no label rendering or hashing. Series never move (family_t), so entries stay valid. */
#define OBSERVED_SLOTS 64
typedef struct {
    const char *method, *route;
    int status;
    series_t *requests, *responses, *latency; /* request_count has no status label, as daprd's */
} observed_t;

/* The same for gRPC calls, server and client side: each (side, method, status) seen is remembered with its four
 * series. The key is compared by content (the method label may be built per call), hashed once per call. */
#define GRPC_SLOTS 64
#define GRPC_METHOD_MAX 128 /* longer method labels are recorded, just not remembered */
typedef struct {
    char method[GRPC_METHOD_MAX];
    const char *status; /* grpc-go's code name: a static string */
    int client;
    series_t *count, *latency, *req_bytes, *resp_bytes;
} grpc_observed_t;

struct rs_metrics {
    observed_t observed[OBSERVED_SLOTS];
    grpc_observed_t grpc_observed[GRPC_SLOTS];
    series_t *req_bytes, *resp_bytes; /* the server's body sizes: one series each (app_id only) */
    char *app_label; /* app_id="..." */
    family_t *fams;
    size_t nfams, allocfams;
};

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* 1 if v[0..n) can go into a label as it is: no byte to escape and only UTF-8, which the exposition format
 * requires (one label with raw bytes from a client would make the whole scrape invalid). */
static int label_plain(const char *v, size_t n) {
    int high = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '\\' || ch == '"' || ch == '\n') return 0;
        high |= ch & 0x80;
    }
    return !high || rs_utf8_valid(v, n);
}

/* Appends a label value escaped as the exposition format says, invalid UTF-8 as U+FFFD. */
static void append_escaped(rs_buf_t *b, const char *value) {
    char *clean = rs_utf8_valid(value, strlen(value)) ? NULL : rs_utf8_sanitize(value, strlen(value), NULL);
    for (const char *v = clean ? clean : value; *v; v++) {
        if (*v == '\\') rs_buf_puts(b, "\\\\");
        else if (*v == '"') rs_buf_puts(b, "\\\"");
        else if (*v == '\n') rs_buf_puts(b, "\\n");
        else rs_buf_append(b, v, 1);
    }
    free(clean);
}

rs_metrics_t *rs_metrics_new(const char *app_id) {
    rs_metrics_t *m = rs_xcalloc(1, sizeof *m);
    rs_buf_t b;
    rs_buf_init(&b, 4096);
    rs_buf_puts(&b, "app_id=\"");
    append_escaped(&b, app_id ? app_id : "");
    rs_buf_puts(&b, "\"");
    m->app_label = rs_buf_steal(&b, NULL);
    return m;
}

void rs_metrics_free(rs_metrics_t *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nfams; i++) {
        family_t *f = &m->fams[i];
        for (size_t j = 0; j < f->nslots; j++) {
            if (!f->slots[j]) continue;
            free(f->slots[j]->labels);
            free(f->slots[j]->buckets);
            free(f->slots[j]);
        }
        free(f->slots);
        free(f->name);
        free(f->help);
    }
    free(m->fams);
    free(m->app_label);
    free(m);
}

static family_t *family(rs_metrics_t *m, const char *name, const char *help, mtype_t type) {
    for (size_t i = 0; i < m->nfams; i++) /* the same literal again: one string compare, not one per family */
        if (m->fams[i].name_seen == name && strcmp(m->fams[i].name, name) == 0) return &m->fams[i];
    for (size_t i = 0; i < m->nfams; i++)
        if (strcmp(m->fams[i].name, name) == 0) return &m->fams[i];
    if (!help) return NULL;
    if (m->nfams == m->allocfams) {
        m->allocfams = m->allocfams ? m->allocfams * 2 : 16;
        m->fams = rs_xrealloc(m->fams, m->allocfams * sizeof *m->fams);
    }
    family_t *f = &m->fams[m->nfams++];
    memset(f, 0, sizeof *f);
    f->name = rs_strdup(name);
    f->name_seen = name;
    f->help = rs_strdup(help);
    f->type = type;
    return f;
}

/* Renders the label set into buf (a stack buffer on the hot path). Returns buf, or a heap copy the caller
 * frees when the labels do not fit (*heap set). */
static char *render_labels(rs_metrics_t *m, const char *const *labels, char *buf, size_t buflen, int *heap) {
    size_t n = strlen(m->app_label);
    int plain = n < buflen;
    if (plain) memcpy(buf, m->app_label, n);
    for (size_t i = 0; plain && labels && labels[i] && labels[i + 1]; i += 2) {
        size_t kl = strlen(labels[i]), vl = strlen(labels[i + 1]);
        if (n + kl + vl + 5 >= buflen || !label_plain(labels[i + 1], vl)) {
            plain = 0; /* needs escaping or room: take the general path */
            break;
        }
        buf[n++] = ',';
        memcpy(buf + n, labels[i], kl);
        n += kl;
        buf[n++] = '=';
        buf[n++] = '"';
        memcpy(buf + n, labels[i + 1], vl);
        n += vl;
        buf[n++] = '"';
    }
    *heap = !plain;
    if (plain) {
        buf[n] = '\0';
        return buf;
    }
    rs_buf_t b;
    rs_buf_init(&b, 64 * 1024);
    rs_buf_puts(&b, m->app_label);
    for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
        rs_buf_printf(&b, ",%s=\"", labels[i]);
        append_escaped(&b, labels[i + 1]);
        rs_buf_puts(&b, "\"");
    }
    return rs_buf_steal(&b, NULL);
}

static void grow(family_t *f) {
    size_t n = f->nslots ? f->nslots * 2 : 16;
    series_t **old = f->slots;
    size_t oldn = f->nslots;
    f->slots = rs_xcalloc(n, sizeof *f->slots);
    f->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (!old[i]) continue;
        size_t j = old[i]->hash & (n - 1);
        while (f->slots[j]) j = (j + 1) & (n - 1);
        f->slots[j] = old[i];
    }
    free(old);
}

/* `h` is fnv(labels), computed by the caller so one label set can be looked up in several families. */
static series_t *find_series(family_t *f, const char *labels, uint64_t h, int create) {
    if (f->nslots) {
        size_t j = h & (f->nslots - 1);
        while (f->slots[j]) {
            if (f->slots[j]->hash == h && strcmp(f->slots[j]->labels, labels) == 0) return f->slots[j];
            j = (j + 1) & (f->nslots - 1);
        }
    }
    if (!create || f->nused >= MAX_SERIES_PER_FAMILY) return NULL;
    if ((f->nused + 1) * 2 > f->nslots) grow(f);
    size_t j = h & (f->nslots - 1);
    while (f->slots[j]) j = (j + 1) & (f->nslots - 1);
    series_t *s = f->slots[j] = rs_xcalloc(1, sizeof *s);
    s->labels = rs_strdup(labels);
    s->hash = h;
    s->bounds = bounds_of(f->type, &s->nbounds);
    if (s->nbounds) s->buckets = rs_xcalloc(s->nbounds, sizeof *s->buckets);
    f->nused++;
    return s;
}

/* The series for rendered labels `l` (hash `h`) in `f`, created if new; NULL when `f` is missing, of another
 * type, or full. */
static series_t *series_of(family_t *f, mtype_t type, const char *l, uint64_t h) {
    return f && f->type == type ? find_series(f, l, h, 1) : NULL;
}

static series_t *get(rs_metrics_t *m, const char *name, const char *help, mtype_t type, const char *const *labels) {
    char buf[512];
    int heap;
    char *l = render_labels(m, labels, buf, sizeof buf, &heap);
    series_t *s = series_of(family(m, name, help, type), type, l, fnv(l));
    if (heap) free(l);
    return s;
}

static void observe_series(series_t *s, double v) {
    s->value += v;
    s->count++;
    for (size_t i = 0; i < s->nbounds; i++)
        if (v <= s->bounds[i]) s->buckets[i]++;
}

void rs_metrics_inc(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double by) {
    if (!m) return;
    series_t *s = get(m, name, help, M_COUNTER, labels);
    if (s) s->value += by;
}

void rs_metrics_set(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double v) {
    if (!m) return;
    series_t *s = get(m, name, help, M_GAUGE, labels);
    if (s) s->value = v;
}

void rs_metrics_observe(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double v) {
    if (!m) return;
    series_t *s = get(m, name, help, M_HISTOGRAM, labels);
    if (s) observe_series(s, v);
}

void rs_metrics_observe_bytes(rs_metrics_t *m, const char *name, const char *help, const char *const *labels,
                              double bytes) {
    if (!m) return;
    series_t *s = get(m, name, help, M_SIZES, labels);
    if (s) observe_series(s, bytes);
}

void rs_metrics_count_observe(rs_metrics_t *m, const char *count_name, const char *count_help, const char *hist_name,
                              const char *hist_help, const char *const *labels, double v) {
    if (!m) return;
    char buf[512];
    int heap;
    char *l = render_labels(m, labels, buf, sizeof buf, &heap); /* once for both families */
    uint64_t h = fnv(l);
    series_t *c = series_of(family(m, count_name, count_help, M_COUNTER), M_COUNTER, l, h);
    series_t *d = series_of(family(m, hist_name, hist_help, M_HISTOGRAM), M_HISTOGRAM, l, h);
    if (heap) free(l);
    if (c) c->value += 1;
    if (d) observe_series(d, v);
}

double rs_metrics_value(rs_metrics_t *m, const char *name, const char *const *labels) {
    if (!m) return -1;
    family_t *f = family(m, name, NULL, M_COUNTER);
    if (!f) return -1;
    char buf[512];
    int heap;
    char *l = render_labels(m, labels, buf, sizeof buf, &heap);
    series_t *s = find_series(f, l, fnv(l), 0);
    if (heap) free(l);
    return s ? s->value : -1;
}

static void put_num(rs_buf_t *b, double v) {
    if (v == floor(v) && fabs(v) < 1e15) rs_buf_printf(b, "%.0f", v);
    else rs_buf_printf(b, "%.6g", v);
}

char *rs_metrics_render(rs_metrics_t *m, size_t *len) {
    rs_buf_t b;
    rs_buf_init(&b, 256u * 1024 * 1024);
    for (size_t i = 0; m && i < m->nfams; i++) {
        family_t *f = &m->fams[i];
        static const char *const tn[] = {"counter", "gauge", "histogram", "histogram"};
        rs_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, tn[f->type]);
        for (size_t j = 0; j < f->nslots; j++) {
            series_t *s = f->slots[j];
            if (!s) continue;
            if (!s->nbounds) {
                rs_buf_printf(&b, "%s{%s} ", f->name, s->labels);
                put_num(&b, s->value);
                rs_buf_puts(&b, "\n");
                continue;
            }
            for (size_t k = 0; k < s->nbounds; k++) {
                rs_buf_printf(&b, "%s_bucket{%s,le=\"", f->name, s->labels);
                put_num(&b, s->bounds[k]);
                rs_buf_printf(&b, "\"} %llu\n", (unsigned long long)s->buckets[k]);
            }
            rs_buf_printf(&b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", f->name, s->labels, (unsigned long long)s->count);
            rs_buf_printf(&b, "%s_sum{%s} ", f->name, s->labels);
            put_num(&b, s->value);
            rs_buf_printf(&b, "\n%s_count{%s} %llu\n", f->name, s->labels, (unsigned long long)s->count);
        }
    }
    if (m) rs_metrics_render_process(&b);
    if (!b.data) rs_buf_puts(&b, "");
    return rs_buf_steal(&b, len);
}

static int on_metrics(rs_http_req_t *r, void *ctx) {
    if (strcmp(r->path, "/metrics") != 0) return 0;
    rs_http_req_set_route(r, "/metrics");
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        rs_http_reply_error(r, rs_dapr_err_http(RS_ERR_METHOD_NOT_ALLOWED), rs_dapr_err_code(RS_ERR_METHOD_NOT_ALLOWED),
                            "use GET /metrics");
        return 1;
    }
    size_t len = 0;
    char *text = rs_metrics_render(ctx, &len);
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    rs_http_reply(r, 200, &h, text, len);
    rs_kvlist_free(&h);
    free(text);
    return 1;
}

void rs_metrics_serve(rs_metrics_t *m, rs_http_server_t *srv) { rs_http_server_add(srv, on_metrics, m); }

/* The series of a size histogram with no labels but app_id (created on first use). */
static series_t *bytes_series(rs_metrics_t *m, const char *name, const char *help) {
    return series_of(family(m, name, help, M_SIZES), M_SIZES, m->app_label, fnv(m->app_label));
}

void rs_metrics_http_observer(void *arg, const char *method, const char *route, int status, int64_t latency_us,
                              size_t req_bytes, size_t resp_bytes) {
    rs_metrics_t *m = arg;
    if (!m) return;
    if (!m->req_bytes) {
        m->req_bytes = bytes_series(m, "dapr_http_server_request_bytes", "HTTP request body size if set as "
                                    "ContentLength (uncompressed) in server.");
        m->resp_bytes = bytes_series(m, "dapr_http_server_response_bytes",
                                     "HTTP response body size (uncompressed) in server.");
    }
    if (m->req_bytes) observe_series(m->req_bytes, (double)req_bytes);
    if (m->resp_bytes) observe_series(m->resp_bytes, (double)resp_bytes);
    if (!route) route = "other";
    double ms = (double)latency_us / 1000.0;
    uintptr_t key = (uintptr_t)method * 31 + (uintptr_t)route * 17 + (uintptr_t)status;
    observed_t *o = &m->observed[(key ^ (key >> 7)) % OBSERVED_SLOTS];
    if (o->method == method && o->route == route && o->status == status) {
        o->requests->value += 1;
        o->responses->value += 1;
        observe_series(o->latency, ms);
        return;
    }
    char st[21];
    rs_utoa((unsigned)status, st);
    /* daprd's label sets: request_count by method and path; response_count and latency add the status.
     * The two label sets are rendered once each, then the entry above makes the next request free of both. */
    const char *labels[] = {"method", method, "path", route, "status", st, NULL};
    family_t *reqs = family(m, "dapr_http_server_request_count", "Number of HTTP requests started in server.", M_COUNTER);
    family_t *resps = family(m, "dapr_http_server_response_count", "The number of HTTP responses", M_COUNTER);
    family_t *latency = family(m, "dapr_http_server_latency", "HTTP request end to end latency in server.", M_HISTOGRAM);
    char buf[512];
    int heap;
    char *l = render_labels(m, labels, buf, sizeof buf, &heap);
    uint64_t h = fnv(l);
    series_t *c = series_of(resps, M_COUNTER, l, h);
    series_t *d = series_of(latency, M_HISTOGRAM, l, h);
    if (heap) free(l);
    labels[4] = NULL; /* without the status */
    l = render_labels(m, labels, buf, sizeof buf, &heap);
    series_t *q = series_of(reqs, M_COUNTER, l, fnv(l));
    if (heap) free(l);
    if (q) q->value += 1;
    if (c) c->value += 1;
    if (d) observe_series(d, ms);
    if (q && c && d) *o = (observed_t){method, route, status, q, c, d}; /* not when a family is full */
}

/* daprd's gRPC views (pkg/diagnostics/grpc_monitoring.go), per side: completed_rpcs and the latency by method and
 * status, the request and response message sizes by method only. */
static const struct grpc_side {
    const char *method_key, *status_key;
    const char *count, *count_help, *latency, *latency_help, *req, *req_help, *resp, *resp_help;
} grpc_sides[2] = {
    {"grpc_server_method", "grpc_server_status", "dapr_grpc_io_server_completed_rpcs",
     "Count of RPCs by method and status.", "dapr_grpc_io_server_server_latency",
     "Time between first byte of request received to last byte of response sent, or terminal error.",
     "dapr_grpc_io_server_received_bytes_per_rpc", "Total bytes received across all messages per RPC.",
     "dapr_grpc_io_server_sent_bytes_per_rpc", "Total bytes sent in across all response messages per RPC."},
    {"grpc_client_method", "grpc_client_status", "dapr_grpc_io_client_completed_rpcs",
     "Count of RPCs by method and status.", "dapr_grpc_io_client_roundtrip_latency",
     "Time between first byte of request sent to last byte of response received, or terminal error.",
     "dapr_grpc_io_client_sent_bytes_per_rpc", "Total bytes sent across all request messages per RPC.",
     "dapr_grpc_io_client_received_bytes_per_rpc", "Total bytes received across all response messages per RPC."},
};

static void grpc_record(rs_metrics_t *m, int client, const char *method, const char *status, size_t req_bytes,
                        size_t resp_bytes, double ms) {
    if (!m) return;
    /* the slot: the method's length and last bytes (where methods of a service differ) and the status string's
     * address; a collision or another address for the same text only costs the slow path below */
    size_t ml = strlen(method);
    uint64_t tail = 0;
    memcpy(&tail, method + (ml > 8 ? ml - 8 : 0), ml > 8 ? 8 : ml);
    uint64_t h = ((tail ^ ml) * 0x9E3779B97F4A7C15ULL) ^ (uintptr_t)status ^ (uint64_t)client;
    grpc_observed_t *o = &m->grpc_observed[(h ^ (h >> 29)) % GRPC_SLOTS];
    if (o->status && o->client == client && strcmp(o->method, method) == 0 && strcmp(o->status, status) == 0) {
        o->count->value += 1;
        observe_series(o->latency, ms);
        observe_series(o->req_bytes, (double)req_bytes);
        observe_series(o->resp_bytes, (double)resp_bytes);
        return;
    }
    const struct grpc_side *sd = &grpc_sides[client];
    /* each label set rendered once for its two families */
    const char *labels[] = {sd->method_key, method, sd->status_key, status, NULL};
    char buf[512];
    int heap;
    char *l = render_labels(m, labels, buf, sizeof buf, &heap);
    uint64_t lh = fnv(l);
    series_t *c = series_of(family(m, sd->count, sd->count_help, M_COUNTER), M_COUNTER, l, lh);
    series_t *d = series_of(family(m, sd->latency, sd->latency_help, M_HISTOGRAM), M_HISTOGRAM, l, lh);
    if (heap) free(l);
    labels[2] = NULL;
    l = render_labels(m, labels, buf, sizeof buf, &heap);
    lh = fnv(l);
    series_t *q = series_of(family(m, sd->req, sd->req_help, M_SIZES), M_SIZES, l, lh);
    series_t *r = series_of(family(m, sd->resp, sd->resp_help, M_SIZES), M_SIZES, l, lh);
    if (heap) free(l);
    if (c) c->value += 1;
    if (d) observe_series(d, ms);
    if (q) observe_series(q, (double)req_bytes);
    if (r) observe_series(r, (double)resp_bytes);
    if (c && d && q && r && ml < GRPC_METHOD_MAX) { /* not when a family is full */
        memcpy(o->method, method, ml + 1);
        o->status = status;
        o->client = client;
        o->count = c, o->latency = d, o->req_bytes = q, o->resp_bytes = r;
    }
}

void rs_metrics_grpc_server(rs_metrics_t *m, const char *method, const char *status, size_t received, size_t sent,
                            double ms) {
    grpc_record(m, 0, method, status, received, sent, ms);
}

void rs_metrics_grpc_client(rs_metrics_t *m, const char *method, const char *status, size_t sent, size_t received,
                            double ms) {
    grpc_record(m, 1, method, status, sent, received, ms);
}

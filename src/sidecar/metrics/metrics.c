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
typedef rs_metric_type_t mtype_t;
#define M_COUNTER RS_METRIC_COUNTER
#define M_GAUGE RS_METRIC_GAUGE
#define M_HISTOGRAM RS_METRIC_HISTOGRAM
#define M_SIZES RS_METRIC_SIZES

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
    uint64_t *buckets; /* histogram only: observations in (bounds[i-1], bounds[i]]; summed up when rendered */
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

/* The view cache (rs_metrics_record): each (view, label values) seen, with its series. Label sets repeat (a few
 * routes, methods, statuses and app ids), so an event finds its series by a hash of the values and one compare.
 * Two slots per hash; a miss renders the labels and takes a slot. Series never move (family_t), so entries stay
 * valid. Values longer than the key room in all are recorded, just not remembered. */
#define VIEW_SLOTS 128 /* a power of two */
#define VIEW_KEY_MAX 136
typedef struct {
    const rs_metrics_view_t *view;
    uint64_t hash;
    size_t key_len;
    char key[VIEW_KEY_MAX]; /* the values, each with its NUL, back to back */
    series_t *series[RS_VIEW_MAX_FAMILIES];
} view_entry_t;

struct rs_metrics {
    view_entry_t *views; /* VIEW_SLOTS of them */
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
    m->views = rs_xcalloc(VIEW_SLOTS, sizeof *m->views);
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
    free(m->views);
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
        if (v <= s->bounds[i]) {
            s->buckets[i]++;
            break;
        }
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
            uint64_t upto = 0; /* Prometheus' buckets are cumulative */
            for (size_t k = 0; k < s->nbounds; k++) {
                upto += s->buckets[k];
                rs_buf_printf(&b, "%s_bucket{%s,le=\"", f->name, s->labels);
                put_num(&b, s->bounds[k]);
                rs_buf_printf(&b, "\"} %llu\n", (unsigned long long)upto);
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

static int view_nlabels(const rs_metrics_view_t *v) {
    int n = 0;
    while (n < RS_VIEW_MAX_LABELS && v->labels[n]) n++;
    return n;
}

/* A view's value key: the values' lengths and first and last bytes (where routes, methods and ids differ) mixed
 * into one hash; a collision only costs the slow path. */
static uint64_t view_hash(const rs_metrics_view_t *v, const char *const *values, size_t *lens, int n) {
    uint64_t h = (uintptr_t)v * 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < n; i++) {
        size_t l = lens[i] = strlen(values[i]);
        uint64_t head = 0, tail = 0;
        if (l >= 8) {
            memcpy(&head, values[i], 8);
            memcpy(&tail, values[i] + l - 8, 8);
        } else
            for (size_t k = 0; k < l; k++) head = head << 8 | (unsigned char)values[i][k];
        h = (h ^ l ^ head) * 0x100000001B3ULL;
        h = (h ^ (h >> 29) ^ tail) * 0x9E3779B97F4A7C15ULL;
    }
    return h ^ (h >> 32);
}

static int view_matches(const view_entry_t *e, const rs_metrics_view_t *v, uint64_t h, const char *const *values,
                        const size_t *lens, int n) {
    if (e->view != v || e->hash != h) return 0;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (off + lens[i] + 1 > e->key_len || memcmp(e->key + off, values[i], lens[i] + 1) != 0) return 0;
        off += lens[i] + 1;
    }
    return off == e->key_len;
}

/* The slow path: each family's series from its rendered label set (rendered once per distinct label mask). */
static int view_series(rs_metrics_t *m, const rs_metrics_view_t *v, const char *const *values, int n,
                       series_t **out) {
    int all = 1;
    unsigned mask = ~0u;
    char buf[512];
    char *l = NULL;
    int heap = 0;
    uint64_t h = 0;
    for (int j = 0; j < RS_VIEW_MAX_FAMILIES && v->fams[j].name; j++) {
        const rs_metrics_family_t *f = &v->fams[j];
        if (!l || f->labels != mask) {
            if (l && heap) free(l);
            const char *labels[2 * RS_VIEW_MAX_LABELS + 1];
            int k = 0;
            for (int i = 0; i < n; i++)
                if (f->labels & (1u << i)) labels[k++] = v->labels[i], labels[k++] = values[i];
            labels[k] = NULL;
            mask = f->labels;
            l = render_labels(m, labels, buf, sizeof buf, &heap);
            h = fnv(l);
        }
        out[j] = series_of(family(m, f->name, f->help, f->type), f->type, l, h);
        all &= out[j] != NULL;
    }
    if (l && heap) free(l);
    return all;
}

void rs_metrics_record(rs_metrics_t *m, const rs_metrics_view_t *v, const char *const *values, const double *obs) {
    if (!m) return;
    int n = view_nlabels(v);
    size_t lens[RS_VIEW_MAX_LABELS];
    uint64_t h = view_hash(v, values, lens, n);
    size_t j = h & (VIEW_SLOTS - 1);
    view_entry_t *e = &m->views[j], *e2 = &m->views[j ^ 1];
    series_t *fresh[RS_VIEW_MAX_FAMILIES], **s;
    if (view_matches(e, v, h, values, lens, n)) s = e->series;
    else if (view_matches(e2, v, h, values, lens, n)) s = e2->series;
    else {
        s = fresh;
        size_t key_len = 0;
        for (int i = 0; i < n; i++) key_len += lens[i] + 1;
        /* remembered only when every family had room (a full family drops its observations, as get() does) */
        if (view_series(m, v, values, n, fresh) && key_len <= VIEW_KEY_MAX) {
            if (e->view && !e2->view) e = e2;
            e->view = v;
            e->hash = h;
            e->key_len = key_len;
            size_t off = 0;
            for (int i = 0; i < n; i++) {
                memcpy(e->key + off, values[i], lens[i] + 1);
                off += lens[i] + 1;
            }
            memcpy(e->series, fresh, sizeof e->series);
        }
    }
    for (int k = 0; k < RS_VIEW_MAX_FAMILIES && v->fams[k].name; k++) {
        series_t *x = s[k];
        if (!x) continue;
        if (v->fams[k].type == M_COUNTER) x->value += obs[k];
        else if (v->fams[k].type == M_GAUGE) x->value = obs[k];
        else observe_series(x, obs[k]);
    }
}

/* daprd's HTTP server families: request_count by method and path, response_count and latency add the status, the
 * body sizes carry app_id only. */
static const rs_metrics_view_t http_server_view = {
    {"method", "path", "status"},
    {{"dapr_http_server_request_count", "Number of HTTP requests started in server.", M_COUNTER, 3},
     {"dapr_http_server_response_count", "The number of HTTP responses", M_COUNTER, 7},
     {"dapr_http_server_latency", "HTTP request end to end latency in server.", M_HISTOGRAM, 7},
     {"dapr_http_server_request_bytes", "HTTP request body size if set as ContentLength (uncompressed) in server.",
      M_SIZES, 0},
     {"dapr_http_server_response_bytes", "HTTP response body size (uncompressed) in server.", M_SIZES, 0}},
};

void rs_metrics_http_observer(void *arg, const char *method, const char *route, int status, int64_t latency_us,
                              size_t req_bytes, size_t resp_bytes) {
    char st[21];
    rs_utoa((unsigned)status, st);
    const char *values[] = {method, route ? route : "other", st};
    const double obs[] = {1, 1, (double)latency_us / 1000.0, (double)req_bytes, (double)resp_bytes};
    rs_metrics_record(arg, &http_server_view, values, obs);
}

/* daprd's gRPC views (pkg/diagnostics/grpc_monitoring.go), per side: completed_rpcs and the latency by method and
 * status, the request and response message sizes by method only. */
static const rs_metrics_view_t grpc_views[2] = {
    {{"grpc_server_method", "grpc_server_status"},
     {{"dapr_grpc_io_server_completed_rpcs", "Count of RPCs by method and status.", M_COUNTER, 3},
      {"dapr_grpc_io_server_server_latency",
       "Time between first byte of request received to last byte of response sent, or terminal error.", M_HISTOGRAM,
       3},
      {"dapr_grpc_io_server_received_bytes_per_rpc", "Total bytes received across all messages per RPC.", M_SIZES, 1},
      {"dapr_grpc_io_server_sent_bytes_per_rpc", "Total bytes sent in across all response messages per RPC.", M_SIZES,
       1}}},
    {{"grpc_client_method", "grpc_client_status"},
     {{"dapr_grpc_io_client_completed_rpcs", "Count of RPCs by method and status.", M_COUNTER, 3},
      {"dapr_grpc_io_client_roundtrip_latency",
       "Time between first byte of request sent to last byte of response received, or terminal error.", M_HISTOGRAM,
       3},
      {"dapr_grpc_io_client_sent_bytes_per_rpc", "Total bytes sent across all request messages per RPC.", M_SIZES, 1},
      {"dapr_grpc_io_client_received_bytes_per_rpc", "Total bytes received across all response messages per RPC.",
       M_SIZES, 1}}},
};

void rs_metrics_grpc_server(rs_metrics_t *m, const char *method, const char *status, size_t received, size_t sent,
                            double ms) {
    const char *values[] = {method, status};
    const double obs[] = {1, ms, (double)received, (double)sent};
    rs_metrics_record(m, &grpc_views[0], values, obs);
}

void rs_metrics_grpc_client(rs_metrics_t *m, const char *method, const char *status, size_t sent, size_t received,
                            double ms) {
    const char *values[] = {method, status};
    const double obs[] = {1, ms, (double)sent, (double)received};
    rs_metrics_record(m, &grpc_views[1], values, obs);
}

/* SPDX-License-Identifier: MIT */
/* Verdict computation. Everything here is a pure function of the recording;
 * the demo gathers the recording, `ripstop verify` can recompute it. */
#include "tools/ripstop/verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double rs_percentile(double *v, size_t n, double p) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    if (p <= 0) return v[0];
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

/* Numbers come from recordings and state stores that may be corrupt; the
 * counts and totals they hold are far below 1e12, so anything beyond is
 * clamped there (the checks then fail) instead of overflowing a long. */
#define NUM_LIMIT 1e12

static double num(const json_t *o, const char *key, double dflt) {
    json_t *v = json_object_get(o, key);
    double d = json_is_number(v) ? json_number_value(v) : dflt;
    if (d != d) return dflt; /* NaN */
    return d > NUM_LIMIT ? NUM_LIMIT : d < -NUM_LIMIT ? -NUM_LIMIT : d;
}

static const char *str(const json_t *o, const char *key, const char *dflt) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static void add_check(json_t *checks, const char *name, int pass, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_check(json_t *checks, const char *name, int pass, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "name", name, "pass", pass, "detail", detail));
}

/* Per-frontend counts, latency percentiles and the success rate inside the chaos window. */
static json_t *frontend_stats(const json_t *records, const char *target, int has_window, double ws, double we) {
    size_t n = json_array_size(records), idx;
    double *lat = rs_xmalloc(sizeof(double) * (n + 1));
    size_t nl = 0;
    long sent = 0, ok = 0, failed = 0, wsent = 0, wok = 0;
    json_t *r;
    json_array_foreach(records, idx, r) {
        if (strcmp(str(r, "target", ""), target) != 0) continue;
        sent++;
        int good = json_is_true(json_object_get(r, "ok"));
        double l = num(r, "latency_ms", -1);
        if (good) ok++;
        else failed++;
        if (l >= 0) lat[nl++] = l;
        double t = num(r, "sent_ms", 0);
        if (has_window && t >= ws && t < we) {
            wsent++;
            if (good) wok++;
        }
    }
    double p50 = rs_percentile(lat, nl, 50), p99 = rs_percentile(lat, nl, 99), mx = rs_percentile(lat, nl, 100);
    free(lat);
    json_t *o = json_pack("{s:i, s:i, s:i, s:f, s:f, s:f}", "sent", (int)sent, "succeeded", (int)ok, "failed",
                          (int)failed, "p50_ms", p50, "p99_ms", p99, "max_ms", mx);
    json_object_set_new(o, "chaos_window",
                        json_pack("{s:i, s:i, s:f}", "sent", (int)wsent, "succeeded", (int)wok, "success_rate",
                                  wsent ? (double)wok / (double)wsent : 0.0));
    return o;
}

struct cust {
    long id;
    long exp_count, exp_points;
};

static struct cust *cust_get(struct cust **cs, size_t *n, long id) {
    for (size_t i = 0; i < *n; i++)
        if ((*cs)[i].id == id) return &(*cs)[i];
    *cs = rs_xrealloc(*cs, sizeof **cs * (*n + 1));
    (*cs)[*n] = (struct cust){.id = id};
    return &(*cs)[(*n)++];
}

static int cmp_cust(const void *a, const void *b) {
    long x = ((const struct cust *)a)->id, y = ((const struct cust *)b)->id;
    return x < y ? -1 : x > y;
}

/* One loyalty variant against the expectation from the broker. */
static json_t *variant_stats(const json_t *state, const struct cust *cs, size_t ncs) {
    json_t *rows = json_array();
    long exp_orders = 0, counted = 0, over = 0, under = 0, exp_points = 0, points = 0;
    int exact = 1;
    for (size_t i = 0; i < ncs; i++) {
        char key[32];
        snprintf(key, sizeof key, "%ld", cs[i].id);
        json_t *rec = json_object_get(state, key);
        long ac = (long)num(rec, "orderCount", 0), ap = (long)num(rec, "loyaltyPoints", 0);
        long d = ac - cs[i].exp_count;
        if (d > 0) over += d;
        if (d < 0) under -= d;
        if (d != 0 || ap != cs[i].exp_points) exact = 0;
        exp_orders += cs[i].exp_count;
        counted += ac;
        exp_points += cs[i].exp_points;
        points += ap;
        json_array_append_new(rows, json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "customerId", (int)cs[i].id,
                                              "expected_count", (int)cs[i].exp_count, "actual_count", (int)ac,
                                              "expected_points", (int)cs[i].exp_points, "actual_points", (int)ap,
                                              "count_diff", (int)d));
    }
    return json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b}", "customers", rows, "expected_orders",
                     (int)exp_orders, "counted_orders", (int)counted, "expected_points", (int)exp_points,
                     "actual_points", (int)points, "overcount", (int)over, "undercount", (int)under, "exact", exact,
                     "present", state != NULL);
}

/* A tiny string set for order ids (linear probing; the demo has hundreds to a few thousand). */
typedef struct {
    char **keys;
    int *counts;
    size_t cap, n;
} idset_t;

static size_t hash_str(const char *s) {
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int *idset_add(idset_t *s, const char *k) {
    if ((s->n + 1) * 2 > s->cap) {
        idset_t bigger = {.cap = s->cap ? s->cap * 2 : 64};
        bigger.keys = rs_xcalloc(bigger.cap, sizeof(char *));
        bigger.counts = rs_xcalloc(bigger.cap, sizeof(int));
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t j = hash_str(s->keys[i]) & (bigger.cap - 1);
                while (bigger.keys[j]) j = (j + 1) & (bigger.cap - 1);
                bigger.keys[j] = s->keys[i];
                bigger.counts[j] = s->counts[i];
            }
        bigger.n = s->n;
        free(s->keys);
        free(s->counts);
        *s = bigger;
    }
    size_t j = hash_str(k) & (s->cap - 1);
    while (s->keys[j] && strcmp(s->keys[j], k) != 0) j = (j + 1) & (s->cap - 1);
    if (!s->keys[j]) {
        s->keys[j] = rs_strdup(k);
        s->n++;
    }
    return &s->counts[j];
}

static int idset_has(const idset_t *s, const char *k) {
    if (!s->cap) return 0;
    size_t j = hash_str(k) & (s->cap - 1);
    while (s->keys[j]) {
        if (strcmp(s->keys[j], k) == 0) return 1;
        j = (j + 1) & (s->cap - 1);
    }
    return 0;
}

static void idset_free(idset_t *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->keys[i]);
    free(s->keys);
    free(s->counts);
}

/* What the phases of rs_verdict_compute share: the inputs, the thresholds, and what earlier phases found. */
typedef struct {
    const json_t *rec, *records, *loyalty;
    const char *dapr, *direct; /* the two frontends' target names */
    double min_dapr, min_gap;
    int min_reqs;
    int has_window;
    double ws, we;      /* the chaos window, when has_window */
    idset_t ids;        /* distinct order ids on the broker */
    struct cust *cs;    /* per-customer expectation, sorted by id */
    size_t ncs;
    long answered_missing; /* answered with success but never published */
    int compare;           /* compare_frontends: judge dapr-beats-direct (the fault hits what both use) */
    json_t *out, *checks;
} verdict_t;

/* Phase 1: the chaos window, by name when the criteria give one, else the first window of kind "chaos". */
static void find_chaos_window(verdict_t *v, const char *wname) {
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(v->rec, "windows"), i, w) {
        if (wname ? strcmp(str(w, "name", ""), wname) == 0 : strcmp(str(w, "kind", ""), "chaos") == 0) {
            v->has_window = 1;
            v->ws = num(w, "start_ms", 0);
            v->we = num(w, "end_ms", 0);
            return;
        }
    }
}

/* Phase 2: per-frontend figures, and whether the Dapr frontend survived the chaos window better than the direct one. */
static void judge_frontends(verdict_t *v) {
    const json_t *load = json_object_get(v->rec, "load");
    json_t *fronts = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(load, "targets"), i, t) {
        const char *name = str(t, "name", "?");
        json_object_set_new(fronts, name, frontend_stats(v->records, name, v->has_window, v->ws, v->we));
    }
    json_object_set_new(v->out, "frontends", fronts);
    if (v->has_window)
        json_object_set_new(v->out, "chaos_window", json_pack("{s:f, s:f}", "start_ms", v->ws, "end_ms", v->we));
    const json_t *fd = json_object_get(fronts, v->dapr), *fp = json_object_get(fronts, v->direct);
    if (!v->compare && fd) fp = fd;
    if (!v->records || !fd || !fp || !v->has_window) {
        add_check(v->checks, "dapr-survives-chaos", 0, "missing input: %s", !v->records ? "load records"
                                                                          : !v->has_window ? "a chaos window"
                                                                                           : "both frontends' records");
        return;
    }
    const json_t *cd = json_object_get(fd, "chaos_window"), *cp = json_object_get(fp, "chaos_window");
    double rd = num(cd, "success_rate", 0), rp = num(cp, "success_rate", 0);
    int nd = (int)num(cd, "sent", 0), np = (int)num(cp, "sent", 0);
    if (!v->compare) np = nd; /* the direct frontend is not under test: only the Dapr one needs requests there */
    if (nd < v->min_reqs || np < v->min_reqs)
        add_check(v->checks, "dapr-survives-chaos", 0, "too few requests in the chaos window (%d and %d, need %d)", nd,
                  np, v->min_reqs);
    else
        add_check(v->checks, "dapr-survives-chaos", rd >= v->min_dapr,
                  "%s frontend: %.1f%% of %d requests succeeded in the chaos window (need >= %.0f%%)", v->dapr,
                  100 * rd, nd, 100 * v->min_dapr);
    if (!v->compare) return;
    add_check(v->checks, "dapr-beats-direct", nd >= v->min_reqs && np >= v->min_reqs && rd - rp >= v->min_gap,
              "chaos-window success %s %.1f%% vs %s %.1f%% (need a gap >= %.0f points)", v->dapr, 100 * rd, v->direct,
              100 * rp, 100 * v->min_gap);
}

/* Phase 3: the expectation, from the messages read back from the broker (each order counted once), plus a row
 * for every customer that exists only in the state stores (counted but never published). */
static void count_published(verdict_t *v, const json_t *pub) {
    long messages = 0, noid = 0, dup_orders = 0;
    size_t i;
    json_t *m;
    json_array_foreach(pub, i, m) {
        messages++;
        const char *oid = str(m, "orderId", NULL);
        char synth[32];
        if (!oid || !*oid) {
            snprintf(synth, sizeof synth, "#noid-%zu", i); /* cannot dedupe: every such message counts */
            oid = synth;
            noid++;
        }
        int *cnt = idset_add(&v->ids, oid);
        if (++*cnt == 1) {
            struct cust *c = cust_get(&v->cs, &v->ncs, (long)num(m, "customerId", 0));
            c->exp_count++;
            c->exp_points += llround(num(m, "orderTotal", 0));
        } else if (*cnt == 2) {
            dup_orders++;
        }
    }
    const char *vk;
    json_t *vv;
    json_object_foreach((json_t *)v->loyalty, vk, vv) {
        const char *ck;
        json_t *cv;
        json_object_foreach(vv, ck, cv) {
            (void)cv;
            long long id;
            if (rs_parse_int64(ck, &id) == 0) cust_get(&v->cs, &v->ncs, (long)id); /* keys that are not ids are ignored */
        }
    }
    if (v->ncs) qsort(v->cs, v->ncs, sizeof *v->cs, cmp_cust);
    json_object_set_new(v->out, "published",
                        json_pack("{s:b, s:i, s:i, s:i, s:i, s:i}", "present", pub != NULL, "messages", (int)messages,
                                  "distinct_orders", (int)v->ids.n, "duplicate_messages",
                                  (int)(messages - (long)v->ids.n), "duplicated_orders", (int)dup_orders,
                                  "without_order_id", (int)noid));
}

/* Phase 4: requests answered with success whose order never reached the broker. */
static json_t *find_lost(verdict_t *v, const json_t *pub) {
    json_t *lost = json_object();
    long answered_noid = 0;
    size_t i;
    json_t *r;
    json_array_foreach(v->records, i, r) {
        if (!json_is_true(json_object_get(r, "ok"))) continue;
        const char *oid = str(r, "order_id", "");
        if (!*oid) answered_noid++;
        else if (!idset_has(&v->ids, oid)) v->answered_missing++;
    }
    json_object_set_new(lost, "answered_not_published", json_integer(v->answered_missing));
    json_object_set_new(lost, "answered_without_order_id", json_integer(answered_noid));
    if (!pub)
        add_check(v->checks, "orders-published", 0, "missing input: the messages read back from the broker");
    else
        add_check(v->checks, "orders-published", v->ids.n > 0 && v->answered_missing == 0,
                  "%ld distinct orders on the broker; %ld answered with success but never published", (long)v->ids.n,
                  v->answered_missing);
    return lost;
}

/* Phase 5: each loyalty variant against the expectation: the lock variant exact, the no-lock one over-counting. */
static void judge_loyalty(verdict_t *v, json_t *lost) {
    json_t *lv = json_object();
    const json_t *lock = json_object_get(v->loyalty, "lock"), *nolock = json_object_get(v->loyalty, "nolock");
    json_t *vl = variant_stats(lock, v->cs, v->ncs), *vn = variant_stats(nolock, v->cs, v->ncs);
    long lock_lost = (long)num(vl, "undercount", 0) + v->answered_missing;
    json_object_set_new(vl, "lost", json_integer(lock_lost));
    json_object_set_new(vn, "lost", json_integer((long)num(vn, "undercount", 0) + v->answered_missing));
    json_object_set_new(lost, "lock", json_integer(lock_lost));
    json_object_set_new(lost, "nolock", json_integer((long)num(vn, "lost", 0)));
    if (!lock)
        add_check(v->checks, "lock-exact", 0, "missing input: the lock variant's state");
    else
        add_check(v->checks, "lock-exact", json_is_true(json_object_get(vl, "exact")) && v->ids.n > 0,
                  "lock variant counted %d orders / %d points; expected %d / %d (from the broker)",
                  (int)num(vl, "counted_orders", 0), (int)num(vl, "actual_points", 0),
                  (int)num(vl, "expected_orders", 0), (int)num(vl, "expected_points", 0));
    add_check(v->checks, "lock-no-lost-orders", lock && lock_lost == 0, "%ld orders lost by the lock variant",
              lock_lost);
    if (!nolock)
        add_check(v->checks, "nolock-overcount-shown", 0, "missing input: the no-lock variant's state");
    else
        add_check(v->checks, "nolock-overcount-shown",
                  num(vn, "counted_orders", 0) >= num(vn, "expected_orders", 0) && v->ids.n > 0,
                  "no-lock variant counted %d orders for %d published: over-count %+d",
                  (int)num(vn, "counted_orders", 0), (int)num(vn, "expected_orders", 0),
                  (int)(num(vn, "counted_orders", 0) - num(vn, "expected_orders", 0)));
    json_object_set_new(lv, "lock", vl);
    json_object_set_new(lv, "nolock", vn);
    json_object_set_new(v->out, "loyalty", lv);
}

/* Phase 6 (when asked): the circuit breaker was seen open at least once and closed again after that. */
static void judge_breaker(json_t *checks, const json_t *series) {
    double opened = -1, closed = -1;
    size_t i;
    json_t *p;
    json_array_foreach(series, i, p) {
        int val = (int)num(p, "value", -1);
        if (val == 2 && opened < 0) opened = num(p, "t_ms", 0);
        if (val == 0 && opened >= 0 && closed < 0) closed = num(p, "t_ms", 0);
    }
    if (opened < 0)
        add_check(checks, "breaker-opened-and-closed", 0, "the circuit breaker was never seen open (%zu samples)",
                  json_array_size(series));
    else if (closed < 0)
        add_check(checks, "breaker-opened-and-closed", 0, "the circuit breaker opened at %.1f s and never closed",
                  opened / 1000);
    else
        add_check(checks, "breaker-opened-and-closed", 1, "the circuit breaker opened at %.1f s and closed at %.1f s",
                  opened / 1000, closed / 1000);
}

/* Phase 7 (when asked): the resiliency layer was seen at work at least this often (all sidecars, whole run). */
static void judge_resiliency(json_t *checks, const json_t *crit, const json_t *series) {
    static const char *const keys[][3] = {{"min_retries", "retries", "retries"},
                                          {"min_timeouts", "timeouts", "attempts cut by a timeout"},
                                          {"min_redeliveries", "redeliveries", "messages back for redelivery"}};
    for (size_t k = 0; k < 3; k++) {
        if (!json_object_get(crit, keys[k][0])) continue;
        double want = num(crit, keys[k][0], 0), got = 0;
        size_t i;
        json_t *p;
        json_array_foreach(series, i, p) got += num(p, keys[k][1], 0);
        char name[48];
        snprintf(name, sizeof name, "resiliency-%s", keys[k][1]);
        add_check(checks, name, got >= want, "%.0f %s seen in the sidecars' metrics (need >= %.0f)", got, keys[k][2],
                  want);
    }
}

json_t *rs_verdict_compute(const json_t *rec) {
    const json_t *crit = json_object_get(rec, "criteria");
    verdict_t v = {
        .rec = rec,
        .records = json_object_get(json_object_get(rec, "load"), "records"),
        .loyalty = json_object_get(rec, "loyalty"),
        .dapr = str(crit, "dapr_target", "dapr"),
        .direct = str(crit, "direct_target", "direct"),
        .min_dapr = num(crit, "min_dapr_chaos_success", 0.8),
        .min_gap = num(crit, "min_success_gap", 0.3),
        .min_reqs = (int)num(crit, "min_chaos_requests", 5),
        .compare = !json_is_false(json_object_get(crit, "compare_frontends")),
        .out = json_object(),
        .checks = json_array(),
    };
    const json_t *pub = json_object_get(rec, "published");
    find_chaos_window(&v, str(crit, "chaos_window", NULL));
    judge_frontends(&v);
    count_published(&v, pub);
    json_t *lost = find_lost(&v, pub);
    judge_loyalty(&v, lost);
    json_object_set_new(v.out, "lost", lost);

    json_t *dr = json_object_get(rec, "drained");
    if (dr)
        add_check(v.checks, "drained", json_is_true(dr), "%s",
                  json_is_true(dr) ? "no order blobs left" : "order blobs were still waiting when the state was read");

    if (json_is_true(json_object_get(crit, "breaker_cycle"))) judge_breaker(v.checks, json_object_get(rec, "breaker"));
    judge_resiliency(v.checks, crit, json_object_get(rec, "resiliency"));

    int pass = json_array_size(v.checks) > 0;
    size_t i;
    json_t *c;
    json_array_foreach(v.checks, i, c) if (!json_is_true(json_object_get(c, "pass"))) pass = 0;
    json_object_set_new(v.out, "checks", v.checks);
    json_object_set_new(v.out, "pass", json_boolean(pass));
    idset_free(&v.ids);
    free(v.cs);
    return v.out;
}

static void print_cell(FILE *o, const json_t *row, const char *pk, const char *ck) {
    char b[32];
    snprintf(b, sizeof b, "%d (%d)", (int)num(row, pk, 0), (int)num(row, ck, 0));
    fprintf(o, " %14s", b);
}

void rs_verdict_print(FILE *o, const json_t *v) {
    const char *k;
    json_t *f;
    fprintf(o, "\nFrontends                 sent  succeeded  failed   p50 ms   p99 ms   chaos-window success\n");
    json_object_foreach((json_t *)json_object_get(v, "frontends"), k, f) {
        const json_t *cw = json_object_get(f, "chaos_window");
        fprintf(o, "  %-20s %6d %10d %7d %8.0f %8.0f   %5.1f%% (%d/%d)\n", k, (int)num(f, "sent", 0),
                (int)num(f, "succeeded", 0), (int)num(f, "failed", 0), num(f, "p50_ms", 0), num(f, "p99_ms", 0),
                100 * num(cw, "success_rate", 0), (int)num(cw, "succeeded", 0), (int)num(cw, "sent", 0));
    }
    const json_t *p = json_object_get(v, "published");
    fprintf(o, "\nBroker (topic order): %d messages, %d distinct orders, %d duplicate messages (%d orders published more "
               "than once)\n",
            (int)num(p, "messages", 0), (int)num(p, "distinct_orders", 0), (int)num(p, "duplicate_messages", 0),
            (int)num(p, "duplicated_orders", 0));
    const json_t *lv = json_object_get(v, "loyalty"), *vl = json_object_get(lv, "lock"),
                 *vn = json_object_get(lv, "nolock");
    fprintf(o, "\nLoyalty points (orders)    expected           lock        no-lock\n");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(vl, "customers"), i, row) {
        const json_t *rn = json_array_get(json_object_get(vn, "customers"), i);
        fprintf(o, "  customer %-4d    ", (int)num(row, "customerId", 0));
        print_cell(o, row, "expected_points", "expected_count");
        print_cell(o, row, "actual_points", "actual_count");
        print_cell(o, rn, "actual_points", "actual_count");
        fprintf(o, "\n");
    }
    fprintf(o, "  %-16s %14d %14d %14d\n", "total orders", (int)num(vl, "expected_orders", 0),
            (int)num(vl, "counted_orders", 0), (int)num(vn, "counted_orders", 0));
    fprintf(o, "  %-16s %14s %+14d %+14d\n", "over-count", "", (int)num(vl, "overcount", 0),
            (int)num(vn, "overcount", 0));
    fprintf(o, "  %-16s %14s %14d %14d\n", "lost", "", (int)num(vl, "lost", 0), (int)num(vn, "lost", 0));
    fprintf(o, "\nChecks\n");
    json_array_foreach(json_object_get(v, "checks"), i, row)
        fprintf(o, "  %s  %-24s %s\n", json_is_true(json_object_get(row, "pass")) ? "PASS" : "FAIL",
                str(row, "name", ""), str(row, "detail", ""));
    fprintf(o, "\nVERDICT: %s\n", json_is_true(json_object_get(v, "pass")) ? "PASS" : "FAIL");
}

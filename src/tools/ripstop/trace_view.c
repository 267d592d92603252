/* SPDX-License-Identifier: MIT */
/* Waterfalls are a depth-first walk of the span tree with children in start
 * order; choosing scans the focus target's records once per window. */
#include "tools/ripstop/trace_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define MAX_DEPTH 32
#define WATERFALL_ROWS 250
#define SLOWEST 5
/* Orders in flight when a crash window's processes died were sent up to this long before it. */
#define CRASH_LEAD_MS 5000

typedef struct {
    json_t *span;      /* borrowed; NULL for the synthesized root */
    const char *id;
    int64_t ts, dur;
    size_t *kids;
    size_t nkids;
} node_t;

static int64_t ival(const json_t *o, const char *k) { return (int64_t)json_integer_value(json_object_get(o, k)); }

static node_t *g_sort_nodes; /* qsort has no context argument */
static int by_start(const void *a, const void *b) {
    int64_t x = g_sort_nodes[*(const size_t *)a].ts, y = g_sort_nodes[*(const size_t *)b].ts;
    return x < y ? -1 : x > y;
}

static void add_kid(node_t *p, size_t k) {
    p->kids = rs_xrealloc(p->kids, (p->nkids + 1) * sizeof *p->kids);
    p->kids[p->nkids++] = k;
}

typedef struct {
    node_t *nodes;
    json_t *rows;
    int64_t origin;
    size_t max_rows, more;
} walk_t;

static int same_str(const json_t *a, const json_t *b, const char *k) {
    const char *x = json_string_value(json_object_get(a, k)), *y = json_string_value(json_object_get(b, k));
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* Siblings that repeat (a retry loop against an open breaker makes hundreds): same service, name and error. */
static int repeats(const node_t *a, const node_t *b) {
    return a->span && b->span && same_str(a->span, b->span, "service") && same_str(a->span, b->span, "name") &&
           same_str(a->span, b->span, "error") && json_object_get(a->span, "error");
}

static void emit(walk_t *w, size_t i, int depth);

/* Emits node i's children; a run of 3 or more repeating failed siblings becomes one row ("repeat": n, the attempt
 * range, from the first start to the last end) and their subtrees are counted in "more". */
static size_t count_tree(const walk_t *w, size_t i) {
    size_t n = 1;
    for (size_t k = 0; k < w->nodes[i].nkids; k++) n += count_tree(w, w->nodes[i].kids[k]);
    return n;
}

static void emit_kids(walk_t *w, size_t i, int depth) {
    node_t *n = &w->nodes[i];
    for (size_t k = 0; k < n->nkids;) {
        size_t run = 1;
        while (k + run < n->nkids && repeats(&w->nodes[n->kids[k]], &w->nodes[n->kids[k + run]])) run++;
        if (run < 3) {
            emit(w, n->kids[k], depth);
            k++;
            continue;
        }
        node_t *first = &w->nodes[n->kids[k]], *last = &w->nodes[n->kids[k + run - 1]];
        size_t before = json_array_size(w->rows);
        emit(w, n->kids[k], depth); /* the first one's row, widened below; its subtree counted */
        if (json_array_size(w->rows) > before) {
            json_t *row = json_array_get(w->rows, before);
            size_t sub = json_array_size(w->rows) - before - 1;
            while (json_array_size(w->rows) > before + 1) json_array_remove(w->rows, before + 1);
            w->more += sub;
            json_object_set_new(row, "repeat", json_integer((json_int_t)run));
            json_object_set_new(row, "dur_ms", json_real((double)(last->ts + last->dur - first->ts) / 1000.0));
            if (json_object_get(last->span, "attempt"))
                json_object_set(row, "attempt_last", json_object_get(last->span, "attempt"));
        }
        for (size_t r = 1; r < run; r++) w->more += count_tree(w, n->kids[k + r]);
        k += run;
    }
}

static void emit(walk_t *w, size_t i, int depth) {
    node_t *n = &w->nodes[i];
    if (json_array_size(w->rows) >= w->max_rows) {
        w->more++;
    } else if (n->span) {
        json_t *row = json_pack("{s:i, s:O, s:O, s:O, s:f, s:f}", "depth", depth, "service",
                                json_object_get(n->span, "service"), "name", json_object_get(n->span, "name"), "kind",
                                json_object_get(n->span, "kind"), "start_ms", (double)(n->ts - w->origin) / 1000.0,
                                "dur_ms", (double)n->dur / 1000.0);
        const char *keys[] = {"error", "attempt", "status"};
        for (size_t k = 0; k < 3; k++)
            if (json_object_get(n->span, keys[k])) json_object_set(row, keys[k], json_object_get(n->span, keys[k]));
        json_array_append_new(w->rows, row);
    }
    emit_kids(w, i, depth < MAX_DEPTH ? depth + 1 : depth);
}

json_t *rs_trace_waterfall(const json_t *spans, const rs_trace_root_t *root, size_t max_rows) {
    size_t ns = spans ? json_array_size(spans) : 0, total = ns + 1;
    node_t *nodes = rs_xcalloc(total, sizeof *nodes);
    /* node 0: the load request (or an empty holder for parentless spans) */
    nodes[0].id = root ? root->span_id : "";
    nodes[0].ts = root ? root->start_us : INT64_MAX;
    nodes[0].dur = root && root->dur_us > 0 ? root->dur_us : 0;
    json_t *services = json_array();
    int errors = 0, retries = 0;
    for (size_t i = 0; i < ns; i++) {
        json_t *s = json_array_get(spans, i);
        nodes[i + 1] = (node_t){.span = s, .id = json_string_value(json_object_get(s, "id")),
                                .ts = ival(s, "ts_us"), .dur = ival(s, "dur_us")};
        if (json_object_get(s, "error")) errors++;
        if (ival(s, "attempt") > 1) retries++;
        const char *svc = json_string_value(json_object_get(s, "service"));
        int seen = 0;
        for (size_t k = 0; k < json_array_size(services); k++)
            seen |= strcmp(json_string_value(json_array_get(services, k)), svc) == 0;
        if (!seen) json_array_append_new(services, json_string(svc));
    }
    /* parents: a span whose parent did not arrive (or is the load request) hangs under node 0 */
    for (size_t i = 1; i < total; i++) {
        const char *parent = json_string_value(json_object_get(nodes[i].span, "parent"));
        size_t p = 0;
        for (size_t k = 1; parent && k < total; k++)
            if (k != i && strcmp(nodes[k].id, parent) == 0) {
                p = k;
                break;
            }
        add_kid(&nodes[p], i);
    }
    int64_t origin = nodes[0].ts, end = root ? nodes[0].ts + nodes[0].dur : INT64_MIN;
    for (size_t i = 1; i < total; i++) {
        if (nodes[i].ts < origin) origin = nodes[i].ts;
        if (nodes[i].ts + nodes[i].dur > end) end = nodes[i].ts + nodes[i].dur;
    }
    if (total == 1 && !root) origin = end = 0;
    g_sort_nodes = nodes;
    for (size_t i = 0; i < total; i++)
        if (nodes[i].nkids > 1) qsort(nodes[i].kids, nodes[i].nkids, sizeof *nodes[i].kids, by_start);
    walk_t w = {.nodes = nodes, .rows = json_array(), .origin = origin, .max_rows = max_rows};
    if (root) {
        json_t *row = json_pack("{s:i, s:s, s:s, s:s, s:f, s:f}", "depth", 0, "service", "ripstop load", "name",
                                root->label, "kind", "CLIENT", "start_ms", (double)(root->start_us - origin) / 1000.0,
                                "dur_ms", (double)nodes[0].dur / 1000.0);
        if (root->failed) json_object_set_new(row, "error", json_string(root->error ? root->error : "failed"));
        json_array_append_new(w.rows, row);
    }
    emit_kids(&w, 0, root ? 1 : 0);
    for (size_t i = 0; i < total; i++) free(nodes[i].kids);
    free(nodes);
    return json_pack("{s:I, s:i, s:i, s:o, s:f, s:o, s:I}", "spans", (json_int_t)ns, "errors", errors, "retries",
                     retries, "services", services, "duration_ms", (double)(end - origin) / 1000.0, "rows", w.rows,
                     "more", (json_int_t)w.more);
}

/* ---------- choosing ---------- */

typedef struct {
    int errors, retries, loyalty, nspans;
} stats_t;

static stats_t stats_of(const json_t *spans) {
    stats_t s = {0, 0, 0, 0};
    size_t i;
    json_t *sp;
    json_array_foreach(spans, i, sp) {
        s.nspans++;
        if (json_object_get(sp, "error")) s.errors++;
        if (ival(sp, "attempt") > 1) s.retries++;
        if (strstr(json_string_value(json_object_get(sp, "service")), "loyalty")) s.loyalty = 1;
    }
    return s;
}

typedef struct {
    const rs_traces_t *t;
    const char *const *names, *const *apps;
    int64_t t0_wall_ms;
} ctx_t;

static json_t *chosen(const ctx_t *c, const rs_load_record_t *r, const char *label, const char *why) {
    char name[192];
    const char *target = c->names[r->target];
    snprintf(name, sizeof name, "GET / (%s)", c->apps[r->target]);
    char reason[128];
    if (r->status) snprintf(reason, sizeof reason, "HTTP %d", r->status);
    else snprintf(reason, sizeof reason, "%s", r->error[0] ? r->error : "no answer");
    rs_trace_root_t root = {.label = name, .span_id = r->span_id, .start_us = (c->t0_wall_ms + r->sent_ms) * 1000,
                            .dur_us = r->latency_ms >= 0 ? r->latency_ms * 1000 : -1, .failed = r->done && !r->ok,
                            .error = reason};
    json_t *wf = rs_trace_waterfall(rs_traces_get(c->t, r->trace_id), &root, WATERFALL_ROWS);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "label", label, "why", why, "order_id",
                     r->order_id, "target", target, "trace_id", r->trace_id, "sent_ms", (json_int_t)r->sent_ms,
                     "latency_ms", (json_int_t)r->latency_ms, "status", r->status, "waterfall", wf);
}

static int taken(const json_t *list, const char *trace_id) {
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) if (strcmp(json_string_value(json_object_get(c, "trace_id")), trace_id) == 0) return 1;
    return 0;
}

/* The straight-through order: before every window, succeeded, every hop on its first attempt (a failed span
 * elsewhere, e.g. the no-lock job losing its race on the blob, is allowed but the fewest are preferred). */
static const rs_load_record_t *pick_straight(const rs_traces_t *t, const rs_load_record_t *recs, size_t n, int focus,
                                             int64_t before_ms) {
    const rs_load_record_t *best = NULL;
    stats_t bs = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const rs_load_record_t *r = &recs[i];
        if (r->target != focus || !r->done || !r->ok || !r->trace_id[0] || r->sent_ms >= before_ms) continue;
        const json_t *sp = rs_traces_get(t, r->trace_id);
        if (!sp) continue;
        stats_t s = stats_of(sp);
        if (s.retries) continue;
        if (!best || s.loyalty > bs.loyalty || (s.loyalty == bs.loyalty && s.errors < bs.errors)) {
            best = r;
            bs = s;
        }
    }
    return best;
}

/* The order of a window that shows the most: retried attempts, then failed spans, then latency. */
static const rs_load_record_t *pick_window(const rs_traces_t *t, const rs_load_record_t *recs, size_t n, int focus,
                                           int64_t from, int64_t to, const json_t *already, stats_t *out) {
    const rs_load_record_t *best = NULL;
    stats_t bs = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const rs_load_record_t *r = &recs[i];
        if (r->target != focus || !r->done || !r->trace_id[0] || r->sent_ms < from || r->sent_ms > to) continue;
        const json_t *sp = rs_traces_get(t, r->trace_id);
        if (!sp || taken(already, r->trace_id)) continue;
        stats_t s = stats_of(sp);
        int better = !best || s.retries > bs.retries || (s.retries == bs.retries && s.errors > bs.errors) ||
                     (s.retries == bs.retries && s.errors == bs.errors && r->latency_ms > best->latency_ms);
        if (better) {
            best = r;
            bs = s;
        }
    }
    *out = bs;
    return best;
}

static int by_latency_desc(const void *a, const void *b) {
    const rs_load_record_t *x = *(const rs_load_record_t *const *)a, *y = *(const rs_load_record_t *const *)b;
    return x->latency_ms < y->latency_ms ? 1 : x->latency_ms > y->latency_ms ? -1 : 0;
}

json_t *rs_trace_choose(const rs_traces_t *t, const rs_load_record_t *recs, size_t n, const char *const *names,
                        const char *const *apps, int focus_target, const json_t *windows, int64_t t0_wall_ms) {
    ctx_t c = {.t = t, .names = names, .apps = apps, .t0_wall_ms = t0_wall_ms};
    json_t *out = json_object(), *list = json_array(), *slow = json_array();
    json_object_set_new(out, "collector", json_pack("{s:I, s:I, s:I}", "spans", (json_int_t)rs_traces_span_count(t),
                                                    "traces", (json_int_t)rs_traces_trace_count(t), "dropped",
                                                    (json_int_t)rs_traces_dropped(t)));
    json_object_set_new(out, "chosen", list);
    json_object_set_new(out, "slowest", slow);
    if (!recs) return out;

    int64_t first = INT64_MAX;
    size_t i;
    json_t *w;
    json_array_foreach(windows, i, w) if (ival(w, "start_ms") < first) first = ival(w, "start_ms");
    const rs_load_record_t *r = pick_straight(t, recs, n, focus_target, first);
    if (r)
        json_array_append_new(list, chosen(&c, r, "straight through",
                                           "sent before any fault: every hop on its first attempt"));
    json_array_foreach(windows, i, w) {
        if (!json_is_true(json_object_get(w, "happened"))) continue;
        stats_t s;
        const char *kind = json_string_value(json_object_get(w, "kind"));
        int64_t lead = kind && strcmp(kind, "crash") == 0 ? CRASH_LEAD_MS : 0;
        r = pick_window(t, recs, n, focus_target, ival(w, "start_ms") - lead, ival(w, "end_ms"), list, &s);
        if (!r) continue;
        char label[160], why[256];
        snprintf(label, sizeof label, "%s: %s", json_string_value(json_object_get(w, "kind")),
                 json_string_value(json_object_get(w, "name")));
        snprintf(why, sizeof why, "sent %s the %s window: %d retried attempt%s, %d failed span%s, %lld ms in all",
                 lead ? "shortly before or in" : "in", json_string_value(json_object_get(w, "name")), s.retries, s.retries == 1 ? "" : "s", s.errors,
                 s.errors == 1 ? "" : "s", (long long)r->latency_ms);
        json_array_append_new(list, chosen(&c, r, label, why));
    }

    /* The slowest answered orders of the focus target. */
    const rs_load_record_t **order = rs_xcalloc(n ? n : 1, sizeof *order);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (recs[k].target == focus_target && recs[k].done && recs[k].trace_id[0]) order[m++] = &recs[k];
    qsort(order, m, sizeof *order, by_latency_desc);
    for (size_t k = 0; k < m && k < SLOWEST; k++) {
        const json_t *sp = rs_traces_get(t, order[k]->trace_id);
        stats_t s = sp ? stats_of(sp) : (stats_t){0, 0, 0, 0};
        json_array_append_new(slow, json_pack("{s:s, s:I, s:I, s:i, s:s, s:i, s:i, s:i}", "order_id",
                                              order[k]->order_id, "sent_ms", (json_int_t)order[k]->sent_ms,
                                              "latency_ms", (json_int_t)order[k]->latency_ms, "status",
                                              order[k]->status, "trace_id", order[k]->trace_id, "spans", s.nspans,
                                              "errors", s.errors, "retries", s.retries));
    }
    free(order);
    return out;
}

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
/* A killed replica was working on an order when its last span of it started at most this long before the kill (an
 * order takes well under a second to count; the same order's blob counted earlier, then written again by a
 * redelivery, must not pass for an interrupted one). */
#define INTERRUPT_MS 3000

typedef struct {
    json_t *span;      /* borrowed; NULL for the synthesized root */
    const char *id;
    int64_t ts, dur;
    size_t *kids;
    size_t nkids;
    int keep; /* its subtree has a span of the service the waterfall is about: never folded away */
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
    return a->span && b->span && !a->keep && !b->keep && same_str(a->span, b->span, "service") && same_str(a->span, b->span, "name") &&
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
        const char *keys[] = {"error", "attempt", "status", "port"};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(n->span, keys[k])) json_object_set(row, keys[k], json_object_get(n->span, keys[k]));
        json_array_append_new(w->rows, row);
    }
    emit_kids(w, i, depth < MAX_DEPTH ? depth + 1 : depth);
}

static int mark_keep(node_t *nodes, size_t i, const char *service, int depth) {
    node_t *n = &nodes[i];
    const char *svc = n->span ? json_string_value(json_object_get(n->span, "service")) : NULL;
    n->keep = svc && strcmp(svc, service) == 0;
    for (size_t k = 0; k < n->nkids && depth < 256; k++) n->keep |= mark_keep(nodes, n->kids[k], service, depth + 1);
    return n->keep;
}

static json_t *waterfall(const json_t *spans, const rs_trace_root_t *root, size_t max_rows, const char *keep);

json_t *rs_trace_waterfall(const json_t *spans, const rs_trace_root_t *root, size_t max_rows) {
    return waterfall(spans, root, max_rows, NULL);
}

/* keep (or NULL): a service whose spans are never folded into a repeat row. */
static json_t *waterfall(const json_t *spans, const rs_trace_root_t *root, size_t max_rows, const char *keep) {
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
    if (keep) mark_keep(nodes, 0, keep, 0);
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
    return json_pack("{s:I, s:i, s:i, s:o, s:f, s:o, s:I, s:I}", "spans", (json_int_t)ns, "errors", errors,
                     "retries", retries, "services", services, "duration_ms", (double)(end - origin) / 1000.0, "rows",
                     w.rows, "more", (json_int_t)w.more, "t0_us", (json_int_t)origin);
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
    const rs_trace_kills_t *k; /* NULL: no replica map, no kills */
} ctx_t;

/* The kill's instant, wall clock in microseconds. */
static int64_t kill_us(const ctx_t *c, const json_t *kill) { return (c->t0_wall_ms + ival(kill, "t_ms")) * 1000; }

/* Rows of an app with several replicas get "instance" (their sidecar's port names it); with a kill, the killed
 * replica's rows that started before it are "killed" and the waterfall gets a mark at the kill. */
static void annotate(const ctx_t *c, json_t *wf, const json_t *kill, const char *mark) {
    const json_t *inst = c->k ? c->k->instances : NULL;
    int64_t t0 = ival(wf, "t0_us");
    json_int_t kport = kill ? ival(kill, "port") : 0;
    double kill_at = kill ? (double)(kill_us(c, kill) - t0) / 1000.0 : 0;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(wf, "rows"), i, row) {
        json_t *port = json_object_get(row, "port");
        if (!json_is_integer(port)) continue;
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(port));
        const json_t *in = json_object_get(inst, key);
        if (in && ival(in, "replicas") > 1) json_object_set(row, "instance", json_object_get(in, "instance"));
        if (kport && json_integer_value(port) == kport &&
            json_number_value(json_object_get(row, "start_ms")) <= kill_at)
            json_object_set_new(row, "killed", json_true());
    }
    if (kill) json_object_set_new(wf, "marks", json_pack("[{s:f, s:s}]", "at_ms", kill_at, "label", mark));
}

static json_t *chosen_marked(const ctx_t *c, const rs_load_record_t *r, const char *label, const char *why,
                             const json_t *kill, const char *mark) {
    char name[192];
    const char *target = c->names[r->target];
    snprintf(name, sizeof name, "GET / (%s)", c->apps[r->target]);
    char reason[128];
    if (r->status) snprintf(reason, sizeof reason, "HTTP %d", r->status);
    else snprintf(reason, sizeof reason, "%s", r->error[0] ? r->error : "no answer");
    rs_trace_root_t root = {.label = name, .span_id = r->span_id, .start_us = (c->t0_wall_ms + r->sent_ms) * 1000,
                            .dur_us = r->latency_ms >= 0 ? r->latency_ms * 1000 : -1, .failed = r->done && !r->ok,
                            .error = reason};
    json_t *wf = waterfall(rs_traces_get(c->t, r->trace_id), &root, WATERFALL_ROWS,
                           kill ? json_string_value(json_object_get(kill, "app")) : NULL);
    annotate(c, wf, kill, mark);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "label", label, "why", why, "order_id",
                     r->order_id, "target", target, "trace_id", r->trace_id, "sent_ms", (json_int_t)r->sent_ms,
                     "latency_ms", (json_int_t)r->latency_ms, "status", r->status, "waterfall", wf);
}

static json_t *chosen(const ctx_t *c, const rs_load_record_t *r, const char *label, const char *why) {
    return chosen_marked(c, r, label, why, NULL, NULL);
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

/* What the spans of one trace say about a kill: the killed replica's spans that started before it (the last one's
 * start and end), and the app's spans after it, by which replica. */
typedef struct {
    int before, after;
    int64_t last_start_us, last_end_us, first_after_us, last_after_us;
    json_int_t last_after_port; /* the sidecar of the app's last span: who finished the order */
    const char *last_before;    /* the name of the killed replica's last span before the kill */
} kill_view_t;

static kill_view_t kill_view(const json_t *spans, const json_t *kill, int64_t at_us) {
    kill_view_t v = {0, 0, INT64_MIN, INT64_MIN, INT64_MAX, INT64_MIN, 0, NULL};
    const char *app = json_string_value(json_object_get(kill, "app"));
    json_int_t kport = ival(kill, "port");
    size_t i;
    json_t *sp;
    json_array_foreach(spans, i, sp) {
        const char *svc = json_string_value(json_object_get(sp, "service"));
        if (!svc || !app || strcmp(svc, app) != 0) continue;
        int64_t ts = ival(sp, "ts_us"), end = ts + ival(sp, "dur_us");
        int mine = json_integer_value(json_object_get(sp, "port")) == kport;
        if (ts <= at_us && mine) {
            v.before++;
            if (ts > v.last_start_us) {
                v.last_start_us = ts;
                v.last_before = json_string_value(json_object_get(sp, "name"));
            }
            if (end > v.last_end_us) v.last_end_us = end;
        } else if (ts > at_us) {
            v.after++;
            if (ts < v.first_after_us) v.first_after_us = ts;
            if (ts >= v.last_after_us) {
                v.last_after_us = ts;
                v.last_after_port = json_integer_value(json_object_get(sp, "port"));
            }
        }
    }
    return v;
}

/* The kill of a replica: the order whose processing it interrupted — spans of the killed replica that started
 * before the kill (the last within INTERRUPT_MS of it) and spans of the same app after it, where another replica or
 * the restarted one took the order up again. The focus target's orders first, then the one the replica was working
 * on last. With none: an entry without a waterfall that says so ("none": true). */
static json_t *pick_killed(const ctx_t *c, const rs_load_record_t *recs, size_t n, int focus, const json_t *kill,
                           const char *kind, const json_t *already) {
    const char *app = json_string_value(json_object_get(kill, "app"));
    int instance = (int)ival(kill, "instance"), sidecar = json_is_true(json_object_get(kill, "sidecar"));
    int64_t at = kill_us(c, kill);
    const rs_load_record_t *best = NULL;
    kill_view_t bv = {0};
    int64_t seen_end = INT64_MIN; /* the killed replica's latest span end before the kill, over every order */
    for (size_t i = 0; i < n; i++) {
        const rs_load_record_t *r = &recs[i];
        if (!r->trace_id[0]) continue;
        const json_t *sp = rs_traces_get(c->t, r->trace_id);
        if (!sp) continue;
        kill_view_t v = kill_view(sp, kill, at);
        if (v.before && v.last_end_us > seen_end) seen_end = v.last_end_us;
        if (!v.before || !v.after || v.last_start_us < at - (int64_t)INTERRUPT_MS * 1000) continue;
        if (taken(already, r->trace_id)) continue;
        int better = !best || (r->target == focus && best->target != focus) ||
                     ((r->target == focus) == (best->target == focus) && v.last_start_us > bv.last_start_us);
        if (better) {
            best = r;
            bv = v;
        }
    }
    char label[192], why[512], mark[160];
    snprintf(label, sizeof label, "%s: %s#%d %s killed", kind ? kind : "crash", app, instance,
             sidecar ? "sidecar" : "replica");
    snprintf(mark, sizeof mark, "signal %d to %s#%d%s", (int)ival(kill, "signal"), app, instance,
             sidecar ? " sidecar" : "");
    json_t *killed = json_pack("{s:s, s:i, s:b, s:I}", "app", app, "instance", instance, "sidecar", sidecar, "t_ms",
                               (json_int_t)ival(kill, "t_ms"));
    if (!best) {
        char last[96] = "";
        if (seen_end != INT64_MIN)
            snprintf(last, sizeof last, " (its last span before the kill ended %.1f s earlier)",
                     (double)(at - seen_end) / 1e6);
        if (c->k && c->k->final)
            snprintf(why, sizeof why, "no order was being processed by %s#%d when it was killed at t = %.1f s%s: "
                     "the kill interrupted nothing this run, so there is no waterfall to show", app, instance,
                     (double)ival(kill, "t_ms") / 1000.0, last);
        else
            snprintf(why, sizeof why, "waiting for an order the kill of %s#%d (t = %.1f s) interrupted to be "
                     "finished by another replica or its restart%s", app, instance,
                     (double)ival(kill, "t_ms") / 1000.0, last);
        return json_pack("{s:s, s:s, s:b, s:o}", "label", label, "why", why, "none", 1, "killed", killed);
    }
    char by[96];
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)bv.last_after_port);
    const json_t *fin = c->k ? json_object_get(c->k->instances, key) : NULL;
    if (bv.last_after_port == ival(kill, "port")) snprintf(by, sizeof by, "#%d itself after its restart", instance);
    else if (fin) snprintf(by, sizeof by, "#%d", (int)ival(fin, "instance"));
    else snprintf(by, sizeof by, "another replica");
    snprintf(why, sizeof why, "%s#%d was working on this order when it was killed: %d span%s of it before the kill, "
             "the last (%s) started %.0f ms before it; the app's next span of the order came %.1f s after the "
             "kill, and %s finished it %.1f s after the kill (%d span%s after the kill in all)",
             app, instance, bv.before, bv.before == 1 ? "" : "s", bv.last_before ? bv.last_before : "?",
             (double)(at - bv.last_start_us) / 1000.0, (double)(bv.first_after_us - at) / 1e6, by,
             (double)(bv.last_after_us - at) / 1e6, bv.after, bv.after == 1 ? "" : "s");
    json_t *o = chosen_marked(c, best, label, why, kill, mark);
    json_object_set_new(o, "killed", killed);
    return o;
}

/* 1 when kill k was done by action `name` to a replica of an app that has several, whose sidecar port is known. */
static int is_kill_of(const json_t *k, const char *name) {
    const char *action = json_string_value(json_object_get(k, "action"));
    return action && strcmp(action, name) == 0 && ival(k, "replicas") > 1 && ival(k, "port") > 0;
}

/* 1 when window `name`'s action killed a replica of an app that has several (then its pick is the killed one's). */
static int kills_replica(const ctx_t *c, const char *name) {
    size_t i;
    json_t *k;
    if (!c->k || !name) return 0;
    json_array_foreach(c->k->kills, i, k) if (is_kill_of(k, name)) return 1;
    return 0;
}

static int by_latency_desc(const void *a, const void *b) {
    const rs_load_record_t *x = *(const rs_load_record_t *const *)a, *y = *(const rs_load_record_t *const *)b;
    return x->latency_ms < y->latency_ms ? 1 : x->latency_ms > y->latency_ms ? -1 : 0;
}

json_t *rs_trace_choose(const rs_traces_t *t, const rs_load_record_t *recs, size_t n, const char *const *names,
                        const char *const *apps, int focus_target, const json_t *windows, int64_t t0_wall_ms,
                        const rs_trace_kills_t *kills) {
    ctx_t c = {.t = t, .names = names, .apps = apps, .t0_wall_ms = t0_wall_ms, .k = kills};
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
        const char *wname = json_string_value(json_object_get(w, "name"));
        if (kills_replica(&c, wname)) {
            size_t k;
            json_t *kill;
            json_array_foreach(kills->kills, k, kill) {
                if (!is_kill_of(kill, wname)) continue;
                json_array_append_new(list, pick_killed(&c, recs, n, focus_target, kill,
                                                        json_string_value(json_object_get(w, "kind")), list));
            }
            continue;
        }
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

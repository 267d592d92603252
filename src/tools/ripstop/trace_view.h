/* SPDX-License-Identifier: MIT */
/* What the demo shows of its traces: waterfalls of chosen orders, built from
 * the collector's spans (trace_collector.h) and the load's records (load.h).
 *
 * Every load request started a sampled trace (rs_load_opts_t.trace_run), so
 * an order's record names its trace; the request itself is drawn as the
 * waterfall's root row (the load generator exports no span of its own).
 *
 * Chosen orders, all from the focus target (the Dapr frontend):
 *   - "straight through": an order sent before any action window that
 *     succeeded with every hop on its first attempt (preferring one whose
 *     loyalty count is in the trace already, then the fewest failed spans);
 *   - one per action window (chaos, crash): the order sent inside the window
 *     (for a crash, up to 5 s before it too: those were in flight) with the
 *     most retried attempts, then failed spans, then latency;
 *   - but for a window that killed a replica of an app with several: the
 *     order that replica was processing when it died (any target's order,
 *     the focus target's first), taken up again by another replica or the
 *     restart — or a note that the kill interrupted no order.
 * Plus the slowest orders of the focus target as a list. */
#ifndef RS_TOOLS_TRACE_VIEW_H
#define RS_TOOLS_TRACE_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/ripstop/load.h"
#include "tools/ripstop/trace_collector.h"

/** The load request at the top of a waterfall. */
typedef struct {
    const char *label;     /* e.g. "GET / (frontend-dapr)" */
    const char *span_id;   /* the traceparent's parent id the load sent */
    int64_t start_us;      /* wall clock, microseconds since the epoch */
    int64_t dur_us;        /* -1 while pending */
    int failed;
    const char *error;     /* NULL or a short reason */
} rs_trace_root_t;

/** A waterfall: {"spans": n, "errors": n, "retries": n, "services": [..], "duration_ms": x,
 *  "rows": [{"depth", "service", "name", "kind", "start_ms", "dur_ms"[, "error"][, "attempt"][, "status"]
 *  [, "repeat", "attempt_last"][, "port"]}], "more": n, "t0_us": wall-clock instant of 0} — rows in tree order (children by start time), times relative to the
 *  trace's first instant. Three or more consecutive siblings failing the same way (a retry loop against an open
 *  breaker) are one row with "repeat" = their number, from the first's start to the last's end; the spans below
 *  them are counted in "more".
 *  spans may be NULL (only the root). At most max_rows rows; the rest are counted in "more". New reference. */
json_t *rs_trace_waterfall(const json_t *spans, const rs_trace_root_t *root, size_t max_rows);

/** What the demo knows about replicas and kills, for the waterfall of an order a killed replica was processing. */
typedef struct {
    const json_t *instances; /* {"<sidecar HTTP port>": {"app", "instance", "replicas"}}: whose spans those are */
    const json_t *kills;     /* [{"action", "app", "instance", "replicas", "sidecar", "signal", "port", "t_ms"}]: the
                                kills done, port = the killed instance's sidecar HTTP port, t_ms on the load's clock */
    int final;               /* the run is over: an order not found now will not be found */
} rs_trace_kills_t;

/** The demo's "traces" object: {"collector": {"spans", "traces", "dropped"}, "chosen": [{"label", "why",
 *  "order_id", "target", "trace_id", "sent_ms", "latency_ms", "status", "waterfall"}], "slowest": [{"order_id",
 *  "sent_ms", "latency_ms", "status", "trace_id", "spans", "errors", "retries"}]}. windows is the demo's window list
 *  ([{name, kind, start_ms, end_ms, happened}]), t0_wall_ms the wall-clock time of the load's origin, names[i] and
 *  apps[i] the label and app of target i.
 *  A window whose action killed a replica of an app with several (kills) gets, instead of its generic order, one
 *  entry per such kill: the order the killed replica was processing ("killed": {app, instance, sidecar, t_ms}; rows
 *  of the killed replica before the kill carry "killed": true, rows of multi-replica apps "instance", the
 *  waterfall "marks": [{at_ms, label}] at the kill), or, when the kill interrupted no order, an entry with
 *  "none": true and no waterfall whose "why" says so. kills may be NULL. New reference. */
json_t *rs_trace_choose(const rs_traces_t *t, const rs_load_record_t *recs, size_t nrecs, const char *const *names,
                        const char *const *apps, int focus_target, const json_t *windows, int64_t t0_wall_ms,
                        const rs_trace_kills_t *kills);

#endif

/* SPDX-License-Identifier: MIT */
/* What every operation shares: cancel, and starting a run under the component's policy. */
#include "sidecar/ops/op_run.h"

#include <stdio.h>
#include <string.h>

#include "sidecar/resiliency/resiliency.h"
#include "sidecar/runtime/sidecar.h"
#include "sidecar/tracing/tracing.h"

void rs_op_cancel(rs_op_t *op) {
    if (!op) return;
    if (op->run) rs_run_cancel(op->run);
    if (op->cancel) op->cancel(op);
    op->free(op);
}

/* daprd's words for a component kind in span attributes (db.system / messaging.system). */
static const char *system_of(rs_component_kind_t k) {
    switch (k) {
    case RS_KIND_STATE: return "state";
    case RS_KIND_LOCK: return "lock";
    case RS_KIND_PUBSUB: return "pubsub";
    case RS_KIND_BINDING: return "bindings";
    case RS_KIND_SECRETSTORE: return "secrets";
    default: return "component";
    }
}

int rs_op_trace_parent(struct rs_sidecar *sc, char out[56]) {
    rs_span_t *cur = rs_tracer_current(sc->tracer);
    if (!cur) return 0;
    rs_span_traceparent(cur, out);
    return 1;
}

const rs_run_trace_t *rs_op_trace(rs_op_trace_t *buf, struct rs_sidecar *sc, rs_component_t *c, const char *what,
                                  const char *parent) {
    memset(buf, 0, sizeof *buf);
    if (!sc->tracer) return NULL;
    if (parent && *parent) snprintf(buf->parent, sizeof buf->parent, "%s", parent);
    else if (!rs_op_trace_parent(sc, buf->parent)) return NULL;
    const char *sys = system_of(c->type->kind);
    snprintf(buf->name, sizeof buf->name, "%s/%s/%s", sys, c->name, what);
    rs_kvlist_init_refs(&buf->attrs);
    if (c->type->kind == RS_KIND_PUBSUB) {
        rs_kvlist_add(&buf->attrs, "messaging.system", sys);
    } else {
        rs_kvlist_add(&buf->attrs, "db.system", sys);
        rs_kvlist_add(&buf->attrs, "db.name", c->name);
    }
    rs_kvlist_add(&buf->attrs, "ripstop.component.type", c->type->type);
    buf->tr = (rs_run_trace_t){.tracer = sc->tracer, .parent = buf->parent, .name = buf->name,
                               .kind = RS_SPAN_CLIENT, .attrs = &buf->attrs};
    return &buf->tr;
}

void rs_op_trace_done(rs_op_trace_t *buf) { rs_kvlist_free(&buf->attrs); }

int rs_op_run_start(rs_op_t *op, struct rs_sidecar *sc, rs_component_t *c, rs_attempt_start_fn start,
                    rs_attempt_abort_fn abort_fn, rs_run_done_fn done) {
    rs_policy_t *p = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
    rs_op_trace_t tb;
    const rs_run_trace_t *tr = rs_op_trace(&tb, sc, c, "call", NULL);
    op->run = rs_run_start_traced(sc->base, p, tr, start, abort_fn, done, op);
    rs_op_trace_done(&tb);
    rs_policy_release(p);
    return op->run ? 0 : -1;
}

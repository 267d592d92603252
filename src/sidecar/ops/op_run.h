/* SPDX-License-Identifier: MIT */
/* For the files in ops/ only: the handle behind rs_op_t and the one way an operation
 * runs a component call under the component's outbound resiliency policy. */
#ifndef RS_SIDECAR_OPS_OP_RUN_H
#define RS_SIDECAR_OPS_OP_RUN_H

#include "sidecar/components/component.h"
#include "sidecar/ops/ops.h"
#include "sidecar/resiliency/run.h"

/** The first member of every group's operation struct. rs_op_cancel cancels `run`, calls `cancel`, then `free`. */
struct rs_op {
    rs_run_t *run;               /* an operation that is one run: the run in flight, or NULL */
    void (*cancel)(rs_op_t *op); /* stops whatever else is in flight (several runs or sends); may be NULL */
    void (*free)(rs_op_t *op);   /* frees the operation */
};

/** What a traced component run needs to keep until rs_run_start_traced has copied it. */
typedef struct {
    rs_run_trace_t tr;
    char parent[56];
    char name[192];
    rs_kvlist_t attrs; /* references */
} rs_op_trace_t;

/** Describes the spans of a run on component c (`what`: "get", "save", "publish", ...): each attempt is a
 *  CLIENT span "<kind>/<component>/<what>" with db.system / db.name (or messaging.*) as daprd names them, a child
 *  of parent (a traceparent; NULL = the inbound span being dispatched). Returns &buf->tr, or NULL when tracing
 *  is off or there is no parent. Call rs_op_trace_done(buf) after starting the run. */
const rs_run_trace_t *rs_op_trace(rs_op_trace_t *buf, struct rs_sidecar *sc, rs_component_t *c, const char *what,
                                  const char *parent);
void rs_op_trace_done(rs_op_trace_t *buf);
/** Copies the traceparent of the inbound span being dispatched into out (for a run started later); 0 if none. */
int rs_op_trace_parent(struct rs_sidecar *sc, char out[56]);

/** Starts op->run: start/abort/done under c's outbound policy, with op as their argument. Returns 0, or -1 when
 *  the run could not start (done is not called then). */
int rs_op_run_start(rs_op_t *op, struct rs_sidecar *sc, rs_component_t *c, rs_attempt_start_fn start,
                    rs_attempt_abort_fn abort_fn, rs_run_done_fn done);

/** Reports err through a callback of the shape cb(arg, NULL, &err): fills a table error on the stack and calls it. */
#define RS_OP_FAIL(cb, arg, code, ...)                                                                                 \
    do {                                                                                                               \
        rs_dapr_error_t rs_op_err_;                                                                                    \
        rs_dapr_error_set(&rs_op_err_, code, __VA_ARGS__);                                                             \
        (cb)((arg), NULL, &rs_op_err_);                                                                                \
    } while (0)

#endif

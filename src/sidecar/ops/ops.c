/* SPDX-License-Identifier: MIT */
/* What every operation shares: cancel, and starting a run under the component's policy. */
#include "sidecar/ops/op_run.h"

#include "sidecar/resiliency/resiliency.h"
#include "sidecar/runtime/sidecar.h"

void rs_op_cancel(rs_op_t *op) {
    if (!op) return;
    if (op->run) rs_run_cancel(op->run);
    if (op->cancel) op->cancel(op);
    op->free(op);
}

int rs_op_run_start(rs_op_t *op, struct rs_sidecar *sc, rs_component_t *c, rs_attempt_start_fn start,
                    rs_attempt_abort_fn abort_fn, rs_run_done_fn done) {
    rs_policy_t *p = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
    op->run = rs_run_start(sc->base, p, start, abort_fn, done, op);
    rs_policy_release(p);
    return op->run ? 0 : -1;
}

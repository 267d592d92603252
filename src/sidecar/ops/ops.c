/* SPDX-License-Identifier: MIT */
/* What every operation shares: cancel, and starting a run under the component's policy. */
#include "sidecar/ops/op_run.h"

#include "sidecar/resiliency/resiliency.h"
#include "sidecar/sidecar.h"

void rs_op_cancel(rs_op_t *op) {
    if (op) op->cancel(op);
}

rs_run_t *rs_op_run_start(struct rs_sidecar *sc, rs_component_t *c, rs_attempt_start_fn start,
                          rs_attempt_abort_fn abort_fn, rs_run_done_fn done, void *op) {
    rs_policy_t *p = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
    rs_run_t *run = rs_run_start(sc->base, p, start, abort_fn, done, op);
    rs_policy_release(p);
    return run;
}

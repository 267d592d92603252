/* SPDX-License-Identifier: MIT */
/* For the files in ops/ only: the handle behind rs_op_t and the one way an operation
 * runs a component call under the component's outbound resiliency policy. */
#ifndef RS_SIDECAR_OPS_OP_RUN_H
#define RS_SIDECAR_OPS_OP_RUN_H

#include "sidecar/components/component.h"
#include "sidecar/ops/ops.h"
#include "sidecar/resiliency/run.h"

/** The first member of every group's operation struct. */
struct rs_op {
    void (*cancel)(rs_op_t *op); /* aborts what is in flight and frees the operation */
};

/** Starts one run of start/abort/done under c's outbound policy (op is their argument). Returns the run, or NULL
 *  when it could not start (done is not called then). */
rs_run_t *rs_op_run_start(struct rs_sidecar *sc, rs_component_t *c, rs_attempt_start_fn start,
                          rs_attempt_abort_fn abort_fn, rs_run_done_fn done, void *op);

/** Reports err through a callback of the shape cb(arg, NULL, &err): fills a table error on the stack and calls it. */
#define RS_OP_FAIL(cb, arg, code, ...)                                                                                 \
    do {                                                                                                               \
        rs_dapr_error_t rs_op_err_;                                                                                    \
        rs_dapr_error_set(&rs_op_err_, code, __VA_ARGS__);                                                             \
        (cb)((arg), NULL, &rs_op_err_);                                                                                \
    } while (0)

#endif

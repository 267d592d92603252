/* SPDX-License-Identifier: MIT */
/* Output binding invoke: Dapr's checks, the component call under the policy,
 * and daprd's dapr_component_output_binding_count / _latencies metrics. */
#include "sidecar/ops/bindings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/runtime/sidecar.h"

struct out_op {
    rs_op_t op;
    rs_sidecar_t *sc;
    rs_component_t *c;
    char *operation;
    char *data;
    size_t len;
    rs_kvlist_t metadata;
    rs_attempt_t *attempt;
    rs_binding_call_t *call;
    /* the successful answer, copied out of the component's callback */
    int has_resp;
    char *resp_data;
    size_t resp_len;
    rs_kvlist_t resp_md;
    int64_t start_us;
    rs_binding_done_fn_t done;
    void *arg;
};

static void free_op(rs_op_t *op) {
    struct out_op *o = (struct out_op *)op;
    free(o->operation);
    free(o->data);
    rs_kvlist_free(&o->metadata);
    free(o->resp_data);
    rs_kvlist_free(&o->resp_md);
    free(o);
}

static void on_run_done(void *arg, const rs_outcome_t *final) {
    struct out_op *o = arg;
    o->op.run = NULL;
    const char *labels[] = {"component", o->c->name, "operation", o->operation,
                            "success", final->kind == RS_OUTCOME_OK ? "true" : "false", NULL};
    rs_metrics_count_observe(o->sc->metrics, "dapr_component_output_binding_count",
                             "The number of operations invoked on the output binding component.",
                             "dapr_component_output_binding_latencies",
                             "The latency of the response from the output binding component.", labels,
                             (double)(rs_now_us() - o->start_us) / 1000.0);
    if (final->kind != RS_OUTCOME_OK) {
        RS_OP_FAIL(o->done, o->arg, RS_ERR_INVOKE_OUTPUT_BINDING, "error invoking output binding %s: %s", o->c->name,
                   final->error);
    } else {
        rs_binding_reply_t reply = {.has_data = o->has_resp, .data = o->resp_data, .len = o->resp_len,
                                    .metadata = &o->resp_md};
        o->done(o->arg, &reply, NULL);
    }
    free_op(&o->op);
}

static void on_invoke_done(void *arg, int ok, const rs_binding_resp_t *resp, const char *err) {
    struct out_op *o = arg;
    o->call = NULL;
    rs_outcome_t oc;
    if (ok) {
        free(o->resp_data);
        rs_kvlist_free(&o->resp_md);
        o->resp_data = NULL;
        o->resp_len = 0;
        o->has_resp = resp != NULL;
        if (resp) {
            o->resp_data = rs_xmalloc(resp->len + 1);
            if (resp->len) memcpy(o->resp_data, resp->data, resp->len);
            o->resp_data[resp->len] = 0;
            o->resp_len = resp->len;
            rs_kvlist_copy(&o->resp_md, &resp->metadata);
        }
        rs_outcome_ok(&oc);
    } else {
        /* Component errors carry no status code: the retry policy treats them as retriable. */
        rs_outcome_error(&oc, 0, 0, "%s", err ? err : "unknown error");
    }
    rs_attempt_done(o->attempt, &oc);
}

static void start_attempt(rs_attempt_t *a, void *arg) {
    struct out_op *o = arg;
    o->attempt = a;
    const rs_binding_ops_t *ops = rs_binding_ops(o->c);
    /* invoke returns NULL when it already called back (local components). */
    o->call = ops->invoke(o->c, o->operation, o->data, o->len, &o->metadata, on_invoke_done, o);
}

static void abort_attempt(rs_attempt_t *a, void *arg) {
    (void)a;
    struct out_op *o = arg;
    if (o->call) rs_binding_ops(o->c)->cancel(o->c, o->call);
    o->call = NULL;
}

/* "supported operations:" as Dapr lists them, each after a space. */
static int supports(const rs_binding_ops_t *ops, const char *operation, char *list, size_t listlen) {
    int supported = 0;
    list[0] = '\0';
    for (size_t i = 0; ops->operations && ops->operations[i]; i++) {
        if (strcmp(ops->operations[i], operation) == 0) supported = 1;
        size_t l = strlen(list);
        snprintf(list + l, listlen - l, "%s%s", i ? " " : "", ops->operations[i]);
    }
    return supported;
}

rs_op_t *rs_ops_binding_invoke(rs_sidecar_t *sc, const rs_binding_request_t *req, rs_binding_done_fn_t done,
                               void *arg) {
    const char *name = req->name, *operation = req->operation ? req->operation : "";
    if (!*operation) {
        RS_OP_FAIL(done, arg, RS_ERR_INVOKE_OUTPUT_BINDING,
                   "error invoking output binding %s: operation field is missing from request", name);
        return NULL;
    }
    rs_component_t *c = rs_sidecar_component(sc, RS_KIND_BINDING, name);
    if (!c || !rs_binding_is_output(c)) {
        RS_OP_FAIL(done, arg, RS_ERR_INVOKE_OUTPUT_BINDING,
                   "error invoking output binding %s: couldn't find output binding %s", name, name);
        return NULL;
    }
    char list[512];
    if (!supports(rs_binding_ops(c), operation, list, sizeof list)) {
        RS_OP_FAIL(done, arg, RS_ERR_INVOKE_OUTPUT_BINDING,
                   "error invoking output binding %s: binding %s does not support operation %s. "
                   "supported operations:%s",
                   name, name, operation, list);
        return NULL;
    }
    struct out_op *o = rs_xcalloc(1, sizeof *o);
    o->op.free = free_op;
    o->sc = sc;
    o->c = c;
    o->operation = rs_strdup(operation);
    o->start_us = rs_now_us();
    o->data = rs_xmalloc(req->len + 1);
    if (req->len) memcpy(o->data, req->data, req->len);
    o->data[req->len] = '\0';
    o->len = req->len;
    if (req->metadata) rs_kvlist_copy(&o->metadata, req->metadata);
    o->done = done;
    o->arg = arg;
    if (rs_op_run_start(&o->op, sc, c, start_attempt, abort_attempt, on_run_done) == 0) return &o->op;
    RS_OP_FAIL(done, arg, RS_ERR_INVOKE_OUTPUT_BINDING, "error invoking output binding %s: out of memory", name);
    free_op(&o->op);
    return NULL;
}

/* ---- the sender input-binding delivery forwards replies with ---- */

typedef struct {
    rs_binding_sent_fn sent;
    void *arg;
} sender_call_t;

static void sender_done(void *arg, const rs_binding_reply_t *reply, const rs_dapr_error_t *err) {
    sender_call_t sc = *(sender_call_t *)arg;
    (void)reply;
    free(arg);
    sc.sent(sc.arg, err ? err->message : NULL);
}

static void *sender_send(rs_sidecar_t *sc, const char *name, const char *data, size_t len, rs_binding_sent_fn sent,
                         void *arg) {
    sender_call_t *c = rs_xmalloc(sizeof *c);
    c->sent = sent;
    c->arg = arg;
    rs_binding_request_t req = {.name = name, .operation = "create", .data = data, .len = len};
    return rs_ops_binding_invoke(sc, &req, sender_done, c); /* NULL: sender_done ran and freed c */
}

static void sender_cancel(void *handle) {
    void *c = ((struct out_op *)handle)->arg; /* the sender_call_t, whose callback will not run */
    rs_op_cancel(handle);
    free(c);
}

const rs_binding_sender_t rs_ops_binding_sender = {.send = sender_send, .cancel = sender_cancel};

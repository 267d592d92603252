/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/publisher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/resiliency/run.h"
#include "sidecar/tracing/tracing.h"

/* One attempt's link to the component's callback. Freed by whichever of the component callback and the publish
 * operation lets go of it last: an orphaned attempt is freed when the component finally calls back. */
typedef struct attempt_link {
    rs_publish_t *p;
    rs_attempt_t *attempt;
    int orphaned;
} attempt_link_t;

struct rs_publish {
    rs_sidecar_t *sc;
    rs_component_t *c;
    char *topic;
    char *data;
    size_t len;
    rs_kvlist_t metadata;
    rs_run_t *run;
    attempt_link_t *link; /* the attempt in flight, or NULL */
    rs_publisher_done_fn done;
    void *arg;
};

static void publish_free(rs_publish_t *p) {
    free(p->topic);
    free(p->data);
    rs_kvlist_free(&p->metadata);
    free(p);
}

static void on_published(void *arg, int ok, const char *err) {
    attempt_link_t *l = arg;
    if (l->orphaned) {
        free(l);
        return;
    }
    rs_publish_t *p = l->p;
    rs_attempt_t *a = l->attempt;
    p->link = NULL;
    free(l);
    rs_outcome_t o;
    if (ok) rs_outcome_ok(&o);
    else rs_outcome_error(&o, 0, 0, "%s", err ? err : "publish failed");
    rs_attempt_done(a, &o);
}

static void attempt_start(rs_attempt_t *a, void *op) {
    rs_publish_t *p = op;
    const rs_pubsub_ops_t *ops = p->c->type->ops;
    attempt_link_t *l = rs_xcalloc(1, sizeof *l);
    l->p = p;
    l->attempt = a;
    p->link = l;
    ops->publish(p->c, p->topic, p->data, p->len, &p->metadata, on_published, l);
}

static void attempt_abort(rs_attempt_t *a, void *op) {
    rs_publish_t *p = op;
    (void)a;
    if (p->link) {
        p->link->orphaned = 1;
        p->link = NULL;
    }
}

static void run_done(void *op, const rs_outcome_t *final) {
    rs_publish_t *p = op;
    p->run = NULL;
    int ok = final->kind == RS_OUTCOME_OK;
    p->done(p->arg, ok, ok ? NULL : final->error);
    publish_free(p);
}

rs_publish_t *rs_publisher_send(rs_sidecar_t *sc, rs_component_t *c, const char *topic, const void *data, size_t len,
                                const rs_kvlist_t *metadata, rs_publisher_done_fn done, void *arg) {
    rs_publish_t *p = rs_xcalloc(1, sizeof *p);
    p->sc = sc;
    p->c = c;
    p->topic = rs_strdup(topic);
    p->data = rs_xmalloc(len + 1);
    if (len) memcpy(p->data, data, len);
    p->data[len] = '\0';
    p->len = len;
    if (metadata) rs_kvlist_copy(&p->metadata, metadata);
    p->done = done;
    p->arg = arg;
    rs_policy_t *pol = sc->resiliency ? rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND) : NULL;
    /* One CLIENT span per attempt ("pubsub/<component>/publish"), a child of the API call's span, so that
     * publishes retried under the outbound policy show each attempt (ripstopd's own; daprd has none). */
    rs_run_trace_t tr = {0};
    rs_kvlist_t tattrs;
    char tname[300], parent[56];
    rs_kvlist_init_refs(&tattrs);
    rs_span_t *cur = rs_tracer_current(sc->tracer);
    if (cur) {
        rs_span_traceparent(cur, parent);
        snprintf(tname, sizeof tname, "pubsub/%s/publish", c->name);
        rs_kvlist_add(&tattrs, "messaging.system", "pubsub");
        rs_kvlist_add(&tattrs, "messaging.destination", p->topic);
        rs_kvlist_add(&tattrs, "messaging.destination_kind", "topic");
        rs_kvlist_add(&tattrs, "ripstop.component.type", c->type->type);
        tr = (rs_run_trace_t){.tracer = sc->tracer, .parent = parent, .name = tname, .kind = RS_SPAN_CLIENT,
                              .attrs = &tattrs};
    }
    p->run = rs_run_start_traced(sc->base, pol, &tr, attempt_start, attempt_abort, run_done, p);
    rs_kvlist_free(&tattrs);
    if (pol) rs_policy_release(pol);
    if (!p->run) abort(); /* out of memory: fatal by policy */
    return p;
}

void rs_publisher_cancel(rs_publish_t *p) {
    if (p->run) rs_run_cancel(p->run);
    publish_free(p);
}

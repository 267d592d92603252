/* SPDX-License-Identifier: MIT */
/* Publish, single and bulk: checks, message bytes, scopes, then one
 * publisher run per message; the callback runs when the last one ends. */
#include "sidecar/ops/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "sidecar/messaging/cloudevent.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/messaging/publisher.h"
#include "sidecar/messaging/scopes.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/runtime/sidecar.h"

typedef struct entry {
    char *entry_id;
    rs_publish_t *pub; /* in flight, or NULL */
    char *error;       /* failure reason, or NULL */
    struct pub_op *owner;
} entry_t;

typedef struct pub_op {
    rs_op_t op;
    char *pubsub;
    char *topic;
    int bulk;
    entry_t *entries;
    size_t n, pending;
    rs_metrics_t *metrics;
    int64_t start_us;
    rs_publish_done_fn done;
    void *arg;
} pub_op_t;

static void free_op(pub_op_t *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i].entry_id);
        free(p->entries[i].error);
    }
    free(p->entries);
    free(p->pubsub);
    free(p->topic);
    free(p);
}

/* The ErrorInfo metadata daprd's pub/sub errors carry: the request's metadata (for the checks of the request),
 * or the app/topic and the cause. */
static void meta_request(rs_dapr_error_t *err, const rs_kvlist_t *md) {
    for (size_t i = 0; md && i < md->len; i++) rs_dapr_error_meta(err, md->items[i].key, md->items[i].value);
}

static void meta_cause(rs_dapr_error_t *err, const char *key, const char *value, const char *why) {
    rs_dapr_error_meta(err, key, value);
    rs_dapr_error_meta(err, "error", why);
}

static void cancel_sends(rs_op_t *op) {
    pub_op_t *p = (pub_op_t *)op;
    for (size_t i = 0; i < p->n; i++)
        if (p->entries[i].pub) rs_publisher_cancel(p->entries[i].pub);
}

static void free_any(rs_op_t *op) { free_op((pub_op_t *)op); }

static void report(pub_op_t *p) {
    if (!p->bulk && p->entries[0].error) {
        rs_dapr_error_t err;
        rs_dapr_error_set(&err, RS_ERR_PUBSUB_PUBLISH_MESSAGE, "error when publish to topic %s in pubsub %s: %s",
                          p->topic, p->pubsub, p->entries[0].error);
        rs_dapr_error_resource(&err, p->pubsub);
        meta_cause(&err, "topic", p->topic, p->entries[0].error);
        p->done(p->arg, NULL, &err);
        return;
    }
    rs_publish_failed_t *failed = rs_xcalloc(p->n, sizeof *failed);
    rs_publish_reply_t reply = {.failed = failed};
    for (size_t i = 0; i < p->n; i++)
        if (p->entries[i].error)
            failed[reply.nfailed++] = (rs_publish_failed_t){p->entries[i].entry_id, p->entries[i].error};
    p->done(p->arg, &reply, NULL);
    free(failed);
}

static void on_entry_done(void *arg, int ok, const char *err) {
    entry_t *e = arg;
    pub_op_t *p = e->owner;
    e->pub = NULL;
    if (!ok) e->error = rs_strdup(err ? err : "publish failed");
    /* daprd's egress families, one per message handed to the broker */
    const char *labels[] = {"component", p->pubsub, "success", ok ? "true" : "false", "topic", p->topic, NULL};
    rs_metrics_count_observe(p->metrics, "dapr_component_pubsub_egress_count",
                             "The number of outgoing messages published to the pub/sub component.",
                             "dapr_component_pubsub_egress_latencies",
                             "The latency of the response from the pub/sub component.", labels,
                             (double)(rs_now_us() - p->start_us) / 1000.0);
    if (--p->pending == 0) {
        report(p);
        free_op(p);
    }
}

int rs_ops_publish_check(rs_sidecar_t *sc, const rs_publish_target_t *t, rs_dapr_error_t *err) {
    const char *raw = t->metadata ? rs_kvlist_get(t->metadata, "rawPayload") : NULL;
    int b;
    long long ttl;
    char why[160];
    /* Dapr's order of checks (universal validateAndGetPubsubAndTopic), then the request metadata. */
    if (rs_sidecar_count(sc, RS_KIND_PUBSUB) == 0)
        rs_dapr_error_set(err, RS_ERR_PUBSUB_NOT_CONFIGURED, "no pubsub is configured");
    else if (!*t->pubsub)
        rs_dapr_error_set(err, RS_ERR_PUBSUB_EMPTY, "pubsub name is empty");
    else if (!rs_sidecar_component(sc, RS_KIND_PUBSUB, t->pubsub))
        rs_dapr_error_set(err, RS_ERR_PUBSUB_NOT_FOUND, "pubsub %s not found", t->pubsub);
    else if (!*t->topic)
        rs_dapr_error_set(err, RS_ERR_TOPIC_NAME_EMPTY, "topic is empty in pubsub %s", t->pubsub);
    else if (raw && rs_parse_bool(raw, &b) != 0)
        rs_dapr_error_set(err, RS_ERR_PUBSUB_REQUEST_METADATA,
                          "failed deserializing metadata: rawPayload: invalid boolean %s", raw);
    else if (rs_cloudevent_ttl(t->metadata, &ttl, why, sizeof why) != 0)
        rs_dapr_error_set(err, RS_ERR_PUBSUB_REQUEST_METADATA, "failed deserializing metadata: %s", why);
    else
        return 0;
    rs_dapr_error_resource(err, t->pubsub);
    /* daprd's gRPC API echoes the request's metadata except when the pub/sub is missing (pkg/api/grpc) */
    if (err->code != RS_ERR_PUBSUB_NOT_CONFIGURED && err->code != RS_ERR_PUBSUB_NOT_FOUND) meta_request(err, t->metadata);
    return -1;
}

void rs_ops_publish_bulk_body_error(rs_sidecar_t *sc, const rs_publish_target_t *t, const char *why,
                                    rs_dapr_error_t *err) {
    rs_dapr_error_set(err, RS_ERR_PUBSUB_EVENTS_SER, "error when unmarshalling the request for topic %s pubsub %s: %s",
                      t->topic, t->pubsub, why);
    rs_dapr_error_resource(err, t->pubsub);
    rs_dapr_error_meta(err, "appID", sc->cfg.app_id);
}

/* The bytes for the broker: the payload itself (rawPayload) or its CloudEvent. NULL with err on failure. */
static char *message_bytes(rs_sidecar_t *sc, const rs_publish_target_t *t, const rs_publish_message_t *m,
                           const rs_kvlist_t *md, int raw, size_t *outlen, char *err, size_t errlen) {
    if (raw) {
        char *b = rs_xmalloc(m->len + 1);
        if (m->len) memcpy(b, m->data, m->len); /* data may be NULL when len is 0 (an empty protobuf bytes field) */
        b[m->len] = '\0';
        *outlen = m->len;
        return b;
    }
    rs_ce_input_t in = {.pubsub_name = t->pubsub, .topic = t->topic, .app_id = sc->cfg.app_id,
                        .content_type = m->content_type, .data = m->data, .len = m->len, .metadata = md,
                        .traceparent = t->traceparent, .tracestate = t->tracestate};
    return rs_cloudevent_envelope(&in, outlen, err, errlen);
}

/* Builds, checks the scopes and sends. n == 0 is a bulk request with no entries: nothing to do. */
static rs_op_t *publish(rs_sidecar_t *sc, const rs_publish_target_t *t, const rs_publish_message_t *msgs, size_t n,
                        int bulk, rs_publish_done_fn done, void *arg) {
    rs_dapr_error_t err;
    if (rs_ops_publish_check(sc, t, &err) != 0) {
        done(arg, NULL, &err);
        return NULL;
    }
    if (n == 0) {
        rs_publish_reply_t none = {0};
        done(arg, &none, NULL);
        return NULL;
    }
    rs_component_t *c = rs_sidecar_component(sc, RS_KIND_PUBSUB, t->pubsub);
    rs_kvlist_t empty = {0};
    const rs_kvlist_t *md = t->metadata ? t->metadata : &empty;
    int raw = 0;
    const char *rv = rs_kvlist_get(md, "rawPayload");
    if (rv) rs_parse_bool(rv, &raw); /* checked above */
    /* Build every message first: one that cannot be built fails the request before anything is sent. */
    char **bytes = rs_xcalloc(n, sizeof *bytes);
    size_t *lens = rs_xcalloc(n, sizeof *lens);
    rs_kvlist_t *mds = rs_xcalloc(n, sizeof *mds);
    char why[RS_ERR_MAX] = "";
    size_t failed_at = n;
    for (size_t i = 0; i < n && failed_at == n; i++) {
        rs_kvlist_copy(&mds[i], md);
        if (msgs[i].metadata) rs_kvlist_copy(&mds[i], msgs[i].metadata);
        int eraw = raw, b;
        const char *erv = rs_kvlist_get(&mds[i], "rawPayload");
        if (erv && rs_parse_bool(erv, &b) == 0) eraw = b;
        bytes[i] = message_bytes(sc, t, &msgs[i], &mds[i], eraw, &lens[i], why, sizeof why);
        if (!bytes[i]) failed_at = i;
    }
    rs_op_t *op = NULL;
    rs_dapr_error_t err2;
    if (failed_at < n) {
        if (bulk)
            rs_dapr_error_set(&err2, RS_ERR_PUBSUB_CLOUD_EVENTS_SER,
                              "error when marshalling cloud event envelope for topic %s pubsub %s: entry %s: %s",
                              t->topic, t->pubsub, msgs[failed_at].entry_id, why);
        else
            rs_dapr_error_set(&err2, RS_ERR_PUBSUB_CLOUD_EVENTS_SER,
                              "error when marshalling cloud event envelope for topic %s pubsub %s: %s", t->topic,
                              t->pubsub, why);
        rs_dapr_error_resource(&err2, t->pubsub);
        meta_cause(&err2, "appID", sc->cfg.app_id, why);
        done(arg, NULL, &err2);
    } else if (!rs_topic_allowed(c, sc->cfg.app_id, t->topic, RS_TOPIC_PUBLISH)) {
        /* topic scoping is checked when publishing, after the envelope was built, as in Dapr */
        rs_dapr_error_set(&err2, RS_ERR_PUBSUB_FORBIDDEN, "topic %s is not allowed for app id %s", t->topic,
                          sc->cfg.app_id);
        rs_dapr_error_resource(&err2, t->pubsub);
        meta_cause(&err2, "topic", t->topic, err2.message); /* daprd's NotAllowedError says the same */
        done(arg, NULL, &err2);
    } else {
        pub_op_t *p = rs_xcalloc(1, sizeof *p);
        p->op.cancel = cancel_sends;
        p->op.free = free_any;
        p->pubsub = rs_strdup(t->pubsub);
        p->topic = rs_strdup(t->topic);
        p->bulk = bulk;
        p->metrics = sc->metrics;
        p->start_us = rs_now_us();
        p->done = done;
        p->arg = arg;
        p->n = p->pending = n;
        p->entries = rs_xcalloc(n, sizeof *p->entries);
        for (size_t i = 0; i < n; i++) {
            p->entries[i].owner = p;
            if (msgs[i].entry_id) p->entries[i].entry_id = rs_strdup(msgs[i].entry_id);
        }
        /* publishes never end inside rs_publisher_send, so p is alive through the loop */
        for (size_t i = 0; i < n; i++)
            p->entries[i].pub = rs_publisher_send(sc, c, t->topic, bytes[i], lens[i], &mds[i], on_entry_done,
                                                  &p->entries[i]);
        op = &p->op;
    }
    for (size_t i = 0; i < n; i++) {
        free(bytes[i]);
        rs_kvlist_free(&mds[i]);
    }
    free(bytes);
    free(lens);
    free(mds);
    return op;
}

rs_op_t *rs_ops_publish(rs_sidecar_t *sc, const rs_publish_target_t *t, const rs_publish_message_t *msg,
                        rs_publish_done_fn done, void *arg) {
    return publish(sc, t, msg, 1, 0, done, arg);
}

rs_op_t *rs_ops_publish_bulk(rs_sidecar_t *sc, const rs_publish_target_t *t, const rs_publish_message_t *msgs,
                             size_t n, rs_publish_done_fn done, void *arg) {
    return publish(sc, t, msgs, n, 1, done, arg);
}

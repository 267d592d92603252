/* SPDX-License-Identifier: MIT */
/* gRPC adapter of the publish API: PublishEvent, and BulkPublishEvent (with its
 * Alpha1 name). Checks, CloudEvent envelope, scopes and the sends are
 * ops/publish.c; trace context comes from the traceparent/tracestate
 * metadata. A bulk publish with failed entries is OK with the failed entries
 * listed, as in daprd. */
#include <stdlib.h>
#include <string.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/publish.h"

static void on_published(void *arg, const rs_publish_reply_t *reply, const rs_dapr_error_t *err) {
    (void)reply;
    if (err) rs_grpc_reply_dapr_error(arg, err);
    else rs_grpc_reply_empty(arg);
}

static void on_bulk_published(void *arg, const rs_publish_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    size_t n = reply->nfailed;
    Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry *es = rs_xcalloc(n + 1, sizeof *es);
    Dapr__Proto__Runtime__V1__BulkPublishResponseFailedEntry **ptrs = rs_xcalloc(n + 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        dapr__proto__runtime__v1__bulk_publish_response_failed_entry__init(&es[i]);
        es[i].entry_id = (char *)reply->failed[i].entry_id;
        es[i].error = (char *)reply->failed[i].error;
        ptrs[i] = &es[i];
    }
    Dapr__Proto__Runtime__V1__BulkPublishResponse r = DAPR__PROTO__RUNTIME__V1__BULK_PUBLISH_RESPONSE__INIT;
    r.n_failedentries = n;
    r.failedentries = ptrs;
    rs_grpc_call_reply(arg, &r.base);
    free(ptrs);
    free(es);
}

static rs_publish_target_t target(rs_grpc_call_t *call, const char *pubsub, const char *topic, const rs_kvlist_t *md) {
    return (rs_publish_target_t){.pubsub = pubsub, .topic = topic, .metadata = md,
                                 .traceparent = rs_grpc_call_metadata(call, "traceparent"),
                                 .tracestate = rs_grpc_call_metadata(call, "tracestate")};
}

static void publish_event(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__PublishEventRequest *in = (const void *)m;
    rs_kvlist_t md = {0};
    rs_grpc_map_to_kvlist(in->metadata, in->n_metadata, &md);
    rs_publish_target_t t = target(call, in->pubsub_name, in->topic, &md);
    rs_publish_message_t msg = {.data = (const char *)in->data.data, .len = in->data.len,
                                .content_type = *in->data_content_type ? in->data_content_type : NULL};
    rs_grpc_track_op(call, rs_ops_publish(sc, &t, &msg, on_published, call));
    rs_kvlist_free(&md);
}

static void bulk_publish_event(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__BulkPublishRequest *in = (const void *)m;
    rs_kvlist_t md = {0};
    rs_grpc_map_to_kvlist(in->metadata, in->n_metadata, &md);
    rs_publish_target_t t = target(call, in->pubsub_name, in->topic, &md);
    rs_dapr_error_t err;
    if (rs_ops_publish_check(sc, &t, &err) != 0) {
        rs_grpc_reply_dapr_error(call, &err);
        rs_kvlist_free(&md);
        return;
    }
    size_t n = in->n_entries;
    rs_publish_message_t *msgs = rs_xcalloc(n + 1, sizeof *msgs);
    rs_kvlist_t *mds = rs_xcalloc(n + 1, sizeof *mds);
    rs_strlist_t ids = {0};
    const char *bad = NULL;
    for (size_t i = 0; i < n && !bad; i++) {
        const Dapr__Proto__Runtime__V1__BulkPublishRequestEntry *e = in->entries[i];
        if (!*e->entry_id || rs_strlist_contains(&ids, e->entry_id)) {
            bad = "entryId is duplicated or not present for entry";
            break;
        }
        rs_strlist_add(&ids, e->entry_id);
        rs_grpc_map_to_kvlist(e->metadata, e->n_metadata, &mds[i]);
        msgs[i] = (rs_publish_message_t){.entry_id = e->entry_id, .data = (const char *)e->event.data,
                                         .len = e->event.len, .content_type = *e->content_type ? e->content_type : NULL,
                                         .metadata = &mds[i]};
    }
    if (bad) {
        rs_ops_publish_bulk_body_error(sc, &t, bad, &err);
        rs_grpc_reply_dapr_error(call, &err);
    } else
        rs_grpc_track_op(call, rs_ops_publish_bulk(sc, &t, msgs, n, on_bulk_published, call));
    for (size_t i = 0; i < n; i++) rs_kvlist_free(&mds[i]);
    free(mds);
    free(msgs);
    rs_strlist_free(&ids);
    rs_kvlist_free(&md);
}

const rs_grpc_method_t rs_grpc_publish_methods[] = {
    {"PublishEvent", &dapr__proto__runtime__v1__publish_event_request__descriptor, publish_event},
    {"BulkPublishEventAlpha1", &dapr__proto__runtime__v1__bulk_publish_request__descriptor, bulk_publish_event},
    {"BulkPublishEvent", &dapr__proto__runtime__v1__bulk_publish_request__descriptor, bulk_publish_event},
    {NULL, NULL, NULL},
};

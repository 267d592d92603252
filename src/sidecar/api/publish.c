/* SPDX-License-Identifier: MIT */
/* HTTP adapter of the publish API (spec §2.2):
 *   POST|PUT /v1.0/publish/{pubsub}/{topic...}
 *   POST     /v1.0-alpha1/publish/bulk/{pubsub}/{topic...}  (also /v1.0/publish/bulk/...)
 * Query `metadata.<k>` is the request metadata. Checks, the CloudEvent
 * envelope, scopes and the sends under the policy are ops/publish.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "sidecar/api/api.h"
#include "sidecar/messaging/cloudevent.h"
#include "sidecar/messaging/messaging.h"
#include "sidecar/ops/publish.h"

/* The callback's argument is the HTTP request: it stays alive until the reply (or the hang-up). */
static void on_done(void *arg, const rs_publish_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) {
        rs_api_reply_dapr_error(r, err);
        return;
    }
    if (reply->nfailed == 0) {
        rs_http_reply_empty(r, 204);
        return;
    }
    json_t *failed = json_array();
    for (size_t i = 0; i < reply->nfailed; i++)
        json_array_append_new(failed, json_pack("{s:s, s:s}", "entryId", reply->failed[i].entry_id, "error",
                                                reply->failed[i].error));
    json_t *o = json_object();
    json_object_set_new(o, "failedEntries", failed);
    json_object_set_new(o, "errorCode", json_string(rs_dapr_err_code(RS_ERR_PUBSUB_PUBLISH_MESSAGE)));
    rs_http_reply_json(r, 500, o);
}

/* The caller hung up: stop publishing (a message already with the broker stays there). */
static void on_client_gone(rs_http_req_t *r, void *arg) {
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499);
}

/* The target from the path and the query, and Dapr's checks on it; replies and returns -1 on error. */
static int target(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest, char *pubsub, size_t pubsublen,
                  rs_kvlist_t *md, rs_publish_target_t *t) {
    const char *topic = rs_api_next_segment(rest, pubsub, pubsublen);
    rs_api_query_metadata(r, md);
    *t = (rs_publish_target_t){.pubsub = pubsub, .topic = topic, .metadata = md,
                               .traceparent = rs_http_req_header(r, "traceparent"),
                               .tracestate = rs_http_req_header(r, "tracestate")};
    rs_dapr_error_t err;
    if (rs_ops_publish_check(sc, t, &err) == 0) return 0;
    /* daprd's HTTP API echoes the request's metadata for a missing pub/sub too (its gRPC API does not) */
    if (err.code == RS_ERR_PUBSUB_NOT_CONFIGURED || err.code == RS_ERR_PUBSUB_NOT_FOUND)
        for (size_t i = 0; i < md->len; i++) rs_dapr_error_meta(&err, md->items[i].key, md->items[i].value);
    rs_api_reply_dapr_error(r, &err);
    return -1;
}

static void publish_single(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest) {
    char pubsub[256];
    rs_kvlist_t md = {0};
    rs_publish_target_t t;
    if (target(r, sc, rest, pubsub, sizeof pubsub, &md, &t) == 0) {
        rs_publish_message_t msg = {.data = r->body, .len = r->body_len,
                                    .content_type = rs_http_req_header(r, "content-type")};
        rs_op_t *op = rs_ops_publish(sc, &t, &msg, on_done, r);
        if (op) rs_http_req_on_close(r, on_client_gone, op);
    }
    rs_kvlist_free(&md);
}

/* Checks the bulk body: a JSON array of {entryId, event, contentType?, metadata?} with unique ids.
 * Returns NULL when it is well formed, else the reason. */
static const char *bulk_body_error(json_t *arr, const char *parse_error) {
    if (!json_is_array(arr)) return arr ? "the body must be a JSON array of entries" : parse_error;
    const char *bad = NULL;
    size_t i;
    json_t *it;
    json_t *ids = json_object(); /* a hash set: a list made 60k entries take seconds (quadratic) */
    json_array_foreach(arr, i, it) {
        if (bad) break;
        const char *id = rs_json_str(it, "entryId");
        json_t *md_j = json_object_get(it, "metadata");
        if (!json_is_object(it)) bad = "every entry must be an object";
        else if (!id || !*id) bad = "entryId is required and must be a non-empty string";
        else if (json_object_get(ids, id)) bad = "entryIds must be unique";
        else if (!json_object_get(it, "event")) bad = "event is required";
        else if (json_object_get(it, "contentType") && !rs_json_str(it, "contentType")) bad = "contentType must be a string";
        else if (md_j && !json_is_object(md_j)) bad = "metadata must be an object";
        if (!bad) json_object_set_new(ids, id, json_true());
    }
    json_decref(ids);
    return bad;
}

/* One entry as a message: a JSON string event with a content type that is neither JSON nor a CloudEvent is sent
 * as its text; anything else as compact JSON (application/json when no type is given). *data is malloc'd. */
static void entry_message(json_t *it, rs_publish_message_t *m, rs_kvlist_t *md, char **data) {
    json_t *ev = json_object_get(it, "event");
    const char *ct = rs_json_str(it, "contentType");
    if (json_is_string(ev) && !rs_content_type_is_json(ct) && !rs_content_type_is_cloudevent(ct)) {
        *data = rs_strdup(json_string_value(ev));
    } else {
        if (!ct || !*ct) ct = "application/json";
        *data = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(it, "metadata"), k, v) {
        if (json_is_string(v)) rs_kvlist_set(md, k, json_string_value(v));
    }
    *m = (rs_publish_message_t){.entry_id = rs_json_str(it, "entryId"), .data = *data, .len = strlen(*data),
                                .content_type = ct, .metadata = md};
}

static void publish_bulk(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest) {
    char pubsub[256];
    rs_kvlist_t md = {0};
    rs_publish_target_t t;
    if (target(r, sc, rest, pubsub, sizeof pubsub, &md, &t) != 0) {
        rs_kvlist_free(&md);
        return;
    }
    char why[RS_ERR_MAX];
    json_t *arr = rs_json_parse(r->body, r->body_len, why, sizeof why);
    const char *bad = bulk_body_error(arr, why);
    if (bad) {
        rs_dapr_error_t err;
        rs_ops_publish_bulk_body_error(sc, &t, bad, &err);
        rs_api_reply_dapr_error(r, &err);
    } else {
        size_t n = json_array_size(arr);
        rs_publish_message_t *msgs = rs_xcalloc(n ? n : 1, sizeof *msgs);
        rs_kvlist_t *mds = rs_xcalloc(n ? n : 1, sizeof *mds);
        char **data = rs_xcalloc(n ? n : 1, sizeof *data);
        for (size_t i = 0; i < n; i++) entry_message(json_array_get(arr, i), &msgs[i], &mds[i], &data[i]);
        rs_op_t *op = rs_ops_publish_bulk(sc, &t, msgs, n, on_done, r);
        if (op) rs_http_req_on_close(r, on_client_gone, op);
        for (size_t i = 0; i < n; i++) {
            free(data[i]);
            rs_kvlist_free(&mds[i]);
        }
        free(data);
        free(mds);
        free(msgs);
    }
    json_decref(arr);
    rs_kvlist_free(&md);
}

static int handle_publish(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *rest;
    int post_or_put = strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0;
    if ((rest = rs_api_match(r, "/v1.0-alpha1/publish/bulk/")) != NULL ||
        ((rest = rs_api_match(r, "/v1.0/publish/bulk/")) != NULL &&
         !rs_sidecar_component(sc, RS_KIND_PUBSUB, "bulk"))) {
        if (!post_or_put) return 0;
        rs_http_req_set_route(r, "/v1.0/publish/bulk/{pubsub}/{topic}");
        publish_bulk(r, sc, rest);
        return 1;
    }
    if ((rest = rs_api_match(r, "/v1.0/publish/")) != NULL) {
        if (!post_or_put) return 0;
        rs_http_req_set_route(r, "/v1.0/publish/{pubsub}/{topic}");
        publish_single(r, sc, rest);
        return 1;
    }
    return 0;
}

void rs_api_publish_register(rs_sidecar_t *sc) {
    rs_messaging_get(sc); /* the pub/sub runtime: subscriptions start once the app is ready */
    rs_http_server_add(sc->api, handle_publish, sc);
}

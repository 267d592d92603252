/* SPDX-License-Identifier: MIT */
/* Publish API (spec §2.2):
 *   POST|PUT /v1.0/publish/{pubsub}/{topic...}
 *   POST     /v1.0-alpha1/publish/bulk/{pubsub}/{topic...}  (also /v1.0/publish/bulk/...)
 * The body is wrapped in a CloudEvent (unless metadata.rawPayload=true) and
 * handed to the component under its outbound resiliency policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "core/log.h"
#include "sidecar/api/api.h"
#include "sidecar/messaging/cloudevent.h"
#include "sidecar/messaging/messaging.h"
#include "sidecar/messaging/publisher.h"
#include "sidecar/messaging/scopes.h"

typedef struct entry {
    char *entry_id;
    rs_publish_t *pub; /* in flight, or NULL */
    char *error;       /* failure reason, or NULL */
    struct pub_req *owner;
} entry_t;

typedef struct pub_req {
    rs_http_req_t *r;
    rs_sidecar_t *sc;
    char pubsub[256];
    char *topic;
    int bulk;
    entry_t *entries;
    size_t n, pending;
} pub_req_t;

static void pub_req_free(pub_req_t *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i].entry_id);
        free(p->entries[i].error);
    }
    free(p->entries);
    free(p->topic);
    free(p);
}

static void reply_done(pub_req_t *p) {
    rs_http_req_t *r = p->r;
    if (!p->bulk) {
        if (p->entries[0].error)
            rs_api_reply_err(r, RS_ERR_PUBSUB_PUBLISH_MESSAGE, "error when publish to topic %s in pubsub %s: %s",
                                p->topic, p->pubsub, p->entries[0].error);
        else
            rs_http_reply_empty(r, 204);
        return;
    }
    json_t *failed = json_array();
    for (size_t i = 0; i < p->n; i++)
        if (p->entries[i].error)
            json_array_append_new(failed, json_pack("{s:s, s:s}", "entryId", p->entries[i].entry_id, "error",
                                                    p->entries[i].error));
    if (json_array_size(failed) == 0) {
        json_decref(failed);
        rs_http_reply_empty(r, 204);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "failedEntries", failed);
    json_object_set_new(o, "errorCode", json_string(rs_dapr_err_code(RS_ERR_PUBSUB_PUBLISH_MESSAGE)));
    rs_http_reply_json(r, 500, o);
}

static void on_entry_done(void *arg, int ok, const char *err) {
    entry_t *e = arg;
    pub_req_t *p = e->owner;
    e->pub = NULL;
    if (!ok) e->error = rs_strdup(err ? err : "publish failed");
    if (--p->pending == 0) {
        reply_done(p);
        pub_req_free(p);
    }
}

/* The caller hung up: stop publishing (a message already with the broker stays there). */
static void on_client_gone(rs_http_req_t *r, void *arg) {
    pub_req_t *p = arg;
    for (size_t i = 0; i < p->n; i++)
        if (p->entries[i].pub) rs_publisher_cancel(p->entries[i].pub);
    rs_http_reply_empty(r, 499);
    pub_req_free(p);
}

/* Common checks; replies and returns NULL on error. */
static rs_component_t *resolve_target(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest, char *pubsub,
                                      size_t pubsublen, const char **topic) {
    *topic = rs_api_next_segment(rest, pubsub, pubsublen);
    /* Dapr's order of checks (universal validateAndGetPubsubAndTopic). */
    if (rs_sidecar_count(sc, RS_KIND_PUBSUB) == 0) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_NOT_CONFIGURED, "no pubsub is configured");
        return NULL;
    }
    if (!*pubsub) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_EMPTY, "pubsub name is empty");
        return NULL;
    }
    rs_component_t *c = rs_sidecar_component(sc, RS_KIND_PUBSUB, pubsub);
    if (!c) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_NOT_FOUND, "pubsub %s not found", pubsub);
        return NULL;
    }
    if (!**topic) {
        rs_api_reply_err(r, RS_ERR_TOPIC_NAME_EMPTY, "topic is empty in pubsub %s", pubsub);
        return NULL;
    }
    return c;
}

/* Topic scoping is checked when publishing, after the envelope was built, as in Dapr. Replies 403 if denied. */
static int check_allowed(rs_http_req_t *r, rs_sidecar_t *sc, rs_component_t *c, const char *topic) {
    if (rs_topic_allowed(c, sc->cfg.app_id, topic, RS_TOPIC_PUBLISH)) return 0;
    rs_api_reply_err(r, RS_ERR_PUBSUB_FORBIDDEN, "topic %s is not allowed for app id %s", topic, sc->cfg.app_id);
    return -1;
}

/* Parses metadata.rawPayload; replies 400 and returns -1 when it is not a boolean. */
static int raw_payload(rs_http_req_t *r, const rs_kvlist_t *md, int *raw) {
    const char *v = rs_kvlist_get(md, "rawPayload");
    *raw = 0;
    if (!v) return 0;
    if (rs_parse_bool(v, raw) != 0) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_REQUEST_METADATA,
                            "failed deserializing metadata: rawPayload: invalid boolean %s", v);
        return -1;
    }
    return 0;
}

/* What both routes start with: the target pubsub and topic, the query's metadata and its rawPayload flag.
 * Returns NULL once it has replied with the error (md is then empty). */
static rs_component_t *begin_publish(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest, char *pubsub,
                                     size_t pubsublen, const char **topic, rs_kvlist_t *md, int *raw) {
    rs_component_t *c = resolve_target(r, sc, rest, pubsub, pubsublen, topic);
    if (!c) return NULL;
    rs_api_query_metadata(r, md);
    if (raw_payload(r, md, raw) != 0) {
        rs_kvlist_free(md);
        return NULL;
    }
    return c;
}

/* The bytes for the broker: the body itself (rawPayload) or its CloudEvent. NULL with err on failure. */
static char *message_bytes(rs_sidecar_t *sc, rs_http_req_t *r, const char *pubsub, const char *topic, const char *ct,
                           const char *data, size_t len, const rs_kvlist_t *md, int raw, size_t *outlen, char *err,
                           size_t errlen) {
    if (raw) {
        char *b = rs_xmalloc(len + 1);
        memcpy(b, data, len);
        b[len] = '\0';
        *outlen = len;
        return b;
    }
    rs_ce_input_t in = {.pubsub_name = pubsub, .topic = topic, .app_id = sc->cfg.app_id, .content_type = ct,
                        .data = data, .len = len, .metadata = md,
                        .traceparent = rs_http_req_header(r, "traceparent"),
                        .tracestate = rs_http_req_header(r, "tracestate")};
    return rs_cloudevent_envelope(&in, outlen, err, errlen);
}

static void publish_single(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest) {
    char pubsub[256];
    const char *topic;
    rs_kvlist_t md = {0};
    int raw;
    rs_component_t *c = begin_publish(r, sc, rest, pubsub, sizeof pubsub, &topic, &md, &raw);
    if (!c) return;
    char err[RS_ERR_MAX];
    size_t len;
    char *bytes = message_bytes(sc, r, pubsub, topic, rs_http_req_header(r, "content-type"), r->body, r->body_len, &md,
                                raw, &len, err, sizeof err);
    if (!bytes) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_CLOUD_EVENTS_SER,
                            "error when marshalling cloud event envelope for topic %s pubsub %s: %s", topic, pubsub,
                            err);
        rs_kvlist_free(&md);
        return;
    }
    if (check_allowed(r, sc, c, topic) != 0) {
        free(bytes);
        rs_kvlist_free(&md);
        return;
    }
    pub_req_t *p = rs_xcalloc(1, sizeof *p);
    p->r = r;
    p->sc = sc;
    snprintf(p->pubsub, sizeof p->pubsub, "%s", pubsub);
    p->topic = rs_strdup(topic);
    p->n = p->pending = 1;
    p->entries = rs_xcalloc(1, sizeof *p->entries);
    p->entries[0].owner = p;
    rs_http_req_on_close(r, on_client_gone, p);
    p->entries[0].pub = rs_publisher_send(sc, c, topic, bytes, len, &md, on_entry_done, &p->entries[0]);
    free(bytes);
    rs_kvlist_free(&md);
}

static void publish_bulk(rs_http_req_t *r, rs_sidecar_t *sc, const char *rest) {
    char pubsub[256];
    const char *topic;
    rs_kvlist_t md = {0};
    int raw;
    rs_component_t *c = begin_publish(r, sc, rest, pubsub, sizeof pubsub, &topic, &md, &raw);
    if (!c) return;
    char why[RS_ERR_MAX];
    json_t *arr = rs_json_parse(r->body, r->body_len, why, sizeof why);
    const char *bad = NULL;
    if (!json_is_array(arr)) bad = arr ? "the body must be a JSON array of entries" : why;
    size_t i;
    json_t *it;
    rs_strlist_t ids = {0};
    json_array_foreach(arr, i, it) {
        if (bad) break;
        const char *id = rs_json_str(it, "entryId");
        json_t *md_j = json_object_get(it, "metadata");
        if (!json_is_object(it)) bad = "every entry must be an object";
        else if (!id || !*id) bad = "entryId is required and must be a non-empty string";
        else if (rs_strlist_contains(&ids, id)) bad = "entryIds must be unique";
        else if (!json_object_get(it, "event")) bad = "event is required";
        else if (json_object_get(it, "contentType") && !rs_json_str(it, "contentType")) bad = "contentType must be a string";
        else if (md_j && !json_is_object(md_j)) bad = "metadata must be an object";
        if (!bad) rs_strlist_add(&ids, id);
    }
    rs_strlist_free(&ids);
    if (bad) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_EVENTS_SER, "error when unmarshalling the request for topic %s pubsub %s: %s",
                            topic, pubsub, bad);
        json_decref(arr);
        rs_kvlist_free(&md);
        return;
    }
    size_t n = json_array_size(arr);
    if (n == 0) {
        json_decref(arr);
        rs_kvlist_free(&md);
        rs_http_reply_empty(r, 204);
        return;
    }
    /* Build every message first: an entry that cannot be serialised fails the request before anything is sent. */
    char **bytes = rs_xcalloc(n, sizeof *bytes);
    size_t *lens = rs_xcalloc(n, sizeof *lens);
    rs_kvlist_t *mds = rs_xcalloc(n, sizeof *mds);
    char err[RS_ERR_MAX] = "";
    size_t failed_at = n;
    json_array_foreach(arr, i, it) {
        rs_kvlist_copy(&mds[i], &md);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(it, "metadata"), k, v) {
            if (json_is_string(v)) rs_kvlist_set(&mds[i], k, json_string_value(v));
        }
        int eraw = raw;
        const char *rv = rs_kvlist_get(&mds[i], "rawPayload");
        int b;
        if (rv && rs_parse_bool(rv, &b) == 0) eraw = b;
        json_t *ev = json_object_get(it, "event");
        const char *ct = rs_json_str(it, "contentType");
        char *data;
        if (json_is_string(ev) && !rs_content_type_is_json(ct) && !rs_content_type_is_cloudevent(ct)) {
            data = rs_strdup(json_string_value(ev));
        } else {
            if (!ct || !*ct) ct = "application/json";
            data = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        }
        bytes[i] = message_bytes(sc, r, pubsub, topic, ct, data, strlen(data), &mds[i], eraw, &lens[i], err, sizeof err);
        free(data);
        if (!bytes[i]) {
            failed_at = i;
            break;
        }
    }
    if (failed_at < n) {
        rs_api_reply_err(r, RS_ERR_PUBSUB_CLOUD_EVENTS_SER,
                            "error when marshalling cloud event envelope for topic %s pubsub %s: entry %s: %s", topic,
                            pubsub, rs_json_str(json_array_get(arr, failed_at), "entryId"), err);
    } else if (check_allowed(r, sc, c, topic) != 0) {
        /* replied 403 */
    } else {
        pub_req_t *p = rs_xcalloc(1, sizeof *p);
        p->r = r;
        p->sc = sc;
        p->bulk = 1;
        snprintf(p->pubsub, sizeof p->pubsub, "%s", pubsub);
        p->topic = rs_strdup(topic);
        p->n = p->pending = n;
        p->entries = rs_xcalloc(n, sizeof *p->entries);
        for (i = 0; i < n; i++) {
            p->entries[i].owner = p;
            p->entries[i].entry_id = rs_strdup(rs_json_str(json_array_get(arr, i), "entryId"));
        }
        rs_http_req_on_close(r, on_client_gone, p);
        for (i = 0; i < n; i++)
            p->entries[i].pub = rs_publisher_send(sc, c, topic, bytes[i], lens[i], &mds[i], on_entry_done, &p->entries[i]);
    }
    for (i = 0; i < n; i++) {
        free(bytes[i]);
        rs_kvlist_free(&mds[i]);
    }
    free(bytes);
    free(lens);
    free(mds);
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

/* SPDX-License-Identifier: MIT */
/* The app channel's gRPC transport (grpc_app.h): an HTTP-shaped app call in,
 * Dapr's AppCallback call out, and the app's reply back in the HTTP shape the
 * caller reads (see rs_app_kind_t in app_channel.h for what each kind
 * answers). The mappings follow daprd's gRPC app channel:
 *
 *   - invocation: OnInvoke with InvokeRequest{method, data (Any, bytes as
 *     sent), content_type, http_extension{verb, querystring}}; the reply's
 *     data and content_type are the answer; a gRPC error becomes the HTTP
 *     status daprd maps it to, with {"code","message","details"} as the body;
 *   - topic events: the CloudEvent taken apart into TopicEventRequest;
 *     SUCCESS/RETRY/DROP become {"status": ...}; UNIMPLEMENTED drops the
 *     event, any other error retries it; bulk deliveries the same way through
 *     AppCallbackAlpha/OnBulkTopicEventAlpha1 ({"statuses": [...]});
 *   - binding events: OnBindingEvent{name, data, metadata}; the reply's data
 *     is the answer, its `to` and `concurrency` go to the caller beside it
 *     (rs_app_call_binding_forward);
 *   - ListInputBindings answers the binding probe, ListTopicSubscriptions the
 *     subscription fetch (as the JSON GET /dapr/subscribe returns);
 *   - the health probe is AppCallbackHealthCheck/HealthCheck: OK is 200, an
 *     error status (UNIMPLEMENTED too) the HTTP status it stands for.
 *
 * Request headers become gRPC metadata (lower-case; hop-by-hop headers,
 * content-type and grpc-* left out), so traceparent, tracestate, the
 * pub/sub and binding metadata and the caller's headers reach the app as
 * daprd sends them; APP_API_TOKEN goes as dapr-api-token. */
#include "sidecar/appchannel/grpc_app.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/json_util.h"
#include "core/log.h"
#include "dapr/proto/runtime/v1/appcallback.pb-c.h"
#include "http/grpc_client.h"
#include "http/grpc_wire.h"
#include "http/pb_decode.h"
#include "sidecar/errors/errors.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/appchannel/pb_struct.h"
#include "sidecar/components/bindings/azure_sharedkey.h"

#define SCOPE "appchannel"
#define SERVICE "/dapr.proto.runtime.v1.AppCallback/"
#define GRPC_UNIMPLEMENTED 12

typedef struct rs_app_grpc_call pending_t;

struct rs_app_grpc {
    rs_grpc_client_t *client;
    const char *token;
    pending_t *pending; /* calls in flight */
    rs_metrics_t *metrics;
};

struct rs_app_grpc_call {
    rs_app_grpc_t *g;
    rs_app_call_t *call;
    rs_app_kind_t kind;
    char *name;         /* the binding probed */
    char *path;         /* the route of a topic event, for the log */
    rs_grpc_ccall_t *cc;
    const char *method; /* the full gRPC method (a literal), for the metrics */
    size_t sent;        /* the request message's bytes */
    int64_t start_us;
    pending_t *prev, *next;
};

void rs_app_grpc_set_metrics(rs_app_grpc_t *g, rs_metrics_t *m) { g->metrics = m; }

/* daprd's gRPC client families for a finished call (health probes are daprd's healthprobes families instead). */
static void count_call(const pending_t *p, const rs_grpc_response_t *gr) {
    if (!p->g->metrics || strstr(p->method, "AppCallbackHealthCheck")) return;
    rs_grpc_code_t code = gr->result == RS_HTTP_OK             ? (rs_grpc_code_t)gr->code
                          : gr->result == RS_HTTP_ERR_TIMEOUT   ? RS_GRPC_DEADLINE_EXCEEDED
                          : gr->result == RS_HTTP_ERR_TOO_LARGE ? RS_GRPC_RESOURCE_EXHAUSTED
                                                                : RS_GRPC_UNAVAILABLE;
    rs_metrics_grpc_client(p->g->metrics, p->method, rs_grpc_code_go_name(code), p->sent,
                           gr->result == RS_HTTP_OK && gr->code == 0 ? gr->reply.len : 0,
                           (double)(rs_now_us() - p->start_us) / 1000.0);
}

rs_app_grpc_t *rs_app_grpc_new(struct event_base *base, const char *address, int port, const char *token,
                               size_t reply_cap) {
    rs_app_grpc_t *g = rs_xcalloc(1, sizeof *g);
    g->client = rs_grpc_client_new(base, address && *address ? address : "127.0.0.1", port, reply_cap);
    g->token = token;
    return g;
}

static void pending_free(pending_t *p) {
    rs_app_grpc_t *g = p->g;
    if (p->prev) p->prev->next = p->next;
    else g->pending = p->next;
    if (p->next) p->next->prev = p->prev;
    if (p->call && p->call->grpc_ == p) p->call->grpc_ = NULL;
    free(p->name);
    free(p->path);
    free(p);
}

void rs_app_grpc_free(rs_app_grpc_t *g) {
    if (!g) return;
    while (g->pending) {
        rs_grpc_client_cancel(g->pending->cc);
        pending_free(g->pending);
    }
    rs_grpc_client_free(g->client);
    free(g);
}

void rs_app_grpc_abort(rs_app_call_t *call) {
    pending_t *p = call->grpc_;
    if (!p) return;
    rs_grpc_client_cancel(p->cc);
    pending_free(p);
}

/* ---- requests ---- */

/* An HTTP header becomes metadata only under a valid gRPC name (lower-cased) with a printable value, and
 * never one the HTTP/2 layer or the channel sets itself. */
static void add_metadata(rs_kvlist_t *md, const rs_kvlist_t *headers) {
    static const char *const skip[] = {"content-type", "content-length", "host", "connection", "transfer-encoding",
                                       "keep-alive", "te", "upgrade", "proxy-connection", "user-agent", "expect",
                                       "dapr-api-token", NULL};
    for (size_t i = 0; headers && i < headers->len; i++) {
        const char *k = headers->items[i].key, *v = headers->items[i].value;
        char name[128];
        size_t n = strlen(k);
        if (n == 0 || n >= sizeof name || strncasecmp(k, "grpc-", 5) == 0) continue;
        int ok = 1;
        for (size_t j = 0; j < n && ok; j++) {
            char c = k[j] >= 'A' && k[j] <= 'Z' ? (char)(k[j] - 'A' + 'a') : k[j];
            ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
            name[j] = c;
        }
        name[n] = '\0';
        for (const char *p = v; ok && *p; p++) ok = *p >= 0x20 && *p <= 0x7e;
        for (const char *const *s = skip; ok && *s; s++) ok = strcmp(name, *s) != 0;
        if (ok) rs_kvlist_add(md, name, v);
    }
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = rs_xmalloc(*len ? *len : 1);
    protobuf_c_message_pack(m, buf);
    return buf;
}

static Dapr__Proto__Common__V1__HTTPExtension__Verb verb_of(const char *m) {
    static const char *const verbs[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; m && i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcasecmp(m, verbs[i]) == 0) return (Dapr__Proto__Common__V1__HTTPExtension__Verb)(i + 1);
    return DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__NONE;
}

static uint8_t *invoke_request(const rs_app_request_t *req, size_t *len) {
    Dapr__Proto__Common__V1__InvokeRequest r = DAPR__PROTO__COMMON__V1__INVOKE_REQUEST__INIT;
    Google__Protobuf__Any data = GOOGLE__PROTOBUF__ANY__INIT;
    Dapr__Proto__Common__V1__HTTPExtension ext = DAPR__PROTO__COMMON__V1__HTTPEXTENSION__INIT;
    const char *path = req->path ? req->path : "";
    while (*path == '/') path++; /* the method, as the caller named it */
    r.method = (char *)path;
    data.value.data = (uint8_t *)req->body;
    data.value.len = req->body ? req->body_len : 0;
    r.data = &data;
    const char *ct = req->headers ? rs_kvlist_get_ci(req->headers, "Content-Type") : NULL;
    r.content_type = (char *)(ct ? ct : "");
    ext.verb = verb_of(req->method);
    ext.querystring = (char *)(req->query ? req->query : "");
    r.http_extension = &ext;
    return pack(&r.base, len);
}

static const char *member(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

typedef struct {
    const char *key;   /* with its quotes */
    const char *text;  /* the value as written, or NULL */
    size_t len;
} raw_t;

static void match_member(void *arg, const char *key, size_t klen, const char *value, size_t vlen) {
    raw_t *r = arg;
    if (klen == strlen(r->key) && memcmp(key, r->key, klen) == 0) {
        r->text = value;
        r->len = vlen;
    }
}

/* The text of member `quoted_key` ("\"data\"") of the object text s, or {NULL, 0}. */
static raw_t member_text(const char *s, size_t len, const char *quoted_key) {
    raw_t r = {quoted_key, NULL, 0};
    rs_json_object_members(s, len, match_member, &r);
    return r;
}

/* A CloudEvent taken apart, as both TopicEventRequest and the bulk TopicEventCERequest carry it. */
typedef struct {
    json_t *ev;
    const char *id, *source, *type, *specversion, *datacontenttype, *topic, *pubsubname;
    ProtobufCBinaryData data;
    unsigned char *owned;
    rs_buf_t extensions;  /* google.protobuf.Struct of the other attributes */
} ce_t;

/* The attributes TopicEventRequest carries in fields of their own; every other one goes into `extensions`
 * (daprd's cloudEventDuplicateKeys). */
static const char *const CE_OWN_FIELDS[] = {"id", "source", "type", "specversion", "datacontenttype", "data",
                                            "data_base64", NULL};

static void ce_free(ce_t *ce) {
    json_decref(ce->ev);
    free(ce->owned);
    rs_buf_free(&ce->extensions);
}

/* daprd's order: data_base64 first, else data; JSON data as JSON text, a string with a non-JSON content type as
 * its text. JSON data is sent as the event holds it, byte for byte, not re-encoded (which would change 9.99 or a
 * 20-digit integer). Returns 0, or -1 with a reason when the event cannot be sent. */
static int ce_parse(ce_t *ce, const char *text, size_t len, char *why, size_t whylen) {
    memset(ce, 0, sizeof *ce);
    ce->ev = rs_json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(ce->ev)) {
        snprintf(why, whylen, "the event is not a JSON object");
        ce_free(ce);
        return -1;
    }
    ce->id = member(ce->ev, "id");
    ce->source = member(ce->ev, "source");
    ce->type = member(ce->ev, "type");
    ce->specversion = member(ce->ev, "specversion");
    ce->datacontenttype = member(ce->ev, "datacontenttype");
    ce->topic = member(ce->ev, "topic");
    ce->pubsubname = member(ce->ev, "pubsubname");
    json_t *b64 = json_object_get(ce->ev, "data_base64"), *data = json_object_get(ce->ev, "data");
    if (json_is_string(b64)) {
        size_t n = 0;
        if (rs_base64_decode(json_string_value(b64), json_string_length(b64), &ce->owned, &n) != 0) {
            snprintf(why, whylen, "data_base64 is not valid base64");
            ce_free(ce);
            return -1;
        }
        ce->data = (ProtobufCBinaryData){n, ce->owned};
    } else if (json_is_string(data) && !strstr(ce->datacontenttype, "json")) {
        ce->data = (ProtobufCBinaryData){json_string_length(data), (uint8_t *)json_string_value(data)};
    } else if (data && !json_is_null(data)) {
        raw_t raw = member_text(text, len, "\"data\"");
        ce->data = (ProtobufCBinaryData){raw.len, (uint8_t *)raw.text};
    }
    rs_buf_init(&ce->extensions, SIZE_MAX); /* bounded by the event */
    rs_pb_struct_from_json(ce->ev, CE_OWN_FIELDS, &ce->extensions);
    return 0;
}

int rs_app_grpc_event_ok(const char *event, size_t len, char *why, size_t whylen) {
    ce_t ce;
    if (ce_parse(&ce, event, len, why, whylen) != 0) return -1;
    ce_free(&ce);
    return 0;
}

static uint8_t *topic_request(const rs_app_request_t *req, size_t *len, char *why, size_t whylen) {
    ce_t ce;
    if (ce_parse(&ce, req->body ? req->body : "", req->body ? req->body_len : 0, why, whylen) != 0) return NULL;
    Dapr__Proto__Runtime__V1__TopicEventRequest r = DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_REQUEST__INIT;
    r.id = (char *)ce.id;
    r.source = (char *)ce.source;
    r.type = (char *)ce.type;
    r.spec_version = (char *)ce.specversion;
    r.data_content_type = (char *)ce.datacontenttype;
    r.topic = (char *)ce.topic;
    r.pubsub_name = (char *)ce.pubsubname;
    r.path = (char *)(req->path ? req->path : "");
    r.data = ce.data;
    r.extensions = (ProtobufCBinaryData){ce.extensions.len, (uint8_t *)ce.extensions.data};
    uint8_t *out = pack(&r.base, len);
    ce_free(&ce);
    return out;
}

/* ---- bulk: the body bulk_delivery.c builds for HTTP apps ({id, type, topic, pubsubname, entries: [{entryId,
 * event, metadata, contentType}]}) taken apart into TopicEventBulkRequest ---- */

typedef Dapr__Proto__Runtime__V1__TopicEventBulkRequestEntry bulk_entry_t;
typedef Dapr__Proto__Runtime__V1__TopicEventBulkRequestEntry__MetadataEntry bulk_md_t;

typedef struct {
    size_t n, cap;
    bulk_entry_t *e;
    Dapr__Proto__Runtime__V1__TopicEventCERequest *ce_msg;
    ce_t *ce;
    bulk_md_t **md;      /* per entry: its metadata entries */
    bulk_md_t ***mdp;
    int failed;
    char *why;
    size_t whylen;
} bulk_t;

static void bulk_entry(void *arg, const char *text, size_t len) {
    bulk_t *b = arg;
    if (b->failed || b->n == b->cap) return;
    size_t i = b->n;
    json_t *ej = rs_json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    raw_t ev = member_text(text, len, "\"event\"");
    if (!json_is_object(ej) || !ev.text || ce_parse(&b->ce[i], ev.text, ev.len, b->why, b->whylen) != 0) {
        if (!b->why[0]) snprintf(b->why, b->whylen, "bulk entry %zu is not an object with an event", i);
        json_decref(ej);
        b->failed = 1;
        return;
    }
    ce_t *ce = &b->ce[i];
    Dapr__Proto__Runtime__V1__TopicEventCERequest *m = &b->ce_msg[i];
    dapr__proto__runtime__v1__topic_event_cerequest__init(m);
    m->id = (char *)ce->id;
    m->source = (char *)ce->source;
    m->type = (char *)ce->type;
    m->spec_version = (char *)ce->specversion;
    m->data_content_type = (char *)ce->datacontenttype;
    m->data = ce->data;
    m->extensions = (ProtobufCBinaryData){ce->extensions.len, (uint8_t *)ce->extensions.data};
    bulk_entry_t *e = &b->e[i];
    dapr__proto__runtime__v1__topic_event_bulk_request_entry__init(e);
    e->entry_id = rs_strdup(member(ej, "entryId"));
    e->content_type = rs_strdup(member(ej, "contentType"));
    e->cloud_event = m;
    json_t *md = json_object_get(ej, "metadata");
    size_t nm = json_is_object(md) ? json_object_size(md) : 0;
    b->md[i] = rs_xcalloc(nm ? nm : 1, sizeof *b->md[i]);
    b->mdp[i] = rs_xcalloc(nm ? nm : 1, sizeof *b->mdp[i]);
    const char *k;
    json_t *v;
    json_object_foreach(md, k, v) {
        if (!json_is_string(v)) continue;
        bulk_md_t *x = &b->md[i][e->n_metadata];
        dapr__proto__runtime__v1__topic_event_bulk_request_entry__metadata_entry__init(x);
        x->key = rs_strdup(k);
        x->value = rs_strdup(json_string_value(v));
        b->mdp[i][e->n_metadata++] = x;
    }
    e->metadata = b->mdp[i];
    json_decref(ej);
    b->n++;
}

static uint8_t *bulk_request(const rs_app_request_t *req, size_t *len, char *why, size_t whylen) {
    const char *body = req->body ? req->body : "";
    size_t blen = req->body ? req->body_len : 0;
    json_t *j = rs_json_loadb(body, blen, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    json_t *entries = json_object_get(j, "entries");
    raw_t raw = member_text(body, blen, "\"entries\"");
    if (!json_is_array(entries) || !raw.text) {
        snprintf(why, whylen, "the bulk request has no entries");
        json_decref(j);
        return NULL;
    }
    bulk_t b = {.cap = json_array_size(entries), .why = why, .whylen = whylen};
    size_t cap = b.cap ? b.cap : 1;
    b.e = rs_xcalloc(cap, sizeof *b.e);
    b.ce_msg = rs_xcalloc(cap, sizeof *b.ce_msg);
    b.ce = rs_xcalloc(cap, sizeof *b.ce);
    b.md = rs_xcalloc(cap, sizeof *b.md);
    b.mdp = rs_xcalloc(cap, sizeof *b.mdp);
    why[0] = '\0';
    rs_json_array_items(raw.text, raw.len, bulk_entry, &b);
    uint8_t *out = NULL;
    if (!b.failed) {
        Dapr__Proto__Runtime__V1__TopicEventBulkRequest r = DAPR__PROTO__RUNTIME__V1__TOPIC_EVENT_BULK_REQUEST__INIT;
        bulk_entry_t **ep = rs_xcalloc(cap, sizeof *ep);
        for (size_t i = 0; i < b.n; i++) ep[i] = &b.e[i];
        r.id = (char *)member(j, "id");
        r.type = (char *)member(j, "type");
        r.topic = (char *)member(j, "topic");
        r.pubsub_name = (char *)member(j, "pubsubname");
        r.path = (char *)(req->path ? req->path : "");
        r.n_entries = b.n;
        r.entries = ep;
        out = pack(&r.base, len);
        free(ep);
    }
    for (size_t i = 0; i < b.n; i++) {
        ce_free(&b.ce[i]);
        free(b.e[i].entry_id);
        free(b.e[i].content_type);
        for (size_t k = 0; k < b.e[i].n_metadata; k++) {
            free(b.md[i][k].key);
            free(b.md[i][k].value);
        }
        free(b.md[i]);
        free(b.mdp[i]);
    }
    free(b.e);
    free(b.ce_msg);
    free(b.ce);
    free(b.md);
    free(b.mdp);
    json_decref(j);
    return out;
}

static uint8_t *binding_request(const rs_app_request_t *req, size_t *len) {
    Dapr__Proto__Runtime__V1__BindingEventRequest r = DAPR__PROTO__RUNTIME__V1__BINDING_EVENT_REQUEST__INIT;
    r.name = (char *)(req->name ? req->name : "");
    r.data.data = (uint8_t *)req->body;
    r.data.len = req->body ? req->body_len : 0;
    size_t n = req->headers ? req->headers->len : 0;
    Dapr__Proto__Runtime__V1__BindingEventRequest__MetadataEntry *e = rs_xcalloc(n ? n : 1, sizeof *e);
    Dapr__Proto__Runtime__V1__BindingEventRequest__MetadataEntry **ep = rs_xcalloc(n ? n : 1, sizeof *ep);
    for (size_t i = 0; i < n; i++) {
        const rs_kv_t *kv = &req->headers->items[i];
        if (strcasecmp(kv->key, "Content-Type") == 0) continue; /* the channel's, not the binding's */
        dapr__proto__runtime__v1__binding_event_request__metadata_entry__init(&e[r.n_metadata]);
        e[r.n_metadata].key = kv->key;
        e[r.n_metadata].value = kv->value;
        ep[r.n_metadata] = &e[r.n_metadata];
        r.n_metadata++;
    }
    r.metadata = ep;
    uint8_t *out = pack(&r.base, len);
    free(ep);
    free(e);
    return out;
}

/* ---- replies ---- */

/* daprd's HTTPStatusFromCode: the HTTP status a gRPC status stands for. */
static int http_status_of(int code) {
    static const int map[17] = {200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401};
    return code >= 0 && code <= 16 ? map[code] : 500;
}

static void set_body(rs_http_response_t *resp, const void *data, size_t len) {
    rs_buf_init(&resp->body, len + 1);
    if (len) rs_buf_append(&resp->body, data, len);
}

static void set_json(rs_http_response_t *resp, int status, json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    resp->status = status;
    set_body(resp, s, s ? strlen(s) : 0);
    free(s);
    rs_kvlist_set(&resp->headers, "Content-Type", "application/json");
}

/* A reply that does not decode as the method's message. */
static void undecodable(rs_http_response_t *resp, rs_outcome_t *o, const char *what) {
    resp->result = RS_HTTP_ERR_TRANSPORT;
    snprintf(resp->error, sizeof resp->error, "the app's %s reply does not decode", what);
    rs_outcome_error(o, 0, 0, "%s", resp->error);
}

/* The app's reply message, decoded strictly (http/pb_decode.h), or NULL. */
static void *decode_reply(const ProtobufCMessageDescriptor *d, const rs_grpc_response_t *gr) {
    return rs_pb_decode(d, NULL, gr->reply.len, (const uint8_t *)gr->reply.data);
}

static void invoke_reply(rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    if (gr->code != 0) {
        /* as daprd answers an HTTP caller: the status the code stands for, the google.rpc.Status as JSON */
        set_json(resp, http_status_of(gr->code),
                 json_pack("{s:i, s:s, s:[]}", "code", gr->code, "message", gr->message, "details"));
        /* and the status itself, for a gRPC caller (app_channel.h: the gRPC API passes it on as daprd does) */
        char num[12], enc[sizeof gr->message * 3 + 1];
        snprintf(num, sizeof num, "%d", gr->code);
        rs_kvlist_set(&resp->headers, RS_APP_GRPC_STATUS, num);
        rs_kvlist_set(&resp->headers, RS_APP_GRPC_MESSAGE, rs_grpc_message_encode(gr->message, enc, sizeof enc));
        const char *details = rs_kvlist_get(&gr->metadata, "grpc-status-details-bin");
        if (details) rs_kvlist_set(&resp->headers, RS_APP_GRPC_DETAILS, details);
        rs_outcome_error(o, gr->code, 0, "app answered with gRPC status %d: %s", gr->code, gr->message);
        return;
    }
    Dapr__Proto__Common__V1__InvokeResponse *r =
        decode_reply(&dapr__proto__common__v1__invoke_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "OnInvoke");
    resp->status = 200;
    if (r->data) set_body(resp, r->data->value.data, r->data->value.len);
    else set_body(resp, NULL, 0);
    if (r->content_type && *r->content_type) rs_kvlist_set(&resp->headers, "Content-Type", r->content_type);
    dapr__proto__common__v1__invoke_response__free_unpacked(r, NULL);
    rs_outcome_ok(o);
}

static const char *const EVENT_STATUS[] = {"SUCCESS", "RETRY", "DROP"};

/* An error status from OnTopicEvent or OnBulkTopicEventAlpha1, as daprd treats it: UNIMPLEMENTED drops (HTTP's
 * 404, which the delivery paths drop on), any other is retried. Returns 1 if gr was an error. */
static int event_error(pending_t *p, rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    if (gr->code == 0) return 0;
    set_body(resp, gr->message, strlen(gr->message));
    if (gr->code == GRPC_UNIMPLEMENTED) {
        RS_WARN(SCOPE, "non-retriable error returned from app while processing pub/sub event on %s: %s", p->path,
                gr->message);
        resp->status = 404;
        rs_outcome_ok(o);
    } else {
        resp->status = http_status_of(gr->code);
        rs_outcome_error(o, resp->status, 0, "app answered with gRPC status %d: %s", gr->code, gr->message);
    }
    return 1;
}

static void topic_reply(pending_t *p, rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    if (event_error(p, gr, resp, o)) return;
    Dapr__Proto__Runtime__V1__TopicEventResponse *r =
        decode_reply(&dapr__proto__runtime__v1__topic_event_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "OnTopicEvent");
    int st = (int)r->status;
    dapr__proto__runtime__v1__topic_event_response__free_unpacked(r, NULL);
    /* an unknown status is retried, as daprd does (and as the HTTP path treats an unknown string) */
    set_json(resp, 200, json_pack("{s:s}", "status", st >= 0 && st <= 2 ? EVENT_STATUS[st] : "UNKNOWN"));
    rs_outcome_ok(o);
}

static void bulk_reply(pending_t *p, rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    if (event_error(p, gr, resp, o)) return;
    Dapr__Proto__Runtime__V1__TopicEventBulkResponse *r =
        decode_reply(&dapr__proto__runtime__v1__topic_event_bulk_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "OnBulkTopicEventAlpha1");
    json_t *st = json_array();
    for (size_t i = 0; i < r->n_statuses; i++) {
        int v = (int)r->statuses[i]->status;
        json_array_append_new(st, json_pack("{s:s, s:s}", "entryId", r->statuses[i]->entry_id, "status",
                                            v >= 0 && v <= 2 ? EVENT_STATUS[v] : "UNKNOWN"));
    }
    dapr__proto__runtime__v1__topic_event_bulk_response__free_unpacked(r, NULL);
    set_json(resp, 200, json_pack("{s:o}", "statuses", st));
    rs_outcome_ok(o);
}

/* The decoded reply stays in *out (freed by the caller after the reply callback): its `to` list is handed to the
 * callback through fw. */
static void binding_reply(rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o,
                          Dapr__Proto__Runtime__V1__BindingEventResponse **out, rs_app_binding_forward_t *fw) {
    if (gr->code != 0) {
        resp->status = http_status_of(gr->code);
        set_body(resp, gr->message, strlen(gr->message));
        rs_outcome_error(o, gr->code, 0, "app answered with gRPC status %d: %s", gr->code, gr->message);
        return;
    }
    Dapr__Proto__Runtime__V1__BindingEventResponse *r =
        decode_reply(&dapr__proto__runtime__v1__binding_event_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "OnBindingEvent");
    resp->status = 200;
    set_body(resp, r->data.data, r->data.len);
    fw->to = r->to;
    fw->n_to = r->n_to;
    fw->parallel = r->concurrency ==
                   DAPR__PROTO__RUNTIME__V1__BINDING_EVENT_RESPONSE__BINDING_EVENT_CONCURRENCY__PARALLEL;
    *out = r;
    rs_outcome_ok(o);
}

static void probe_reply(pending_t *p, rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    rs_outcome_ok(o); /* the prober judges the status */
    if (gr->code != 0) {
        resp->status = 404;
        set_body(resp, gr->message, strlen(gr->message));
        return;
    }
    Dapr__Proto__Runtime__V1__ListInputBindingsResponse *r =
        decode_reply(&dapr__proto__runtime__v1__list_input_bindings_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "ListInputBindings");
    resp->status = 404;
    for (size_t i = 0; i < r->n_bindings; i++)
        if (p->name && strcasecmp(r->bindings[i], p->name) == 0) resp->status = 200;
    set_body(resp, NULL, 0);
    dapr__proto__runtime__v1__list_input_bindings_response__free_unpacked(r, NULL);
}

static json_t *subscription_json(const Dapr__Proto__Runtime__V1__TopicSubscription *s) {
    json_t *o = json_pack("{s:s, s:s}", "pubsubname", s->pubsub_name, "topic", s->topic);
    json_t *md = json_object();
    for (size_t i = 0; i < s->n_metadata; i++)
        json_object_set_new(md, s->metadata[i]->key, json_string(s->metadata[i]->value));
    json_object_set_new(o, "metadata", md);
    json_t *rules = json_array();
    const char *def = "";
    if (s->routes) {
        for (size_t i = 0; i < s->routes->n_rules; i++)
            json_array_append_new(rules, json_pack("{s:s, s:s}", "match", s->routes->rules[i]->match, "path",
                                                   s->routes->rules[i]->path));
        def = s->routes->default_;
    }
    /* A gRPC app needs no path (daprd then sends an empty one): give such a subscription the route "/". */
    if (!*def && json_array_size(rules) == 0) def = "/";
    json_object_set_new(o, "routes", json_pack("{s:o, s:s}", "rules", rules, "default", def));
    if (*s->dead_letter_topic) json_object_set_new(o, "deadLetterTopic", json_string(s->dead_letter_topic));
    if (s->bulk_subscribe)
        json_object_set_new(o, "bulkSubscribe",
                            json_pack("{s:b, s:i, s:i}", "enabled", s->bulk_subscribe->enabled, "maxMessagesCount",
                                      s->bulk_subscribe->max_messages_count, "maxAwaitDurationMs",
                                      s->bulk_subscribe->max_await_duration_ms));
    return o;
}

static void subscriptions_reply(rs_grpc_response_t *gr, rs_http_response_t *resp, rs_outcome_t *o) {
    rs_outcome_ok(o); /* the fetcher judges the status */
    if (gr->code != 0) {
        /* UNIMPLEMENTED: the app subscribes to nothing (HTTP's 404) */
        resp->status = gr->code == GRPC_UNIMPLEMENTED ? 404 : http_status_of(gr->code);
        set_body(resp, gr->message, strlen(gr->message));
        return;
    }
    Dapr__Proto__Runtime__V1__ListTopicSubscriptionsResponse *r =
        decode_reply(&dapr__proto__runtime__v1__list_topic_subscriptions_response__descriptor, gr);
    if (!r) return undecodable(resp, o, "ListTopicSubscriptions");
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_subscriptions; i++) json_array_append_new(arr, subscription_json(r->subscriptions[i]));
    dapr__proto__runtime__v1__list_topic_subscriptions_response__free_unpacked(r, NULL);
    set_json(resp, 200, arr);
}

static void on_done(void *arg, rs_grpc_response_t *gr) {
    pending_t *p = arg;
    rs_app_call_t *call = p->call;
    rs_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    rs_outcome_t o;
    Dapr__Proto__Runtime__V1__BindingEventResponse *binding = NULL;
    rs_app_binding_forward_t forward = {0};
    count_call(p, gr);
    if (gr->result != RS_HTTP_OK) {
        /* the transport failed: the HTTP channel's result and words, so the caller's retries work the same */
        resp.result = gr->result;
        snprintf(resp.error, sizeof resp.error, "%s", gr->error);
        rs_outcome_error(&o, 0, 0, "%s", gr->error);
    } else {
        switch (p->kind) {
        case RS_APP_INVOKE: invoke_reply(gr, &resp, &o); break;
        case RS_APP_TOPIC_EVENT: topic_reply(p, gr, &resp, &o); break;
        case RS_APP_BULK_TOPIC_EVENT: bulk_reply(p, gr, &resp, &o); break;
        case RS_APP_BINDING_EVENT: binding_reply(gr, &resp, &o, &binding, &forward); break;
        case RS_APP_BINDING_PROBE: probe_reply(p, gr, &resp, &o); break;
        case RS_APP_SUBSCRIPTIONS: subscriptions_reply(gr, &resp, &o); break;
        case RS_APP_HEALTH_PROBE:
            resp.status = gr->code == 0 ? 200 : http_status_of(gr->code);
            set_body(&resp, gr->message, strlen(gr->message));
            rs_app_outcome(&resp, RS_APP_ACCEPT_2XX, &o);
            break;
        default: /* not sent: see rs_app_grpc_call */ break;
        }
    }
    /* The reply may start the next attempt on the same call: the call is free before it runs. */
    p->cc = NULL;
    pending_free(p);
    call->forward_ = forward.n_to ? &forward : NULL; /* the call may be gone after the callback: not reset */
    call->reply_(call->arg_, &resp, &o);
    if (binding) dapr__proto__runtime__v1__binding_event_response__free_unpacked(binding, NULL);
    rs_buf_free(&resp.body);
    rs_kvlist_free(&resp.headers);
}

int rs_app_grpc_call(rs_app_grpc_t *g, rs_app_call_t *call, const rs_app_request_t *req, char *why, size_t whylen) {
    static const char *const methods[] = {
        [RS_APP_INVOKE] = SERVICE "OnInvoke",
        [RS_APP_TOPIC_EVENT] = SERVICE "OnTopicEvent",
        [RS_APP_BULK_TOPIC_EVENT] = "/dapr.proto.runtime.v1.AppCallbackAlpha/OnBulkTopicEventAlpha1",
        [RS_APP_BINDING_EVENT] = SERVICE "OnBindingEvent",
        [RS_APP_BINDING_PROBE] = SERVICE "ListInputBindings",
        [RS_APP_SUBSCRIPTIONS] = SERVICE "ListTopicSubscriptions",
        [RS_APP_HEALTH_PROBE] = "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
    };
    size_t len = 0;
    uint8_t *msg = NULL;
    switch (req->kind) {
    case RS_APP_INVOKE: msg = invoke_request(req, &len); break;
    case RS_APP_TOPIC_EVENT: msg = topic_request(req, &len, why, whylen); break;
    case RS_APP_BULK_TOPIC_EVENT: msg = bulk_request(req, &len, why, whylen); break;
    case RS_APP_BINDING_EVENT: msg = binding_request(req, &len); break;
    case RS_APP_BINDING_PROBE:
    case RS_APP_SUBSCRIPTIONS:
    case RS_APP_HEALTH_PROBE: msg = rs_xmalloc(1); break; /* google.protobuf.Empty: no bytes */
    default: snprintf(why, whylen, "unknown kind of app call %d", (int)req->kind); break;
    }
    if (!msg) return -1;
    pending_t *p = rs_xcalloc(1, sizeof *p);
    p->g = g;
    p->call = call;
    p->method = methods[req->kind];
    p->sent = len;
    p->start_us = g->metrics ? rs_now_us() : 0;
    p->kind = req->kind;
    p->name = req->name ? rs_strdup(req->name) : NULL;
    p->path = rs_strdup(req->path ? req->path : "");
    p->next = g->pending;
    if (p->next) p->next->prev = p;
    g->pending = p;
    call->grpc_ = p;
    rs_kvlist_t md = {0};
    add_metadata(&md, req->headers);
    if (g->token && req->kind != RS_APP_HEALTH_PROBE) rs_kvlist_add(&md, "dapr-api-token", g->token);
    rs_grpc_request_t gr = {.path = methods[req->kind], .metadata = &md, .message = msg, .message_len = len,
                            .timeout_ms = req->timeout_ms};
    p->cc = rs_grpc_client_call(g->client, &gr, on_done, p);
    rs_kvlist_free(&md);
    free(msg);
    return 0;
}

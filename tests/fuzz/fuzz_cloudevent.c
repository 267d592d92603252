/* CloudEvent envelopes (messaging/cloudevent.c): what publish builds from a client's body and metadata, and what
 * a subscriber's sidecar reads back from the broker. Input: a selector byte (the Content-Type), the
 * ttlInSeconds metadata up to '\n', the cloudevent.type metadata up to '\n', then the body.
 * Invariants: an envelope is a JSON object (unless the body holds numbers jansson cannot read, which the envelope
 * keeps as written) carrying topic and pubsubname; an event with a positive TTL has not expired when it is
 * built; compacting valid JSON keeps its value; the raw-payload event is valid JSON. */
#include <jansson.h>

#include "fuzz.h"
#include "sidecar/messaging/cloudevent.h"

static const char *const content_types[] = {
    NULL, "application/json", "application/cloudevents+json", "application/octet-stream", "text/plain",
    "application/json; charset=utf-8", "application/cloudevents+json; charset=utf-8", "application/x-protobuf",
};

static const char *line(const uint8_t **data, size_t *size, char *out, size_t cap) {
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(out, *data, k);
    out[k] = '\0';
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const time_t now = 1764676800; /* 2025-12-02T12:00:00Z */
    unsigned sel = fz_take_byte(&data, &size);
    char ttl[64], type[128];
    line(&data, &size, ttl, sizeof ttl);
    line(&data, &size, type, sizeof type);
    char *body = fz_cstr(data, size);

    rs_kvlist_t md = {0};
    if (ttl[0]) rs_kvlist_set(&md, "ttlInSeconds", ttl);
    if (type[0]) rs_kvlist_set(&md, "cloudevent.type", type);
    const char *ct = content_types[sel % (sizeof content_types / sizeof *content_types)];
    rs_ce_input_t in = {.pubsub_name = "pubsub", .topic = "orders", .app_id = "app", .content_type = ct,
                        .data = body, .len = size, .metadata = &md, .now = now};
    char err[256] = "";
    size_t elen = 0;
    char *env = rs_cloudevent_envelope(&in, &elen, err, sizeof err);
    json_t *body_json = json_loadb(body, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    long long ttl_s;
    char ttl_err[160];
    int ttl_bad = rs_cloudevent_ttl(&md, &ttl_s, ttl_err, sizeof ttl_err) != 0;
    if (!env) {
        FZ_CHECK((rs_content_type_is_cloudevent(ct) || ttl_bad) && err[0]);
    } else {
        FZ_CHECK(env[elen] == '\0');
        json_t *ev = json_loadb(env, elen, JSON_ALLOW_NUL, NULL);
        if (!ev) {
            /* Only numbers jansson cannot hold (kept byte for byte) may make the envelope unreadable to it. */
            FZ_CHECK(!body_json && (rs_content_type_is_json(ct) || rs_content_type_is_cloudevent(ct)));
        } else {
            FZ_CHECK(json_is_object(ev));
            FZ_CHECK(json_is_string(json_object_get(ev, "topic")));
            FZ_CHECK(json_is_string(json_object_get(ev, "pubsubname")));
            long long t = 0;
            char *end = NULL;
            t = strtoll(ttl, &end, 10);
            if (ttl[0] && *end == '\0' && t > 0 && json_object_get(ev, "expiration"))
                FZ_CHECK(!rs_cloudevent_expired(ev, now));
            json_decref(ev);
        }
        free(env);
    }

    /* What a subscriber reads from the broker: any JSON object. */
    if (json_is_object(body_json)) (void)rs_cloudevent_expired(body_json, now);
    if (body_json) {
        size_t clen = 0;
        char *compact = rs_json_compact_text(body, size, &clen);
        FZ_CHECK(compact != NULL);
        json_t *again = json_loadb(compact, clen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        FZ_CHECK(again && json_equal(again, body_json));
        json_decref(again);
        free(compact);
    }
    json_decref(body_json);

    size_t rlen = 0;
    char *raw = rs_cloudevent_from_raw(body, size, "orders", "pubsub", &rlen);
    json_t *rj = json_loadb(raw, rlen, 0, NULL);
    FZ_CHECK(json_is_object(rj));
    json_decref(rj);
    free(raw);

    rs_kvlist_free(&md);
    free(body);
    return 0;
}

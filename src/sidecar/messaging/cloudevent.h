/* SPDX-License-Identifier: MIT */
/* The CloudEvent envelope Dapr wraps around published data (spec §2.2).
 *
 * The envelope is built as text, not through a jansson tree, so that JSON
 * data keeps its numbers exactly as the publisher wrote them (jansson would
 * turn 9.99 into 9.9900000000000002 and reject integers beyond int64). Keys
 * are written in sorted order, as Go's encoding of a map does. */
#ifndef RS_SIDECAR_CLOUDEVENT_H
#define RS_SIDECAR_CLOUDEVENT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "core/str.h"

#define RS_CE_TYPE_DEFAULT "com.dapr.event.sent"
#define RS_CE_SOURCE_DEFAULT "Dapr"
#define RS_CE_SPECVERSION "1.0"

typedef struct {
    const char *pubsub_name;
    const char *topic;
    const char *app_id;          /* default `source` */
    const char *content_type;    /* the publish request's Content-Type, or NULL (= text/plain) */
    const char *data;            /* the request body */
    size_t len;
    const rs_kvlist_t *metadata; /* publish metadata (cloudevent.* overrides, ttlInSeconds); may be NULL */
    const char *traceparent;     /* incoming W3C trace context, or NULL (a new one is made) */
    const char *tracestate;      /* may be NULL */
    time_t now;                  /* 0 = the current time (tests pass a fixed one) */
} rs_ce_input_t;

/** Largest ttlInSeconds accepted: Go's largest duration in whole seconds (daprd's time.Duration would overflow
 *  beyond it). */
#define RS_CE_MAX_TTL_SECONDS 9223372036LL

/** Reads the publish metadata's ttlInSeconds into *ttl (0 when absent; <= 0 means none). Returns 0, or -1 with a
 *  reason when it is not a whole number or is above RS_CE_MAX_TTL_SECONDS. */
int rs_cloudevent_ttl(const rs_kvlist_t *metadata, long long *ttl, char *err, size_t errlen);

/** Builds the envelope bytes to hand to the broker. Returns a malloc'd NUL-terminated JSON text and its length,
 *  or NULL with a reason in err (an `application/cloudevents+json` body that is not a JSON object, or a
 *  ttlInSeconds rs_cloudevent_ttl refuses). */
char *rs_cloudevent_envelope(const rs_ce_input_t *in, size_t *outlen, char *err, size_t errlen);

/** The CloudEvent a rawPayload subscription delivers: random id, datacontenttype application/octet-stream, the
 *  payload in data_base64. Returns malloc'd JSON text. */
char *rs_cloudevent_from_raw(const char *data, size_t len, const char *topic, const char *pubsub_name,
                             size_t *outlen);

/** Formats t as RFC 3339 in the local time zone, Go style ("...Z" for UTC, else "+hh:mm"). */
void rs_cloudevent_time(time_t t, char *out, size_t n);

/** 1 if the content type is application/json (parameters allowed; "+json" suffixes do not count). */
int rs_content_type_is_json(const char *ct);
/** 1 for application/octet-stream and protobuf CloudEvents: the data goes to data_base64. */
int rs_content_type_is_binary(const char *ct);
/** 1 for application/cloudevents+json: the body already is a CloudEvent. */
int rs_content_type_is_cloudevent(const char *ct);

/** 1 if the event (parsed JSON object) carries an `expiration` (RFC 3339) that lies before `now`. */
int rs_cloudevent_expired(const json_t *event, time_t now);
/** The same for the event's "expiration" string (NULL: none). */
int rs_cloudevent_expired_at(const char *expiration, time_t now);

/** Copies the JSON text `in` without insignificant whitespace into a new malloc'd string (numbers and strings are
 *  kept byte for byte). `in` must be valid JSON. */
char *rs_json_compact_text(const char *in, size_t len, size_t *outlen);

#endif

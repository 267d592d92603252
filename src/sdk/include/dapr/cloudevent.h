/* SPDX-License-Identifier: MIT */
/* libdapr CloudEvent unwrapping: what a subscription handler receives.
 *
 * Dapr delivers a topic message as a CloudEvent (JSON). dapr_cloudevent_parse
 * pulls out the envelope fields and the payload:
 *   - `data_base64` present → data is the decoded bytes;
 *   - `data` is a JSON string and datacontenttype is not JSON → data is the
 *     string's content (what the publisher sent as text);
 *   - otherwise → data is the JSON text of `data` (data_is_json = 1).
 * A body that is not a CloudEvent (no "specversion") is given whole as data. */
#ifndef DAPR_CLOUDEVENT_H
#define DAPR_CLOUDEVENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed event. Strings are owned by the event (NULL when absent); release with dapr_event_clear. */
typedef struct dapr_event {
    char *id, *source, *type, *specversion, *subject, *time;
    char *topic, *pubsubname, *datacontenttype;
    char *data;              /**< the payload, NUL-terminated (may contain NULs when from data_base64) */
    size_t data_len;
    int data_is_json;        /**< 1 when data is JSON text */
    int is_cloudevent;       /**< 0 when the body had no "specversion" (data = the whole body) */
    const char *raw;         /**< the delivered body, borrowed: valid only during the handler */
    size_t raw_len;
} dapr_event_t;

/** Parses body (len bytes). Returns 0, or -1 when the body is a CloudEvent-looking
 *  JSON object that is malformed (bad data_base64); *ev is usable either way. */
int dapr_cloudevent_parse(const char *body, size_t len, dapr_event_t *ev);

/** Frees the strings of *ev and zeroes it. */
void dapr_event_clear(dapr_event_t *ev);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MIT */
/* CloudEvent unwrapping for subscription handlers (see cloudevent.h for the rules). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dapr/cloudevent.h"
#include "internal.h"

static char *field(json_t *o, const char *name) {
    const char *s = json_string_value(json_object_get(o, name));
    return s ? dapri_xstrdup(s) : NULL;
}

/* "application/json", "application/json; charset=utf-8", "application/cloudevents+json", "text/x+json". */
static int is_json_type(const char *ct) {
    if (!ct) return 0;
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ') n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n >= 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

static int b64val(int ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional. Returns -1 on a bad character. */
static int b64decode(const char *in, char **out, size_t *outlen) {
    size_t n = strlen(in);
    char *o = dapri_xmalloc(n / 4 * 3 + 4);
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=' || in[i] == '\n' || in[i] == '\r') continue;
        int v = b64val((unsigned char)in[i]);
        if (v < 0) {
            free(o);
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    o[len] = '\0';
    *out = o;
    *outlen = len;
    return 0;
}

static void whole_body(const char *body, size_t len, dapr_event_t *ev) {
    ev->data = dapri_xstrndup(body ? body : "", body ? len : 0);
    ev->data_len = body ? len : 0;
    json_t *probe = len ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    ev->data_is_json = probe != NULL;
    json_decref(probe);
}

int dapr_cloudevent_parse(const char *body, size_t len, dapr_event_t *ev) {
    memset(ev, 0, sizeof *ev);
    ev->raw = body;
    ev->raw_len = len;
    json_t *o = len ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "specversion"))) {
        json_decref(o);
        whole_body(body, len, ev);
        return 0;
    }
    ev->is_cloudevent = 1;
    ev->id = field(o, "id");
    ev->source = field(o, "source");
    ev->type = field(o, "type");
    ev->specversion = field(o, "specversion");
    ev->subject = field(o, "subject");
    ev->time = field(o, "time");
    ev->topic = field(o, "topic");
    ev->pubsubname = field(o, "pubsubname");
    ev->datacontenttype = field(o, "datacontenttype");

    int rc = 0;
    json_t *data = json_object_get(o, "data");
    const char *b64 = json_string_value(json_object_get(o, "data_base64"));
    if (b64) {
        if (b64decode(b64, &ev->data, &ev->data_len) != 0) {
            ev->data = dapri_xstrdup("");
            ev->data_len = 0;
            rc = -1;
        }
    } else if (json_is_string(data) && !is_json_type(ev->datacontenttype)) {
        ev->data_len = json_string_length(data);
        ev->data = dapri_xstrndup(json_string_value(data), ev->data_len);
    } else if (data) {
        ev->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!ev->data) ev->data = dapri_xstrdup("null");
        ev->data_len = strlen(ev->data);
        ev->data_is_json = 1;
    } else {
        ev->data = dapri_xstrdup("");
    }
    json_decref(o);
    return rc;
}

void dapr_event_clear(dapr_event_t *ev) {
    if (!ev) return;
    free(ev->id);
    free(ev->source);
    free(ev->type);
    free(ev->specversion);
    free(ev->subject);
    free(ev->time);
    free(ev->topic);
    free(ev->pubsubname);
    free(ev->datacontenttype);
    free(ev->data);
    memset(ev, 0, sizeof *ev);
}

/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/cloudevent.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/json_util.h"

/* ---- content types ---- */

static int ct_prefix(const char *ct, const char *want) {
    if (!ct) return 0;
    while (*ct == ' ' || *ct == '\t') ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0) return 0;
    char c = ct[n];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

int rs_content_type_is_json(const char *ct) { return ct_prefix(ct, "application/json"); }

int rs_content_type_is_binary(const char *ct) {
    return ct_prefix(ct, "application/octet-stream") || ct_prefix(ct, "application/cloudevents+protobuf");
}

int rs_content_type_is_cloudevent(const char *ct) { return ct_prefix(ct, "application/cloudevents+json"); }

/* ---- text helpers ---- */

void rs_cloudevent_time(time_t t, char *out, size_t n) {
    struct tm tm;
    localtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) {
        snprintf(out, n, "%sZ", base);
    } else {
        char sign = off < 0 ? '-' : '+';
        if (off < 0) off = -off;
        snprintf(out, n, "%s%c%02ld:%02ld", base, sign, off / 3600, (off % 3600) / 60);
    }
}

/* 0, or -1 when t is not a date gmtime_r can represent (out is then untouched: never an uninitialised tm). */
static int utc_time(time_t t, char *out, size_t n) {
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -1;
    return strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

char *rs_json_compact_text(const char *in, size_t len, size_t *outlen) {
    char *out = rs_xmalloc(len + 1);
    size_t o = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len) out[o++] = in[++i];
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
            out[o++] = c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    if (outlen) *outlen = o;
    return out;
}

/* Validates JSON text the way Go would accept it (big integers allowed). */
static json_t *parse_lenient(const char *data, size_t len) {
    json_error_t e;
    return rs_json_loadb(data, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
}

/* ---- the envelope as (key, raw JSON value) pairs ---- */

typedef struct {
    char *key;
    char *raw;
} member_t;

typedef struct {
    member_t *m;
    size_t n, alloc;
} members_t;

static void members_put_raw(members_t *ms, const char *key, char *raw_owned) {
    for (size_t i = 0; i < ms->n; i++) {
        if (strcmp(ms->m[i].key, key) == 0) {
            free(ms->m[i].raw);
            ms->m[i].raw = raw_owned;
            return;
        }
    }
    if (ms->n == ms->alloc) {
        ms->alloc = ms->alloc ? ms->alloc * 2 : 16;
        ms->m = rs_xrealloc(ms->m, ms->alloc * sizeof *ms->m);
    }
    ms->m[ms->n].key = rs_strdup(key);
    ms->m[ms->n].raw = raw_owned;
    ms->n++;
}

/* The JSON string for s[0..len), byte for byte what jansson's compact dump of the UTF-8-sanitised text writes:
 * '"' and '\\' escaped, \b \f \n \r \t, other controls as \u00XX (upper-case hex), '/' and DEL as they are.
 * ASCII text is quoted here in one pass; text with a byte >= 0x80 goes through rs_utf8_sanitize and jansson,
 * which settle invalid sequences. (A CloudEvent has a dozen strings; doing each through a json_t and json_dumps
 * cost ~120,000 instructions per publish.) */
static int quote_ascii(rs_buf_t *b, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) return -1;
    rs_buf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        rs_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[8] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: snprintf(esc, sizeof esc, "\\u%04X", c); break;
        }
        rs_buf_puts(b, esc);
    }
    rs_buf_append(b, s + run, len - run);
    rs_buf_putc(b, '"');
    return 0;
}

static void quote_into(rs_buf_t *b, const char *s, size_t len) {
    if (quote_ascii(b, s, len) == 0) return;
    size_t clean_len;
    char *clean = rs_utf8_sanitize(s, len, &clean_len);
    json_t *j = json_stringn(clean, clean_len);
    free(clean);
    char *raw = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    rs_buf_puts(b, raw);
    free(raw);
}

static char *encode_string(const char *s, size_t len) {
    rs_buf_t b;
    rs_buf_init(&b, SIZE_MAX / 2);
    rs_buf_reserve(&b, len + 3);
    quote_into(&b, s, len);
    return rs_buf_steal(&b, NULL);
}

static void members_put_str(members_t *ms, const char *key, const char *value) {
    members_put_raw(ms, key, encode_string(value, strlen(value)));
}

static int members_has(const members_t *ms, const char *key) {
    for (size_t i = 0; i < ms->n; i++)
        if (strcmp(ms->m[i].key, key) == 0) return 1;
    return 0;
}

static int member_cmp(const void *a, const void *b) {
    return strcmp(((const member_t *)a)->key, ((const member_t *)b)->key);
}

static char *members_emit(members_t *ms, size_t *outlen) {
    qsort(ms->m, ms->n, sizeof *ms->m, member_cmp);
    rs_buf_t b;
    rs_buf_init(&b, SIZE_MAX / 2);
    rs_buf_puts(&b, "{");
    for (size_t i = 0; i < ms->n; i++) {
        if (i) rs_buf_putc(&b, ',');
        quote_into(&b, ms->m[i].key, strlen(ms->m[i].key));
        rs_buf_putc(&b, ':');
        rs_buf_puts(&b, ms->m[i].raw);
    }
    rs_buf_puts(&b, "}");
    size_t n;
    char *out = rs_buf_steal(&b, &n);
    if (outlen) *outlen = n;
    return out;
}

static void members_free(members_t *ms) {
    for (size_t i = 0; i < ms->n; i++) {
        free(ms->m[i].key);
        free(ms->m[i].raw);
    }
    free(ms->m);
}

/* ---- splitting a validated JSON object into raw members ---- */

static void put_member(void *arg, const char *key, size_t klen, const char *val, size_t vlen) {
    json_t *kj = rs_json_loadb(key, klen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_string(kj)) members_put_raw(arg, json_string_value(kj), rs_json_compact_text(val, vlen, NULL));
    json_decref(kj);
}

/* Splits the (already validated) object text into members. */
static void split_object(const char *s, size_t len, members_t *ms) { rs_json_object_members(s, len, put_member, ms); }

/* ---- public builders ---- */

static const char *meta(const rs_kvlist_t *md, const char *key) { return md ? rs_kvlist_get(md, key) : NULL; }

int rs_cloudevent_ttl(const rs_kvlist_t *metadata, long long *ttl, char *err, size_t errlen) {
    const char *s = meta(metadata, "ttlInSeconds");
    *ttl = 0;
    if (!s || !*s) return 0;
    if (rs_parse_int64(s, ttl) != 0 || *ttl > RS_CE_MAX_TTL_SECONDS) {
        snprintf(err, errlen, "ttlInSeconds: not a whole number of seconds up to %lld: %s", RS_CE_MAX_TTL_SECONDS, s);
        *ttl = 0;
        return -1;
    }
    return 0;
}

char *rs_cloudevent_envelope(const rs_ce_input_t *in, size_t *outlen, char *err, size_t errlen) {
    long long ttl;
    if (rs_cloudevent_ttl(in->metadata, &ttl, err, errlen) != 0) return NULL;
    time_t now = in->now ? in->now : time(NULL);
    char tbuf[48];
    rs_cloudevent_time(now, tbuf, sizeof tbuf);

    /* Trace context: an explicit override wins, then the caller's, then a new one. */
    char fresh[56];
    const char *tp = meta(in->metadata, "cloudevent.traceparent");
    if (!tp) tp = meta(in->metadata, "cloudevent.traceid");
    if (!tp && in->traceparent && *in->traceparent) tp = in->traceparent;
    if (!tp) {
        rs_traceparent_new(fresh);
        tp = fresh;
    }
    const char *ts = meta(in->metadata, "cloudevent.tracestate");
    if (!ts) ts = in->tracestate ? in->tracestate : "";

    members_t ms = {0};
    if (rs_content_type_is_cloudevent(in->content_type)) {
        json_t *ev = parse_lenient(in->data, in->len);
        if (!json_is_object(ev)) {
            json_decref(ev);
            snprintf(err, errlen, "the body is not a JSON object although Content-Type is %s", in->content_type);
            return NULL;
        }
        json_decref(ev);
        split_object(in->data, in->len, &ms);
        members_put_str(&ms, "topic", in->topic);
        members_put_str(&ms, "pubsubname", in->pubsub_name);
        if (!members_has(&ms, "time")) members_put_str(&ms, "time", tbuf);
        if (!members_has(&ms, "traceid")) members_put_str(&ms, "traceid", tp);
        if (!members_has(&ms, "traceparent")) members_put_str(&ms, "traceparent", tp);
        if (!members_has(&ms, "tracestate")) members_put_str(&ms, "tracestate", ts);
        if (!members_has(&ms, "source")) members_put_str(&ms, "source", RS_CE_SOURCE_DEFAULT);
        if (!members_has(&ms, "type")) members_put_str(&ms, "type", RS_CE_TYPE_DEFAULT);
        if (!members_has(&ms, "specversion")) members_put_str(&ms, "specversion", RS_CE_SPECVERSION);
    } else {
        char idbuf[37];
        const char *id = meta(in->metadata, "cloudevent.id");
        if (!id || !*id) {
            rs_uuid(idbuf);
            id = idbuf;
        }
        const char *source = meta(in->metadata, "cloudevent.source");
        if (!source || !*source) source = in->app_id && *in->app_id ? in->app_id : RS_CE_SOURCE_DEFAULT;
        const char *type = meta(in->metadata, "cloudevent.type");
        if (!type || !*type) type = RS_CE_TYPE_DEFAULT;
        const char *subject = meta(in->metadata, "cloudevent.subject");
        const char *ct = in->content_type && *in->content_type ? in->content_type : "text/plain";

        members_put_str(&ms, "id", id);
        members_put_str(&ms, "source", source);
        members_put_str(&ms, "type", type);
        members_put_str(&ms, "specversion", RS_CE_SPECVERSION);
        members_put_str(&ms, "datacontenttype", ct);
        members_put_str(&ms, "topic", in->topic);
        members_put_str(&ms, "pubsubname", in->pubsub_name);
        members_put_str(&ms, "traceid", tp);
        members_put_str(&ms, "traceparent", tp);
        members_put_str(&ms, "tracestate", ts);
        members_put_str(&ms, "time", tbuf);
        if (subject && *subject) members_put_str(&ms, "subject", subject);

        json_t *parsed = NULL;
        if (rs_content_type_is_json(ct) && (parsed = parse_lenient(in->data, in->len)) != NULL) {
            members_put_raw(&ms, "data", rs_json_compact_text(in->data, in->len, NULL));
        } else if (rs_content_type_is_binary(ct)) {
            char *b64 = rs_xmalloc(4 * ((in->len + 2) / 3) + 1);
            EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)in->data, (int)in->len);
            members_put_str(&ms, "data_base64", b64);
            free(b64);
        } else {
            members_put_raw(&ms, "data", encode_string(in->data ? in->data : "", in->len));
        }
        json_decref(parsed);
    }

    /* Redis Streams and Kafka have no native message TTL: Dapr writes the deadline into the event. */
    char exp[40];
    if (ttl > 0 && utc_time(now + (time_t)ttl, exp, sizeof exp) == 0) /* (checked: no overflow) */
        members_put_str(&ms, "expiration", exp);

    char *out = members_emit(&ms, outlen);
    members_free(&ms);
    return out;
}

char *rs_cloudevent_from_raw(const char *data, size_t len, const char *topic, const char *pubsub_name,
                             size_t *outlen) {
    members_t ms = {0};
    char id[37];
    rs_uuid(id);
    char *b64 = rs_xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)data, (int)len);
    members_put_str(&ms, "id", id);
    members_put_str(&ms, "specversion", RS_CE_SPECVERSION);
    members_put_str(&ms, "datacontenttype", "application/octet-stream");
    members_put_str(&ms, "source", RS_CE_SOURCE_DEFAULT);
    members_put_str(&ms, "type", RS_CE_TYPE_DEFAULT);
    members_put_str(&ms, "topic", topic);
    members_put_str(&ms, "pubsubname", pubsub_name);
    members_put_str(&ms, "data_base64", b64);
    free(b64);
    char *out = members_emit(&ms, outlen);
    members_free(&ms);
    return out;
}

/* Parses RFC 3339 ("2026-01-02T03:04:05[.frac](Z|±hh:mm)") to a Unix time. Returns 0 or -1. */
static int parse_rfc3339(const char *s, time_t *out) {
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &consumed) != 6)
        return -1;
    const char *p = s + consumed;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2) return -1;
        off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm) - off;
    return 0;
}

int rs_cloudevent_expired(const json_t *event, time_t now) {
    return rs_cloudevent_expired_at(rs_json_str(event, "expiration"), now);
}

int rs_cloudevent_expired_at(const char *exp, time_t now) {
    time_t t;
    if (!exp || parse_rfc3339(exp, &t) != 0) return 0;
    return t <= now; /* now is whole seconds: the real time is already past t */
}

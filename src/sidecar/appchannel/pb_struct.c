/* SPDX-License-Identifier: MIT */
/* google.protobuf.Struct from JSON; see pb_struct.h. Field numbers are the
 * well-known types': Struct{map<string, Value> fields = 1}, its map entry
 * {key = 1, value = 2}, Value{null_value = 1, number_value = 2,
 * string_value = 3, bool_value = 4, struct_value = 5, list_value = 6},
 * ListValue{repeated Value values = 1}. A nested message is encoded into its
 * own buffer first, since its length goes before it. */
#include "sidecar/appchannel/pb_struct.h"

#include <stdint.h>
#include <string.h>

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2 };

/* No cap of its own: the encoding is bounded by the event, itself within --max-body-size. */
#define NO_CAP SIZE_MAX

static void put_varint(rs_buf_t *b, uint64_t v) {
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    rs_buf_append(b, tmp, n);
}

static void put_tag(rs_buf_t *b, unsigned field, unsigned wt) { put_varint(b, (uint64_t)field << 3 | wt); }

static void put_bytes(rs_buf_t *b, unsigned field, const void *data, size_t len) {
    put_tag(b, field, WT_LEN);
    put_varint(b, len);
    if (len) rs_buf_append(b, data, len);
}

static void encode_value(const json_t *v, rs_buf_t *out);

/* The Struct of the members of o, but those named in skip, into out. */
static void encode_struct(const json_t *o, const char *const *skip, rs_buf_t *out) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int skipped = 0;
        for (const char *const *s = skip; s && *s && !skipped; s++) skipped = strcmp(*s, k) == 0;
        if (skipped) continue;
        rs_buf_t entry, value;
        rs_buf_init(&entry, NO_CAP);
        rs_buf_init(&value, NO_CAP);
        put_bytes(&entry, 1, k, strlen(k));
        encode_value(v, &value);
        put_bytes(&entry, 2, value.data, value.len);
        put_bytes(out, 1, entry.data, entry.len);
        rs_buf_free(&entry);
        rs_buf_free(&value);
    }
}

static void encode_value(const json_t *v, rs_buf_t *out) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY: {
        rs_buf_t inner;
        rs_buf_init(&inner, NO_CAP);
        if (json_is_object(v)) {
            encode_struct(v, NULL, &inner);
        } else {
            size_t i;
            json_t *item;
            json_array_foreach((json_t *)v, i, item) {
                rs_buf_t one;
                rs_buf_init(&one, NO_CAP);
                encode_value(item, &one);
                put_bytes(&inner, 1, one.data, one.len);
                rs_buf_free(&one);
            }
        }
        put_bytes(out, json_is_object(v) ? 5 : 6, inner.data, inner.len);
        rs_buf_free(&inner);
        break;
    }
    case JSON_STRING: put_bytes(out, 3, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = json_number_value(v);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        unsigned char le[8];
        for (int i = 0; i < 8; i++) le[i] = (unsigned char)(bits >> (8 * i));
        put_tag(out, 2, WT_FIXED64);
        rs_buf_append(out, le, sizeof le);
        break;
    }
    case JSON_TRUE:
    case JSON_FALSE:
        put_tag(out, 4, WT_VARINT);
        put_varint(out, json_is_true(v));
        break;
    default: /* null: NullValue.NULL_VALUE (0), written so the oneof is set */
        put_tag(out, 1, WT_VARINT);
        put_varint(out, 0);
        break;
    }
}

void rs_pb_struct_from_json(const json_t *o, const char *const *skip, rs_buf_t *out) {
    if (json_is_object(o)) encode_struct(o, skip, out);
}

/* SPDX-License-Identifier: MIT */
#include "pb_decode.h"

/* The message at m (already decoded) holds no field numbered 0, nor does any message inside it. The schemas
 * ripstopd decodes have no recursive message types, so the depth is the schema's. */
static int no_field_zero(const ProtobufCMessage *m) {
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0) return 0;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const char *base = (const char *)m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) { /* a union: only the member the case names is there */
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (items[k] && !no_field_zero(items[k])) return 0;
        } else {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub && !no_field_zero(sub)) return 0;
        }
    }
    return 1;
}

ProtobufCMessage *rs_pb_decode(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *alloc, size_t len,
                               const uint8_t *data) {
    ProtobufCMessage *m = protobuf_c_message_unpack(d, alloc, len, data);
    if (m && !no_field_zero(m)) {
        protobuf_c_message_free_unpacked(m, alloc);
        return NULL;
    }
    return m;
}

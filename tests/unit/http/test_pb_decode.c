/* SPDX-License-Identifier: MIT */
/* The strict protobuf decode: a field numbered 0 is refused wherever it is (protobuf-c alone keeps it as an
 * unknown field and then cannot read its own encoding of it); everything else decodes as protobuf-c decodes it. */
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "http/pb_decode.h"
#include "test.h"

#define DECODE(desc, bytes) rs_pb_decode(&(desc), NULL, sizeof(bytes) - 1, (const uint8_t *)(bytes))

TEST(valid_message_decodes) {
    ProtobufCMessage *m = DECODE(dapr__proto__runtime__v1__get_state_request__descriptor, "\x0a\x05store\x12\x02k0");
    ASSERT_TRUE(m != NULL);
    Dapr__Proto__Runtime__V1__GetStateRequest *r = (Dapr__Proto__Runtime__V1__GetStateRequest *)m;
    ASSERT_STREQ(r->store_name, "store");
    ASSERT_STREQ(r->key, "k0");
    protobuf_c_message_free_unpacked(m, NULL);
}

TEST(field_zero_on_top_is_refused) {
    /* protobuf-c alone decodes these (the premise of the check): */
    ProtobufCMessage *raw = protobuf_c_message_unpack(&dapr__proto__runtime__v1__get_state_request__descriptor, NULL,
                                                      3, (const uint8_t *)"\x80\x00\x00");
    ASSERT_TRUE(raw != NULL);
    protobuf_c_message_free_unpacked(raw, NULL);
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__get_state_request__descriptor, "\x80\x00\x00") == NULL);
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__get_state_request__descriptor, "\x0a\x01s\x80\x80\x00\x05") == NULL);
    /* the one-byte tag 00 protobuf-c refuses by itself */
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__get_state_request__descriptor, "\x00\x00") == NULL);
}

TEST(field_zero_inside_is_refused) {
    /* SaveStateRequest{store_name: "store", states: [StateItem{key: "k0", value: "v", <field 0>}]} */
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__save_state_request__descriptor,
                       "\x0a\x05store\x12\x0a\x0a\x02k0\x12\x01v\x80\x00\x00") == NULL);
    /* the same item in the second place of the list */
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__save_state_request__descriptor,
                       "\x0a\x05store\x12\x07\x0a\x02k1\x12\x01v\x12\x0a\x0a\x02k0\x12\x01v\x80\x00\x00") == NULL);
    /* InvokeServiceRequest{id: "a", message: InvokeRequest{method: "m", data: Any{value: "x", <field 0>}}} */
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__invoke_service_request__descriptor,
                       "\x0a\x01" "a" "\x1a\x0b\x0a\x01m\x12\x06\x12\x01x\x80\x00\x00") == NULL);
    ProtobufCMessage *ok = DECODE(dapr__proto__runtime__v1__invoke_service_request__descriptor,
                                  "\x0a\x01" "a" "\x1a\x08\x0a\x01m\x12\x03\x12\x01x"); /* without it */
    ASSERT_TRUE(ok != NULL);
    protobuf_c_message_free_unpacked(ok, NULL);
    /* a map value (a repeated entry message): PublishEventRequest.metadata {"k": "v"} with field 0 in the entry */
    ASSERT_TRUE(DECODE(dapr__proto__runtime__v1__publish_event_request__descriptor,
                       "\x0a\x01p\x12\x01t\x2a\x09\x0a\x01k\x12\x01v\x80\x00\x00") == NULL);
}

TEST(other_unknown_fields_still_decode) {
    /* a field the schema does not name (99, varint 7) is kept as protobuf-c keeps it */
    ProtobufCMessage *m = DECODE(dapr__proto__runtime__v1__get_state_request__descriptor, "\x0a\x01s\x98\x06\x07");
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->n_unknown_fields, 1u);
    ASSERT_EQ(m->unknown_fields[0].tag, 99u);
    protobuf_c_message_free_unpacked(m, NULL);
}

int main(void) {
    RUN(valid_message_decodes);
    RUN(field_zero_on_top_is_refused);
    RUN(field_zero_inside_is_refused);
    RUN(other_unknown_fields_still_decode);
    return TEST_SUMMARY();
}

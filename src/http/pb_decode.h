/* SPDX-License-Identifier: MIT */
/* Decoding a protobuf message from outside (a gRPC client's request, a gRPC
 * app's reply) strictly. protobuf-c 1.4 accepts one thing the protobuf
 * encoding forbids: a field numbered 0, when its tag is written as a
 * multi-byte varint (80 00 ...). It keeps such a field as an unknown field,
 * and packing the message again writes it as the one-byte tag 00, which
 * protobuf-c itself then refuses. Go's protobuf, and so daprd, refuses the
 * message. Every decode of outside bytes goes through rs_pb_decode so that
 * ripstopd refuses it too. */
#ifndef RS_HTTP_PB_DECODE_H
#define RS_HTTP_PB_DECODE_H

#include <protobuf-c/protobuf-c.h>

/** protobuf_c_message_unpack(d, alloc, len, data), then NULL (the message freed with alloc) if it or any message
 *  inside it holds a field numbered 0. */
ProtobufCMessage *rs_pb_decode(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *alloc, size_t len,
                               const uint8_t *data);

#endif

/* SPDX-License-Identifier: MIT */
/* A JSON object as the wire bytes of a google.protobuf.Struct, the type of
 * TopicEventRequest.extensions (a CloudEvent's other attributes, as daprd
 * sends them to a gRPC app). Written by hand, without generated code: Struct
 * is a map of Values, each a oneof (null, number as a double, string, bool,
 * Struct, ListValue), and protoc-c's oneof initialisers do not build under
 * -Wmissing-braces. Internal to the gRPC app channel (grpc_app.c). */
#ifndef RS_SIDECAR_APPCHANNEL_PB_STRUCT_H
#define RS_SIDECAR_APPCHANNEL_PB_STRUCT_H

#include <jansson.h>

#include "core/buf.h"

/** Appends the Struct encoding of the members of object o (NULL or not an object: nothing) to out, leaving out
 *  the members whose names are in skip (NULL-terminated, may be NULL). JSON numbers become doubles, as protojson
 *  reads them. */
void rs_pb_struct_from_json(const json_t *o, const char *const *skip, rs_buf_t *out);

#endif

/* SPDX-License-Identifier: MIT */
/* The small pure pieces of gRPC's HTTP/2 mapping (grpc/grpc doc/PROTOCOL-HTTP2.md),
 * kept apart from the connection code so they can be unit-tested: the 5-byte
 * message prefix, the grpc-timeout header and the percent-encoding of
 * grpc-message. Shared by the sidecar's gRPC server (sidecar/grpc/server.c)
 * and the client that calls a gRPC app (grpc_client.c). */
#ifndef RS_HTTP_GRPC_WIRE_H
#define RS_HTTP_GRPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

/** Length of the prefix before every gRPC message: a compressed flag and a big-endian 32-bit length. */
#define RS_GRPC_PREFIX_LEN 5

/** Reads the prefix at p (RS_GRPC_PREFIX_LEN bytes): *compressed gets the flag byte, *len the message length. */
void rs_grpc_prefix_read(const uint8_t *p, int *compressed, uint32_t *len);
/** Writes an uncompressed prefix for a message of len bytes into p (RS_GRPC_PREFIX_LEN bytes). */
void rs_grpc_prefix_write(uint8_t *p, uint32_t len);

/** Parses a grpc-timeout value ("1*8DIGIT unit", unit one of H M S m u n) into milliseconds, rounded up
 *  (a positive timeout never becomes 0). Returns 0, or -1 if the value is malformed. */
int rs_grpc_timeout_parse(const char *s, int64_t *ms);

/** Percent-encodes a grpc-message value into out (capacity cap, NUL-terminated, cut at a whole escape):
 *  bytes outside 0x20..0x7e and '%' become %XX. Returns out. */
char *rs_grpc_message_encode(const char *msg, char *out, size_t cap);

/** Writes ms as a grpc-timeout value ("<at most 8 digits><unit>", milliseconds, or seconds when the number does
 *  not fit) into out (at least 12 bytes). ms must be positive. Returns out. */
char *rs_grpc_timeout_format(int64_t ms, char *out);

/** Decodes a percent-encoded grpc-message value of len bytes into out (capacity cap, NUL-terminated, cut when
 *  full); a '%' not followed by two hex digits is kept as it is. Returns out. */
char *rs_grpc_message_decode(const char *in, size_t len, char *out, size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
/* JSON encoding as Go's encoding/json.Marshal writes it, for the output
 * binding API: Dapr decodes the request's `data` into interface{} and
 * marshals it again before the component sees it (spec §2.4), so
 *   - object keys come out sorted (byte order);
 *   - every number is a float64 printed in Go's shortest form
 *     (1.0 -> 1, 1e21 -> 1e+21, 1e-7 -> 1e-7, 12345678901234567890 -> 12345678901234567000);
 *   - strings escape <, >, & and U+2028/U+2029 as \u003c ... and control
 *     characters as \b \f \n \r \t or \u00XX (lower-case hex);
 *   - the output is compact. */
#ifndef RS_BINDINGS_GO_JSON_H
#define RS_BINDINGS_GO_JSON_H

#include <jansson.h>
#include <stddef.h>

/** Encodes v (NULL encodes as null). Returns a malloc'd NUL-terminated string and its length. */
char *rs_go_json_marshal(const json_t *v, size_t *len);

/** Formats a float64 as Go's encoding/json does. out needs 32 bytes. */
void rs_go_json_float(double f, char out[32]);

#endif

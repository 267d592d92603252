/* SPDX-License-Identifier: MIT */
/* Scalars in Resiliency documents. The YAML loader turns plain scalars that
 * look like integers into JSON integers and leaves everything else a string,
 * so every numeric field is accepted in both forms. */
#ifndef RS_SIDECAR_RESILIENCY_VALUES_H
#define RS_SIDECAR_RESILIENCY_VALUES_H

#include <jansson.h>
#include <stdint.h>

/** Reads an integer from a JSON integer or a base-10 string. Returns 0, or -1 if neither. */
int rs_res_int(const json_t *v, long long *out);
/** Reads a duration: a JSON integer or bare-integer string means milliseconds, else a Go duration string.
 *  Returns 0, or -1 if malformed or negative. */
int rs_res_duration_ms(const json_t *v, int64_t *out_ms);

#endif

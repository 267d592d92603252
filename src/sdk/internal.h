/* SPDX-License-Identifier: MIT */
/* Private helpers shared by libdapr's source files. Not installed, not part of
 * the public contract. Names start with dapri_. Out of memory aborts. */
#ifndef DAPR_INTERNAL_H
#define DAPR_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "dapr/client.h"
#include "dapr/trace.h"

void *dapri_xmalloc(size_t n);
void *dapri_xcalloc(size_t n, size_t size);
void *dapri_xrealloc(void *p, size_t n);
char *dapri_xstrdup(const char *s);
char *dapri_xstrndup(const char *s, size_t n);

/** asprintf that aborts on failure. */
char *dapri_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The environment variable `name` as a whole number in [min, max]; def when it is unset, empty, not a whole
 *  number or out of range. */
int dapri_env_int(const char *name, int def, int min, int max);

/** Parses text as any JSON value; text that is not valid JSON becomes a JSON string.
 *  NULL becomes JSON null. Returns a new reference. */
json_t *dapri_json_value(const char *text);

/** A JSON object {key: value} from n pairs (NULL pairs → empty object). New reference. */
json_t *dapri_kv_object(const dapr_kv_t *kv, size_t n);

/** POSTs (or `method`s) body as application/json to path. body is stolen (decref'd). */
int dapri_send_json(dapr_client_t *c, const char *method, const char *path, json_t *body, dapr_response_t *out,
                    dapr_error_t *err);

/** Fills err from a non-2xx response: Dapr's {"errorCode","message"} when present, else the body text. */
void dapri_error_from_response(dapr_error_t *err, const dapr_response_t *r);

/** The calling thread's trace context (trace.c); parts are "" when unset. */
const dapr_trace_context_t *dapri_trace_current(void);

#endif

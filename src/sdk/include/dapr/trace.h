/* SPDX-License-Identifier: MIT */
/* libdapr trace context: the W3C `traceparent` / `tracestate` the calling
 * thread's Dapr calls carry, so that the calls an app makes while serving a
 * request join the request's trace.
 *
 * Each thread has its own context. The app server (app.h) sets it from the
 * request's headers before a handler runs and clears it afterwards, so a
 * handler's calls (dapr_invoke, dapr_publish, state, bindings, ...) carry the
 * incoming context without any code in the handler. Every client request
 * (client.h) adds the thread's headers unless the caller passes its own
 * `traceparent`. A thread that is not serving a request (or a handler that
 * works on behalf of another trace, e.g. a batch job picking up an item whose
 * trace it knows) sets the context itself and restores it afterwards:
 *
 *     dapr_trace_context_t saved;
 *     dapr_trace_context_get(&saved);
 *     dapr_trace_context_set(item_traceparent, NULL);
 *     ... calls that belong to the item's trace ...
 *     dapr_trace_context_set(saved.traceparent, saved.tracestate);
 *
 * Only well-formed values are kept (traceparent: version-00 form
 * `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, ids not all zero; tracestate:
 * printable ASCII, at most 512 characters); anything else clears that part,
 * so a caller's header can never inject other headers. */
#ifndef DAPR_TRACE_H
#define DAPR_TRACE_H

#ifdef __cplusplus
extern "C" {
#endif

/** A copy of a thread's context; "" = not set. */
typedef struct dapr_trace_context {
    char traceparent[56];
    char tracestate[513];
} dapr_trace_context_t;

/** Sets the calling thread's context. traceparent NULL, "" or malformed clears both parts; a tracestate
 *  that is NULL or malformed is left out. Returns 0 when a traceparent is now set, -1 when cleared. */
int dapr_trace_context_set(const char *traceparent, const char *tracestate);

/** Copies the calling thread's context into *out ("" parts when none). */
void dapr_trace_context_get(dapr_trace_context_t *out);

/** The calling thread's traceparent, or NULL when none (valid until the thread's next set). */
const char *dapr_trace_traceparent(void);

/** 1 when s is a well-formed version-00 traceparent (see above). */
int dapr_traceparent_valid(const char *s);

#ifdef __cplusplus
}
#endif
#endif

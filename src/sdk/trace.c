/* SPDX-License-Identifier: MIT */
/* The calling thread's W3C trace context (trace.h): two thread-local buffers,
 * validated on the way in because they become request headers on the way out. */
#include <string.h>

#include "dapr/trace.h"
#include "internal.h"

static __thread dapr_trace_context_t current;

static int hex_run(const char *s, size_t n, int *all_zero) {
    *all_zero = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
        if (c != '0') *all_zero = 0;
    }
    return 1;
}

int dapr_traceparent_valid(const char *s) {
    int zero;
    if (!s || strlen(s) != 55) return 0;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-') return 0;
    if (!hex_run(s, 2, &zero) || strncmp(s, "00", 2) != 0) return 0;
    if (!hex_run(s + 3, 32, &zero) || zero) return 0;
    if (!hex_run(s + 36, 16, &zero) || zero) return 0;
    return hex_run(s + 53, 2, &zero);
}

/* W3C: list-members of printable ASCII (no CR/LF or other controls), 512 characters at most. */
static int tracestate_valid(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= sizeof current.tracestate - 1) return 0;
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e) return 0;
    }
    return n > 0;
}

int dapr_trace_context_set(const char *traceparent, const char *tracestate) {
    current.traceparent[0] = '\0';
    current.tracestate[0] = '\0';
    if (!dapr_traceparent_valid(traceparent)) return -1;
    memcpy(current.traceparent, traceparent, 56);
    if (tracestate && tracestate_valid(tracestate)) strcpy(current.tracestate, tracestate);
    return 0;
}

void dapr_trace_context_get(dapr_trace_context_t *out) { *out = current; }

const char *dapr_trace_traceparent(void) { return current.traceparent[0] ? current.traceparent : NULL; }

const dapr_trace_context_t *dapri_trace_current(void) { return &current; }

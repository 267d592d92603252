/* SPDX-License-Identifier: MIT */
/* A small evaluator for the subset of CEL that Dapr resources use:
 * circuit-breaker `trip` expressions over five integer counters, and
 * subscription route `match` rules over the CloudEvent (`event.type == "x"`).
 *
 * Grammar: integer, double, string ("..." or '...') and bool literals;
 * identifiers with member access (a.b.c, resolved as one dotted path by the
 * caller); + - * / % (integers; + also concatenates strings); == != < <= > >=;
 * && || ! and parentheses. Any evaluation error (unknown identifier, type
 * mismatch, division by zero) makes rs_cel_eval return -1; callers treat that
 * as "no trip" / "no match", as Dapr does. */
#ifndef RS_SIDECAR_CEL_H
#define RS_SIDECAR_CEL_H

#include <stddef.h>

typedef enum { RS_CEL_NULL = 0, RS_CEL_BOOL, RS_CEL_INT, RS_CEL_DOUBLE, RS_CEL_STRING } rs_cel_type_t;

typedef struct {
    rs_cel_type_t type;
    long long i;    /* BOOL (0/1) and INT */
    double d;       /* DOUBLE */
    const char *s;  /* STRING; owned by the resolver or the expression, valid until rs_cel_eval returns */
} rs_cel_value_t;

typedef struct rs_cel rs_cel_t;

/** Compiles src. Returns the expression, or NULL with a reason (and column) in err. */
rs_cel_t *rs_cel_compile(const char *src, char *err, size_t errlen);
/** Resolves an identifier path such as "consecutiveFailures" or "event.type". Returns 0 and fills out, or -1 if unknown. */
typedef int (*rs_cel_resolve_fn)(void *ctx, const char *path, rs_cel_value_t *out);
/** Evaluates e. Returns 0 and the result in out, or -1 on an evaluation error. */
int rs_cel_eval(const rs_cel_t *e, rs_cel_resolve_fn resolve, void *ctx, rs_cel_value_t *out);
/** Convenience: 1 if e evaluates to the bool true, else 0 (errors and non-bools are 0). */
int rs_cel_eval_bool(const rs_cel_t *e, rs_cel_resolve_fn resolve, void *ctx);
void rs_cel_free(rs_cel_t *e);

#endif

/* The CEL subset (sidecar/cel/cel.c): circuit-breaker `trip` expressions and subscription `match` rules, both
 * from resource YAML. Identifiers resolve to a fixed set of values of every type. Invariants: a refused
 * expression says why; evaluation is deterministic; a bool result is 0 or 1. */
#include <string.h>

#include "fuzz.h"
#include "sidecar/cel/cel.h"

static int resolve(void *ctx, const char *path, rs_cel_value_t *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(path, "consecutiveFailures") || !strcmp(path, "requests")) {
        out->type = RS_CEL_INT;
        out->i = 5;
    } else if (!strcmp(path, "totalFailures")) {
        out->type = RS_CEL_INT;
        out->i = 9223372036854775807LL; /* arithmetic on it must not overflow */
    } else if (!strcmp(path, "event.type") || !strcmp(path, "event.data.kind")) {
        out->type = RS_CEL_STRING;
        out->s = "order.created";
    } else if (!strcmp(path, "event.data.price")) {
        out->type = RS_CEL_DOUBLE;
        out->d = 9.99;
    } else if (!strcmp(path, "event.data.ok")) {
        out->type = RS_CEL_BOOL;
        out->i = 1;
    } else if (!strcmp(path, "event.data.none")) {
        out->type = RS_CEL_NULL;
    } else {
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *src = fz_cstr(data, size);
    char err[256] = "";
    rs_cel_t *e = rs_cel_compile(src, err, sizeof err);
    if (!e) {
        FZ_CHECK(err[0] != '\0');
    } else {
        rs_cel_value_t a, b;
        int ra = rs_cel_eval(e, resolve, NULL, &a);
        int rb = rs_cel_eval(e, resolve, NULL, &b);
        FZ_CHECK(ra == rb);
        if (ra == 0) {
            FZ_CHECK(a.type == b.type);
            if (a.type == RS_CEL_BOOL) FZ_CHECK(a.i == 0 || a.i == 1);
            if (a.type == RS_CEL_INT || a.type == RS_CEL_BOOL) FZ_CHECK(a.i == b.i);
            if (a.type == RS_CEL_STRING) FZ_CHECK(a.s && b.s);
        }
        int t = rs_cel_eval_bool(e, resolve, NULL);
        FZ_CHECK(t == 0 || t == 1);
        rs_cel_free(e);
    }
    free(src);
    return 0;
}

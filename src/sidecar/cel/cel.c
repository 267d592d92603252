/* SPDX-License-Identifier: MIT */
/* CEL subset: a tokenizer, a precedence-climbing parser that builds a small
 * tree, and a tree-walking evaluator. Errors during evaluation propagate as
 * -1 except where CEL's logical operators absorb them (`false && err` and
 * `err && false` are false; `true || err` and `err || true` are true). */
#include "sidecar/cel/cel.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define MAX_DEPTH 64
#define MAX_SRC 4096

typedef enum {
    N_LIT,
    N_IDENT,
    N_NOT,
    N_NEG,
    N_AND,
    N_OR,
    N_ADD,
    N_SUB,
    N_MUL,
    N_DIV,
    N_MOD,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
} node_kind_t;

typedef struct node {
    node_kind_t kind;
    rs_cel_value_t lit;   /* N_LIT; a string literal points at `text` */
    char *text;           /* identifier path or string literal, owned */
    struct node *a, *b;
} node_t;

/* Strings made while evaluating (concatenation results). The last result is
 * kept until the next evaluation so a string result stays readable. */
typedef struct {
    char **items;
    size_t len, alloc;
} arena_t;

struct rs_cel {
    node_t *root;
    arena_t *scratch; /* mutable even through a const rs_cel_t * */
};

/* ---------- tokenizer ---------- */

typedef enum { T_END, T_INT, T_DOUBLE, T_STRING, T_IDENT, T_OP, T_LPAREN, T_RPAREN } tok_kind_t;

typedef struct {
    tok_kind_t kind;
    const char *start;
    size_t len;
    long long i;
    double d;
    char *s; /* T_STRING: decoded, owned until consumed */
    int col;
} tok_t;

typedef struct {
    const char *src;
    const char *p;
    tok_t tok;
    char *err;
    size_t errlen;
    int failed;
    int depth;
} parser_t;

static void perr(parser_t *ps, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(parser_t *ps, int col, const char *fmt, ...) {
    if (ps->failed) return;
    ps->failed = 1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->err && ps->errlen) snprintf(ps->err, ps->errlen, "column %d: %s", col, msg);
}

static int read_string(parser_t *ps, char quote) {
    const char *p = ps->p + 1;
    size_t cap = 16, n = 0;
    char *out = rs_xmalloc(cap);
    for (;;) {
        char c = *p;
        if (!c) {
            free(out);
            perr(ps, (int)(ps->p - ps->src) + 1, "unterminated string");
            return -1;
        }
        if (c == quote) {
            p++;
            break;
        }
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            case '\'': c = '\''; break;
            default:
                free(out);
                perr(ps, (int)(p - ps->src) + 1, "unsupported escape");
                return -1;
            }
        }
        if (n + 2 > cap) out = rs_xrealloc(out, cap *= 2);
        out[n++] = c;
        p++;
    }
    out[n] = '\0';
    ps->tok.kind = T_STRING;
    ps->tok.s = out;
    ps->p = p;
    return 0;
}

static int next_token(parser_t *ps) {
    const char *p = ps->p;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    ps->p = p;
    tok_t *t = &ps->tok;
    memset(t, 0, sizeof *t);
    t->start = p;
    t->col = (int)(p - ps->src) + 1;
    if (!*p) {
        t->kind = T_END;
        return 0;
    }
    if (isdigit((unsigned char)*p)) {
        const char *q = p;
        int is_double = 0;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            q = p + 2;
            if (!isxdigit((unsigned char)*q)) {
                perr(ps, t->col, "malformed hex literal");
                return -1;
            }
            while (isxdigit((unsigned char)*q)) q++;
        } else {
            while (isdigit((unsigned char)*q)) q++;
            if (*q == '.' && isdigit((unsigned char)q[1])) {
                is_double = 1;
                q++;
                while (isdigit((unsigned char)*q)) q++;
            }
            if (*q == 'e' || *q == 'E') {
                const char *r = q + 1;
                if (*r == '+' || *r == '-') r++;
                if (isdigit((unsigned char)*r)) {
                    is_double = 1;
                    while (isdigit((unsigned char)*r)) r++;
                    q = r;
                }
            }
        }
        if (isalpha((unsigned char)*q) || *q == '_') {
            perr(ps, t->col, "malformed number");
            return -1;
        }
        char buf[64];
        size_t n = (size_t)(q - p);
        if (n >= sizeof buf) {
            perr(ps, t->col, "number too long");
            return -1;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        errno = 0;
        if (is_double) {
            t->kind = T_DOUBLE;
            t->d = strtod(buf, NULL); /* the lexer checked the syntax; only the range is left */
            if (!isfinite(t->d)) {
                perr(ps, t->col, "double literal out of range");
                return -1;
            }
        } else {
            t->kind = T_INT;
            t->i = strtoll(buf, NULL, 0);
            if (errno == ERANGE) {
                perr(ps, t->col, "integer literal out of range");
                return -1;
            }
        }
        ps->p = q;
        return 0;
    }
    if (*p == '"' || *p == '\'') return read_string(ps, *p);
    if (isalpha((unsigned char)*p) || *p == '_') {
        /* An identifier path: a.b.c (member access is resolved by the caller as one dotted path). */
        const char *q = p;
        for (;;) {
            while (isalnum((unsigned char)*q) || *q == '_') q++;
            if (*q == '.' && (isalpha((unsigned char)q[1]) || q[1] == '_')) {
                q++;
                continue;
            }
            break;
        }
        if (*q == '.') {
            perr(ps, (int)(q - ps->src) + 1, "expected a field name after '.'");
            return -1;
        }
        t->kind = T_IDENT;
        t->len = (size_t)(q - p);
        ps->p = q;
        return 0;
    }
    if (*p == '(') {
        t->kind = T_LPAREN;
        ps->p = p + 1;
        return 0;
    }
    if (*p == ')') {
        t->kind = T_RPAREN;
        ps->p = p + 1;
        return 0;
    }
    static const char *const ops2[] = {"&&", "||", "==", "!=", "<=", ">=", NULL};
    for (int i = 0; ops2[i]; i++) {
        if (p[0] == ops2[i][0] && p[1] == ops2[i][1]) {
            t->kind = T_OP;
            t->len = 2;
            ps->p = p + 2;
            return 0;
        }
    }
    if (strchr("+-*/%<>!", *p)) {
        t->kind = T_OP;
        t->len = 1;
        ps->p = p + 1;
        return 0;
    }
    perr(ps, t->col, "unexpected character '%c'", *p);
    return -1;
}

/* ---------- parser ---------- */

static node_t *new_node(node_kind_t k, node_t *a, node_t *b) {
    node_t *n = rs_xcalloc(1, sizeof *n);
    n->kind = k;
    n->a = a;
    n->b = b;
    return n;
}

static void free_node(node_t *n) {
    if (!n) return;
    free_node(n->a);
    free_node(n->b);
    free(n->text);
    free(n);
}

static int tok_is(const parser_t *ps, const char *op) {
    return ps->tok.kind == T_OP && ps->tok.len == strlen(op) && strncmp(ps->tok.start, op, ps->tok.len) == 0;
}

static node_t *parse_or(parser_t *ps);

static node_t *parse_primary(parser_t *ps) {
    tok_t *t = &ps->tok;
    node_t *n = NULL;
    switch (t->kind) {
    case T_INT:
        n = new_node(N_LIT, NULL, NULL);
        n->lit.type = RS_CEL_INT;
        n->lit.i = t->i;
        break;
    case T_DOUBLE:
        n = new_node(N_LIT, NULL, NULL);
        n->lit.type = RS_CEL_DOUBLE;
        n->lit.d = t->d;
        break;
    case T_STRING:
        n = new_node(N_LIT, NULL, NULL);
        n->lit.type = RS_CEL_STRING;
        n->text = t->s;
        n->lit.s = n->text;
        t->s = NULL;
        break;
    case T_IDENT:
        n = new_node(N_LIT, NULL, NULL);
        if (t->len == 4 && strncmp(t->start, "true", 4) == 0) {
            n->lit.type = RS_CEL_BOOL;
            n->lit.i = 1;
        } else if (t->len == 5 && strncmp(t->start, "false", 5) == 0) {
            n->lit.type = RS_CEL_BOOL;
        } else if (t->len == 4 && strncmp(t->start, "null", 4) == 0) {
            n->lit.type = RS_CEL_NULL;
        } else {
            n->kind = N_IDENT;
            n->text = strndup(t->start, t->len);
            if (!n->text) abort();
        }
        break;
    case T_LPAREN: {
        int col = t->col;
        if (next_token(ps) != 0) return NULL;
        n = parse_or(ps);
        if (!n) return NULL;
        if (ps->tok.kind != T_RPAREN) {
            free_node(n);
            perr(ps, ps->tok.col, "expected ')' to close '(' at column %d", col);
            return NULL;
        }
        break;
    }
    case T_END: perr(ps, t->col, "unexpected end of expression"); return NULL;
    default: perr(ps, t->col, "unexpected token '%.*s'", (int)(t->len ? t->len : 1), t->start); return NULL;
    }
    if (next_token(ps) != 0) {
        free_node(n);
        return NULL;
    }
    return n;
}

static node_t *parse_unary(parser_t *ps) {
    if (tok_is(ps, "!") || tok_is(ps, "-")) {
        node_kind_t k = tok_is(ps, "!") ? N_NOT : N_NEG;
        if (++ps->depth > MAX_DEPTH) {
            perr(ps, ps->tok.col, "expression nested too deeply");
            return NULL;
        }
        if (next_token(ps) != 0) return NULL;
        node_t *a = parse_unary(ps);
        ps->depth--;
        if (!a) return NULL;
        /* Fold "-<int literal>" so that the smallest int64 is writable. */
        if (k == N_NEG && a->kind == N_LIT && a->lit.type == RS_CEL_INT && a->lit.i != LLONG_MIN) {
            a->lit.i = -a->lit.i;
            return a;
        }
        if (k == N_NEG && a->kind == N_LIT && a->lit.type == RS_CEL_DOUBLE) {
            a->lit.d = -a->lit.d;
            return a;
        }
        return new_node(k, a, NULL);
    }
    if (ps->tok.kind == T_LPAREN) {
        if (++ps->depth > MAX_DEPTH) {
            perr(ps, ps->tok.col, "expression nested too deeply");
            return NULL;
        }
        node_t *n = parse_primary(ps);
        ps->depth--;
        return n;
    }
    return parse_primary(ps);
}

typedef struct {
    const char *op;
    node_kind_t kind;
} binop_t;

static const binop_t mul_ops[] = {{"*", N_MUL}, {"/", N_DIV}, {"%", N_MOD}, {NULL, 0}};
static const binop_t add_ops[] = {{"+", N_ADD}, {"-", N_SUB}, {NULL, 0}};
static const binop_t rel_ops[] = {{"==", N_EQ}, {"!=", N_NE}, {"<=", N_LE}, {">=", N_GE},
                                  {"<", N_LT},  {">", N_GT},  {NULL, 0}};
static const binop_t and_ops[] = {{"&&", N_AND}, {NULL, 0}};
static const binop_t or_ops[] = {{"||", N_OR}, {NULL, 0}};

static const binop_t *level_ops[] = {or_ops, and_ops, rel_ops, add_ops, mul_ops};
#define NLEVELS 5

static node_t *parse_level(parser_t *ps, int level) {
    if (level == NLEVELS) return parse_unary(ps);
    node_t *left = parse_level(ps, level + 1);
    if (!left) return NULL;
    for (;;) {
        const binop_t *match = NULL;
        for (const binop_t *o = level_ops[level]; o->op; o++)
            if (tok_is(ps, o->op)) {
                match = o;
                break;
            }
        if (!match) return left;
        if (next_token(ps) != 0) {
            free_node(left);
            return NULL;
        }
        node_t *right = parse_level(ps, level + 1);
        if (!right) {
            free_node(left);
            return NULL;
        }
        left = new_node(match->kind, left, right);
    }
}

static node_t *parse_or(parser_t *ps) { return parse_level(ps, 0); }

rs_cel_t *rs_cel_compile(const char *src, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    parser_t ps = {.src = src, .p = src, .err = err, .errlen = errlen};
    if (!src) {
        perr(&ps, 0, "empty expression");
        return NULL;
    }
    if (strlen(src) > MAX_SRC) {
        perr(&ps, 0, "expression longer than %d characters", MAX_SRC);
        return NULL;
    }
    if (next_token(&ps) != 0) return NULL;
    if (ps.tok.kind == T_END) {
        perr(&ps, 1, "empty expression");
        return NULL;
    }
    node_t *root = parse_or(&ps);
    if (root && ps.tok.kind != T_END) {
        perr(&ps, ps.tok.col, "unexpected '%.*s' after the expression", (int)(ps.tok.len ? ps.tok.len : 1), ps.tok.start);
        free_node(root);
        root = NULL;
    }
    free(ps.tok.s);
    if (!root) return NULL;
    rs_cel_t *e = rs_xcalloc(1, sizeof *e);
    e->root = root;
    e->scratch = rs_xcalloc(1, sizeof *e->scratch);
    return e;
}

/* ---------- evaluator ---------- */

typedef struct {
    rs_cel_resolve_fn resolve;
    void *ctx;
    arena_t *arena;
} eval_t;

static const char *arena_keep(arena_t *a, char *s) {
    if (a->len == a->alloc) {
        a->alloc = a->alloc ? a->alloc * 2 : 4;
        a->items = rs_xrealloc(a->items, a->alloc * sizeof *a->items);
    }
    a->items[a->len++] = s;
    return s;
}

static void arena_clear(arena_t *a) {
    for (size_t i = 0; i < a->len; i++) free(a->items[i]);
    a->len = 0;
}

static int is_num(const rs_cel_value_t *v) { return v->type == RS_CEL_INT || v->type == RS_CEL_DOUBLE; }
static double as_double(const rs_cel_value_t *v) { return v->type == RS_CEL_INT ? (double)v->i : v->d; }

static void set_bool(rs_cel_value_t *out, int b) {
    memset(out, 0, sizeof *out);
    out->type = RS_CEL_BOOL;
    out->i = b ? 1 : 0;
}

/* Returns -1 on error, else sets *cmp to <0, 0, >0. `ordered` is 0 for == / != (any types may be compared). */
static int compare(const rs_cel_value_t *x, const rs_cel_value_t *y, int ordered, int *cmp) {
    if (is_num(x) && is_num(y)) {
        if (x->type == RS_CEL_INT && y->type == RS_CEL_INT) *cmp = (x->i > y->i) - (x->i < y->i);
        else {
            double a = as_double(x), b = as_double(y);
            if (a != a || b != b) return ordered ? -1 : (*cmp = 1, 0); /* NaN */
            *cmp = (a > b) - (a < b);
        }
        return 0;
    }
    if (x->type != y->type) {
        if (ordered) return -1;
        *cmp = 1; /* heterogeneous equality is false */
        return 0;
    }
    switch (x->type) {
    case RS_CEL_STRING: *cmp = strcmp(x->s ? x->s : "", y->s ? y->s : ""); return 0;
    case RS_CEL_BOOL: *cmp = (int)(x->i - y->i); return 0;
    case RS_CEL_NULL: *cmp = 0; return ordered ? -1 : 0;
    default: return -1;
    }
}

static int eval_node(const node_t *n, eval_t *ev, rs_cel_value_t *out);

static int eval_logic(const node_t *n, eval_t *ev, rs_cel_value_t *out) {
    int is_and = n->kind == N_AND;
    rs_cel_value_t a, b;
    int ra = eval_node(n->a, ev, &a);
    if (ra == 0 && a.type != RS_CEL_BOOL) ra = -1;
    if (ra == 0 && (is_and ? !a.i : a.i)) { /* short circuit */
        set_bool(out, (int)a.i);
        return 0;
    }
    int rb = eval_node(n->b, ev, &b);
    if (rb == 0 && b.type != RS_CEL_BOOL) rb = -1;
    if (rb == 0 && (is_and ? !b.i : b.i)) { /* absorbs an error on the left */
        set_bool(out, (int)b.i);
        return 0;
    }
    if (ra != 0 || rb != 0) return -1;
    set_bool(out, (int)b.i);
    return 0;
}

static int eval_arith(node_kind_t k, const rs_cel_value_t *a, const rs_cel_value_t *b, eval_t *ev, rs_cel_value_t *out) {
    memset(out, 0, sizeof *out);
    if (k == N_ADD && a->type == RS_CEL_STRING && b->type == RS_CEL_STRING) {
        size_t la = strlen(a->s), lb = strlen(b->s);
        char *s = rs_xmalloc(la + lb + 1);
        memcpy(s, a->s, la);
        memcpy(s + la, b->s, lb + 1);
        out->type = RS_CEL_STRING;
        out->s = arena_keep(ev->arena, s);
        return 0;
    }
    if (a->type == RS_CEL_INT && b->type == RS_CEL_INT) {
        long long x = a->i, y = b->i, r;
        out->type = RS_CEL_INT;
        switch (k) {
        case N_ADD: if (__builtin_add_overflow(x, y, &r)) return -1; break;
        case N_SUB: if (__builtin_sub_overflow(x, y, &r)) return -1; break;
        case N_MUL: if (__builtin_mul_overflow(x, y, &r)) return -1; break;
        case N_DIV:
            if (y == 0 || (x == LLONG_MIN && y == -1)) return -1;
            r = x / y;
            break;
        case N_MOD:
            if (y == 0 || (x == LLONG_MIN && y == -1)) return -1;
            r = x % y;
            break;
        default: return -1;
        }
        out->i = r;
        return 0;
    }
    if (a->type == RS_CEL_DOUBLE && b->type == RS_CEL_DOUBLE) {
        out->type = RS_CEL_DOUBLE;
        switch (k) {
        case N_ADD: out->d = a->d + b->d; return 0;
        case N_SUB: out->d = a->d - b->d; return 0;
        case N_MUL: out->d = a->d * b->d; return 0;
        case N_DIV: out->d = a->d / b->d; return 0;
        default: return -1; /* CEL has no double modulo */
        }
    }
    return -1; /* CEL does not mix int and double in arithmetic */
}

static int eval_node(const node_t *n, eval_t *ev, rs_cel_value_t *out) {
    rs_cel_value_t a, b;
    int cmp;
    switch (n->kind) {
    case N_LIT: *out = n->lit; return 0;
    case N_IDENT:
        memset(out, 0, sizeof *out);
        if (!ev->resolve) return -1;
        return ev->resolve(ev->ctx, n->text, out) == 0 ? 0 : -1;
    case N_NOT:
        if (eval_node(n->a, ev, &a) != 0 || a.type != RS_CEL_BOOL) return -1;
        set_bool(out, !a.i);
        return 0;
    case N_NEG:
        if (eval_node(n->a, ev, &a) != 0) return -1;
        memset(out, 0, sizeof *out);
        if (a.type == RS_CEL_INT) {
            if (a.i == LLONG_MIN) return -1;
            out->type = RS_CEL_INT;
            out->i = -a.i;
            return 0;
        }
        if (a.type == RS_CEL_DOUBLE) {
            out->type = RS_CEL_DOUBLE;
            out->d = -a.d;
            return 0;
        }
        return -1;
    case N_AND:
    case N_OR: return eval_logic(n, ev, out);
    default: break;
    }
    if (eval_node(n->a, ev, &a) != 0 || eval_node(n->b, ev, &b) != 0) return -1;
    switch (n->kind) {
    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
    case N_MOD: return eval_arith(n->kind, &a, &b, ev, out);
    case N_EQ:
    case N_NE:
        if (compare(&a, &b, 0, &cmp) != 0) return -1;
        set_bool(out, n->kind == N_EQ ? cmp == 0 : cmp != 0);
        return 0;
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE:
        if (compare(&a, &b, 1, &cmp) != 0) return -1;
        set_bool(out, n->kind == N_LT ? cmp < 0 : n->kind == N_LE ? cmp <= 0 : n->kind == N_GT ? cmp > 0 : cmp >= 0);
        return 0;
    default: return -1;
    }
}

int rs_cel_eval(const rs_cel_t *e, rs_cel_resolve_fn resolve, void *ctx, rs_cel_value_t *out) {
    rs_cel_value_t tmp;
    if (!out) out = &tmp;
    memset(out, 0, sizeof *out);
    if (!e) return -1;
    arena_clear(e->scratch);
    eval_t ev = {resolve, ctx, e->scratch};
    return eval_node(e->root, &ev, out);
}

int rs_cel_eval_bool(const rs_cel_t *e, rs_cel_resolve_fn resolve, void *ctx) {
    rs_cel_value_t v;
    if (rs_cel_eval(e, resolve, ctx, &v) != 0) return 0;
    return v.type == RS_CEL_BOOL && v.i;
}

void rs_cel_free(rs_cel_t *e) {
    if (!e) return;
    free_node(e->root);
    arena_clear(e->scratch);
    free(e->scratch->items);
    free(e->scratch);
    free(e);
}

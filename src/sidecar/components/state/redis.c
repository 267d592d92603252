/* SPDX-License-Identifier: MIT */
/* state.redis with Dapr's storage layout (spec §3.1): one hash per key with
 * fields data / version / first-write, the etag being the version. The set
 * and delete scripts keep Dapr's conditions exactly (an etag on a missing key
 * succeeds; a key created with first-write refuses etag-less writes), so a
 * Redis written by daprd and by ripstopd is interchangeable.
 *
 * Two deliberate differences, both invisible in the stored data:
 *   - the TTL (EXPIRE / PERSIST) is applied inside the set script, so a set
 *     is one round trip and never leaves a value without its TTL;
 *   - a transaction is one script that checks every condition first and
 *     writes nothing if any fails (Dapr pipelines the single-key scripts in
 *     MULTI/EXEC and has no rollback).
 *
 * Scripts go out as EVALSHA with the script's SHA1, as go-redis's Script.Run
 * sends them for daprd: Redis then neither receives nor hashes the script
 * text on every call (hashing it was a quarter of Redis's work per save). A
 * Redis that does not have it cached (restarted, SCRIPT FLUSH) answers
 * NOSCRIPT, and that call is sent once more as EVAL, which caches it. */
#include <hiredis/hiredis.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "sidecar/components/redis_conn.h"
#include "sidecar/components/state/state.h"

#define SCOPE "state.redis"

/* ARGV: version-to-match ("0" = none), data, first-write flag ("0" = first-write), ttl ("" = leave alone).
 * One HMGET reads both conditions (a key of another type makes it fail: the key is replaced, as Dapr does),
 * one HSET writes the data and the first-write flag together. */
static const char set_script[] =
    "local h = redis.pcall('HMGET', KEYS[1], 'version', 'first-write')\n"
    "local etag, fwr = false, false\n"
    "if h.err then redis.call('DEL', KEYS[1]) else etag, fwr = h[1], h[2] end\n"
    "if not etag or etag == '' or etag == ARGV[1] or (not fwr and ARGV[1] == '0') then\n"
    "  if ARGV[3] == '0' then redis.call('HSET', KEYS[1], 'data', ARGV[2], 'first-write', 0)\n"
    "  else redis.call('HSET', KEYS[1], 'data', ARGV[2]) end\n"
    "  local v = redis.call('HINCRBY', KEYS[1], 'version', 1)\n"
    "  if ARGV[4] ~= '' then\n"
    "    local ttl = tonumber(ARGV[4])\n"
    "    if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end\n"
    "  end\n"
    "  return v\n"
    "end\n"
    "return redis.error_reply('ETAG_MISMATCH failed to set key ' .. KEYS[1])\n";

/* ARGV: etag ("0" = any). Dapr's delete script, verbatim in behaviour. */
static const char del_script[] =
    "local v = redis.pcall('HGET', KEYS[1], 'version')\n"
    "if not v or type(v) == 'table' or v == ARGV[1] or v == '' or ARGV[1] == '0' then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return redis.error_reply('ETAG_MISMATCH failed to delete ' .. KEYS[1])\n";

/* ARGV: 5 per operation: kind ('s' set / 'd' delete), version-to-match, data, first-write flag, ttl.
 * Pass 1 replays every condition against a simulated view of the keys (so two operations on the same
 * key see each other); pass 2 writes only if all of them held. */
static const char txn_script[] =
    "local sim = {}\n"
    "local function view(k)\n"
    "  local s = sim[k]\n"
    "  if s then return s end\n"
    "  local v = redis.pcall('HGET', k, 'version')\n"
    "  local f = redis.pcall('HGET', k, 'first-write')\n"
    "  if type(v) == 'table' then v = false; f = false end\n"
    "  if type(f) == 'table' then f = false end\n"
    "  s = {v = v, f = f}\n"
    "  sim[k] = s\n"
    "  return s\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local b = (i - 1) * 5\n"
    "  local kind, ver = ARGV[b + 1], ARGV[b + 2]\n"
    "  local s = view(KEYS[i])\n"
    "  if kind == 's' then\n"
    "    if not (not s.v or s.v == '' or s.v == ver or (not s.f and ver == '0')) then\n"
    "      return redis.error_reply('ETAG_MISMATCH failed to set key ' .. KEYS[i])\n"
    "    end\n"
    "    s.v = tostring((tonumber(s.v) or 0) + 1)\n"
    "    if ARGV[b + 4] == '0' then s.f = '0' end\n"
    "  else\n"
    "    if not (not s.v or s.v == ver or s.v == '' or ver == '0') then\n"
    "      return redis.error_reply('ETAG_MISMATCH failed to delete ' .. KEYS[i])\n"
    "    end\n"
    "    s.v = false; s.f = false\n"
    "  end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local b = (i - 1) * 5\n"
    "  local k = KEYS[i]\n"
    "  if ARGV[b + 1] == 's' then\n"
    "    if redis.call('TYPE', k).ok ~= 'hash' then redis.call('DEL', k) end\n"
    "    redis.call('HSET', k, 'data', ARGV[b + 3])\n"
    "    if ARGV[b + 4] == '0' then redis.call('HSET', k, 'first-write', 0) end\n"
    "    redis.call('HINCRBY', k, 'version', 1)\n"
    "    if ARGV[b + 5] ~= '' then\n"
    "      local ttl = tonumber(ARGV[b + 5])\n"
    "      if ttl > 0 then redis.call('EXPIRE', k, ttl) else redis.call('PERSIST', k) end\n"
    "    end\n"
    "  else\n"
    "    redis.call('DEL', k)\n"
    "  end\n"
    "end\n"
    "return #KEYS\n";

enum { SCRIPT_SET, SCRIPT_DEL, SCRIPT_TXN, SCRIPT_NONE };
static const char *const scripts[] = {set_script, del_script, txn_script};
static char script_sha[3][2 * SHA1_DIGEST_SIZE + 1]; /* hex SHA1 of each script, filled by the first init */

/* nettle's SHA1, not OpenSSL's: OpenSSL's first SHA1 fetches the algorithm from its provider and touches about
 * 2 MB more of libcrypto in every sidecar with a Redis state store (bench/system/bench_memory.py). */
static void scripts_hash(void) {
    if (script_sha[0][0]) return;
    for (int i = 0; i < 3; i++) {
        unsigned char d[SHA1_DIGEST_SIZE];
        struct sha1_ctx ctx;
        sha1_init(&ctx);
        sha1_update(&ctx, strlen(scripts[i]), (const uint8_t *)scripts[i]);
        sha1_digest(&ctx, sizeof d, d);
        for (int j = 0; j < SHA1_DIGEST_SIZE; j++) {
            script_sha[i][2 * j] = "0123456789abcdef"[d[j] >> 4];
            script_sha[i][2 * j + 1] = "0123456789abcdef"[d[j] & 15];
        }
    }
}

struct state_redis {
    rs_redis_t *conn;
    int has_default_ttl;
    long long default_ttl;
};

typedef enum { OP_GET, OP_GET_PLAIN, OP_SET, OP_DEL, OP_TXN } op_kind_t;

/* A call and the command it sends live in one allocation: the command is kept because a NOSCRIPT answer
 * sends it again (as EVAL), and the key because a WRONGTYPE answer to HGETALL is retried as GET. */
struct rs_state_call {
    op_kind_t kind;
    rs_component_t *c;
    rs_state_cb cb;
    void *arg;
    rs_redis_call_t *cur; /* the Redis command in flight */
    const char *key;      /* for the plain-GET fallback and messages */
    int had_etag;
    int script;           /* SCRIPT_*: argv[0..1] are EVALSHA <sha>, or EVAL <text> once NOSCRIPT came back */
    int argc;
    const char **argv;
    size_t *lens;
};

static void finish(rs_state_call_t *call, const rs_state_result_t *res) {
    call->cb(call->arg, res);
    free(call);
}

static void finish_error(rs_state_call_t *call, rs_state_code_t code, const char *msg) {
    rs_state_result_t res = {.code = code};
    snprintf(res.error, sizeof res.error, "%s", msg);
    finish(call, &res);
}

/* A call that will send argv (argc words, lengths in lens, or strlen when lens is NULL); `key_at` is the index
 * of the key among them (-1: none). For a script, argv[0] and argv[1] are filled in here. */
static rs_state_call_t *new_call(rs_component_t *c, op_kind_t kind, int script, int argc, const char **argv,
                                 const size_t *lens, int key_at, rs_state_cb cb, void *arg) {
    size_t bytes = 0;
    for (int i = 0; i < argc; i++) bytes += (lens ? lens[i] : strlen(argv[i])) + 1;
    size_t head = sizeof(rs_state_call_t) + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    rs_state_call_t *call = rs_xcalloc(1, head + bytes + 1);
    call->kind = kind;
    call->c = c;
    call->cb = cb;
    call->arg = arg;
    call->script = script;
    call->argc = argc;
    call->argv = (const char **)(call + 1);
    call->lens = (size_t *)(call->argv + argc);
    char *p = (char *)(call->lens + argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        if (script != SCRIPT_NONE && i < 2) {
            call->argv[i] = i == 0 ? "EVALSHA" : script_sha[script];
            call->lens[i] = strlen(call->argv[i]);
            continue;
        }
        memcpy(p, argv[i], n);
        p[n] = '\0';
        call->argv[i] = p;
        call->lens[i] = n;
        p += n + 1;
    }
    call->key = key_at >= 0 ? call->argv[key_at] : p; /* p: an empty string at the end of the block */
    return call;
}

static void on_reply(void *arg, redisReply *rep, const char *err);

/* Sends the call's command; on a synchronous failure finishes the call and returns NULL. */
static rs_state_call_t *send_cmd(rs_state_call_t *call) {
    struct state_redis *sr = call->c->impl;
    char why[256];
    call->cur = rs_redis_cmd(sr->conn, on_reply, call, why, sizeof why, call->argc, call->argv, call->lens);
    if (!call->cur) {
        finish_error(call, RS_STATE_FAILED, why);
        return NULL;
    }
    return call;
}

static void reply_get(rs_state_call_t *call, redisReply *rep) {
    rs_state_result_t res = {.code = RS_STATE_OK};
    if (rep->type == REDIS_REPLY_ARRAY) {
        if (rep->elements == 0) {
            finish(call, &res);
            return;
        }
        res.found = 1;
        res.data = "";
        for (size_t i = 0; i + 1 < rep->elements; i += 2) {
            redisReply *k = rep->element[i], *v = rep->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
            if (strcmp(k->str, "data") == 0) {
                res.data = v->str;
                res.len = v->len;
            } else if (strcmp(k->str, "version") == 0) {
                res.etag = v->str;
            }
        }
    } else if (rep->type == REDIS_REPLY_STRING) { /* a plain string key, written by something else */
        res.found = 1;
        res.data = rep->str;
        res.len = rep->len;
    }
    finish(call, &res);
}

static void on_reply(void *arg, redisReply *rep, const char *err) {
    rs_state_call_t *call = arg;
    call->cur = NULL;
    if (call->kind == OP_GET && rep && err && strncmp(err, "WRONGTYPE", 9) == 0) {
        /* not a hash: Dapr falls back to a plain GET */
        call->kind = OP_GET_PLAIN;
        call->argv[0] = "GET";
        call->lens[0] = 3;
        send_cmd(call);
        return;
    }
    if (call->script != SCRIPT_NONE && rep && err && strncmp(err, "NOSCRIPT", 8) == 0 &&
        strcmp(call->argv[0], "EVAL") != 0) {
        /* this Redis has not cached the script (yet, or any more): send its text once */
        call->argv[0] = "EVAL";
        call->lens[0] = 4;
        call->argv[1] = scripts[call->script];
        call->lens[1] = strlen(scripts[call->script]);
        send_cmd(call);
        return;
    }
    if (err) {
        int mismatch = rep && strncmp(err, "ETAG_MISMATCH", 13) == 0;
        char msg[256];
        snprintf(msg, sizeof msg, "%s", mismatch ? err + 14 : err);
        /* Dapr: a failed set condition is a 409 only when the request carried an etag; a transaction
         * reports every failed condition as a mismatch (the API maps it to 500 anyway). */
        rs_state_code_t code = RS_STATE_FAILED;
        if (mismatch && (call->had_etag || call->kind != OP_SET)) code = RS_STATE_ETAG_MISMATCH;
        finish_error(call, code, msg);
        return;
    }
    switch (call->kind) {
    case OP_GET:
    case OP_GET_PLAIN: reply_get(call, rep); return;
    default: {
        rs_state_result_t res = {.code = RS_STATE_OK};
        finish(call, &res);
    }
    }
}

static rs_state_call_t *redis_get(rs_component_t *c, const char *key, rs_state_cb cb, void *arg) {
    const char *argv[] = {"HGETALL", key};
    return send_cmd(new_call(c, OP_GET, SCRIPT_NONE, 2, argv, NULL, 1, cb, arg));
}

/* The version a set must match, as Dapr's parseETag computes it: "0" (none) for explicit last-write or
 * no etag, otherwise the etag as an integer. Returns -1 for an etag that is not an integer. */
static int set_version(const rs_state_write_t *w, char *out, size_t outlen) {
    if (w->concurrency == RS_CONCURRENCY_LAST_WRITE || !w->etag || !*w->etag) {
        snprintf(out, outlen, "0");
        return 0;
    }
    long long v;
    if (rs_parse_int64(w->etag, &v) != 0) return -1;
    snprintf(out, outlen, "%lld", v);
    return 0;
}

static int effective_ttl(const struct state_redis *sr, const rs_state_write_t *w, char *out, size_t outlen) {
    out[0] = '\0';
    if (w->has_ttl) snprintf(out, outlen, "%lld", w->ttl_seconds);
    else if (sr->has_default_ttl) snprintf(out, outlen, "%lld", sr->default_ttl);
    return 0;
}

static rs_state_call_t *redis_write(rs_component_t *c, const rs_state_write_t *w, rs_state_cb cb, void *arg) {
    struct state_redis *sr = c->impl;
    int had_etag = w->etag && *w->etag;
    rs_state_call_t *call;
    if (w->is_delete) {
        const char *argv[] = {NULL, NULL, "1", w->key, had_etag ? w->etag : "0"};
        call = new_call(c, OP_DEL, SCRIPT_DEL, 5, argv, (size_t[]){0, 0, 1, strlen(w->key), strlen(argv[4])}, 3, cb,
                        arg);
        call->had_etag = had_etag;
        return send_cmd(call);
    }
    char ver[32], ttl[32];
    if (set_version(w, ver, sizeof ver) != 0) {
        const char *argv[] = {w->key};
        call = new_call(c, OP_SET, SCRIPT_NONE, 1, argv, NULL, 0, cb, arg);
        char msg[300];
        snprintf(msg, sizeof msg, "invalid etag value: %s", w->etag);
        finish_error(call, RS_STATE_ETAG_INVALID, msg);
        return NULL;
    }
    effective_ttl(sr, w, ttl, sizeof ttl);
    const char *argv[] = {NULL, NULL, "1", w->key, ver, w->value ? w->value : "",
                          w->concurrency == RS_CONCURRENCY_FIRST_WRITE ? "0" : "1", ttl};
    size_t lens[] = {0, 0, 1, strlen(w->key), strlen(ver), w->value ? w->len : 0, 1, strlen(ttl)};
    call = new_call(c, OP_SET, SCRIPT_SET, 8, argv, lens, 3, cb, arg);
    call->had_etag = had_etag;
    return send_cmd(call);
}

static rs_state_call_t *redis_transact(rs_component_t *c, const rs_state_write_t *ws, size_t n, rs_state_cb cb,
                                       void *arg) {
    struct state_redis *sr = c->impl;
    if (n == 0) {
        rs_state_call_t *call = new_call(c, OP_TXN, SCRIPT_NONE, 0, NULL, NULL, -1, cb, arg);
        rs_state_result_t res = {.code = RS_STATE_OK};
        finish(call, &res);
        return NULL;
    }
    size_t argc = 3 + n + 5 * n;
    const char **argv = rs_xcalloc(argc, sizeof *argv);
    size_t *lens = rs_xcalloc(argc, sizeof *lens);
    char (*nums)[2][32] = rs_xcalloc(n, sizeof *nums); /* per op: version to match, ttl */
    char count[32];
    snprintf(count, sizeof count, "%zu", n);
    argv[0] = argv[1] = ""; /* EVALSHA <sha>, filled by new_call */
    argv[2] = count;
    for (size_t i = 0; i < n; i++) argv[3 + i] = ws[i].key;
    size_t a = 3 + n;
    for (size_t i = 0; i < n; i++, a += 5) {
        const rs_state_write_t *w = &ws[i];
        const char *ver = nums[i][0];
        if (w->is_delete) {
            ver = w->etag && *w->etag ? w->etag : "0"; /* compared as a string, like Dapr's delete */
        } else if (set_version(w, nums[i][0], sizeof nums[i][0]) != 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "invalid etag value: %s", w->etag);
            free(argv);
            free(lens);
            free(nums);
            finish_error(new_call(c, OP_TXN, SCRIPT_NONE, 0, NULL, NULL, -1, cb, arg), RS_STATE_ETAG_INVALID, msg);
            return NULL;
        }
        effective_ttl(sr, w, nums[i][1], sizeof nums[i][1]);
        argv[a] = w->is_delete ? "d" : "s";
        argv[a + 1] = ver;
        argv[a + 2] = w->is_delete ? "" : (w->value ? w->value : "");
        argv[a + 3] = w->concurrency == RS_CONCURRENCY_FIRST_WRITE ? "0" : "1";
        argv[a + 4] = w->is_delete ? "" : nums[i][1];
    }
    for (size_t i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    a = 3 + n;
    for (size_t i = 0; i < n; i++, a += 5)
        if (!ws[i].is_delete) lens[a + 2] = ws[i].value ? ws[i].len : 0;
    rs_state_call_t *call = new_call(c, OP_TXN, SCRIPT_TXN, (int)argc, argv, lens, -1, cb, arg);
    free(argv);
    free(lens);
    free(nums);
    return send_cmd(call);
}

static void redis_cancel(rs_state_call_t *call) {
    if (!call) return;
    rs_redis_cancel(call->cur);
    free(call);
}

static int redis_init(rs_component_t *c, char *err, size_t errlen) {
    rs_redis_options_t o;
    if (rs_redis_options_parse(&o, &c->metadata, err, errlen) != 0) return -1;
    struct state_redis *sr = rs_xcalloc(1, sizeof *sr);
    const char *ttl = rs_component_meta(c, "ttlInSeconds");
    if (ttl && *ttl) {
        if (rs_parse_int64(ttl, &sr->default_ttl) != 0) {
            snprintf(err, errlen, "ttlInSeconds: not an integer: %s", ttl);
            rs_redis_options_free(&o);
            free(sr);
            return -1;
        }
        sr->has_default_ttl = 1;
    }
    /* go-redis's default: a frozen Redis fails requests after 3 s instead of hanging them */
    if (!o.read_timeout_ms) o.read_timeout_ms = 3000;
    if (rs_redis_probe(&o, 2000, NULL, err, errlen) != 0) {
        rs_redis_options_free(&o);
        free(sr);
        return -1;
    }
    char scope[200];
    snprintf(scope, sizeof scope, "%s %s", SCOPE, c->name);
    sr->conn = rs_redis_new(c->host->base, &o, scope);
    rs_redis_options_free(&o);
    scripts_hash();
    c->impl = sr;
    return 0;
}

static void redis_close(rs_component_t *c) {
    struct state_redis *sr = c->impl;
    if (!sr) return;
    rs_redis_free(sr->conn);
    free(sr);
    c->impl = NULL;
}

static const rs_state_ops_t redis_ops = {
    .get = redis_get,
    .write = redis_write,
    .transact = redis_transact,
    .cancel = redis_cancel,
};

static const char *const redis_caps[] = {"ETAG", "TRANSACTIONAL", "TTL", NULL};

const rs_component_type_t rs_state_redis_type = {
    .type = "state.redis",
    .kind = RS_KIND_STATE,
    .capabilities = redis_caps,
    .init = redis_init,
    .close = redis_close,
    .ops = &redis_ops,
};

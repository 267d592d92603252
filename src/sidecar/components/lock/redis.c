/* SPDX-License-Identifier: MIT */
/* lock.redis (spec §3.2): the lock is a plain string key holding the owner,
 * taken with SET NX EX and released by a script that deletes it only for its
 * owner — the same keys and values daprd uses, so both can share a Redis. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/components/lock/lock.h"
#include "sidecar/components/redis_conn.h"

/* -1: no such lock, -2: someone else's, otherwise DEL's count. */
static const char unlock_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == false then return -1 end\n"
    "if v ~= ARGV[1] then return -2 end\n"
    "return redis.call('DEL', KEYS[1])\n";

struct lock_redis {
    rs_redis_t *conn;
};

struct rs_lock_call {
    int is_unlock;
    rs_lock_cb cb;
    void *arg;
    rs_redis_call_t *cur;
};

static void finish(rs_lock_call_t *call, const rs_lock_result_t *res) {
    call->cb(call->arg, res);
    free(call);
}

static void on_reply(void *arg, redisReply *rep, const char *err) {
    rs_lock_call_t *call = arg;
    rs_lock_result_t res = {0};
    if (err) {
        res.failed = 1;
        snprintf(res.error, sizeof res.error, "%s", err);
    } else if (!call->is_unlock) {
        res.acquired = rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0;
    } else if (rep->type == REDIS_REPLY_INTEGER) {
        res.status = rep->integer == -1   ? RS_UNLOCK_DOES_NOT_EXIST
                     : rep->integer == -2 ? RS_UNLOCK_BELONGS_TO_OTHERS
                     : rep->integer >= 0  ? RS_UNLOCK_SUCCESS
                                          : RS_UNLOCK_INTERNAL_ERROR;
    } else {
        res.status = RS_UNLOCK_INTERNAL_ERROR;
    }
    finish(call, &res);
}

static rs_lock_call_t *send_cmd(rs_component_t *c, int is_unlock, rs_lock_cb cb, void *arg, int argc,
                                const char **argv) {
    struct lock_redis *lr = c->impl;
    rs_lock_call_t *call = rs_xcalloc(1, sizeof *call);
    call->is_unlock = is_unlock;
    call->cb = cb;
    call->arg = arg;
    rs_lock_result_t res = {.failed = 1};
    call->cur = rs_redis_cmd(lr->conn, on_reply, call, res.error, sizeof res.error, argc, argv, NULL);
    if (!call->cur) {
        finish(call, &res);
        return NULL;
    }
    return call;
}

static rs_lock_call_t *redis_try_lock(rs_component_t *c, const char *key, const char *owner, long long expiry_s,
                                      rs_lock_cb cb, void *arg) {
    char ex[32];
    snprintf(ex, sizeof ex, "%lld", expiry_s);
    const char *argv[] = {"SET", key, owner, "NX", "EX", ex};
    return send_cmd(c, 0, cb, arg, 6, argv);
}

static rs_lock_call_t *redis_unlock(rs_component_t *c, const char *key, const char *owner, rs_lock_cb cb, void *arg) {
    const char *argv[] = {"EVAL", unlock_script, "1", key, owner};
    return send_cmd(c, 1, cb, arg, 5, argv);
}

static void redis_cancel(rs_lock_call_t *call) {
    if (!call) return;
    rs_redis_cancel(call->cur);
    free(call);
}

static int redis_init(rs_component_t *c, char *err, size_t errlen) {
    rs_redis_options_t o;
    if (rs_redis_options_parse(&o, &c->metadata, err, errlen) != 0) return -1;
    /* go-redis's default: a frozen Redis fails requests after 3 s instead of hanging them */
    if (!o.read_timeout_ms) o.read_timeout_ms = 3000;
    int replicas = 0;
    if (rs_redis_probe(&o, 2000, &replicas, err, errlen) != 0) {
        rs_redis_options_free(&o);
        return -1;
    }
    if (replicas > 0) {
        /* Dapr refuses: a lock on a replicated Redis without failover handling is not safe. */
        snprintf(err, errlen, "redis lock: the server has %d replicas; lock.redis needs a single node", replicas);
        rs_redis_options_free(&o);
        return -1;
    }
    struct lock_redis *lr = rs_xcalloc(1, sizeof *lr);
    char scope[200];
    snprintf(scope, sizeof scope, "lock.redis %s", c->name);
    lr->conn = rs_redis_new(c->host->base, &o, scope);
    rs_redis_options_free(&o);
    c->impl = lr;
    return 0;
}

static void redis_close(rs_component_t *c) {
    struct lock_redis *lr = c->impl;
    if (!lr) return;
    rs_redis_free(lr->conn);
    free(lr);
    c->impl = NULL;
}

static const rs_lock_ops_t redis_ops = {.try_lock = redis_try_lock, .unlock = redis_unlock, .cancel = redis_cancel};

const rs_component_type_t rs_lock_redis_type = {
    .type = "lock.redis",
    .kind = RS_KIND_LOCK,
    .capabilities = NULL,
    .init = redis_init,
    .close = redis_close,
    .ops = &redis_ops,
};

/* SPDX-License-Identifier: MIT */
/* Finds a process's locks in a Redis lock store (lock_watch.h): SCAN for the app's lock keys matching the glob,
 * then MGET their owners. */
#include "tools/ripstop/lock_watch.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

struct rs_lock_watch {
    char host[256];
    int port;
    char *password;
    redisContext *c;
};

rs_lock_watch_t *rs_lock_watch_new(const char *host_port, const char *password) {
    rs_lock_watch_t *w = rs_xcalloc(1, sizeof *w);
    const char *colon = host_port ? strrchr(host_port, ':') : NULL;
    long long port = 6379;
    if (colon && (rs_parse_int64(colon + 1, &port) || port < 1 || port > 65535)) port = 0;
    snprintf(w->host, sizeof w->host, "%.*s", colon ? (int)(colon - host_port) : (int)strlen(host_port ? host_port : ""),
             host_port ? host_port : "");
    w->port = (int)port;
    w->password = password && *password ? rs_strdup(password) : NULL;
    return w;
}

static int open_conn(rs_lock_watch_t *w, char *err, size_t errlen) {
    if (w->c) return 0;
    if (!w->host[0] || w->port <= 0) {
        snprintf(err, errlen, "no Redis address");
        return -1;
    }
    struct timeval tv = {0, 500000};
    redisContext *c = redisConnectWithTimeout(w->host, w->port, tv);
    if (!c || c->err) {
        snprintf(err, errlen, "redis %s:%d: %s", w->host, w->port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    if (w->password) {
        redisReply *r = redisCommand(c, "AUTH %s", w->password);
        int bad = !r || r->type == REDIS_REPLY_ERROR;
        if (bad) snprintf(err, errlen, "redis AUTH: %s", r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        if (bad) {
            redisFree(c);
            return -1;
        }
    }
    w->c = c;
    return 0;
}

static void drop(rs_lock_watch_t *w, char *err, size_t errlen, const char *what, const redisReply *r) {
    snprintf(err, errlen, "redis %s: %s", what, r && r->type == REDIS_REPLY_ERROR ? r->str : w->c->errstr);
    redisFree(w->c);
    w->c = NULL;
}

int rs_lock_owner_is(const char *owner, size_t len, const char *app_id, pid_t pid) {
    char want[160];
    int n = snprintf(want, sizeof want, "%s-%d-", app_id, (int)pid);
    return n > 0 && (size_t)n < sizeof want && len > (size_t)n && memcmp(owner, want, (size_t)n) == 0;
}

/* pattern: "lock||<app_id>||<glob>", with the app id's glob characters escaped. */
static void key_pattern(char *out, size_t len, const char *app_id, const char *glob) {
    size_t o = (size_t)snprintf(out, len, "lock||");
    for (const char *p = app_id; *p && o + 3 < len; p++) {
        if (strchr("*?[]\\", *p)) out[o++] = '\\';
        out[o++] = *p;
    }
    out[o] = 0;
    snprintf(out + o, len - o, "||%s", glob);
}

void rs_lock_unless_key(const char *unless_key, const char *resource, char *out, size_t len) {
    size_t o = 0;
    for (const char *p = unless_key; *p && o + 1 < len;) {
        if (!strncmp(p, "{lock}", 6)) {
            o += (size_t)snprintf(out + o, len - o, "%s", resource);
            if (o >= len) o = len - 1;
            p += 6;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < len ? o : len - 1] = 0;
}

/* 1 when key exists, 0 when not, -1 on error. */
static int exists(rs_lock_watch_t *w, const char *key, char *err, size_t errlen) {
    redisReply *r = redisCommand(w->c, "EXISTS %s", key);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        drop(w, err, errlen, "EXISTS", r);
        if (r) freeReplyObject(r);
        return -1;
    }
    int n = r->integer > 0;
    freeReplyObject(r);
    return n;
}

int rs_lock_watch_held(rs_lock_watch_t *w, const char *app_id, const char *glob, pid_t pid, const char *unless_key,
                       char *resource, size_t rlen, char *err, size_t errlen) {
    if (open_conn(w, err, errlen)) return -1;
    char pattern[512], cursor[32] = "0";
    key_pattern(pattern, sizeof pattern, app_id, glob);
    size_t prefix = strlen("lock||") + strlen(app_id) + 2;
    do {
        redisReply *r = redisCommand(w->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            drop(w, err, errlen, "SCAN", r);
            if (r) freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        if (keys->elements) {
            const char **argv = rs_xcalloc(keys->elements + 1, sizeof *argv);
            size_t *argl = rs_xcalloc(keys->elements + 1, sizeof *argl);
            argv[0] = "MGET";
            argl[0] = 4;
            for (size_t i = 0; i < keys->elements; i++) {
                argv[i + 1] = keys->element[i]->str;
                argl[i + 1] = keys->element[i]->len;
            }
            redisReply *v = redisCommandArgv(w->c, (int)keys->elements + 1, argv, argl);
            free(argv);
            free(argl);
            if (!v || v->type != REDIS_REPLY_ARRAY || v->elements != keys->elements) {
                drop(w, err, errlen, "MGET", v);
                if (v) freeReplyObject(v);
                freeReplyObject(r);
                return -1;
            }
            for (size_t i = 0; i < v->elements; i++) {
                const redisReply *o = v->element[i];
                if (o->type != REDIS_REPLY_STRING || !rs_lock_owner_is(o->str, o->len, app_id, pid)) continue;
                const redisReply *k = keys->element[i];
                snprintf(resource, rlen, "%s", k->len > prefix ? k->str + prefix : "");
                int past = 0;
                if (unless_key && *unless_key) {
                    char key[512];
                    rs_lock_unless_key(unless_key, resource, key, sizeof key);
                    past = exists(w, key, err, errlen);
                }
                if (past == 1) continue;
                freeReplyObject(v);
                freeReplyObject(r);
                return past < 0 ? -1 : 1;
            }
            freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

void rs_lock_watch_free(rs_lock_watch_t *w) {
    if (!w) return;
    if (w->c) redisFree(w->c);
    free(w->password);
    free(w);
}

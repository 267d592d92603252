/* SPDX-License-Identifier: MIT */
/* Async Redis connection with reconnect. See redis_conn.h for the contract.
 *
 * Lifetime rules that keep late replies safe:
 *   - a call's privdata is its own rs_redis_call_t, which never points back
 *     at the rs_redis_t, so a reply that arrives while (or after) the
 *     connection is torn down touches nothing that was freed;
 *   - hiredis callbacks that need the rs_redis_t read it from ac->data, and
 *     rs_redis_free clears ac->data first, so callbacks fired by the final
 *     teardown see NULL and do nothing. */
#include "sidecar/components/redis_conn.h"

#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/log.h"
#include "sidecar/components/redis_events.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define DIAL_TIMEOUT_MS 5000
#define WATCH_INTERVAL_MS 100

enum conn_state { ST_DOWN = 0, ST_CONNECTING, ST_SETUP, ST_UP, ST_CLOSED };

struct rs_redis {
    struct event_base *base;
    rs_redis_options_t opt;
    char *scope;
    char addr[300];
    redisAsyncContext *ac;
    enum conn_state state;
    int backoff_ms;
    struct event *retry_ev;    /* reconnect after back-off */
    struct event *timeout_ev;  /* connect (and setup) took too long */
    struct event *watch_ev;    /* read timeout check, when read_timeout_ms > 0 */
    int pending;               /* user commands owed a reply on the current context */
    int64_t last_progress_ms;  /* last reply, or when pending went from 0 to 1 */
    rs_redis_state_fn state_fn;
    void *state_arg;
    char last_error[200];
    int ever_up;               /* until the first connection is up, commands queue behind it */
};

struct rs_redis_call {
    rs_redis_reply_fn fn;
    void *arg;
    int cancelled;
};

/* ---- options ---- */

void rs_redis_options_free(rs_redis_options_t *o) {
    free(o->host);
    free(o->username);
    free(o->password);
    memset(o, 0, sizeof *o);
}

static int flag_set(const rs_kvlist_t *md, const char *name, int *out, char *err, size_t errlen) {
    const char *v = rs_kvlist_get(md, name);
    *out = 0;
    if (!v || !*v) return 0;
    if (rs_parse_bool(v, out) != 0) {
        snprintf(err, errlen, "%s: not a boolean: %s", name, v);
        return -1;
    }
    return 0;
}

int rs_redis_options_parse(rs_redis_options_t *o, const rs_kvlist_t *md, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    const char *host = rs_kvlist_get(md, "redisHost");
    if (!host || !*host) {
        snprintf(err, errlen, "redis: redisHost is required");
        return -1;
    }
    int tls = 0, failover = 0;
    if (flag_set(md, "enableTLS", &tls, err, errlen) || flag_set(md, "failover", &failover, err, errlen)) return -1;
    if (tls) {
        snprintf(err, errlen, "redis: enableTLS is not supported by ripstopd yet");
        return -1;
    }
    if (failover) {
        snprintf(err, errlen, "redis: failover (Sentinel) is not supported by ripstopd");
        return -1;
    }
    const char *rtype = rs_kvlist_get(md, "redisType");
    if (rtype && *rtype && strcmp(rtype, "node") != 0) {
        snprintf(err, errlen, "redis: redisType %s is not supported (only node)", rtype);
        return -1;
    }
    long long port = 6379;
    const char *colon = strrchr(host, ':');
    if (colon && host[0] != '[') {
        o->host = strndup(host, (size_t)(colon - host));
        if (!o->host) abort();
        if (rs_parse_int64(colon + 1, &port) != 0 || port <= 0 || port > 65535) {
            snprintf(err, errlen, "redis: bad port in redisHost %s", host);
            rs_redis_options_free(o);
            return -1;
        }
    } else {
        o->host = rs_strdup(host);
        const char *p = rs_kvlist_get(md, "redisPort");
        if (p && *p && (rs_parse_int64(p, &port) != 0 || port <= 0 || port > 65535)) {
            snprintf(err, errlen, "redis: bad redisPort %s", p);
            rs_redis_options_free(o);
            return -1;
        }
    }
    o->port = (int)port;
    const char *user = rs_kvlist_get(md, "redisUsername");
    const char *pass = rs_kvlist_get(md, "redisPassword");
    if (user && *user) o->username = rs_strdup(user);
    if (pass && *pass) o->password = rs_strdup(pass);
    const char *db = rs_kvlist_get(md, "redisDB");
    long long dbn = 0;
    if (db && *db && (rs_parse_int64(db, &dbn) != 0 || dbn < 0 || dbn > 1000000)) {
        snprintf(err, errlen, "redis: bad redisDB %s", db);
        rs_redis_options_free(o);
        return -1;
    }
    o->db = (int)dbn;
    o->dial_timeout_ms = DIAL_TIMEOUT_MS;
    static const char *const names[] = {"dialTimeout", "readTimeout"};
    int *outs[] = {&o->dial_timeout_ms, &o->read_timeout_ms};
    for (int i = 0; i < 2; i++) {
        const char *v = rs_kvlist_get(md, names[i]);
        int64_t ms;
        if (!v || !*v) continue;
        if (rs_duration_parse_go(v, &ms) != 0 || ms < 0 || ms > 3600000) {
            snprintf(err, errlen, "redis: bad %s %s", names[i], v);
            rs_redis_options_free(o);
            return -1;
        }
        if (ms > 0) *outs[i] = (int)ms;
    }
    return 0;
}

/* ---- blocking probe (init only) ---- */

static int probe_cmd(redisContext *c, char *err, size_t errlen, const char *what, int argc, const char **argv) {
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    if (!rep) {
        snprintf(err, errlen, "%s: %s", what, c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    int bad = rep->type == REDIS_REPLY_ERROR;
    if (bad) snprintf(err, errlen, "%s: %s", what, rep->str);
    freeReplyObject(rep);
    return bad ? -1 : 0;
}

int rs_redis_probe(const rs_redis_options_t *o, int timeout_ms, int *replicas, char *err, size_t errlen) {
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(o->host, o->port, tv);
    char why[200] = "";
    int rc = -1;
    if (!c || c->err) {
        snprintf(why, sizeof why, "%s", c ? c->errstr : "out of memory");
        goto out;
    }
    redisSetTimeout(c, tv);
    if (o->password) {
        const char *argv[] = {"AUTH", o->username ? o->username : o->password, o->password};
        if (probe_cmd(c, why, sizeof why, "AUTH", o->username ? 3 : 2, argv)) goto out;
    }
    if (o->db) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", o->db);
        if (probe_cmd(c, why, sizeof why, "SELECT", 2, (const char *[]){"SELECT", dbs})) goto out;
    }
    if (probe_cmd(c, why, sizeof why, "PING", 1, (const char *[]){"PING"})) goto out;
    if (replicas) {
        *replicas = 0;
        redisReply *rep = redisCommand(c, "INFO replication");
        if (rep && rep->type == REDIS_REPLY_STRING) {
            const char *p = strstr(rep->str, "connected_slaves:");
            if (p) *replicas = atoi(p + strlen("connected_slaves:"));
        }
        if (rep) freeReplyObject(rep);
    }
    rc = 0;
out:
    if (rc) snprintf(err, errlen, "error connecting to redis at %s:%d: %s", o->host, o->port, why);
    if (c) redisFree(c);
    return rc;
}

/* ---- async connection ---- */

static void start_connect(rs_redis_t *r);

static void set_state(rs_redis_t *r, enum conn_state st) {
    int was_up = r->state == ST_UP;
    r->state = st;
    int up = st == ST_UP;
    if (was_up != up && r->state_fn) r->state_fn(r->state_arg, up);
}

static void schedule_retry(rs_redis_t *r) {
    if (r->state == ST_CLOSED) return;
    set_state(r, ST_DOWN);
    event_del(r->timeout_ev);
    struct timeval tv = {r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};
    evtimer_add(r->retry_ev, &tv);
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void on_retry(evutil_socket_t fd, short what, void *arg) { start_connect(arg); }

/* The connect or the AUTH/SELECT exchange took too long: drop it and try again later.
 * redisAsyncFree runs the disconnect callback only for a connected context, so the
 * retry is scheduled here in both cases. */
static void on_connect_timeout(evutil_socket_t fd, short what, void *arg) {
    rs_redis_t *r = arg;
    if (!r->ac) return;
    RS_WARN(r->scope, "redis %s: connect timed out; retrying", r->addr);
    snprintf(r->last_error, sizeof r->last_error, "connect timed out");
    redisAsyncContext *ac = r->ac;
    ac->data = NULL;
    r->ac = NULL;
    r->pending = 0;
    ac->err = REDIS_ERR_IO; /* the reason queued calls are given */
    snprintf(ac->c.errstr, sizeof ac->c.errstr, "connect timed out");
    redisAsyncFree(ac);
    schedule_retry(r);
}

/* Read timeout: replies are owed but none came for read_timeout_ms. Dropping the context fails every
 * pending call (with the reason set here) and the retry timer reconnects. */
static void on_watch(evutil_socket_t fd, short what, void *arg) {
    rs_redis_t *r = arg;
    if (!r->ac || r->state != ST_UP || r->pending == 0) return;
    int64_t idle = rs_now_ms() - r->last_progress_ms;
    if (idle < r->opt.read_timeout_ms) return;
    RS_WARN(r->scope, "redis %s: no reply for %lld ms with %d commands pending; reconnecting", r->addr, (long long)idle,
            r->pending);
    snprintf(r->last_error, sizeof r->last_error, "timed out waiting for a reply");
    redisAsyncContext *ac = r->ac;
    ac->data = NULL;
    r->ac = NULL;
    r->pending = 0;
    ac->err = REDIS_ERR_IO;
    snprintf(ac->c.errstr, sizeof ac->c.errstr, "timed out waiting for a reply");
    redisAsyncFree(ac);
    schedule_retry(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    rs_redis_t *r = ac->data;
    if (!r) return; /* torn down by us */
    r->ac = NULL;
    r->pending = 0;
    snprintf(r->last_error, sizeof r->last_error, "%s", ac->errstr[0] ? ac->errstr : "connection closed");
    RS_WARN(r->scope, "redis %s: disconnected (%s); reconnecting", r->addr, r->last_error);
    schedule_retry(r);
}

/* Replies to AUTH / SELECT / PING sent right after connecting. The final PING's reply marks the connection up. */
static void on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata) {
    rs_redis_t *r = ac->data;
    redisReply *rep = reply;
    if (!r || !rep) return; /* teardown, or the connection dropped: on_disconnect handles it */
    if (rep->type == REDIS_REPLY_ERROR) {
        if (r->state != ST_SETUP) return; /* an earlier step already failed */
        snprintf(r->last_error, sizeof r->last_error, "%s", rep->str);
        RS_ERROR(r->scope, "redis %s: connection setup failed: %s", r->addr, rep->str);
        set_state(r, ST_DOWN);
        redisAsyncDisconnect(ac); /* on_disconnect schedules the retry */
        return;
    }
    if (privdata && (r->state == ST_SETUP || r->state == ST_CONNECTING)) {
        r->ever_up = 1;
        event_del(r->timeout_ev);
        r->backoff_ms = BACKOFF_MIN_MS;
        r->last_error[0] = '\0';
        RS_INFO(r->scope, "redis %s: connected", r->addr);
        set_state(r, ST_UP);
    }
}

static void on_connect(const redisAsyncContext *cac, int status) {
    rs_redis_t *r = cac->data;
    if (!r) return;
    if (status != REDIS_OK) {
        /* hiredis frees the context (and fails the queued commands) after this callback */
        r->ac = NULL;
        snprintf(r->last_error, sizeof r->last_error, "%s", cac->errstr);
        RS_DEBUG(r->scope, "redis %s: connect failed: %s", r->addr, cac->errstr);
        schedule_retry(r);
        return;
    }
    set_state(r, ST_SETUP); /* the AUTH/SELECT/PING queued by start_connect are on their way */
}

/* Queued right after redisAsyncConnect, so they precede any user command on the wire. */
static void send_setup(rs_redis_t *r, redisAsyncContext *ac) {
    if (r->opt.password) {
        if (r->opt.username) {
            const char *argv[] = {"AUTH", r->opt.username, r->opt.password};
            redisAsyncCommandArgv(ac, on_setup_reply, NULL, 3, argv, NULL);
        } else {
            const char *argv[] = {"AUTH", r->opt.password};
            redisAsyncCommandArgv(ac, on_setup_reply, NULL, 2, argv, NULL);
        }
    }
    if (r->opt.db) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", r->opt.db);
        const char *argv[] = {"SELECT", dbs};
        redisAsyncCommandArgv(ac, on_setup_reply, NULL, 2, argv, NULL);
    }
    const char *ping[] = {"PING"};
    redisAsyncCommandArgv(ac, on_setup_reply, (void *)1, 1, ping, NULL);
}

static void start_connect(rs_redis_t *r) {
    if (r->state == ST_CLOSED || r->ac) return;
    redisAsyncContext *ac = redisAsyncConnect(r->opt.host, r->opt.port);
    if (!ac || ac->err) {
        snprintf(r->last_error, sizeof r->last_error, "%s", ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    set_state(r, ST_CONNECTING);
    rs_redis_events_attach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    send_setup(r, ac);
    int dial = r->opt.dial_timeout_ms > 0 ? r->opt.dial_timeout_ms : DIAL_TIMEOUT_MS;
    struct timeval tv = {dial / 1000, (dial % 1000) * 1000};
    evtimer_add(r->timeout_ev, &tv);
}

rs_redis_t *rs_redis_new(struct event_base *base, const rs_redis_options_t *o, const char *scope) {
    rs_redis_t *r = rs_xcalloc(1, sizeof *r);
    r->base = base;
    r->opt.host = rs_strdup(o->host);
    r->opt.port = o->port;
    r->opt.username = rs_strdup(o->username);
    r->opt.password = rs_strdup(o->password);
    r->opt.db = o->db;
    r->scope = rs_strdup(scope ? scope : "redis");
    snprintf(r->addr, sizeof r->addr, "%s:%d", o->host, o->port);
    snprintf(r->last_error, sizeof r->last_error, "not connected yet");
    r->backoff_ms = BACKOFF_MIN_MS;
    r->retry_ev = evtimer_new(base, on_retry, r);
    r->timeout_ev = evtimer_new(base, on_connect_timeout, r);
    r->opt.dial_timeout_ms = o->dial_timeout_ms;
    r->opt.read_timeout_ms = o->read_timeout_ms;
    if (o->read_timeout_ms > 0) {
        r->watch_ev = event_new(base, -1, EV_PERSIST, on_watch, r);
        struct timeval tv = {0, WATCH_INTERVAL_MS * 1000};
        event_add(r->watch_ev, &tv);
    }
    start_connect(r);
    return r;
}

void rs_redis_free(rs_redis_t *r) {
    if (!r) return;
    r->state = ST_CLOSED;
    event_free(r->retry_ev);
    event_free(r->timeout_ev);
    if (r->watch_ev) event_free(r->watch_ev);
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        ac->data = NULL;
        r->ac = NULL;
        redisAsyncFree(ac); /* pending calls get reply NULL -> "connection closed" */
    }
    rs_redis_options_free(&r->opt);
    free(r->scope);
    free(r);
}

int rs_redis_is_up(const rs_redis_t *r) { return r && r->state == ST_UP; }

void rs_redis_on_state(rs_redis_t *r, rs_redis_state_fn fn, void *arg) {
    r->state_fn = fn;
    r->state_arg = arg;
}

const char *rs_redis_addr(const rs_redis_t *r) { return r->addr; }

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
    rs_redis_call_t *call = privdata;
    redisReply *rep = reply;
    rs_redis_t *r = ac->data; /* NULL while we tear the context down */
    if (r && rep) {
        r->pending--;
        r->last_progress_ms = rs_now_ms();
    }
    if (!call->cancelled) {
        const char *err = NULL;
        if (!rep) err = ac->errstr[0] ? ac->errstr : (ac->c.flags & REDIS_FREEING) ? "connection closed" : "connection lost";
        else if (rep->type == REDIS_REPLY_ERROR) err = rep->str;
        call->fn(call->arg, rep, err);
    }
    free(call);
}

/* The command in RESP (an array of bulk strings), what redisAsyncCommandArgv would build, without its
 * sdscatfmt formatting (a fifth of a state call's own instructions). Into `stack` when it fits, else a new
 * allocation the caller frees. */
static char *format_command(char *stack, size_t cap, int argc, const char **argv, const size_t *argvlen,
                            size_t *out_len) {
    size_t need = 1 + 20 + 2;
    for (int i = 0; i < argc; i++) need += 1 + 20 + 2 + (argvlen ? argvlen[i] : strlen(argv[i])) + 2;
    char *out = need <= cap ? stack : rs_xmalloc(need);
    char *p = out;
    *p++ = '*';
    p += rs_utoa((unsigned long long)argc, p);
    *p++ = '\r', *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        *p++ = '$';
        p += rs_utoa(n, p);
        *p++ = '\r', *p++ = '\n';
        memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r', *p++ = '\n';
    }
    *out_len = (size_t)(p - out);
    return out;
}

rs_redis_call_t *rs_redis_cmd(rs_redis_t *r, rs_redis_reply_fn fn, void *arg, char *err, size_t errlen, int argc,
                              const char **argv, const size_t *argvlen) {
    /* Fail fast while down. The very first connection is the exception: init has just probed
     * Redis, and a request that arrives while the loop is still connecting should wait the few
     * milliseconds rather than fail. */
    int queue_ok = !r->ever_up && (r->state == ST_CONNECTING || r->state == ST_SETUP);
    if ((r->state != ST_UP && !queue_ok) || !r->ac) {
        snprintf(err, errlen, "redis %s is not connected: %s", r->addr, r->last_error);
        return NULL;
    }
    rs_redis_call_t *call = rs_xcalloc(1, sizeof *call);
    call->fn = fn;
    call->arg = arg;
    if (r->pending++ == 0) r->last_progress_ms = rs_now_ms();
    char stack[4096];
    size_t len = 0;
    char *cmd = format_command(stack, sizeof stack, argc, argv, argvlen, &len);
    int rc = redisAsyncFormattedCommand(r->ac, on_reply, call, cmd, len);
    if (cmd != stack) free(cmd);
    if (rc != REDIS_OK) {
        r->pending--;
        snprintf(err, errlen, "redis %s: cannot send command: %s", r->addr, r->ac->errstr[0] ? r->ac->errstr : "disconnecting");
        free(call);
        return NULL;
    }
    return call;
}

void rs_redis_cancel(rs_redis_call_t *call) {
    if (call) call->cancelled = 1;
}

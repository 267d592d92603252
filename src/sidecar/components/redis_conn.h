/* SPDX-License-Identifier: MIT */
/* One asynchronous Redis connection for components (state.redis,
 * lock.redis, pubsub.redis): hiredis async on the sidecar's libevent loop.
 *
 * What it does for its user:
 *   - reads Dapr's Redis metadata (rs_redis_options_parse);
 *   - connects, then AUTHs and SELECTs before it reports itself up;
 *   - when the connection drops (or a connect fails or takes longer than
 *     dial_timeout_ms), reconnects on a timer with exponential back-off
 *     (100 ms doubling to 2 s) — never blocking the loop;
 *   - with read_timeout_ms set, a connection that owes replies and has not
 *     produced one for that long (a frozen or black-holed Redis) is dropped:
 *     its pending calls fail ("timed out waiting for a reply") and it
 *     reconnects. A connection used for blocking commands (XREADGROUP BLOCK)
 *     must leave it 0 or set it above the block time;
 *   - while it is not up, every command fails at once (rs_redis_cmd returns
 *     NULL with a reason) instead of queueing: callers answer 500 quickly and
 *     the resiliency policy decides about retries. Only during the very first
 *     connect (right after init) do commands queue behind it;
 *   - cancellation: rs_redis_cancel marks a call orphaned; its reply (or the
 *     connection loss) later frees it without calling back. This is what a
 *     resiliency `abort` uses when an attempt times out.
 *
 * A connection carries one command stream. A user that needs blocking
 * commands (XREADGROUP BLOCK) should open a second rs_redis_t for them so
 * that ordinary commands are not stuck behind the block.
 *
 * Everything runs on the loop thread; nothing here is thread-safe. */
#ifndef RS_SIDECAR_REDIS_CONN_H
#define RS_SIDECAR_REDIS_CONN_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stddef.h>

#include "core/str.h"

typedef struct rs_redis rs_redis_t;
typedef struct rs_redis_call rs_redis_call_t;

/** Connection settings taken from component metadata. */
typedef struct rs_redis_options {
    char *host;      /* from redisHost ("host:port" or "host") */
    int port;        /* from redisHost or redisPort; default 6379 */
    char *username;  /* redisUsername, or NULL */
    char *password;  /* redisPassword, or NULL (empty counts as none) */
    int db;          /* redisDB, default 0 */
    int dial_timeout_ms; /* dialTimeout (Go duration), default 5000 */
    int read_timeout_ms; /* readTimeout (Go duration); 0 = never time out replies (the default) */
} rs_redis_options_t;

/** Reads redisHost, redisPort, redisUsername, redisPassword, redisDB, dialTimeout, readTimeout, enableTLS,
 *  redisType and failover.
 *  Returns 0, or -1 with a reason: missing redisHost, bad numbers, or a setting we do not support
 *  (enableTLS=true, redisType=cluster, failover=true). Free with rs_redis_options_free. */
int rs_redis_options_parse(rs_redis_options_t *o, const rs_kvlist_t *metadata, char *err, size_t errlen);
void rs_redis_options_free(rs_redis_options_t *o);

/** Blocking check for a component's init: connect (timeout_ms), AUTH, SELECT, PING, close.
 *  Dapr fails a Redis component's init when Redis is unreachable; this gives the same result.
 *  If `replicas` is not NULL it receives INFO replication's connected_slaves.
 *  Returns 0, or -1 with a reason. Never call it once the sidecar serves requests. */
int rs_redis_probe(const rs_redis_options_t *o, int timeout_ms, int *replicas, char *err, size_t errlen);

/** Creates the connection and starts connecting at once (asynchronously). Copies `o`.
 *  `scope` names the user in log lines (e.g. "state.redis statestore"); it is copied. */
rs_redis_t *rs_redis_new(struct event_base *base, const rs_redis_options_t *o, const char *scope);

/** Closes the connection. Calls still pending get their callback with reply NULL and err
 *  "connection closed" (cancelled ones are just freed) — possibly before this returns. */
void rs_redis_free(rs_redis_t *r);

/** 1 when connected, authenticated and the database selected. */
int rs_redis_is_up(const rs_redis_t *r);

/** Called when the connection comes up (up = 1, e.g. to re-create consumer groups) and when it goes down (0). */
typedef void (*rs_redis_state_fn)(void *arg, int up);
void rs_redis_on_state(rs_redis_t *r, rs_redis_state_fn fn, void *arg);

/** Completion of one command. Exactly one of the following holds:
 *    reply != NULL, err == NULL   a normal reply (owned by hiredis: copy what you keep);
 *    reply != NULL, err != NULL   Redis answered with an error (err == reply->str);
 *    reply == NULL, err != NULL   the connection was lost or closed before the reply. */
typedef void (*rs_redis_reply_fn)(void *arg, redisReply *reply, const char *err);

/** Sends one command (binary-safe argv). Returns a handle, valid until `fn` runs or the call is
 *  cancelled. Returns NULL with a reason in err — and never calls fn — when the connection is not
 *  up (fail fast) or the command cannot be queued. */
rs_redis_call_t *rs_redis_cmd(rs_redis_t *r, rs_redis_reply_fn fn, void *arg, char *err, size_t errlen, int argc,
                              const char **argv, const size_t *argvlen);

/** Orphans a pending call: its callback will not run; the reply is dropped when it arrives. */
void rs_redis_cancel(rs_redis_call_t *call);

/** "host:port" for log and error messages. */
const char *rs_redis_addr(const rs_redis_t *r);

#endif

/* SPDX-License-Identifier: MIT */
/* Which locks a process holds in a Redis lock store, for a kill that has to land while the process is in the
 * middle of its work (a scenario kill's whenHolding, docs/demo.md).
 *
 * lock.redis keeps "lock||<appId>||<resourceId>" = owner (the default keyPrefix appid, spec §2.6). A process's
 * locks are those whose owner starts with "<appId>-<pid>-": the loyalty job's owners are "<appId>-<pid>-<random>".
 * A lock can be discounted by a Redis key that exists once the work it guards is past the point of interest (the
 * loyalty job's processed marker: counted, so the blob's delete may already be under way).
 * Calls are synchronous (loopback Redis, a 500 ms timeout) and reconnect after an error. */
#ifndef RS_TOOLS_LOCK_WATCH_H
#define RS_TOOLS_LOCK_WATCH_H

#include <stddef.h>
#include <sys/types.h>

typedef struct rs_lock_watch rs_lock_watch_t;

/** A watch on the Redis at host_port ("HOST:PORT"); password may be NULL. Connects on first use. */
rs_lock_watch_t *rs_lock_watch_new(const char *host_port, const char *password);
/** 1 when process pid of app_id holds a lock whose resource id matches glob (Redis MATCH syntax) and, with
 *  unless_key, for which the key unless_key names does not exist ("{lock}" in it stands for the resource id); the
 *  first such id is copied to resource. 0 when it holds none, -1 when Redis could not be read (why in err). */
int rs_lock_watch_held(rs_lock_watch_t *w, const char *app_id, const char *glob, pid_t pid, const char *unless_key,
                       char *resource, size_t rlen, char *err, size_t errlen);
/** unless_key with "{lock}" replaced by resource, into out. */
void rs_lock_unless_key(const char *unless_key, const char *resource, char *out, size_t len);
/** 1 when owner names process pid of app_id ("<appId>-<pid>-..."). */
int rs_lock_owner_is(const char *owner, size_t len, const char *app_id, pid_t pid);
void rs_lock_watch_free(rs_lock_watch_t *w);

#endif

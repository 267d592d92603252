/* SPDX-License-Identifier: MIT */
/* hiredis async <-> the sidecar's libevent loop, in place of hiredis's own
 * libevent adapter, which costs three extra system calls and a loop turn on
 * every command:
 *   - a command is written in the same loop turn it was issued in (the write
 *     runs from libevent's active queue, so a burst of commands issued by one
 *     turn's callbacks goes out in one write), not after an EPOLLOUT wake-up
 *     that first has to be registered and afterwards removed;
 *   - the read event is registered once (persistent), not removed and re-added
 *     around every reply.
 * Only when the socket does not take everything (or the connect is still in
 * progress) does it wait for writability. */
#ifndef RS_SIDECAR_REDIS_EVENTS_H
#define RS_SIDECAR_REDIS_EVENTS_H

#include <event2/event.h>
#include <hiredis/async.h>

/** Attaches ac to base (as redisLibeventAttach does). Returns 0, or -1 if ac already has an adapter. */
int rs_redis_events_attach(redisAsyncContext *ac, struct event_base *base);

#endif

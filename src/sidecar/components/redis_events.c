/* SPDX-License-Identifier: MIT */
/* The hiredis event adapter (redis_events.h).
 *
 * hiredis tells the adapter when it has output (addWrite), when the output
 * is gone (delWrite), and calls addRead after every read and write. The write
 * side has three states:
 *   IDLE     nothing to write;
 *   SOON     output queued this turn: the write event was made active without
 *            polling, and runs once the current callbacks are done;
 *   WAITING  the socket was full, or still connecting: the write event waits
 *            for EPOLLOUT.
 * While the write callback runs, an addWrite means "the socket did not take
 * it all", so it waits for writability instead of spinning. */
#include "sidecar/components/redis_events.h"

#include <stdlib.h>

#include "core/str.h"

enum wstate { W_IDLE, W_SOON, W_RUNNING, W_WAITING };

typedef struct {
    redisAsyncContext *ac;
    struct event *rev, *wev;
    enum wstate w;
} events_t;

static void on_read(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    redisAsyncHandleRead(((events_t *)arg)->ac);
}

static void on_write(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    events_t *e = arg;
    e->w = W_RUNNING;
    redisAsyncHandleWrite(e->ac); /* ends in delWrite (all written), addWrite (socket full) or cleanup (error) */
}

static void add_read(void *p) {
    events_t *e = p;
    if (!event_pending(e->rev, EV_READ, NULL)) event_add(e->rev, NULL);
}

static void del_read(void *p) { event_del(((events_t *)p)->rev); }

static void add_write(void *p) {
    events_t *e = p;
    if (e->w == W_SOON || e->w == W_WAITING) return;
    if (e->w == W_IDLE && (e->ac->c.flags & REDIS_CONNECTED)) {
        e->w = W_SOON;
        event_active(e->wev, EV_WRITE, 1);
        return;
    }
    /* still connecting (hiredis learns the result from writability), or the socket is full */
    e->w = W_WAITING;
    event_add(e->wev, NULL);
}

static void del_write(void *p) {
    events_t *e = p;
    e->w = W_IDLE;
    event_del(e->wev);
}

static void cleanup(void *p) {
    events_t *e = p;
    event_free(e->rev);
    event_free(e->wev);
    free(e);
}

int rs_redis_events_attach(redisAsyncContext *ac, struct event_base *base) {
    if (ac->ev.data) return -1;
    events_t *e = rs_xcalloc(1, sizeof *e);
    e->ac = ac;
    e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_read, e);
    e->wev = event_new(base, ac->c.fd, EV_WRITE, on_write, e);
    ac->ev.data = e;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    add_read(e);
    e->w = W_WAITING; /* the connect is in progress: its result comes as writability */
    event_add(e->wev, NULL);
    return 0;
}

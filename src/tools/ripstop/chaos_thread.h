/* SPDX-License-Identifier: MIT */
/* The chaos proxy (chaos_proxy.h) on a thread and event loop of its own.
 *
 * Why: a proxy in front of a sidecar's app, Redis or blob storage must move bytes
 * all the time. `ripstop demo` runs steps that block its own loop (the broker
 * read-back, waiting for a restarted server, starting and stopping the system);
 * on the demo's loop every proxied connection would stall meanwhile, and the
 * sidecars' calls through it would time out behind the demo's own work.
 *
 * Every use of the registry goes through rs_chaos_thread_call, which runs the
 * function on the proxy's thread and returns when it has run, so the registry is
 * only ever touched by that one thread (its HTTP API is served there too). */
#ifndef RS_TOOLS_CHAOS_THREAD_H
#define RS_TOOLS_CHAOS_THREAD_H

#include <stddef.h>

#include "tools/ripstop/chaos_proxy.h"

typedef struct rs_chaos_thread rs_chaos_thread_t;

/** Starts the thread with an empty registry (seed as rs_chaos_new). NULL with a message in err. */
rs_chaos_thread_t *rs_chaos_thread_start(unsigned long seed, char *err, size_t errlen);

/** Runs fn(registry, arg) on the proxy's thread and waits until it returned. Not from the proxy's own thread. */
void rs_chaos_thread_call(rs_chaos_thread_t *t, void (*fn)(rs_chaos_t *c, void *arg), void *arg);

/** Frees the registry on its thread (closing every proxy and connection), stops and joins the thread. NULL is
 *  ignored. */
void rs_chaos_thread_stop(rs_chaos_thread_t *t);

#endif

/* SPDX-License-Identifier: MIT */
/* The live dashboard: a small HTTP server on a loopback port serving the demo
 * page at / and the current state as JSON at /api/state (the page polls it).
 * Runs on the demo's event loop; the state callback builds a fresh snapshot
 * for every request. */
#ifndef RS_TOOLS_DASHBOARD_H
#define RS_TOOLS_DASHBOARD_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

typedef struct rs_dashboard rs_dashboard_t;

/** Returns the state to serve (new reference). */
typedef json_t *(*rs_dashboard_state_fn)(void *arg);

/** Listens on 127.0.0.1:port (0 = a free port). NULL with err when the page is missing or the port is taken. */
rs_dashboard_t *rs_dashboard_start(struct event_base *base, int port, rs_dashboard_state_fn fn, void *arg, char *err,
                                   size_t errlen);
/** The bound port. */
int rs_dashboard_port(const rs_dashboard_t *d);
/** Stops serving and frees. */
void rs_dashboard_free(rs_dashboard_t *d);

#endif

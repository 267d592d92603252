/* SPDX-License-Identifier: MIT */
/* The benchmarks' tiny app: an evhttp server on a thread of the benchmark
 * that answers every request 200 "ok" (text/plain). */
#ifndef RS_BENCH_PING_APP_H
#define RS_BENCH_PING_APP_H

#include <stdatomic.h>

/** Starts the app on 127.0.0.1:port in a new thread (exits the process if the port cannot be bound). */
void bu_ping_app_start(int port);
/** The same app as a subscriber: GET /dapr/subscribe answers `subs` (JSON, kept by the caller), and every POST
 *  (a delivered event) increments *posts before its 200. */
void bu_ping_app_start_subscriber(int port, const char *subs, atomic_int *posts);

#endif

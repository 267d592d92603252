/* SPDX-License-Identifier: MIT */
/* A minimal loopback TCP byte relay for benchmarks: the cost of one more
 * process on a request's path (a wake-up and a loopback round trip) with no
 * protocol work. Each accepted connection gets one connection to the target and
 * bytes are copied both ways, by a relay process of its own (forked, one epoll
 * loop): a process, like a sidecar, so a hop costs the same context switches. */
#ifndef RS_BENCH_RELAY_H
#define RS_BENCH_RELAY_H

#include <sys/types.h>

typedef struct relay relay_t;

/** Listens on 127.0.0.1:listen_port (0 = any free port) and relays every accepted
 *  connection to 127.0.0.1:target_port, in a child process that runs under the
 *  Linux scheduling policy `sched_policy` (SCHED_OTHER or SCHED_BATCH: the same as
 *  the sidecars it stands for). The socket is listening when this returns.
 *  Returns the handle (the caller's, to pass to relay_stop), or NULL if the port
 *  cannot be bound or the process not started. */
relay_t *relay_start(int listen_port, int target_port, int sched_policy);

/** The port the relay listens on (the one picked when 0 was asked for). */
int relay_port(const relay_t *r);

/** The relay process, for reading its CPU time. */
pid_t relay_pid(const relay_t *r);

/** Stops the relay process and waits for it (it closes every relayed connection,
 *  both sides, as it exits), closes the listening socket and frees the handle.
 *  NULL is ignored. */
void relay_stop(relay_t *r);

#endif

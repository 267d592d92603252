#ifndef RS_CORE_PORT_RESERVE_H
#define RS_CORE_PORT_RESERVE_H

/* Loopback listening ports for servers we start ourselves (`ripstop run`, tests, benchmarks).
 *
 * The usual trick, bind to port 0 and close, races twice: the kernel hands out that same
 * ephemeral range as the source ports of outbound connections (any client on the machine may
 * take the port before our server binds it), and another process picking at the same moment
 * may be given the same number. So a reserved port comes from below the kernel's ephemeral
 * range (read from /proc/sys/net/ipv4/ip_local_port_range), is free to bind right now, and is
 * held for the rest of this process's life by an flock on a per-port file in RS_PORT_LOCK_DIR
 * (the Python test library takes the same locks), so no other Ripstop process reserves it. */

#define RS_PORT_LOCK_DIR_FMT "/tmp/ripstop-ports-%u" /* %u: the real user id */

/* A port number, or 0 when none could be found. Never the same port twice in one process. */
int rs_port_reserve(void);

#endif

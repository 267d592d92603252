/* SPDX-License-Identifier: MIT */
/* A TCP fault proxy with a Toxiproxy-compatible HTTP API subset.
 *
 * A proxy listens on a loopback port and forwards every connection to its
 * upstream. Toxics alter the bytes flowing through a connection in one
 * direction ("upstream" = client to server, "downstream" = server to client):
 *   latency   {latency, jitter}  each chunk waits latency ± jitter ms (order kept)
 *   bandwidth {rate}             at most `rate` KB/s
 *   timeout   {timeout}          no data passes; the connection closes after
 *                                `timeout` ms (0 = held open until removed)
 *   reset_peer{timeout}          the connection is reset (TCP RST) after `timeout` ms
 *   slicer    {average_size, size_variation, delay}  data is cut into pieces of average_size ±
 *                                size_variation bytes, each sent `delay` µs after the one before
 * Each toxic has a toxicity in [0,1]: the probability it applies to a given
 * connection (decided once per connection and toxic, deterministically).
 *
 * Everything runs on one libevent loop (bufferevents + timers), nothing blocks.
 * The HTTP API (rs_chaos_api_listen) answers the same JSON shapes as Toxiproxy:
 *   GET/POST /proxies, GET/POST/DELETE /proxies/{name},
 *   GET/POST /proxies/{name}/toxics, GET/POST/DELETE /proxies/{name}/toxics/{toxic},
 *   POST /populate, POST /reset, GET /version (PATCH is accepted wherever POST updates).
 * Errors are {"error": "...", "status": N}. Only loopback addresses are accepted. */
#ifndef RS_TOOLS_CHAOS_PROXY_H
#define RS_TOOLS_CHAOS_PROXY_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

typedef struct rs_chaos rs_chaos_t;

/** Creates an empty proxy registry on `base`. `seed` makes jitter and toxicity reproducible. */
rs_chaos_t *rs_chaos_new(struct event_base *base, unsigned long seed);
/** Closes every proxy and connection and frees everything. */
void rs_chaos_free(rs_chaos_t *c);

/** Serves the HTTP API on addr:port (port 0 = free port; addr must be loopback). Returns the port or -1. */
int rs_chaos_api_listen(rs_chaos_t *c, const char *addr, int port);

/** Creates a proxy from a Toxiproxy proxy object {name, listen, upstream, enabled}.
 * Returns the new proxy's JSON (new reference) or NULL with an HTTP-ish status in *status and a message in err. */
json_t *rs_chaos_proxy_create(rs_chaos_t *c, const json_t *spec, int *status, char *err, size_t errlen);
/** Updates listen/upstream/enabled of an existing proxy. Same return convention. */
json_t *rs_chaos_proxy_update(rs_chaos_t *c, const char *name, const json_t *spec, int *status, char *err,
                              size_t errlen);
/** Removes a proxy and closes its connections. Returns 0, or -1 when unknown. */
int rs_chaos_proxy_delete(rs_chaos_t *c, const char *name);
/** The proxy's JSON (new reference), or NULL when unknown. */
json_t *rs_chaos_proxy_json(rs_chaos_t *c, const char *name);
/** All proxies as Toxiproxy's GET /proxies object (new reference). */
json_t *rs_chaos_proxies_json(rs_chaos_t *c);
/** The port a proxy listens on, or -1. */
int rs_chaos_proxy_port(rs_chaos_t *c, const char *name);

/** Adds a toxic {name?, type, stream?, toxicity?, attributes}. Same return convention as create. */
json_t *rs_chaos_toxic_add(rs_chaos_t *c, const char *proxy, const json_t *spec, int *status, char *err,
                           size_t errlen);
/** Updates a toxic's attributes/toxicity. Same return convention. */
json_t *rs_chaos_toxic_update(rs_chaos_t *c, const char *proxy, const char *toxic, const json_t *spec, int *status,
                              char *err, size_t errlen);
/** Removes a toxic. Returns 0, or -1 when the proxy or toxic is unknown. */
int rs_chaos_toxic_delete(rs_chaos_t *c, const char *proxy, const char *toxic);
/** Enables every proxy and removes every toxic (Toxiproxy's POST /reset). */
void rs_chaos_reset(rs_chaos_t *c);

/** Number of open client connections across all proxies (for tests). */
int rs_chaos_connections(rs_chaos_t *c);

#endif

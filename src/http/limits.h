/* SPDX-License-Identifier: MIT */
/* The HTTP server's limits, apart from the server itself, so a configuration
 * (ripstopd's flags) can hold them without depending on the server's API. */
#ifndef RS_HTTP_LIMITS_H
#define RS_HTTP_LIMITS_H

/** Limits that keep one client (or many) from holding the server's memory, descriptors or loop. */
typedef struct rs_http_limits {
    int max_connections;      /* open connections at most; at the cap the listeners pause (default 10000) */
    int header_timeout_ms;    /* a request's line and headers must arrive within this of its first byte (10 s) */
    int body_timeout_ms;      /* its body must arrive within this of the end of its headers (60 s) */
    int idle_timeout_ms;      /* a keep-alive connection with no request is closed after this (300 s) */
} rs_http_limits_t;

/** Fills l with the defaults above. */
void rs_http_limits_defaults(rs_http_limits_t *l);

#endif

/* SPDX-License-Identifier: MIT */
/* rs_http_send picks a transport per URL (transport.h): plain http:// to an
 * IP address goes over the h1 keep-alive pool, anything else through libcurl. */
#include "http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "http/transport.h"

struct rs_http_client {
    struct event_base *base;
    rs_h1_client_t *h1;
    rs_curl_client_t *curl; /* created on first use: most processes never need it */
};

rs_http_client_t *rs_http_client_new(struct event_base *base) {
    rs_http_client_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base = base;
    c->h1 = rs_h1_client_new(base);
    if (!c->h1) {
        free(c);
        return NULL;
    }
    return c;
}

void rs_http_client_free(rs_http_client_t *c) {
    if (!c) return;
    rs_h1_client_free(c->h1);
    rs_curl_client_free(c->curl);
    free(c);
}

/* Fills `d` when `url` is http://<IPv4 or [IPv6]>[:port][/target]; returns 0 then, -1 otherwise. */
static int h1_dest_from_url(const char *url, rs_h1_dest_t *d) {
    if (strncmp(url, "http://", 7) != 0) return -1;
    const char *host = url + 7;
    const char *host_end = host + strcspn(host, "/?#");
    if (*host_end == '#') return -1; /* fragments are not sent; leave odd URLs to curl */
    char ip[64];
    const char *p;
    int v6 = host[0] == '[';
    if (v6) {
        const char *close = memchr(host, ']', (size_t)(host_end - host));
        if (!close || (size_t)(close - host - 1) >= sizeof ip) return -1;
        memcpy(ip, host + 1, (size_t)(close - host - 1));
        ip[close - host - 1] = '\0';
        p = close + 1;
    } else {
        p = memchr(host, ':', (size_t)(host_end - host));
        if (!p) p = host_end;
        if ((size_t)(p - host) >= sizeof ip) return -1;
        memcpy(ip, host, (size_t)(p - host));
        ip[p - host] = '\0';
    }
    long port = 80;
    if (p < host_end) {
        if (*p != ':' || p + 1 == host_end) return -1;
        char *end;
        port = strtol(p + 1, &end, 10);
        if (end != host_end || port < 1 || port > 65535) return -1;
    }
    memset(d, 0, sizeof *d);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&d->addr;
        if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) return -1;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        d->addr_len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&d->addr;
        if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) return -1; /* a DNS name: curl resolves it */
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        d->addr_len = sizeof *a;
    }
    if ((size_t)(host_end - host) >= sizeof d->host) return -1;
    memcpy(d->host, host, (size_t)(host_end - host));
    d->host[host_end - host] = '\0';
    d->target = *host_end ? host_end : "/";
    return 0;
}

rs_http_call_t *rs_http_send(rs_http_client_t *c, const rs_http_request_t *req, rs_http_done_fn done, void *arg) {
    rs_h1_dest_t dest;
    if (h1_dest_from_url(req->url, &dest) == 0) return rs_h1_send(c->h1, &dest, req, done, arg);
    if (!c->curl && !(c->curl = rs_curl_client_new(c->base))) return NULL;
    return rs_curl_send(c->curl, req, done, arg);
}

void rs_http_cancel(rs_http_call_t *call) {
    if (!call) return;
    if (call->via == RS_HTTP_VIA_H1) rs_h1_cancel(call);
    else rs_curl_cancel(call);
}

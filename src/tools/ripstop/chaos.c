/* SPDX-License-Identifier: MIT */
/* `ripstop chaos`: runs the Toxiproxy-compatible fault proxy on its own, so
 * Toxiproxy clients (or curl) can add proxies and toxics over HTTP. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "core/log.h"
#include "core/str.h"
#include "tools/ripstop/chaos_proxy.h"

int rs_cmd_chaos(int argc, char **argv);

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: ripstop chaos [--host 127.0.0.1] [--port 8474] [--seed N] [--proxy NAME=LISTEN=UPSTREAM]...\n"
            "  A TCP fault proxy with Toxiproxy's HTTP API (proxies; toxics latency, bandwidth, timeout,\n"
            "  reset_peer). Loopback only. --port 0 picks a free port; the bound port is printed.\n");
}

int rs_cmd_chaos(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 8474;
    unsigned long seed = 1;
    static const struct option opts[] = {{"host", required_argument, 0, 'H'}, {"port", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 's'}, {"proxy", required_argument, 0, 'x'},
                                         {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    char *proxies[32];
    int nproxies = 0;
    optind = 1;
    int ch;
    long long num;
    while ((ch = getopt_long(argc, argv, "H:p:s:x:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'H': host = optarg; break;
        case 'p':
            if (rs_parse_int64(optarg, &num) || num < 0 || num > 65535) {
                fprintf(stderr, "ripstop chaos: --port wants a port (0..65535, 0 = any free one)\n");
                return 2;
            }
            port = (int)num;
            break;
        case 's':
            if (rs_parse_int64(optarg, &num) || num < 0) {
                fprintf(stderr, "ripstop chaos: --seed wants a whole number >= 0\n");
                return 2;
            }
            seed = (unsigned long)num;
            break;
        case 'x':
            if (nproxies < 32) proxies[nproxies++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN); /* the proxy writes to peers that may have gone: EPIPE, not death */
    struct event_base *base = event_base_new();
    rs_chaos_t *c = rs_chaos_new(base, seed);
    int bound = rs_chaos_api_listen(c, host, port);
    if (bound < 0) {
        fprintf(stderr, "ripstop chaos: cannot serve the API on %s:%d (loopback only)\n", host, port);
        rs_chaos_free(c);
        event_base_free(base);
        return 1;
    }
    for (int i = 0; i < nproxies; i++) {
        char *spec = proxies[i], *a = strchr(spec, '='), *b = a ? strchr(a + 1, '=') : NULL;
        if (!a || !b) {
            fprintf(stderr, "ripstop chaos: --proxy wants NAME=LISTEN=UPSTREAM, got '%s'\n", spec);
            rs_chaos_free(c);
            event_base_free(base);
            return 2;
        }
        *a = 0;
        *b = 0;
        json_t *js = json_pack("{s:s, s:s, s:s}", "name", spec, "listen", a + 1, "upstream", b + 1);
        char err[256];
        int status;
        json_t *v = rs_chaos_proxy_create(c, js, &status, err, sizeof err);
        json_decref(js);
        if (!v) {
            fprintf(stderr, "ripstop chaos: proxy %s: %s\n", spec, err);
            rs_chaos_free(c);
            event_base_free(base);
            return 1;
        }
        printf("proxy %s listening on %s\n", spec, rs_json_str(v, "listen"));
        json_decref(v);
    }
    printf("ripstop chaos: API listening on http://%s:%d\n", host, bound);
    fflush(stdout);
    struct event *si = evsignal_new(base, SIGINT, on_signal, base), *st = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(si, NULL);
    event_add(st, NULL);
    event_base_dispatch(base);
    event_free(si);
    event_free(st);
    rs_chaos_free(c);
    event_base_free(base);
    return 0;
}

/* The fuzz targets' sidecar runtime with in-memory components (contract in fake_sidecar.h). */
#include "fake_sidecar.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/client.h"
#include "http/server.h"
#include "sidecar/api/api.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/lock/lock.h"
#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/components/secretstores/secretstore.h"
#include "sidecar/components/state/state.h"
#include "sidecar/grpc/api.h"
#include "sidecar/grpc/server.h"
#include "sidecar/ops/invoke.h"
#include "sidecar/runtime/sidecar.h"

/* ---- the fake components ---- */

static rs_state_call_t *fs_state_get(rs_component_t *c, const char *key, rs_state_cb cb, void *arg) {
    rs_state_result_t res = {.code = RS_STATE_OK, .found = key[0] != 'm', .data = "{\"v\":1}", .len = 7, .etag = "1"};
    cb(arg, &res);
    return NULL;
}
static rs_state_call_t *fs_state_write(rs_component_t *c, const rs_state_write_t *w, rs_state_cb cb, void *arg) {
    rs_state_result_t res = {.code = w->etag && !strcmp(w->etag, "bad") ? RS_STATE_ETAG_MISMATCH : RS_STATE_OK};
    cb(arg, &res);
    return NULL;
}
static rs_state_call_t *fs_state_txn(rs_component_t *c, const rs_state_write_t *ws, size_t n, rs_state_cb cb,
                                     void *arg) {
    rs_state_result_t res = {.code = RS_STATE_OK};
    cb(arg, &res);
    return NULL;
}
static void fs_state_cancel(rs_state_call_t *call) { abort(); /* every call answers before returning */ }
static const rs_state_ops_t fs_state_ops = {
    .get = fs_state_get, .write = fs_state_write, .transact = fs_state_txn, .cancel = fs_state_cancel};

static void fs_publish(rs_component_t *c, const char *topic, const void *data, size_t len, const rs_kvlist_t *md,
                       rs_pubsub_publish_cb done, void *arg) {
    done(arg, strcmp(topic, "fail") != 0, strcmp(topic, "fail") ? NULL : "scripted failure");
}
static int fs_subscribe(rs_component_t *c, const char *topic, rs_pubsub_handler_fn h, void *ctx, char *err,
                        size_t errlen) {
    snprintf(err, errlen, "not in the fuzz harness");
    return -1;
}
static const rs_pubsub_ops_t fs_pubsub_ops = {.publish = fs_publish, .subscribe = fs_subscribe};

static rs_lock_call_t *fs_try_lock(rs_component_t *c, const char *key, const char *owner, long long expiry_s,
                                   rs_lock_cb cb, void *arg) {
    rs_lock_result_t res = {.acquired = 1};
    cb(arg, &res);
    return NULL;
}
static rs_lock_call_t *fs_unlock(rs_component_t *c, const char *key, const char *owner, rs_lock_cb cb, void *arg) {
    rs_lock_result_t res = {.status = RS_UNLOCK_SUCCESS};
    cb(arg, &res);
    return NULL;
}
static void fs_lock_cancel(rs_lock_call_t *call) { abort(); }
static const rs_lock_ops_t fs_lock_ops = {.try_lock = fs_try_lock, .unlock = fs_unlock, .cancel = fs_lock_cancel};

static const char *const fs_binding_operations[] = {"create", "get", "list", "delete", NULL};
static rs_binding_call_t *fs_binding_invoke(rs_component_t *c, const char *op, const char *data, size_t len,
                                            const rs_kvlist_t *md, rs_binding_done_fn done, void *arg) {
    rs_binding_resp_t resp = {.data = data, .len = len};
    rs_kvlist_add(&resp.metadata, "operation", op);
    done(arg, 1, &resp, NULL);
    rs_kvlist_free(&resp.metadata);
    return NULL;
}
static void fs_binding_cancel(rs_component_t *c, rs_binding_call_t *call) { abort(); }
static const rs_binding_ops_t fs_binding_ops = {
    .operations = fs_binding_operations, .invoke = fs_binding_invoke, .cancel = fs_binding_cancel};

static int fs_secret_get(rs_component_t *c, const char *name, json_t **out, char *err, size_t errlen) {
    if (name[0] == 'x') {
        snprintf(err, errlen, "secret %s not found", name);
        return -1;
    }
    *out = json_pack("{s:s}", name, "s3cret");
    return *out ? 0 : -1;
}
static int fs_secret_bulk(rs_component_t *c, json_t **out, char *err, size_t errlen) {
    *out = json_pack("{s:{s:s}}", "db", "password", "s3cret");
    return 0;
}
static const rs_secretstore_ops_t fs_secret_ops = {.get = fs_secret_get, .bulk_get = fs_secret_bulk};

static const rs_component_type_t fs_types[] = {
    {.type = "state.fake", .kind = RS_KIND_STATE, .ops = &fs_state_ops},
    {.type = "pubsub.fake", .kind = RS_KIND_PUBSUB, .ops = &fs_pubsub_ops},
    {.type = "lock.fake", .kind = RS_KIND_LOCK, .ops = &fs_lock_ops},
    {.type = "bindings.fake", .kind = RS_KIND_BINDING, .ops = &fs_binding_ops},
    {.type = "secretstores.fake", .kind = RS_KIND_SECRETSTORE, .ops = &fs_secret_ops},
};
#define FS_NCOMP (sizeof fs_types / sizeof *fs_types)

/* ---- the app: answers every request 200 with its path ---- */

static int fs_app_handler(rs_http_req_t *r, void *ctx) {
    rs_http_reply(r, 200, NULL, r->path, strlen(r->path));
    return 1;
}

/* ---- the runtime ---- */

typedef struct {
    rs_sidecar_t sc;
    rs_component_t comps[FS_NCOMP];
    rs_component_t *comp_ptrs[FS_NCOMP];
    rs_http_server_t *app;
} fake_sidecar_t;

static fake_sidecar_t fs;

void fs_init(void) {
    signal(SIGPIPE, SIG_IGN);
    rs_log_set_level(RS_LOG_FATAL); /* refusals are logged: noise at a million inputs */
    rs_sidecar_t *sc = &fs.sc;
    memset(&fs, 0, sizeof fs);
    sc->base = event_base_new();
    rs_sidecar_config_defaults(&sc->cfg);
    sc->cfg.app_id = strdup("app");
    sc->cfg.grpc_port = 0; /* a free port */
    rs_strlist_add(&sc->cfg.listen_addresses, "127.0.0.1");
    sc->cfg.max_body_size = 1 << 20;
    static const char *const names[FS_NCOMP] = {"statestore", "pubsub", "lockstore", "binding", "secretstore"};
    for (size_t i = 0; i < FS_NCOMP; i++) {
        fs.comps[i].name = (char *)names[i];
        fs.comps[i].version = (char *)"v1";
        fs.comps[i].type = &fs_types[i];
        fs.comps[i].host = &sc->host;
        fs.comp_ptrs[i] = &fs.comps[i];
    }
    sc->components = fs.comp_ptrs;
    sc->ncomponents = FS_NCOMP;
    sc->host.base = sc->base;
    sc->host.app_id = sc->cfg.app_id;
    sc->host.stopping = &sc->shutting_down;

    fs.app = rs_http_server_new(sc->base, 1 << 20);
    int app_port = rs_http_server_listen(fs.app, "127.0.0.1", 0);
    if (app_port <= 0) abort();
    rs_http_server_add(fs.app, fs_app_handler, NULL);
    sc->cfg.app_port = app_port;
    sc->http = rs_http_client_new(sc->base);
    sc->app = rs_app_channel_new(sc->http, "127.0.0.1", app_port, NULL, 1 << 20);
    sc->app_ready = 1;
    sc->outbound_ready = 1;

    sc->api = rs_http_server_new(sc->base, sc->cfg.max_body_size);
    if (rs_http_server_listen(sc->api, "127.0.0.1", 0) <= 0) abort(); /* as ripstopd does; inputs use adopt */
    rs_api_register_all(sc);
    char err[256];
    if (rs_grpc_api_start(sc, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz harness: %s\n", err);
        abort();
    }
}

/* Undoes what a Shutdown request did, so the next input finds the same runtime. */
static void fs_after_input(void) {
    if (fs.sc.shutting_down) {
        fs.sc.shutting_down = 0;
        rs_ops_invoke_attach(&fs.sc);
    }
}

/* ---- one exchange over a socket ---- */

typedef struct {
    int fd, done;
    rs_buf_t out; /* what the server wrote (appends past the cap are dropped) */
} fs_conn_t;

static void fs_on_read(evutil_socket_t fd, short what, void *arg) {
    fs_conn_t *c = arg;
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            rs_buf_append(&c->out, buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        c->done = 1; /* EOF or reset: the server closed the connection */
        return;
    }
}

int fs_exchange(fs_api_t api, const uint8_t *data, size_t size, rs_buf_t *out, size_t cap, int max_rounds) {
    /* One end of a socketpair goes to the server's own connection set-up (what its listener runs on accept), the
     * other is the client: the same server code as over TCP, without a connect, accept and TIME_WAIT per input. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        fprintf(stderr, "fuzz harness: socketpair: %s\n", strerror(errno));
        abort();
    }
    int fd = sv[0];
    if ((api == FS_HTTP_API ? rs_http_server_adopt(fs.sc.api, sv[1], "127.0.0.1")
                            : rs_grpc_server_adopt(fs.sc.grpc, sv[1], "127.0.0.1")) != 0)
        abort();
    fcntl(fd, F_SETFL, O_NONBLOCK);
    fs_conn_t c = {.fd = fd};
    rs_buf_init(&c.out, cap);
    struct event *ev = event_new(fs.sc.base, fd, EV_READ | EV_PERSIST, fs_on_read, &c);
    event_add(ev, NULL);
    size_t sent = 0;
    int rounds = 0;
    int shut = 0;
    while (!c.done && rounds < max_rounds) {
        while (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += (size_t)n;
        }
        if (sent == size && !shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        event_base_loop(fs.sc.base, EVLOOP_ONCE);
        rounds++;
    }
    event_free(ev);
    close(fd);
    /* Let the server see the close (a connection it still held) before the next input. */
    for (int i = 0; i < 4; i++) event_base_loop(fs.sc.base, EVLOOP_NONBLOCK);
    fs_after_input();
    if (getenv("RS_FUZZ_VERBOSE")) /* for looking at a reproducer: what the server answered */
        fprintf(stderr, "---- server wrote %zu bytes%s:\n%.*s\n", c.out.len, c.done ? ", then closed" : "",
                (int)c.out.len, c.out.data ? c.out.data : "");
    *out = c.out;
    return c.done;
}


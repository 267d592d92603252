/* SPDX-License-Identifier: MIT */
/* The infrastructure a local run needs, started on free loopback ports:
 * redis-server (append-only persistence in a temp dir, optional requirepass), Azurite's blob service
 * (fresh temp data dir) and kafka-mock. Each becomes environment variables for
 * the apps and sidecars (RIPSTOP_REDIS_HOST, RIPSTOP_BLOB_ENDPOINT, ...). */
#ifndef RS_TOOLS_RIPSTOP_INFRA_H
#define RS_TOOLS_RIPSTOP_INFRA_H

#include <stddef.h>

#include "core/str.h"
#include "runner.h"

struct event_base;

typedef struct {
    int redis, azurite, kafka;    /* which to start */
    const char *redis_password;   /* requirepass, or NULL */
    const char *log_dir;          /* where <name>_<timestamp>.log go (created if missing) */
    const char *timestamp;        /* yyyyMMddHHmmss for the log names */
    const char *search_dir;       /* where to look for node_modules/.bin/azurite-blob (and its parents) */
    const char *bin_dir;          /* where to look for kafka-mock first */
    int timeout_ms;               /* readiness deadline (0: 30000) */
    int console;                  /* print "[ripstop] started redis (pid N)" lines on stdout */
    const volatile int *cancel;   /* optional: give up waiting when *cancel becomes non-zero */
    rs_runner_event_fn on_event;  /* optional: STARTED / EXITED events for infra processes */
    void *on_event_arg;
} rs_infra_opts_t;

typedef struct rs_infra rs_infra_t;

/** Starts what opts asks for and waits until each accepts connections (running the loop meanwhile).
 *  Adds RIPSTOP_REDIS_HOST, RIPSTOP_KAFKA_BROKERS, RIPSTOP_KAFKA_CONTROL, RIPSTOP_BLOB_ENDPOINT to env
 *  for what it started. Returns the handle (even when nothing was started), or NULL with err. */
rs_infra_t *rs_infra_start(struct event_base *base, const rs_infra_opts_t *opts, rs_kvlist_t *env, char *err,
                           size_t errlen);
/** Reaps infra processes that exited (reports them; they are not restarted). */
void rs_infra_reap(rs_infra_t *inf);
/** Sends sig to every running infra process (for stopping: later exits are no longer reported). */
void rs_infra_signal(rs_infra_t *inf, int sig);
/** Number of infra processes still running. */
int rs_infra_running(rs_infra_t *inf);
/** Pid of a running infra process by name ("redis", "azurite", "kafka-mock"), or -1. */
int rs_infra_pid(rs_infra_t *inf, const char *name);
/** Restarts, in two halves so the loop keeps turning in between (scenario `restart` actions):
 *  stop_one sends SIGTERM to "redis" or "azurite" (its exit is reported, not treated as a failure) and
 *  returns its pid, or -1; start_one starts it again on the same port with the same data directory
 *  (SIGKILL first if it has not exited within 5 s) and returns the new pid, or -1 with err.
 *  kafka-mock keeps everything in memory, so it is not restarted (its brokers go down and up instead). */
int rs_infra_stop_one(rs_infra_t *inf, const char *name);
int rs_infra_start_one(rs_infra_t *inf, const char *name, char *err, size_t errlen);
/** 1 when the named server runs and accepts connections. */
int rs_infra_ready(rs_infra_t *inf, const char *name);
/** Kills (SIGKILL) and reaps whatever still runs, removes temp dirs, frees. */
void rs_infra_free(rs_infra_t *inf);

/** Runs the event loop for about ms milliseconds (drains child output while waiting). */
void rs_loop_for(struct event_base *base, int ms);

#endif

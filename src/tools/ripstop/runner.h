/* SPDX-License-Identifier: MIT */
/* The multi-app runner behind `ripstop run` (and `ripstop demo`).
 *
 * It reads a Dapr Multi-App Run file (spec §4.2) plus Ripstop's extensions
 * (replicas, restart policy, apps without a sidecar, an `infra:` section; see
 * docs/runner.md), optionally starts the infrastructure (redis-server, Azurite,
 * kafka-mock) on free loopback ports, and starts every instance: the app and,
 * unless `noSidecar`, its ripstopd with daprd's flags. Children run in their own
 * process groups with PR_SET_PDEATHSIG(SIGKILL), their output is read through
 * pipes, prefixed ("[app#1] ", "[app#1 daprd] ") and written to the console and
 * to log files. A child that exits is restarted according to its policy with
 * exponential back-off (1 s, 2 s, 4 s ... capped, reset after 10 s of uptime),
 * as Kubernetes does.
 *
 * Threading: everything runs on one libevent base, on the thread that calls
 * rs_runner_start (PR_SET_PDEATHSIG is tied to the forking thread, so that
 * thread must outlive the runner). No function here may be called from other
 * threads. Nothing blocks for long: the only blocking call is the start-up
 * readiness wait inside rs_runner_start, which keeps draining logs meanwhile. */
#ifndef RS_TOOLS_RIPSTOP_RUNNER_H
#define RS_TOOLS_RIPSTOP_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

typedef struct rs_runner rs_runner_t;

/** Which process of an instance. */
typedef enum {
    RS_PROC_APP = 0,
    RS_PROC_SIDECAR = 1,
    RS_PROC_INFRA = 2, /* redis / azurite / kafka-mock; app_id is the infra name */
} rs_proc_kind_t;

typedef enum {
    RS_RESTART_ALWAYS = 0,   /* default, as a Kubernetes Deployment */
    RS_RESTART_ON_FAILURE,   /* restart unless it exited with status 0 */
    RS_RESTART_NEVER,
} rs_restart_policy_t;

typedef enum {
    RS_RUNNER_EV_STARTED = 0, /* a process was spawned (pid set; restarts = how many times before) */
    RS_RUNNER_EV_READY,       /* an instance became ready (sidecar healthz 204, or app port open) */
    RS_RUNNER_EV_EXITED,      /* a process exited (status = raw wait status; not sent for stops we asked for) */
    RS_RUNNER_EV_RESTARTING,  /* a restart is scheduled after delay_ms */
    RS_RUNNER_EV_GAVE_UP,     /* the policy says no restart; the process stays down */
    RS_RUNNER_EV_KILLED,      /* rs_runner_kill sent a signal (signal set) */
} rs_runner_event_kind_t;

/** One lifecycle event. Strings are valid only during the callback. */
typedef struct {
    rs_runner_event_kind_t kind;
    rs_proc_kind_t proc;
    const char *app_id;      /* appID, or "redis" / "azurite" / "kafka-mock" */
    int instance;            /* 1-based replica number (1 for infra) */
    pid_t pid;
    int status;              /* EXITED: raw wait status (WIFEXITED/WIFSIGNALED apply) */
    int signal;              /* KILLED: the signal sent */
    int restarts;            /* restarts of this process so far */
    int64_t delay_ms;        /* RESTARTING: back-off before the restart */
    int64_t wall_ms;         /* when it happened (Unix epoch ms) */
} rs_runner_event_t;

typedef void (*rs_runner_event_fn)(const rs_runner_event_t *ev, void *arg);

/** The chaos-link hook: called once per instance and link its app lists in `chaosLinks` ("app", "redis",
 *  "blob"), before anything of that instance starts, with the port the sidecar would connect to on
 *  127.0.0.1. Returns the port of a proxy that forwards there (the sidecar then connects to it), or <= 0
 *  to connect directly. */
typedef int (*rs_runner_link_fn)(void *arg, const char *app_id, int instance, const char *link, int upstream_port);

/** Infrastructure handling. */
typedef enum {
    RS_INFRA_FROM_FILE = 0, /* start what the run file's `infra:` section asks for (default) */
    RS_INFRA_ALL,           /* --infra: start redis, azurite and kafka-mock unless already given */
    RS_INFRA_NONE,          /* --no-infra: start nothing; use the given/environment endpoints only */
} rs_infra_mode_t;

typedef struct {
    const char *run_file;          /* file, or a directory holding dapr.yaml. Required. */
    struct event_base *base;       /* NULL: the runner creates and owns one */
    rs_infra_mode_t infra;
    /* Existing infrastructure to use instead of starting it (NULL: from the environment variables
     * of the same name, else started when the infra mode asks for it). */
    const char *redis_host;        /* "127.0.0.1:6379" (RIPSTOP_REDIS_HOST) */
    const char *kafka_brokers;     /* "127.0.0.1:9092" (RIPSTOP_KAFKA_BROKERS) */
    const char *kafka_control;     /* kafka-mock control URL (RIPSTOP_KAFKA_CONTROL) */
    const char *blob_endpoint;     /* "http://127.0.0.1:10000" (RIPSTOP_BLOB_ENDPOINT) */
    const char *log_dir;           /* NULL: <appDirPath>/.dapr/logs per app (spec §4.2) */
    int console;                   /* 1: prefixed lines to stdout per the log destinations; 0: files only */
    int announce;                  /* 1: the runner's own "[ripstop] started/exited/restarting ..." lines on stdout */
    const char *ripstopd;          /* NULL: "ripstopd" next to the running binary, then $RIPSTOPD, then PATH */
    int ready_timeout_ms;          /* rs_runner_start waits this long for readiness (0: 60000; <0: no wait) */
    /* Extra environment given to every app and sidecar, overriding the run file:
     * NULL-terminated "KEY=VALUE" strings (e.g. a faster cron schedule for a test). */
    const char *const *extra_env;
    /* A Configuration file for the sidecars whose run file names none (--config), e.g. the demo's, which
     * points tracing at its own collector. NULL: none. */
    const char *config_default;
    rs_runner_event_fn on_event;   /* optional lifecycle hook (restarts/crashes for a timeline) */
    void *on_event_arg;
    /* Optional: when *cancel becomes non-zero (e.g. set by a SIGINT handler) a start-up in progress
     * gives up ("interrupted"), stops what it started and returns NULL. At 2 or more (a second Ctrl-C),
     * rs_runner_stop skips the rest of the grace period and kills at once. */
    const volatile int *cancel;
    rs_runner_link_fn link_fn;     /* optional: without it chaosLinks connect directly */
    void *link_arg;
} rs_runner_opts_t;

/** Parses the run file, starts the infrastructure, then every instance (app + sidecar), and waits
 *  (up to ready_timeout_ms, running the loop meanwhile) until every sidecar answers /v1.0/healthz
 *  with 204 and every sidecar-less app with an appPort accepts connections.
 *  Returns the runner, or NULL with a clear message in err ("<file>: apps[2].appPort: not a port")
 *  after stopping anything it had started. Must not be called from inside a callback of opts->base
 *  (it runs that loop while waiting). */
rs_runner_t *rs_runner_start(const rs_runner_opts_t *opts, char *err, size_t errlen);

/** Only parses and validates a run file (for `ripstop run --check` and tests). 0, or -1 with err. */
int rs_runner_check_file(const char *run_file, char *err, size_t errlen);

/** The event base the runner uses (its own or opts->base). */
struct event_base *rs_runner_base(rs_runner_t *r);

/** Runs the loop until rs_runner_request_stop is called (or the CLI's SIGINT/SIGTERM handler does).
 *  Only for a runner that owns its base. Returns 0. */
int rs_runner_run(rs_runner_t *r);
/** Runs the loop for at most timeout_ms (0: one non-blocking pass), for callers without their own loop. */
void rs_runner_poll(rs_runner_t *r, int timeout_ms);
/** Makes rs_runner_run return (safe from a libevent callback; not from a signal handler). */
void rs_runner_request_stop(rs_runner_t *r);

/** Sends sig to one process of an instance (e.g. SIGKILL to a loyalty-job replica's app). The restart
 *  policy brings it back. instance is 1-based. Returns the pid signalled, or -1 if there is no such
 *  running process. */
pid_t rs_runner_kill(rs_runner_t *r, const char *app_id, int instance, rs_proc_kind_t which, int sig);

/** Infrastructure restarts (scenario `restart` actions), see rs_infra_stop_one / rs_infra_start_one:
 *  name is "redis" or "azurite". stop returns the pid signalled or -1; start the new pid or -1 with err;
 *  ready is 1 once the server accepts connections again. */
pid_t rs_runner_infra_stop(rs_runner_t *r, const char *name);
pid_t rs_runner_infra_start(rs_runner_t *r, const char *name, char *err, size_t errlen);
int rs_runner_infra_ready(rs_runner_t *r, const char *name);

/** Infrastructure values: "RIPSTOP_REDIS_HOST", "RIPSTOP_REDIS_PASSWORD", "RIPSTOP_KAFKA_BROKERS",
 *  "RIPSTOP_KAFKA_CONTROL", "RIPSTOP_BLOB_ENDPOINT", "RIPSTOP_SECRETS_FILE". NULL when unknown.
 *  Valid until rs_runner_stop. */
const char *rs_runner_infra_env(rs_runner_t *r, const char *name);

/** Snapshot of one instance. Strings are valid until rs_runner_stop. Ports are fixed for the
 *  runner's lifetime (a restarted process gets the same ports). pid 0 = not running now. */
typedef struct {
    const char *app_id;
    int instance;               /* 1-based */
    int replicas;               /* instances of this app */
    int has_sidecar;
    int app_port;               /* 0 when the app has none */
    int http_port;              /* sidecar HTTP port (DAPR_HTTP_PORT), 0 without sidecar */
    int metrics_port;
    pid_t app_pid, sidecar_pid;
    int app_restarts, sidecar_restarts;
    int ready;                  /* last readiness state seen */
    const char *app_log, *sidecar_log; /* log file paths (sidecar_log NULL without sidecar) */
} rs_runner_instance_t;

/** Number of instances (sum of replicas over apps). */
size_t rs_runner_count(rs_runner_t *r);
/** Fills *out for instance index idx (0 .. count-1, in run-file order, replicas consecutive).
 *  Returns 0, or -1 when idx is out of range. */
int rs_runner_instance(rs_runner_t *r, size_t idx, rs_runner_instance_t *out);
/** Finds an instance by app id and 1-based replica number. Returns 0 or -1. */
int rs_runner_find(rs_runner_t *r, const char *app_id, int instance, rs_runner_instance_t *out);
/** Shortcuts: the app's port / sidecar HTTP port of an instance, or -1. */
int rs_runner_app_port(rs_runner_t *r, const char *app_id, int instance);
int rs_runner_sidecar_port(rs_runner_t *r, const char *app_id, int instance);

/** Stops everything: SIGTERM to each child's process group (apps first, then sidecars, then infra),
 *  waits up to 5 s per group, then SIGKILL; every pid is reaped. Frees r (and its base if it owns it).
 *  Call it outside the loop's callbacks (it runs the loop to drain output while waiting). */
void rs_runner_stop(rs_runner_t *r);

#endif

/* SPDX-License-Identifier: MIT */
/* A demo scenario (deploy/local/scenario.yaml): which system to start, the
 * load, and chaos actions with start and stop times, all relative to the
 * start of the load (t = 0). See docs/demo.md for the format.
 *
 * Action types:
 *   kafka-latency  {latency, jitter, brokers}  kafka-mock adds latency ± jitter to every broker response
 *   kafka-down     {brokers}                   brokers refuse connections from start to stop
 *   kill           {targets:[{app, instance, process}], signal, alignEvery, alignOffset, whenHolding}  signals
 *                  processes (the runner restarts them); whenHolding {app, instance, lock, unlessKey, within}:
 *                  first waits until that target's app holds a matching lock (lock_watch.h), at most `within`
 *   http           {onStart:{method,url,body}, onStop:{...}}       any HTTP call, e.g. a `ripstop chaos` toxic;
 *                  ${RIPSTOP_CHAOS_API} and ${RIPSTOP_KAFKA_CONTROL} are expanded in urls
 *   restart        {infra: redis|azurite|kafka}  stopped at start, started again at stop (same port, same data;
 *                  kafka: every broker goes down and up, the mock cluster keeps its data)
 *   pause          {targets:[{app, instance, process} | {infra}]}  SIGSTOP at start, SIGCONT at stop
 *   network        {targets:[{app, instance, link}], fault, ...}  a fault in the chaos proxy the run file's
 *                  `chaosLinks` put between a sidecar and its app, Redis or blob storage
 * Names of apps, instances and links are checked against the run file by rs_scenario_check_system. */
#ifndef RS_TOOLS_SCENARIO_H
#define RS_TOOLS_SCENARIO_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define RS_SCN_MAX_ACTIONS 32
#define RS_SCN_MAX_KILLS 8
#define RS_SCN_MAX_TARGETS 4

typedef enum {
    RS_ACT_KAFKA_LATENCY,
    RS_ACT_KAFKA_DOWN,
    RS_ACT_KILL,
    RS_ACT_HTTP,
    RS_ACT_RESTART,
    RS_ACT_PAUSE,
    RS_ACT_NETWORK,
    RS_ACT_NTYPES
} rs_action_type_t;
/** The type names as a scenario spells them, indexed by rs_action_type_t. */
extern const char *const rs_action_type_names[RS_ACT_NTYPES];
#define RS_ACT_TYPE_LIST "kafka-latency, kafka-down, kill, http, restart, pause, network"

/** Network faults (network actions). */
typedef enum { RS_NET_LATENCY, RS_NET_JITTER, RS_NET_TIMEOUT, RS_NET_RESET, RS_NET_BANDWIDTH, RS_NET_SLICER,
               RS_NET_PARTITION, RS_NET_NFAULTS } rs_net_fault_t;
extern const char *const rs_net_fault_names[RS_NET_NFAULTS];

/** A target of kill / pause (a process) or network (a link). */
typedef struct {
    char app[64];   /* appID, or for {infra: ...} the infra name: redis, azurite, kafka-mock */
    int instance;   /* 1-based; 0 = every instance (network targets without `instance`) */
    int sidecar;    /* 1: the sidecar, 0: the app */
    int infra;      /* 1: an infrastructure process (pause) */
    char link[16];  /* network: app, redis or blob */
    int line;       /* where it is in the scenario file (0: unknown) */
} rs_kill_target_t;

typedef struct {
    char name[64];
    char kind[16];           /* "chaos", "crash" or "other": how the window is shaded and judged */
    rs_action_type_t type;
    int64_t start_ms;
    int64_t stop_ms;         /* -1: no stop (kills) */
    int64_t latency_ms, jitter_ms;
    char brokers[16];        /* "all" or a broker id */
    rs_kill_target_t kills[RS_SCN_MAX_KILLS];
    int nkills;
    int signal;
    int64_t align_every_ms;  /* kill: fire at the first wall-clock instant >= start that is align_offset_ms past a */
    int64_t align_offset_ms; /* multiple of align_every_ms (0 = at start), e.g. inside a cron job's pass */
    /* kill whenHolding: once due, wait until hold_app#hold_instance's app process holds a lock of the run's Redis
     * lock store whose resource id matches the glob hold_lock; at most hold_within_ms (0 = no wait), then kill
     * anyway. The target is one of kills[] (an app process). */
    char hold_app[64];
    int hold_instance;
    char hold_lock[64];
    char hold_unless[192];   /* a lock counts only while this Redis key does not exist ({lock}: its resource id) */
    int64_t hold_within_ms;
    json_t *on_start, *on_stop; /* http: {method, url, body} */
    char infra[16];          /* restart: redis, azurite or kafka */
    rs_net_fault_t fault;    /* network */
    int upstream, downstream;/* network: which directions (stream: upstream, downstream or both) */
    double toxicity;         /* network: share of connections affected, 0..1 */
    int64_t timeout_ms;      /* network timeout / reset: after this long */
    double rate_kbs;         /* network bandwidth: KB/s */
    int64_t slice_bytes, slice_var_bytes, slice_delay_us; /* network slicer */
    int line;                /* where the action starts in the scenario file */
} rs_action_t;

typedef struct {
    char name[32];   /* "dapr", "direct" */
    char app[64];    /* the app whose port is the target */
    char path[128];
    int line;
} rs_scn_target_t;

typedef struct {
    char name[64];
    char path[PATH_MAX];      /* the scenario file */
    char run_file[PATH_MAX];  /* resolved against the scenario's directory */
    unsigned long seed;
    double rate;              /* per target, requests/s */
    int64_t load_ms, timeout_ms, warmup_ms;
    int64_t drain_timeout_ms, settle_ms;
    rs_scn_target_t targets[RS_SCN_MAX_TARGETS];
    int ntargets;
    rs_action_t actions[RS_SCN_MAX_ACTIONS];
    int nactions;
    /* Where the verdict reads its inputs. */
    char topic[64];
    char lock_app[64], lock_store[64], lock_binding[64];
    char nolock_app[64], nolock_store[64], nolock_binding[64];
    char breaker_app[64];
    char **env;               /* NULL-terminated "KEY=VALUE" list for every app and sidecar (runner extra_env) */
    json_t *criteria;         /* passed to the verdict as "criteria" */
    json_t *json;             /* the effective scenario (after --quick overrides), for the report */
} rs_scenario_t;

/** Loads and validates a scenario file; with quick, its `quick:` overrides are applied first.
 *  Returns 0, or -1 with "file: field: reason" in err. */
int rs_scenario_load(const char *path, int quick, rs_scenario_t *out, char *err, size_t errlen);
/** Frees what rs_scenario_load allocated. */
void rs_scenario_free(rs_scenario_t *s);
/** End of the last action window or of the load, whichever is later (ms). */
int64_t rs_scenario_end_ms(const rs_scenario_t *s);

#endif

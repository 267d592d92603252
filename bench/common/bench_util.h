/* SPDX-License-Identifier: MIT */
/* Helpers shared by the benchmarks: child processes, a minimal blocking
 * HTTP/1.1 keep-alive client (one per thread), client threads, and latency
 * statistics. */
#ifndef RS_BENCH_UTIL_H
#define RS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Starts argv[0] with stdout+stderr to logpath. Returns the pid, or -1. */
pid_t bu_spawn(const char *const *argv, const char *logpath);
/** SIGTERM, then waits up to 10 s (then SIGKILL). */
void bu_stop(pid_t pid);
/** A free loopback TCP port. */
int bu_free_port(void);
/** Reads a whole small file, stripping the trailing newline. Returns 0 or -1. */
int bu_read_file(const char *path, char *out, size_t n);
/** Directory of the running executable (for sibling binaries). */
void bu_self_dir(char *out, size_t n);
/** CPU time (user + system) process pid has used so far, in microseconds (0 if unreadable). */
int64_t bu_cpu_us(pid_t pid);
/** Monotonic microseconds. */
int64_t bu_now_us(void);
/** Reads --requests N and --concurrency C (1..256, N >= C) into *n_req and *conc, keeping their defaults when
 *  absent. Every flag takes a value; the program's other flags are left to it (bu_flag_int). Returns 0, or -1 after
 *  printing "usage: <name> ..." when a flag has no value or one of these two is not a whole number in range. */
int bu_parse_load_flags(int argc, char **argv, const char *name, int *n_req, int *conc);
/** The value s of flag `flag` of program `name` as a finite number in [lo, hi] (whole when `whole`), in *out.
 *  Returns 0, or -1 after printing "<name>: <flag> takes ..." (a value atoi/atof would have read as 0 or
 *  overflowed is refused instead). */
int bu_flag_number(const char *name, const char *flag, const char *s, double lo, double hi, int whole, double *out);
/** bu_flag_number for an int. */
int bu_flag_int(const char *name, const char *flag, const char *s, int lo, int hi, int *out);

/** The median of v[0..n) (v is sorted in place); 0 when n is 0. */
double bu_median(double *v, int n);

typedef struct {
    int fd;
    int port;
} bu_conn_t;

/** Opens a keep-alive connection to 127.0.0.1:port. Returns 0 or -1. */
int bu_connect(bu_conn_t *c, int port);
/** Sends one request and reads the whole response; returns the status, or -1 on a broken connection. */
int bu_request(bu_conn_t *c, const char *method, const char *path, const char *ctype, const char *body, size_t len);
void bu_close(bu_conn_t *c);
/** One request on a fresh connection (for set-up and polling). */
int bu_request_once(int port, const char *method, const char *path, const char *ctype, const char *body);

/** Polls GET path on port until it answers `want` or timeout_s passes. Returns 0 or -1. */
int bu_wait_status(int port, const char *path, int want, int timeout_s);
/** Runs redis-benchmark for one command (-c conc -n n) against 127.0.0.1:port and returns its requests per
 *  second, or 0 if it could not run. */
double bu_redis_benchmark(int port, int conc, int n, const char *cmd);

/** A redis-server and a ripstopd with one state.redis component named "statestore" on it (app id "bench"),
 *  all on free loopback ports, files under a new /tmp directory. */
typedef struct {
    pid_t redis, sidecar;
    int redis_port, http_port, grpc_port;
    char dir[64];
} bu_state_env_t;

/** Starts them and waits until the sidecar is ready. Returns 0, or -1 (with a message on stderr; stop it anyway). */
int bu_state_env_start(bu_state_env_t *e);
/** The same with ripstopd run under the command `wrap` and redis-server under `wrap_redis` (each NULL or
 *  NULL-terminated, at most 40 words, e.g. valgrind and its options), which may be slow to start. */
int bu_state_env_start_wrapped(bu_state_env_t *e, const char *const *wrap, const char *const *wrap_redis);
/** Stops the sidecar and Redis. */
void bu_state_env_stop(bu_state_env_t *e);
/** One client thread of the state benchmarks over HTTP: n saves of `value` (POST /v1.0/state/statestore, one item)
 *  or n gets (GET /v1.0/state/statestore/{key}) on one keep-alive connection, keys k<id>-<i % 100>. Latencies in
 *  lat; returns how many failed. */
int bu_state_http_client(int port, int is_get, const char *value, int id, int n, int64_t *lat);

typedef struct {
    double rate;      /* operations per second */
    double p50_ms, p99_ms, max_ms;
    size_t n;
} bu_stats_t;

/** Sorts lat_us (n values) and summarises them with the wall time the run took. */
bu_stats_t bu_stats(int64_t *lat_us, size_t n, int64_t wall_us);

/** One client thread's work: n requests, the latency of request i in lat[i] (µs).
 *  Returns how many failed. `id` is the thread's number (0..threads-1). */
typedef int (*bu_client_fn)(void *ctx, int id, int n, int64_t *lat);
/** Runs `threads` (1..256) client threads of `per_thread` requests each, waits for them, and
 *  summarises every latency over the phase's wall time; *failed gets the total failures. */
bu_stats_t bu_run_clients(int threads, int per_thread, bu_client_fn fn, void *ctx, int *failed);

#endif

/* SPDX-License-Identifier: MIT */
/* Prometheus metrics for ripstopd: a small registry of counters, gauges and
 * histograms keyed by label sets, rendered in the text exposition format on
 * GET /metrics (served on --metrics-port). Names follow daprd's where one
 * exists (dapr_http_server_request_count, dapr_resiliency_activations_total,
 * ...). Every series carries app_id. Single-threaded: call from the loop. */
#ifndef RS_SIDECAR_METRICS_H
#define RS_SIDECAR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Only a pointer to the server is needed here: recording metrics must not pull in the HTTP server's API. */
typedef struct rs_http_server rs_http_server_t;

typedef struct rs_metrics rs_metrics_t;

/** Creates a registry whose series all carry app_id="<app_id>". */
rs_metrics_t *rs_metrics_new(const char *app_id);
void rs_metrics_free(rs_metrics_t *m);

/* `labels` is a NULL-terminated list of name, value pairs (may be NULL). A family's type and help
 * are fixed by its first use. Every function accepts m == NULL and then does nothing. */

/** Adds `by` to a counter. */
void rs_metrics_inc(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double by);
/** Sets a gauge. */
void rs_metrics_set(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double v);
/** Records one observation (milliseconds) in a histogram with buckets from 0.1ms to 60s. */
void rs_metrics_observe(rs_metrics_t *m, const char *name, const char *help, const char *const *labels, double v);
/** Records one size (bytes) in a histogram with daprd's size buckets (1 KiB to 4 GiB). */
void rs_metrics_observe_bytes(rs_metrics_t *m, const char *name, const char *help, const char *const *labels,
                              double bytes);
/** Adds 1 to counter `count_name` and records `v` in histogram `hist_name`, both with the same labels (rendered
 *  once): daprd's count + latency pairs. */
void rs_metrics_count_observe(rs_metrics_t *m, const char *count_name, const char *count_help, const char *hist_name,
                              const char *hist_help, const char *const *labels, double v);
/* A view: families recorded together from one key of label values, as daprd records an event (a count, a latency
 * and sizes with the same or fewer labels). Each (view, values) seen is remembered with its series in one cache
 * per registry, so an event whose label values repeat costs a hash and a compare of the values, no rendering. */
typedef enum { RS_METRIC_COUNTER, RS_METRIC_GAUGE, RS_METRIC_HISTOGRAM, RS_METRIC_SIZES } rs_metric_type_t;
#define RS_VIEW_MAX_LABELS 4
#define RS_VIEW_MAX_FAMILIES 6
typedef struct {
    const char *name, *help;
    rs_metric_type_t type; /* RS_METRIC_HISTOGRAM: ms buckets; RS_METRIC_SIZES: daprd's byte-size buckets */
    unsigned labels;       /* bit i set: the view's label i is one of this family's (app_id always is) */
} rs_metrics_family_t;
typedef struct {
    const char *labels[RS_VIEW_MAX_LABELS];         /* label names; NULL ends them when fewer */
    rs_metrics_family_t fams[RS_VIEW_MAX_FAMILIES]; /* a NULL name ends them when fewer */
} rs_metrics_view_t;

/** Records one event in every family of `view` (which must outlive the registry: a static): values[i] is the value
 *  of the view's label i (any lifetime, any bytes: escaped as the other functions do), obs[j] what family j gets (a
 *  counter adds it, a gauge is set to it, a histogram observes it). */
void rs_metrics_record(rs_metrics_t *m, const rs_metrics_view_t *view, const char *const *values, const double *obs);

/** Returns the current value of a counter or gauge series, or -1 if it does not exist (for tests). */
double rs_metrics_value(rs_metrics_t *m, const char *name, const char *const *labels);

/** Renders every family in the Prometheus text format; the caller frees the result. */
char *rs_metrics_render(rs_metrics_t *m, size_t *len);

/** Adds the GET /metrics handler to a server chain. */
void rs_metrics_serve(rs_metrics_t *m, rs_http_server_t *srv);
/** An rs_http_observer_fn (arg = rs_metrics_t *) that records dapr_http_server_request_count (method, path),
 *  dapr_http_server_response_count and dapr_http_server_latency (method, path, status), path being the route label,
 *  and dapr_http_server_request_bytes / _response_bytes (body sizes, app_id only, as daprd). */
void rs_metrics_http_observer(void *arg, const char *method, const char *route, int status, int64_t latency_us,
                              size_t req_bytes, size_t resp_bytes);

/** Records one finished gRPC server call as daprd does: dapr_grpc_io_server_completed_rpcs and
 *  dapr_grpc_io_server_server_latency (ms) by grpc_server_method and grpc_server_status (grpc-go's code name, e.g.
 *  "InvalidArgument"), dapr_grpc_io_server_received_bytes_per_rpc and _sent_bytes_per_rpc (message bytes, daprd's
 *  size buckets) by grpc_server_method. */
void rs_metrics_grpc_server(rs_metrics_t *m, const char *method, const char *status, size_t received, size_t sent,
                            double ms);
/** Records one finished gRPC client call (the app channel's, --app-protocol grpc) as daprd does:
 *  dapr_grpc_io_client_completed_rpcs and dapr_grpc_io_client_roundtrip_latency (ms) by grpc_client_method and
 *  grpc_client_status, dapr_grpc_io_client_sent_bytes_per_rpc and _received_bytes_per_rpc (message bytes) by
 *  grpc_client_method. */
void rs_metrics_grpc_client(rs_metrics_t *m, const char *method, const char *status, size_t sent, size_t received,
                            double ms);

struct rs_sidecar;
/** Appends the process_* families (start time, resident and virtual memory, CPU seconds, open and max fds), read
 *  from /proc/self at the moment of the scrape (metrics/process.c). No app_id label, as Prometheus' collector. */
void rs_metrics_render_process(rs_buf_t *b);

#endif

/* SPDX-License-Identifier: MIT */
/* The demo's verdict: a pure function from what was recorded during a run to
 * a judgement, so it can be recomputed and tested offline (`ripstop verify`).
 *
 * Input (JSON, the "recording"):
 *   load      rs_load_json(): every request with target, sent_ms, latency_ms, ok, order_id
 *   windows   [{name, kind:"chaos"|"crash"|..., start_ms, end_ms}] scenario windows, same clock as load
 *   published [{orderId, customerId, orderTotal}] every message read back from the broker's topic,
 *             duplicates included
 *   loyalty   {"lock": {"<customerId>": {loyaltyPoints, orderCount}}, "nolock": {...}} read from the state stores
 *   drained   true when no order blobs were left when the state was read (optional)
 *   criteria  {chaos_window, min_dapr_chaos_success, min_success_gap, min_chaos_requests,
 *              dapr_target, direct_target, compare_frontends (false: no dapr-beats-direct check),
 *              breaker_cycle (true: the breaker must open and close again),
 *              min_retries, min_timeouts, min_redeliveries (sums over `resiliency`)} (all optional; defaults in docs/demo.md)
 *   resiliency [{t_ms, retries, timeouts, redeliveries}] what all sidecars' resiliency layers did, per interval
 *   breaker   [{t_ms, value}] the circuit breaker's state over time (0 closed, 1 half-open, 2 open)
 *
 * Output: {pass, checks:[{name, pass, detail}], frontends:{...}, published:{...},
 *          loyalty:{lock:{...}, nolock:{...}}, lost:{...}}. */
#ifndef RS_TOOLS_VERDICT_H
#define RS_TOOLS_VERDICT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/** Nearest-rank percentile p (0..100) of v[0..n); sorts v in place. 0 when n == 0. */
double rs_percentile(double *v, size_t n, double p);

/** Computes the verdict (new reference; never NULL). Missing inputs make the matching checks fail with a
 *  detail that says what was missing. */
json_t *rs_verdict_compute(const json_t *recording);

/** Prints the verdict as human-readable tables. */
void rs_verdict_print(FILE *out, const json_t *verdict);

#endif

/* SPDX-License-Identifier: MIT */
/* The resiliency provider: every Resiliency resource merged into one set of
 * named policies and targets, and the lookups Dapr performs (named target
 * first, then the default policy names, see spec §1.3).
 *
 * A looked-up rs_policy_t bundles timeout, retry and circuit breaker for one
 * target. Lookups return a new reference (or NULL for "no policy"); release it
 * with rs_policy_release. Component policies are built here, in one place, so
 * every component kind gets them the same way. */
#ifndef RS_SIDECAR_RESILIENCY_H
#define RS_SIDECAR_RESILIENCY_H

#include <event2/event.h>
#include <stddef.h>

#include "core/clock.h"
#include "sidecar/components/component.h"
#include "sidecar/resources/resources.h"

typedef struct rs_resiliency rs_resiliency_t;
typedef struct rs_policy rs_policy_t;

typedef enum { RS_DIR_OUTBOUND = 0, RS_DIR_INBOUND } rs_direction_t;

struct rs_metrics;

/** Builds the provider from every Resiliency document in res (merged in load order; a later name overwrites
 *  an earlier one). Returns NULL with "file:line: reason" in err when a document is invalid (e.g. a
 *  `matching` list with spaces, a bad duration, a trip expression that does not compile). */
rs_resiliency_t *rs_resiliency_new(struct event_base *base, const rs_resources_t *res, const char *app_id, char *err,
                                   size_t errlen);
/** Frees the provider. Policies still referenced stay valid; their breakers stop reporting. */
void rs_resiliency_free(rs_resiliency_t *r);
/** Reports activations and breaker states to m (may be NULL). Call before the first lookup. */
void rs_resiliency_set_metrics(rs_resiliency_t *r, struct rs_metrics *m);
/** Uses `clock` for breakers and retry elapsed time, and `rand` for jitter (tests). Call before the first lookup. */
void rs_resiliency_set_clock(rs_resiliency_t *r, rs_clock_t *clock, double (*rand)(void));
/** Number of Resiliency documents loaded. */
size_t rs_resiliency_count(const rs_resiliency_t *r);

/** Policy for calls to app `app_id`, method `method` (the breaker is per app+method). */
rs_policy_t *rs_resiliency_app_policy(rs_resiliency_t *r, const char *app_id, const char *method);
/** Policy for the sidecar's calls to a component (outbound) or the component's deliveries to the app (inbound). */
rs_policy_t *rs_resiliency_component_policy(rs_resiliency_t *r, const rs_component_t *c, rs_direction_t dir);
void rs_policy_ref(rs_policy_t *p);
void rs_policy_release(rs_policy_t *p);

#endif

/* SPDX-License-Identifier: MIT */
/* Publishing one message to a pub/sub component under the component's
 * outbound resiliency policy (spec §1.3, issue item 5). Used by the publish
 * API (single and bulk) and by dead-lettering.
 *
 * The component's publish cannot be cancelled; when an attempt times out or
 * the caller cancels, the attempt is orphaned and its late completion is
 * dropped. */
#ifndef RS_SIDECAR_PUBLISHER_H
#define RS_SIDECAR_PUBLISHER_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/runtime/sidecar.h"

typedef struct rs_publish rs_publish_t;

/** Completion: ok = 1, or ok = 0 and err ("circuit breaker is open", "context deadline exceeded", the
 *  component's reason). Runs on the loop, never from inside rs_publisher_send. */
typedef void (*rs_publisher_done_fn)(void *arg, int ok, const char *err);

/** Starts publishing. data, topic and metadata are copied. Returns a handle valid until done runs or
 *  rs_publisher_cancel is called. */
rs_publish_t *rs_publisher_send(rs_sidecar_t *sc, rs_component_t *c, const char *topic, const void *data, size_t len,
                                const rs_kvlist_t *metadata, rs_publisher_done_fn done, void *arg);

/** Gives up: done will not run. */
void rs_publisher_cancel(rs_publish_t *p);

#endif

/* SPDX-License-Identifier: MIT */
/* Topic scoping of a pub/sub component (Dapr's allowedTopics,
 * protectedTopics, publishingScopes and subscriptionScopes metadata). */
#ifndef RS_SIDECAR_TOPIC_SCOPES_H
#define RS_SIDECAR_TOPIC_SCOPES_H

#include "sidecar/components/component.h"

typedef enum { RS_TOPIC_PUBLISH = 0, RS_TOPIC_SUBSCRIBE } rs_topic_op_t;

/** 1 if app `app_id` may publish to / subscribe to `topic` on component c, with Dapr's rules:
 *  a topic outside a non-empty allowedTopics needs an explicit app scope; a protected topic needs one too;
 *  an app listed in publishingScopes/subscriptionScopes ("app1=t1,t2;app2=t3") is limited to its topics. */
int rs_topic_allowed(const rs_component_t *c, const char *app_id, const char *topic, rs_topic_op_t op);

#endif

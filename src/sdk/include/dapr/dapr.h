/* SPDX-License-Identifier: MIT */
/* libdapr: a C SDK for the Dapr HTTP API. One include for everything:
 * client.h (sidecar handle, invocation, health, metadata), state.h, pubsub.h,
 * bindings.h, lock.h, secrets.h, trace.h (trace context), and app.h (the app-side server). See docs/sdk.md. */
#ifndef DAPR_DAPR_H
#define DAPR_DAPR_H

#include "app.h"
#include "bindings.h"
#include "client.h"
#include "cloudevent.h"
#include "error.h"
#include "lock.h"
#include "pubsub.h"
#include "secrets.h"
#include "state.h"
#include "trace.h"

#endif

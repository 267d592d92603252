/* SPDX-License-Identifier: MIT */
/* Helpers shared by the order system's services: one-line logs to stderr
 * prefixed with the service name, configuration from environment variables,
 * random identifiers. Nothing here is Ripstop-specific: the services must run
 * next to the real daprd too. */
#ifndef RS_SERVICES_SVC_H
#define RS_SERVICES_SVC_H

#include <stddef.h>

#include "dapr/app.h"

/** The port a service listens on when APP_PORT is not set (`dapr run` and `ripstop run` set it; a
 *  Kubernetes pod may not, and each pod has its own network namespace). */
#define RS_SVC_DEFAULT_PORT 8080

/** Sets the name every log line starts with (call once at start-up). */
void rs_svc_set_name(const char *name);

/** Writes "<UTC time> <name>: <message>\n" to stderr in one write (thread-safe). */
void rs_svc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** $name when set and non-empty, else def. */
const char *rs_svc_env(const char *name, const char *def);

/** $name as an integer in [min, max], else def (a bad value is logged). */
long rs_svc_env_long(const char *name, long def, long min, long max);

/** Writes 2*nbytes random lowercase hex characters and a NUL into out (size >= 2*nbytes+1). */
void rs_svc_random_hex(char *out, size_t nbytes);

/** The service's app server on $APP_PORT (default RS_SVC_DEFAULT_PORT). Returns NULL after logging
 *  why it cannot listen. */
dapr_app_t *rs_svc_app_new(void);

/** Serves until SIGTERM/SIGINT, logs "stopped", frees the app, and returns the exit code. */
int rs_svc_app_run(dapr_app_t *app);

#endif

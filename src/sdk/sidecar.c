/* SPDX-License-Identifier: MIT */
/* Calls about the sidecar itself: readiness, health, metadata, shutdown. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dapr/client.h"
#include "internal.h"

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int dapr_wait_for_sidecar(dapr_client_t *c, long timeout_ms, dapr_error_t *err) {
    long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    /* Bounded by the deadline; one probe every 100 ms, as daprd probes its app. */
    for (;;) {
        dapr_response_t r = {0};
        int rc = dapr_client_request(c, "GET", "/v1.0/healthz/outbound", NULL, 0, NULL, 0, &r, err);
        int ok = rc == 0 && r.status == 204;
        dapr_response_free(&r);
        if (ok) return 0;
        if (now_ms() >= deadline) {
            if (rc == 0) dapr_error_set(err, 0, DAPR_ERR_TIMEOUT, "sidecar at %s not ready", dapr_client_base_url(c));
            return -1;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int dapr_health(dapr_client_t *c, dapr_error_t *err) {
    return dapr_client_request(c, "GET", "/v1.0/healthz", NULL, 0, NULL, 0, NULL, err);
}

int dapr_metadata_get(dapr_client_t *c, char **json_out, dapr_error_t *err) {
    dapr_response_t r = {0};
    int rc = dapr_client_request(c, "GET", "/v1.0/metadata", NULL, 0, NULL, 0, &r, err);
    if (rc == 0 && json_out) {
        *json_out = r.body;
        r.body = NULL;
    }
    dapr_response_free(&r);
    return rc;
}

int dapr_metadata_set(dapr_client_t *c, const char *key, const char *value, dapr_error_t *err) {
    char *k = dapr_url_escape(key);
    char *path = dapri_sprintf("/v1.0/metadata/%s", k);
    dapr_kv_t h = {"Content-Type", "text/plain"};
    int rc = dapr_client_request(c, "PUT", path, &h, 1, value ? value : "", value ? strlen(value) : 0, NULL, err);
    free(path);
    free(k);
    return rc;
}

int dapr_shutdown(dapr_client_t *c, dapr_error_t *err) {
    return dapr_client_request(c, "POST", "/v1.0/shutdown", NULL, 0, NULL, 0, NULL, err);
}

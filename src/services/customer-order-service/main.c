/* SPDX-License-Identifier: MIT */
/* customer-order-service: POST /order publishes the order, as received, on
 * pub/sub `order-queue`, topic `order` (content type application/json, so the
 * CloudEvent's data is the order object). 200 with a short text on success,
 * 500 with the error otherwise (the sidecar's resiliency policy for the
 * order-queue component does the retrying), 400 for a body that is not a JSON
 * object.
 *
 * Environment: APP_PORT, ORDER_PUBSUB (default order-queue), ORDER_TOPIC
 * (default order), DAPR_HTTP_PORT/DAPR_API_TOKEN. */
#include <dapr/dapr.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "svc.h"

typedef struct {
    dapr_client_t *client;
    const char *pubsub, *topic;
} order_service_t;

static void on_order(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    order_service_t *os = arg;
    json_t *order = json_loadb(req->body, req->body_len, 0, NULL);
    if (!json_is_object(order)) {
        json_decref(order);
        rs_svc_log("rejected an order that is not a JSON object (%zu bytes)", req->body_len);
        dapr_reply_text(rep, 400, "the order must be a JSON object\n");
        return;
    }
    const char *id = json_string_value(json_object_get(order, "orderId"));
    char order_id[160];
    snprintf(order_id, sizeof order_id, "%s", id ? id : "(no id)");
    json_decref(order);

    dapr_error_t err;
    if (dapr_publish(os->client, os->pubsub, os->topic, req->body, req->body_len, "application/json", NULL, 0,
                     &err) != 0) {
        char e[640];
        dapr_error_str(&err, e, sizeof e);
        rs_svc_log("order %s: publish to %s/%s failed: %s", order_id, os->pubsub, os->topic, e);
        dapr_reply_text(rep, 500, "order %s not published: %s\n", order_id, e);
        return;
    }
    rs_svc_log("order %s published to %s/%s", order_id, os->pubsub, os->topic);
    dapr_reply_text(rep, 200, "Order %s received and published\n", order_id);
}

int main(void) {
    rs_svc_set_name("customer-order-service");
    order_service_t os = {
        .client = dapr_client_new(NULL),
        .pubsub = rs_svc_env("ORDER_PUBSUB", "order-queue"),
        .topic = rs_svc_env("ORDER_TOPIC", "order"),
    };
    dapr_app_t *app = rs_svc_app_new();
    if (!app) return 1;
    dapr_app_route(app, "POST", "/order", on_order, &os);
    rs_svc_log("listening on port %d, publishing to %s/%s via %s", dapr_app_port(app), os.pubsub, os.topic,
               dapr_client_base_url(os.client));
    int rc = rs_svc_app_run(app);
    dapr_client_free(os.client);
    return rc == 0 ? 0 : 1;
}

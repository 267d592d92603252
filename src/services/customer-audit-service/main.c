/* SPDX-License-Identifier: MIT */
/* customer-audit-service: receives each order from topic `order` (the
 * declarative subscription `order-subscription` routes it to POST /order) and
 * writes it, operation `create`, to blob binding `order-binding` and then to
 * `order-binding-nolock`, with blob name = the order's orderId. Any failure
 * answers 500 so the message is redelivered; writing the same order again
 * overwrites the same blob, so a redelivery never creates a second order.
 * A message that is not an order can never succeed and is dropped (logged).
 *
 * Environment: APP_PORT, AUDIT_ROUTE (default /order), AUDIT_BINDINGS (default
 * "order-binding,order-binding-nolock"), AUDIT_SUBSCRIBE=1 to also announce the
 * subscription through GET /dapr/subscribe (ORDER_PUBSUB, ORDER_TOPIC) instead
 * of relying on the declarative one, DAPR_HTTP_PORT/DAPR_API_TOKEN. */
#include <dapr/dapr.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

#define MAX_BINDINGS 8

typedef struct {
    dapr_client_t *client;
    char *bindings[MAX_BINDINGS];
    int nbindings;
} audit_t;

static dapr_event_status_t on_order(const dapr_event_t *ev, const dapr_request_t *req, void *arg) {
    (void)req;
    audit_t *au = arg;
    json_t *order = json_loadb(ev->data, ev->data_len, 0, NULL);
    const char *id = json_string_value(json_object_get(order, "orderId"));
    if (!json_is_object(order) || !json_is_integer(json_object_get(order, "customerId"))) {
        rs_svc_log("dropping event %s: data is not an order: %.200s", ev->id ? ev->id : "?", ev->data);
        json_decref(order);
        return DAPR_EVENT_DROP;
    }
    char order_id[160];
    snprintf(order_id, sizeof order_id, "%s", id ? id : "");
    json_decref(order);

    /* Without an orderId (an original-style order) the binding names the blob itself. */
    dapr_kv_t meta = {"blobName", order_id};
    for (int i = 0; i < au->nbindings; i++) {
        dapr_error_t err;
        if (dapr_binding_invoke(au->client, au->bindings[i], "create", ev->data, order_id[0] ? &meta : NULL,
                                order_id[0] ? 1 : 0, NULL, &err) != 0) {
            char e[640];
            rs_svc_log("order %s: create in %s failed, asking for redelivery: %s", order_id, au->bindings[i],
                       dapr_error_str(&err, e, sizeof e));
            return DAPR_EVENT_RETRY;
        }
        rs_svc_log("order %s written to %s", order_id, au->bindings[i]);
    }
    return DAPR_EVENT_SUCCESS;
}

int main(void) {
    rs_svc_set_name("customer-audit-service");
    static audit_t au;
    au.client = dapr_client_new(NULL);
    char *list = strdup(rs_svc_env("AUDIT_BINDINGS", "order-binding,order-binding-nolock"));
    for (char *save = NULL, *b = strtok_r(list, ", ", &save); b && au.nbindings < MAX_BINDINGS;
         b = strtok_r(NULL, ", ", &save)) {
        au.bindings[au.nbindings++] = b;
    }
    const char *route = rs_svc_env("AUDIT_ROUTE", "/order");

    dapr_app_t *app = rs_svc_app_new();
    if (!app) return 1;
    if (strcmp(rs_svc_env("AUDIT_SUBSCRIBE", "0"), "1") == 0) {
        dapr_app_subscribe(app, rs_svc_env("ORDER_PUBSUB", "order-queue"), rs_svc_env("ORDER_TOPIC", "order"), route,
                           on_order, &au);
    } else {
        dapr_app_event_route(app, route, on_order, &au);
    }
    rs_svc_log("listening on port %d, orders on POST %s go to %d binding(s)", dapr_app_port(app), route,
               au.nbindings);
    int rc = rs_svc_app_run(app);
    dapr_client_free(au.client);
    free(list);
    return rc == 0 ? 0 : 1;
}

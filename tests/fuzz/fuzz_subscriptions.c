/* The app's answer to GET /dapr/subscribe (messaging/subscriptions.c) and the routing of an event through the
 * rules it declares (CEL `match` over the CloudEvent). Input: the subscribe body, a NUL byte, then the event's
 * JSON (optional). Invariants: a refused body says why; every accepted subscription has a pubsub name, a topic
 * and rules whose paths start with '/'; a route, when one matches, is one of the rules' paths. */
#include <jansson.h>

#include "fuzz.h"
#include "sidecar/messaging/subscriptions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t body_len = nul ? (size_t)(nul - data) : size;
    json_t *event = NULL;
    if (nul) event = json_loadb((const char *)nul + 1, size - body_len - 1, JSON_DECODE_ANY, NULL);

    rs_subscriptions_t subs = {0};
    char err[256] = "";
    if (rs_subscriptions_add_programmatic(&subs, (const char *)data, body_len, err, sizeof err) != 0) {
        FZ_CHECK(err[0] != '\0');
    }
    for (size_t i = 0; i < subs.len; i++) {
        const rs_subscription_t *s = subs.items[i];
        FZ_CHECK(s->pubsubname && s->topic);
        for (size_t k = 0; k < s->nrules; k++) FZ_CHECK(s->rules[k].path && s->rules[k].path[0] == '/');
        if (event) {
            const char *route = rs_subscription_route(s, event);
            if (route) {
                int known = 0;
                for (size_t k = 0; k < s->nrules; k++) known |= route == s->rules[k].path;
                FZ_CHECK(known);
            }
        }
        json_t *j = rs_subscription_json(s);
        FZ_CHECK(j != NULL);
        json_decref(j);
    }
    rs_subscriptions_free(&subs);
    json_decref(event);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* The one list of component types ripstopd knows. Adding a backend means
 * adding its file and one line here. */
#include <string.h>

#include "sidecar/components/component.h"

/* Each backend file defines one of these (keep both lists sorted by type). */
/* extern const rs_component_type_t rs_state_redis_type; */
extern const rs_component_type_t rs_bindings_azure_blobstorage_type;
extern const rs_component_type_t rs_bindings_cron_type;
extern const rs_component_type_t rs_bindings_localstorage_type;
extern const rs_component_type_t rs_lock_redis_type;
extern const rs_component_type_t rs_pubsub_kafka_type;
extern const rs_component_type_t rs_pubsub_redis_type;
extern const rs_component_type_t rs_secretstore_local_env_type;
extern const rs_component_type_t rs_secretstore_local_file_type;
extern const rs_component_type_t rs_state_redis_type;

static const rs_component_type_t *const all_types[] = {
    /* &rs_state_redis_type, */
    &rs_bindings_azure_blobstorage_type,
    &rs_bindings_cron_type,
    &rs_bindings_localstorage_type,
    &rs_lock_redis_type,
    &rs_pubsub_kafka_type,
    &rs_pubsub_redis_type,
    &rs_secretstore_local_env_type,
    &rs_secretstore_local_file_type,
    &rs_state_redis_type,
    NULL,
};

const rs_component_type_t *const *rs_component_types(void) { return all_types; }

const rs_component_type_t *rs_component_type_find(const char *type) {
    for (size_t i = 0; all_types[i]; i++)
        if (strcmp(all_types[i]->type, type) == 0) return all_types[i];
    return NULL;
}

const char *rs_component_kind_policy_word(rs_component_kind_t k) {
    switch (k) {
    case RS_KIND_STATE: return "Statestore";
    case RS_KIND_LOCK: return "Lock";
    case RS_KIND_PUBSUB: return "Pubsub";
    case RS_KIND_BINDING: return "Binding";
    case RS_KIND_SECRETSTORE: return "Secretstore";
    default: return "";
    }
}

int rs_component_kind_of_type(const char *type) {
    static const struct {
        const char *prefix;
        rs_component_kind_t kind;
    } map[] = {{"state.", RS_KIND_STATE},       {"lock.", RS_KIND_LOCK},
               {"pubsub.", RS_KIND_PUBSUB},     {"bindings.", RS_KIND_BINDING},
               {"secretstores.", RS_KIND_SECRETSTORE}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(type, map[i].prefix, strlen(map[i].prefix)) == 0) return (int)map[i].kind;
    return -1;
}

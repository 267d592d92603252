/* SPDX-License-Identifier: MIT */
/* Components: the plugin model of ripstopd.
 *
 * A component type (state.redis, pubsub.kafka, bindings.cron, ...) is one .c
 * file that defines a const rs_component_type_t and is listed once in
 * registry.c. The table holds the Dapr type string, the kind, init/close, and
 * a pointer to the kind's own ops table (rs_state_ops_t in state/state.h,
 * rs_pubsub_ops_t in pubsub/pubsub.h, ...). A loaded component instance is an
 * rs_component_t; the backend keeps its private state in `impl`, and reaches
 * the runtime only through `host` (host.h: loop, outbound HTTP, app id,
 * metrics, stopping flag).
 *
 * Threading: everything runs on the sidecar's event loop. Ops never block:
 * they start work and call their callback later (or, for purely local work
 * such as the file secret store, before returning). */
#ifndef RS_SIDECAR_COMPONENT_H
#define RS_SIDECAR_COMPONENT_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/components/host.h"

struct rs_resource_component;

typedef enum {
    RS_KIND_STATE = 0,
    RS_KIND_LOCK,
    RS_KIND_PUBSUB,
    RS_KIND_BINDING,
    RS_KIND_SECRETSTORE,
    RS_KIND_COUNT
} rs_component_kind_t;

typedef struct rs_component rs_component_t;

typedef struct rs_component_type {
    const char *type;                 /* Dapr type string, e.g. "state.redis" */
    rs_component_kind_t kind;
    const char *const *capabilities;  /* NULL-terminated, reported by GET /v1.0/metadata; may be NULL */
    /** Prepares the instance from c->metadata. Returns 0, or -1 with a reason in err.
     *  May start asynchronous connections; must not block for long. */
    int (*init)(rs_component_t *c, char *err, size_t errlen);
    /** Releases everything init created. Called once, also after a failed init. */
    void (*close)(rs_component_t *c);
    const void *ops;                  /* the kind's ops table */
} rs_component_type_t;

struct rs_component {
    char *name;
    char *version;                    /* "v1" */
    const rs_component_type_t *type;
    rs_kvlist_t metadata;             /* resolved: secret refs, envRef and templates applied */
    const rs_component_host_t *host;  /* what the component may use of the runtime; outlives the component */
    const struct rs_resource_component *resource; /* the YAML it came from */
    void *impl;                       /* backend state, owned by the type's init/close */
};

/** Looks up a component type by Dapr type string ("state.redis"). NULL if unknown. */
const rs_component_type_t *rs_component_type_find(const char *type);
/** Lists every registered type (NULL-terminated), for docs and `ripstopd --help`. */
const rs_component_type_t *const *rs_component_types(void);
/** Maps the kind to the word Dapr uses in default policy names: Statestore, Pubsub, Binding, Secretstore, Lock. */
const char *rs_component_kind_policy_word(rs_component_kind_t k);
/** Maps a Dapr type string prefix to a kind ("state." -> RS_KIND_STATE). Returns -1 if unknown. */
int rs_component_kind_of_type(const char *type);

/** Convenience: metadata value by name (first of several aliases), or NULL. */
static inline const char *rs_component_meta(const rs_component_t *c, const char *name) {
    return rs_kvlist_get(&c->metadata, name);
}

#endif

/* SPDX-License-Identifier: MIT */
/* Dapr resource files (spec §2.8): every *.yaml or *.yml file in the resources paths,
 * multi-document files allowed, plus the Configuration from --config.
 *
 * Components and Subscriptions are parsed into structs here. Resiliency and
 * Configuration documents are kept as JSON trees (converted from YAML: plain
 * scalars that look like integers, booleans or null become those JSON types,
 * everything else a string) for their own modules to interpret.
 * Resources scoped to other apps are dropped while loading. */
#ifndef RS_SIDECAR_RESOURCES_H
#define RS_SIDECAR_RESOURCES_H

#include <jansson.h>
#include <stddef.h>

#include "core/str.h"

typedef struct rs_resource_meta_item {
    char *name;
    char *value;        /* plain value (templates not yet applied), or NULL */
    char *secret_name;  /* secretKeyRef.name, or NULL */
    char *secret_key;   /* secretKeyRef.key, or NULL */
    char *env_ref;      /* envRef, or NULL */
    int line;
} rs_resource_meta_item_t;

typedef struct rs_resource_component {
    char *name;
    char *type;
    char *version;
    int ignore_errors;
    char *init_timeout;       /* as written, or NULL */
    char *secret_store;       /* auth.secretStore, or NULL */
    rs_resource_meta_item_t *items;
    size_t nitems;
    rs_strlist_t scopes;
    char *file;
    int line;
} rs_resource_component_t;

typedef struct rs_sub_rule {
    char *match;  /* CEL-subset expression over `event` */
    char *path;
} rs_sub_rule_t;

typedef struct rs_resource_subscription {
    char *name;
    int v2;                   /* 1 for dapr.io/v2alpha1 */
    char *pubsubname;
    char *topic;
    char *route;              /* v1alpha1 spec.route, or routes.default */
    rs_sub_rule_t *rules;     /* v2alpha1 routes.rules, in order */
    size_t nrules;
    char *dead_letter_topic;
    rs_kvlist_t metadata;
    int bulk_enabled;
    int bulk_max_messages;
    int bulk_max_await_ms;
    rs_strlist_t scopes;
    char *file;
    int line;
} rs_resource_subscription_t;

typedef struct rs_resource_doc {
    char *name;
    json_t *doc;              /* the whole document as JSON */
    char *file;
    int line;
} rs_resource_doc_t;

typedef struct rs_resources {
    rs_resource_component_t *components;
    size_t ncomponents;
    rs_resource_subscription_t *subscriptions;
    size_t nsubscriptions;
    rs_resource_doc_t *resiliencies;   /* kind: Resiliency, in load order */
    size_t nresiliencies;
    rs_resource_doc_t configuration;   /* from --config; doc == NULL when none */
} rs_resources_t;

/** Loads every resource file under `paths` (directories; a plain file is also accepted)
 *  and the configuration file (may be NULL), keeping only resources in scope for app_id.
 *  Returns 0, or -1 with "file:line: reason" in err (out is then empty). */
int rs_resources_load(rs_resources_t *out, const rs_strlist_t *paths, const char *config_path, const char *app_id,
                      char *err, size_t errlen);
void rs_resources_free(rs_resources_t *r);


#endif

/* SPDX-License-Identifier: MIT */
/* Thin helpers over libfyaml for reading YAML files (ripstopd's resources,
 * the ripstop tool's scenarios): lookups that tolerate the wrong node type,
 * line numbers for error messages, and a YAML-to-JSON conversion. */
#ifndef RS_CORE_YAML_H
#define RS_CORE_YAML_H

#include <jansson.h>
#include <libfyaml.h>
#include <stddef.h>

/** Value of key in a mapping node, or NULL (also when m is not a mapping). */
struct fy_node *rs_yaml_get(struct fy_node *m, const char *key);
/** NUL-terminated text of a scalar node, or NULL if n is not a scalar. */
const char *rs_yaml_scalar(struct fy_node *n);
/** 1-based line where n starts (best effort; 0 if unknown). */
int rs_yaml_line(struct fy_node *n);
/** Converts a node tree to JSON. Plain scalars that read as integers, true/false or null become those
 *  types; quoted scalars stay strings. */
json_t *rs_yaml_to_json(struct fy_node *n);

/** Called once per document of a file; return 0 to go on, -1 to stop (err already filled). */
typedef int (*rs_yaml_doc_fn)(void *ctx, const char *file, struct fy_document *doc, char *err, size_t errlen);
/** Parses every document of `path`. Returns 0, or -1 with "file:line:col: reason" in err on a syntax error
 *  or when fn fails. */
int rs_yaml_each_document(const char *path, rs_yaml_doc_fn fn, void *ctx, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/* XML bodies of the Azure Blob service, parsed with expat into a small tree
 * (xml_tree.h: no network access, no DOCTYPE, so no entity expansion):
 *   - List Blobs results, turned into the JSON Dapr returns: an array of the
 *     Go SDK's container.BlobItem marshalled with Go field names (Name,
 *     Properties.ETag, Properties.LastModified as RFC 3339, ...; absent
 *     values are null), spec §3.6;
 *   - error bodies (<Error><Code/><Message/></Error>). */
#ifndef RS_BINDINGS_BLOB_XML_H
#define RS_BINDINGS_BLOB_XML_H

#include <jansson.h>
#include <stddef.h>

/** Parses one List Blobs page. Appends a BlobItem object per <Blob> to `items` and stores the
 *  page's NextMarker (malloc'd, "" when the listing is complete) in *next_marker.
 *  Returns the number of blobs appended, or -1 with a reason in err. */
int rs_blob_xml_list(const char *xml, size_t len, json_t *items, char **next_marker, char *err, size_t errlen);

/** Extracts Code and Message from an error body into the buffers (empty strings if absent). */
void rs_blob_xml_error(const char *xml, size_t len, char *code, size_t codelen, char *msg, size_t msglen);

/** Converts an RFC 1123 date ("Wed, 25 Nov 2026 12:00:00 GMT") to Go's RFC 3339 JSON form
 *  ("2026-11-25T12:00:00Z"). Returns 0, or -1 if it is not such a date. */
int rs_blob_rfc1123_to_rfc3339(const char *in, char *out, size_t outlen);

#endif

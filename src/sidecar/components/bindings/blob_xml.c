/* SPDX-License-Identifier: MIT */
#include "sidecar/components/bindings/blob_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/components/bindings/xml_tree.h"

typedef enum { T_STR, T_INT, T_BOOL, T_TIME } ftype_t;

typedef struct {
    const char *go;   /* Go field name (the JSON key) */
    const char *xml;  /* element name in <Properties>, NULL if the service never sends it */
    ftype_t type;
} prop_t;

/* container.BlobProperties in Go declaration order, which json.Marshal keeps. */
static const prop_t props[] = {
    {"ETag", "Etag", T_STR},
    {"LastModified", "Last-Modified", T_TIME},
    {"AccessTier", "AccessTier", T_STR},
    {"AccessTierChangeTime", "AccessTierChangeTime", T_TIME},
    {"AccessTierInferred", "AccessTierInferred", T_BOOL},
    {"ArchiveStatus", "ArchiveStatus", T_STR},
    {"BlobSequenceNumber", "x-ms-blob-sequence-number", T_INT},
    {"BlobType", "BlobType", T_STR},
    {"CacheControl", "Cache-Control", T_STR},
    {"ContentDisposition", "Content-Disposition", T_STR},
    {"ContentEncoding", "Content-Encoding", T_STR},
    {"ContentLanguage", "Content-Language", T_STR},
    {"ContentLength", "Content-Length", T_INT},
    {"ContentMD5", "Content-MD5", T_STR}, /* []byte: base64 in XML and in Go's JSON */
    {"ContentType", "Content-Type", T_STR},
    {"CopyCompletionTime", "CopyCompletionTime", T_TIME},
    {"CopyID", "CopyId", T_STR},
    {"CopyProgress", "CopyProgress", T_STR},
    {"CopySource", "CopySource", T_STR},
    {"CopyStatus", "CopyStatus", T_STR},
    {"CopyStatusDescription", "CopyStatusDescription", T_STR},
    {"CreationTime", "Creation-Time", T_TIME},
    {"CustomerProvidedKeySHA256", "CustomerProvidedKeySha256", T_STR},
    {"DeletedTime", "DeletedTime", T_TIME},
    {"DestinationSnapshot", "DestinationSnapshot", T_STR},
    {"EncryptionScope", "EncryptionScope", T_STR},
    {"ExpiresOn", "Expiry-Time", T_TIME},
    {"ImmutabilityPolicyExpiresOn", "ImmutabilityPolicyUntilDate", T_TIME},
    {"ImmutabilityPolicyMode", "ImmutabilityPolicyMode", T_STR},
    {"IncrementalCopy", "IncrementalCopy", T_BOOL},
    {"IsSealed", "Sealed", T_BOOL},
    {"LastAccessedOn", "LastAccessTime", T_TIME},
    {"LeaseDuration", "LeaseDuration", T_STR},
    {"LeaseState", "LeaseState", T_STR},
    {"LeaseStatus", "LeaseStatus", T_STR},
    {"LegalHold", "LegalHold", T_BOOL},
    {"RehydratePriority", "RehydratePriority", T_STR},
    {"RemainingRetentionDays", "RemainingRetentionDays", T_INT},
    {"ServerEncrypted", "ServerEncrypted", T_BOOL},
    {"TagCount", "TagCount", T_INT},
};

int rs_blob_rfc1123_to_rfc3339(const char *in, char *out, size_t outlen) {
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wd[4], mon[4], zone[4];
    int d, y, h, mi, s, end = -1;
    /* Field widths bound every number (no int overflow in sscanf); ranges and the whole string are checked, so
     * "20261" as a year or "99:99" as a time are refused rather than written out as a date that is not one. */
    if (sscanf(in, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h, &mi, &s, zone, &end) != 8 ||
        in[end] != '\0')
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0) m = i + 1;
    if (m < 0 || strcmp(zone, "GMT") != 0) return -1;
    if (d < 1 || d > 31 || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return -1;
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, s);
    return 0;
}

typedef rs_xml_node_t node_t;

static const char *name_of(const node_t *n) { return n->name; }

static char *text_of(const node_t *n) { return rs_strdup(n->text); }

static const node_t *child(const node_t *n, const char *name) { return rs_xml_child(n, name); }

static json_t *typed(const char *v, ftype_t t) {
    switch (t) {
    case T_INT: {
        long long n;
        return rs_parse_int64(v, &n) == 0 ? json_integer(n) : json_null();
    }
    case T_BOOL: return strcmp(v, "true") == 0 ? json_true() : strcmp(v, "false") == 0 ? json_false() : json_null();
    case T_TIME: {
        char buf[40];
        return rs_blob_rfc1123_to_rfc3339(v, buf, sizeof buf) == 0 ? json_string(buf) : json_null();
    }
    default: return json_string(v);
    }
}

/* Blob names may be sent percent-encoded (Encoded="true") when they hold characters XML cannot carry. */
static char *blob_name(const node_t *n) {
    char *s = text_of(n);
    const char *enc = rs_xml_attr(n, "Encoded");
    int encoded = enc && strcmp(enc, "true") == 0;
    if (!encoded) return s;
    char *o = s;
    for (const char *p = s; *p; p++) {
        unsigned v;
        if (*p == '%' && p[1] && p[2] && sscanf(p + 1, "%2x", &v) == 1) {
            *o++ = (char)v;
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    return s;
}

static json_t *str_or_null(const node_t *n) {
    if (!n) return json_null();
    char *s = text_of(n);
    json_t *j = json_string(s);
    free(s);
    return j ? j : json_null();
}

static json_t *bool_or_null(const node_t *n) {
    if (!n) return json_null();
    char *s = text_of(n);
    json_t *j = typed(s, T_BOOL);
    free(s);
    return j;
}

static json_t *map_of(const node_t *n) {
    if (!n) return json_null();
    json_t *o = json_object();
    for (const node_t *c = n->children; c; c = c->next) {
        char *v = text_of(c);
        json_object_set_new(o, name_of(c), json_string(v));
        free(v);
    }
    return o;
}

static json_t *tags_of(const node_t *n) {
    if (!n) return json_null();
    json_t *set = json_array();
    for (const node_t *c = child(n, "TagSet") ? child(n, "TagSet")->children : NULL; c; c = c->next) {
        if (strcmp(name_of(c), "Tag") != 0) continue;
        json_t *t = json_object();
        json_object_set_new(t, "Key", str_or_null(child(c, "Key")));
        json_object_set_new(t, "Value", str_or_null(child(c, "Value")));
        json_array_append_new(set, t);
    }
    json_t *o = json_object();
    json_object_set_new(o, "BlobTagSet", set);
    return o;
}

static json_t *blob_item(const node_t *b) {
    json_t *o = json_object();
    json_object_set_new(o, "Deleted", bool_or_null(child(b, "Deleted")));
    const node_t *nm = child(b, "Name");
    if (nm) {
        char *name = blob_name(nm);
        json_object_set_new(o, "Name", json_string(name));
        free(name);
    } else {
        json_object_set_new(o, "Name", json_null());
    }
    const node_t *p = child(b, "Properties");
    if (p) {
        json_t *po = json_object();
        for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
            const node_t *e = child(p, props[i].xml);
            json_t *v = json_null();
            if (e) {
                char *s = text_of(e);
                /* Empty elements (<Content-MD5 />) are absent values. */
                if (*s) v = typed(s, props[i].type);
                free(s);
            }
            json_object_set_new(po, props[i].go, v);
        }
        json_object_set_new(o, "Properties", po);
    } else {
        json_object_set_new(o, "Properties", json_null());
    }
    json_object_set_new(o, "Snapshot", str_or_null(child(b, "Snapshot")));
    json_object_set_new(o, "BlobTags", tags_of(child(b, "Tags")));
    json_object_set_new(o, "HasVersionsOnly", bool_or_null(child(b, "HasVersionsOnly")));
    json_object_set_new(o, "IsCurrentVersion", bool_or_null(child(b, "IsCurrentVersion")));
    json_object_set_new(o, "Metadata", map_of(child(b, "Metadata")));
    json_object_set_new(o, "OrMetadata", map_of(child(b, "OrMetadata")));
    json_object_set_new(o, "VersionID", str_or_null(child(b, "VersionId")));
    return o;
}


int rs_blob_xml_list(const char *xml, size_t len, json_t *items, char **next_marker, char *err, size_t errlen) {
    *next_marker = NULL;
    node_t *root = rs_xml_parse(xml, len);
    if (!root || strcmp(name_of(root), "EnumerationResults") != 0) {
        snprintf(err, errlen, "error listing blobs: unexpected response body (not an EnumerationResults document)");
        rs_xml_free(root);
        return -1;
    }
    int count = 0;
    for (const node_t *b = child(root, "Blobs") ? child(root, "Blobs")->children : NULL; b; b = b->next) {
        if (strcmp(name_of(b), "Blob") != 0) continue;
        json_array_append_new(items, blob_item(b));
        count++;
    }
    const node_t *nm = child(root, "NextMarker");
    *next_marker = nm ? text_of(nm) : rs_strdup("");
    rs_xml_free(root);
    return count;
}

void rs_blob_xml_error(const char *xml, size_t len, char *code, size_t codelen, char *msg, size_t msglen) {
    code[0] = msg[0] = 0;
    node_t *root = len ? rs_xml_parse(xml, len) : NULL;
    if (root && strcmp(name_of(root), "Error") == 0) {
        const node_t *c = child(root, "Code"), *m = child(root, "Message");
        if (c) {
            char *s = text_of(c);
            snprintf(code, codelen, "%s", s);
            free(s);
        }
        if (m) {
            char *s = text_of(m);
            /* Azure's messages carry "\nRequestId:...\nTime:..." lines; keep the first line. */
            char *nl = strchr(s, '\n');
            if (nl) *nl = 0;
            snprintf(msg, msglen, "%s", s);
            free(s);
        }
    }
    rs_xml_free(root);
}

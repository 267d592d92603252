/* SPDX-License-Identifier: MIT */
/* Metadata of bindings.azure.blobstorage (spec §3.6), parsed into where to
 * send requests and how to sign them. Names are matched case-insensitively,
 * as Dapr's metadata decoder does:
 *   accountName | storageAccount | storageAccountName
 *   accountKey  | accessKey | storageAccessKey | storageAccountKey
 *   containerName | container | storageAccountContainer
 *   connectionString (AccountName, AccountKey, BlobEndpoint, DefaultEndpointsProtocol,
 *                     EndpointSuffix, UseDevelopmentStorage=true)
 *   endpoint | storageEndpoint (Azurite: the URL becomes <endpoint>/<account>/<container>)
 *   decodeBase64, publicAccessLevel (none|blob|container), disableEntityManagement,
 *   retryCount (default 3; the legacy getBlobRetryCount overrides it). */
#ifndef RS_BINDINGS_BLOB_CONFIG_H
#define RS_BINDINGS_BLOB_CONFIG_H

#include <stddef.h>

#include "core/str.h"

typedef struct {
    char *account;
    char *account_key;      /* base64, as configured */
    char *container;
    char *origin;           /* "http://127.0.0.1:10000" or "https://acct.blob.core.windows.net" */
    char *container_path;   /* URL path of the container, e.g. "/devstoreaccount1/orders" or "/orders" */
    int decode_base64;
    int disable_entity_management;
    char *public_access;    /* NULL (private), "blob" or "container" */
    int retry_count;
} rs_blob_config_t;

/** The Azurite development account and its published key (not a secret). */
#define RS_AZURITE_ACCOUNT "devstoreaccount1"
#define RS_AZURITE_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/** Parses component metadata. Returns 0, or -1 with Dapr's wording in err
 *  ("missing or empty accountName field from metadata", "invalid public access level: ..."). */
int rs_blob_config_parse(rs_blob_config_t *cfg, const rs_kvlist_t *md, char *err, size_t errlen);
void rs_blob_config_free(rs_blob_config_t *cfg);

/** Escapes one blob name for a URL path like Go's url.PathEscape ('/' becomes %2F). Caller frees. */
char *rs_blob_path_escape(const char *name);

#endif

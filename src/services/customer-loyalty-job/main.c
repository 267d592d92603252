/* SPDX-License-Identifier: MIT */
/* customer-loyalty-job: on every cron tick, turns the order blobs the audit
 * service wrote into loyalty points per customer.
 *
 * LOYALTY_MODE=lock (app id customer-loyalty-job, cron route POST /checkorders):
 *   list up to LIST_SIZE blobs of order-binding, sorted by name; for each:
 *   try-lock loyalty-lock on the blob name (owner unique to this process) →
 *   get the blob (gone: already processed) → count it exactly once → delete
 *   the blob → unlock. "Exactly once": the customer's record (with its ETag)
 *   and a marker key `processed:<orderId>` are read; a marker means the order
 *   was counted already (a replica died before deleting the blob), so only the
 *   blob is deleted; otherwise the new totals (ETag-checked) and the marker are
 *   written in ONE state transaction, re-read and retried on conflict. The
 *   read-modify-write also holds a short per-customer lock so that it stays
 *   exact on stores whose transactions are not all-or-nothing (Dapr's Redis
 *   store applies the other operations of a failed transaction).
 *
 * LOYALTY_MODE=nolock (customer-loyalty-job-nolock, POST /checkorders-nolock):
 *   the original's naive algorithm on order-binding-nolock and
 *   loyalty-store-nolock: get blob, read-modify-save with first-write
 *   concurrency (re-read on conflict), delete; a failed delete is logged and
 *   ignored. Two replicas race on the same blobs and over-count — on purpose.
 *
 * Tracing: the calls made for an order carry the traceparent stored in its
 * blob's metadata (the audit service's write put it there), so they show in
 * the order's trace. The listing asks for the blobs' metadata, so in the lock
 * variant the whole handling of a blob — lock, get, count, delete, unlock — is
 * in the order's trace (a replica killed while holding the lock shows there);
 * where the listing has no metadata (localstorage) and in the no-lock variant,
 * the order's trace starts once the get has read the blob. The listing itself
 * stays in the cron tick's trace.
 *
 * Each replica runs one pass at a time; a tick that arrives during a pass is
 * answered at once and skipped. Within a pass LOYALTY_WORKERS threads take the
 * listed blobs in turn; the lock variant starts at a random place in the sorted
 * list, so that two replicas rarely start on the same blob (each blob is still
 * handled by one worker of a replica, under the same locks and marker).
 *
 * Environment: APP_PORT, APP_ID, LOYALTY_MODE (lock|nolock, default lock),
 * LIST_SIZE (default 10), CRON_ROUTE, ORDER_BINDING, LOYALTY_STORE, LOCK_STORE
 * (defaults per mode as above), LOCK_EXPIRY_SECONDS (60), CUSTOMER_LOCK (1;
 * 0 turns the per-customer lock off), LOYALTY_WORKERS (4), NAME_METADATA
 * (blobName; fileName for a bindings.localstorage ORDER_BINDING, whose list
 * answers absolute paths: the job keeps their last part), DAPR_HTTP_PORT/DAPR_API_TOKEN.
 * Fault injection for tests and demos: LOYALTY_FAULT_EXIT_AFTER_COUNT=N makes
 * the process exit right after its N-th counting transaction, before the blob
 * is deleted (the window the processed marker exists for); it runs one worker, so
 * that exactly one counted order is left undeleted. */
#include <dapr/dapr.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc.h"

#define MAX_ATTEMPTS 50           /* read-modify-write rounds per order before giving up until the next tick */
#define CUSTOMER_LOCK_EXPIRY 10   /* seconds; the critical section takes milliseconds */
#define CUSTOMER_LOCK_TRIES 200   /* x 10 ms */

typedef struct {
    dapr_client_t *client;
    int lock_mode;
    int customer_lock;
    const char *binding, *store, *lock_store;
    char owner[192];
    const char *name_meta; /* metadata key naming the blob: blobName (Azure) or fileName (localstorage) */
    int list_size;
    int workers;
    int lock_expiry;
    pthread_mutex_t pass_mu; /* one pass at a time */
    long crash_after;        /* fault injection: _exit after this many counted orders (0 = never) */
    atomic_long counted;
} job_t;

typedef struct {
    int customer;
    double total;
    char id[256]; /* orderId, or the blob name for orders without one */
    char traceparent[56]; /* the trace of the call that wrote the blob ("" when unknown) */
} order_t;

typedef struct {
    long points, count;
} totals_t;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *errs(const dapr_error_t *err) {
    static __thread char buf[640];
    return dapr_error_str(err, buf, sizeof buf);
}

/* A listed blob: its name and, when the listing had its metadata, the traceparent its writer stored there. */
typedef struct {
    char *name;
    char traceparent[56]; /* "" when unknown */
} blob_t;

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const blob_t *)a)->name, ((const blob_t *)b)->name);
}

/* Lists blobs (sorted by name). Accepts the blob binding's [{"Name":..., "Metadata":{...}}] (include metadata: the
 * writer's traceparent) and plain string arrays (localstorage). */
static int list_blobs(job_t *jb, blob_t **names, size_t *n) {
    char req[96];
    snprintf(req, sizeof req, "{\"maxResults\":%d,\"include\":{\"metadata\":true}}", jb->list_size);
    dapr_response_t r = {0};
    dapr_error_t err;
    *names = NULL;
    *n = 0;
    if (dapr_binding_invoke(jb->client, jb->binding, "list", req, NULL, 0, &r, &err) != 0) {
        rs_svc_log("list %s failed: %s", jb->binding, errs(&err));
        dapr_response_free(&r);
        return -1;
    }
    json_t *arr = json_loadb(r.body, r.body_len, 0, NULL);
    size_t body_len = r.body_len;
    dapr_response_free(&r);
    if (!json_is_array(arr)) {
        int empty = body_len == 0 || json_is_null(arr); /* an empty container may answer with no body */
        json_decref(arr);
        if (empty) return 0;
        rs_svc_log("list %s: the answer is not a JSON array", jb->binding);
        return -1;
    }
    *names = calloc(json_array_size(arr) + 1, sizeof **names);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *name = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "Name"));
        if (name && name[0] == '/') name = strrchr(name, '/') + 1; /* localstorage: an absolute path */
        if (!name || !*name) continue;
        blob_t *b = &(*names)[(*n)++];
        b->name = strdup(name);
        const char *tp = json_string_value(json_object_get(json_object_get(e, "Metadata"), "traceparent"));
        snprintf(b->traceparent, sizeof b->traceparent, "%s", tp && dapr_traceparent_valid(tp) ? tp : "");
    }
    json_decref(arr);
    qsort(*names, *n, sizeof **names, cmp_names);
    while (*n > (size_t)jb->list_size) free((*names)[--*n].name); /* localstorage lists everything */
    return 0;
}

/* Gets and parses one order blob. 1 = got it, 0 = gone or unusable (skip), -1 = call failed. */
static int get_order(job_t *jb, const char *name, order_t *o) {
    /* includeMetadata: the blob's metadata comes back as "metadata.<key>" headers; Dapr stored the writer's
     * traceparent there, so counting the order can join the order's trace. */
    dapr_kv_t meta[2] = {{jb->name_meta, name}, {"includeMetadata", "true"}};
    dapr_response_t r = {0};
    dapr_error_t err;
    if (dapr_binding_invoke(jb->client, jb->binding, "get", NULL, meta, 2, &r, &err) != 0) {
        dapr_response_free(&r);
        /* The component reports a missing blob as a 500 "blob not found": processed by someone else. */
        if (strstr(err.message, "not found") || strstr(err.message, "BlobNotFound")) return 0; /* or file not found */
        rs_svc_log("get blob %s failed: %s", name, errs(&err));
        return -1;
    }
    const char *tp = dapr_response_header(&r, "metadata.traceparent");
    snprintf(o->traceparent, sizeof o->traceparent, "%s", tp && dapr_traceparent_valid(tp) ? tp : "");
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    dapr_response_free(&r);
    json_t *cid = json_object_get(j, "customerId"), *tot = json_object_get(j, "orderTotal");
    const char *oid = json_string_value(json_object_get(j, "orderId"));
    if (!json_is_integer(cid) || !json_is_number(tot)) {
        rs_svc_log("blob %s is not an order, leaving it", name);
        json_decref(j);
        return 0;
    }
    o->customer = (int)json_integer_value(cid);
    o->total = json_number_value(tot);
    snprintf(o->id, sizeof o->id, "%s", oid && *oid ? oid : name);
    json_decref(j);
    return 1;
}

static totals_t totals_of(const dapr_state_t *s) {
    totals_t t = {0, 0};
    if (!s->found) return t;
    json_t *j = json_loadb(s->value, s->value_len, 0, NULL);
    t.points = (long)json_integer_value(json_object_get(j, "loyaltyPoints"));
    t.count = (long)json_integer_value(json_object_get(j, "orderCount"));
    json_decref(j);
    return t;
}

/* The customer record: the original's order shape with the running totals. */
static char *record_json(const order_t *o, totals_t t) {
    json_t *j = json_pack("{s:i,s:f,s:I,s:I}", "customerId", o->customer, "orderTotal", o->total, "loyaltyPoints",
                          (json_int_t)t.points, "orderCount", (json_int_t)t.count);
    if (o->total == floor(o->total)) json_object_set_new(j, "orderTotal", json_integer((json_int_t)o->total));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* Math.Round in .NET rounds half to even; nearbyint does the same in the default rounding mode. */
static long points_for(double total) { return (long)nearbyint(total); }

/* Lock variant: adds the order to the customer's totals unless its marker exists. 0 = counted (now or
 * before), -1 = not counted (leave the blob for a later pass). */
static int count_once(job_t *jb, const order_t *o) {
    char key[32], marker[300];
    snprintf(key, sizeof key, "%d", o->customer);
    snprintf(marker, sizeof marker, "processed:%s", o->id);
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        dapr_error_t err;
        dapr_state_t mk = {0}, cust = {0};
        if (dapr_state_get(jb->client, jb->store, marker, DAPR_CONSISTENCY_STRONG, &mk, &err) != 0) {
            rs_svc_log("order %s: read marker failed: %s", o->id, errs(&err));
            return -1;
        }
        int seen = mk.found;
        dapr_state_free(&mk);
        if (seen) {
            rs_svc_log("order %s already counted for customer %d, only deleting its blob", o->id, o->customer);
            return 0;
        }
        if (dapr_state_get(jb->client, jb->store, key, DAPR_CONSISTENCY_STRONG, &cust, &err) != 0) {
            rs_svc_log("order %s: read customer %d failed: %s", o->id, o->customer, errs(&err));
            return -1;
        }
        if (!cust.found || !cust.etag) {
            /* Create the record first (first-write: only one creator wins) so the transaction below always
             * has an ETag to check; an ETag on a missing key would not protect a concurrent creation. */
            char *zero = record_json(o, (totals_t){0, 0});
            dapr_state_item_t it = {.key = key, .value = zero, .concurrency = DAPR_CONCURRENCY_FIRST_WRITE};
            if (dapr_state_save(jb->client, jb->store, &it, 1, &err) != 0)
                rs_svc_log("customer %d: create record raced (%s), re-reading", o->customer, errs(&err));
            free(zero);
            dapr_state_free(&cust);
            continue;
        }
        totals_t t = totals_of(&cust);
        t.points += points_for(o->total);
        t.count += 1;
        char *rec = record_json(o, t);
        json_t *mj = json_pack("{s:s,s:i,s:s}", "orderId", o->id, "customerId", o->customer, "by", jb->owner);
        char *mval = json_dumps(mj, JSON_COMPACT);
        json_decref(mj);
        dapr_state_op_t ops[2] = {
            {DAPR_STATE_UPSERT, {.key = key, .value = rec, .etag = cust.etag,
                                 .concurrency = DAPR_CONCURRENCY_FIRST_WRITE}},
            {DAPR_STATE_UPSERT, {.key = marker, .value = mval}},
        };
        int rc = dapr_state_transaction(jb->client, jb->store, ops, 2, &err);
        free(rec);
        free(mval);
        dapr_state_free(&cust);
        if (rc == 0) {
            rs_svc_log("order %s counted: customer %d now %ld points, %ld orders", o->id, o->customer, t.points,
                       t.count);
            if (jb->crash_after > 0 && atomic_fetch_add(&jb->counted, 1) + 1 == jb->crash_after) {
                rs_svc_log("fault injection: exiting after counting order %s, before deleting its blob", o->id);
                _exit(137);
            }
            return 0;
        }
        rs_svc_log("order %s: transaction for customer %d failed (attempt %d): %s; re-reading", o->id, o->customer,
                   attempt, errs(&err));
        sleep_ms(5L * attempt);
    }
    return -1;
}

static int lock_customer(job_t *jb, int customer, char *res, size_t reslen) {
    snprintf(res, reslen, "loyalty-customer-%d", customer);
    for (int i = 0; i < CUSTOMER_LOCK_TRIES; i++) {
        int got = 0;
        dapr_error_t err;
        if (dapr_lock_try(jb->client, jb->lock_store, res, jb->owner, CUSTOMER_LOCK_EXPIRY, &got, &err) != 0) {
            rs_svc_log("lock %s failed: %s", res, errs(&err));
            return -1;
        }
        if (got) return 0;
        sleep_ms(10);
    }
    rs_svc_log("customer %d stays locked by another replica; trying again next pass", customer);
    return -1;
}

static void unlock(job_t *jb, const char *res) {
    dapr_error_t err;
    dapr_unlock_status_t st = DAPR_UNLOCK_SUCCESS;
    if (dapr_unlock(jb->client, jb->lock_store, res, jb->owner, &st, &err) != 0)
        rs_svc_log("unlock %s failed: %s", res, errs(&err));
    else if (st != DAPR_UNLOCK_SUCCESS)
        rs_svc_log("unlock %s: status %d (expired or not ours)", res, (int)st);
}

static int delete_blob(job_t *jb, const char *name) {
    dapr_kv_t meta = {jb->name_meta, name};
    dapr_error_t err;
    if (dapr_binding_invoke(jb->client, jb->binding, "delete", NULL, &meta, 1, NULL, &err) != 0) {
        rs_svc_log("delete blob %s failed: %s", name, errs(&err));
        return -1;
    }
    rs_svc_log("blob %s deleted", name);
    return 0;
}

/* Counting an order belongs to the order's trace, not the cron tick's: the calls made for it carry the
 * traceparent stored with its blob. *tick receives the tick's context to restore afterwards. */
static void enter_order_trace(const char *traceparent, dapr_trace_context_t *tick) {
    dapr_trace_context_get(tick);
    if (traceparent[0]) dapr_trace_context_set(traceparent, NULL);
}

static int process_locked_in(job_t *jb, const char *name) {
    int got = 0;
    dapr_error_t err;
    if (dapr_lock_try(jb->client, jb->lock_store, name, jb->owner, jb->lock_expiry, &got, &err) != 0) {
        rs_svc_log("lock %s failed: %s", name, errs(&err));
        return 0;
    }
    if (!got) {
        rs_svc_log("blob %s is locked by another replica, skipping", name);
        return 0;
    }
    order_t o;
    int done = 0, g = get_order(jb, name, &o);
    if (g == 0) rs_svc_log("blob %s is gone, already processed", name);
    if (g == 1) {
        dapr_trace_context_t tick; /* the order's trace when the listing did not give it */
        enter_order_trace(o.traceparent, &tick);
        char cres[64] = "";
        int counted = -1;
        if (!jb->customer_lock || lock_customer(jb, o.customer, cres, sizeof cres) == 0) {
            counted = count_once(jb, &o);
            if (jb->customer_lock) unlock(jb, cres);
        }
        if (counted == 0) done = delete_blob(jb, name) == 0;
        dapr_trace_context_set(tick.traceparent, tick.tracestate);
    }
    unlock(jb, name);
    return done;
}

/* Lock variant, one blob. Returns 1 when the blob was processed. When the listing gave the blob's traceparent,
 * the whole handling (lock, get, count, delete, unlock) is in the order's trace, so a replica that dies holding
 * the lock shows there; otherwise the order's trace starts once the get has read it. */
static int process_locked(job_t *jb, const blob_t *b) {
    const char *name = b->name;
    dapr_trace_context_t tick;
    enter_order_trace(b->traceparent, &tick);
    int r = process_locked_in(jb, name);
    dapr_trace_context_set(tick.traceparent, tick.tracestate);
    return r;
}

/* No-lock variant (the original), one blob. */
static int process_unlocked(job_t *jb, const char *name) {
    order_t o;
    int g = get_order(jb, name, &o);
    if (g != 1) {
        if (g == 0) rs_svc_log("blob %s is gone, already processed", name);
        return 0;
    }
    dapr_trace_context_t tick;
    enter_order_trace(o.traceparent, &tick);
    char key[32];
    snprintf(key, sizeof key, "%d", o.customer);
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        dapr_error_t err;
        dapr_state_t cust = {0};
        if (dapr_state_get(jb->client, jb->store, key, DAPR_CONSISTENCY_DEFAULT, &cust, &err) != 0) {
            rs_svc_log("order %s: read customer %d failed: %s", o.id, o.customer, errs(&err));
            dapr_trace_context_set(tick.traceparent, tick.tracestate);
            return 0;
        }
        totals_t t = totals_of(&cust);
        t.points += points_for(o.total);
        t.count += 1;
        char *rec = record_json(&o, t);
        dapr_state_item_t it = {.key = key, .value = rec, .etag = cust.etag,
                                .concurrency = DAPR_CONCURRENCY_FIRST_WRITE};
        int rc = dapr_state_save(jb->client, jb->store, &it, 1, &err);
        free(rec);
        dapr_state_free(&cust);
        if (rc == 0) {
            rs_svc_log("order %s counted: customer %d now %ld points, %ld orders", o.id, o.customer, t.points,
                       t.count);
            break;
        }
        rs_svc_log("order %s: save customer %d failed (attempt %d): %s; re-reading", o.id, o.customer, attempt,
                   errs(&err));
    }
    delete_blob(jb, name); /* a failure (the other replica deleted it first) is only logged */
    dapr_trace_context_set(tick.traceparent, tick.tracestate);
    return 1;
}

/* One pass: the listed names, taken in turn by the workers from a random starting place. */
typedef struct {
    job_t *jb;
    blob_t *names;
    size_t n, start;
    atomic_size_t next;
    atomic_int processed;
    dapr_trace_context_t tick; /* the cron tick's trace: every worker's listing-side calls stay in it */
} pass_t;

static void *pass_worker(void *arg) {
    pass_t *p = arg;
    dapr_trace_context_set(p->tick.traceparent, p->tick.tracestate); /* a no-op on the handler's own thread */
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
        const blob_t *b = &p->names[(p->start + i) % p->n];
        int done = p->jb->lock_mode ? process_locked(p->jb, b) : process_unlocked(p->jb, b->name);
        atomic_fetch_add(&p->processed, done);
    }
    return NULL;
}

static void on_tick(const dapr_request_t *req, dapr_reply_t *rep, void *arg) {
    (void)req;
    job_t *jb = arg;
    if (pthread_mutex_trylock(&jb->pass_mu) != 0) {
        dapr_reply_text(rep, 200, "a pass is already running\n");
        return;
    }
    pass_t p = {.jb = jb};
    dapr_trace_context_get(&p.tick);
    if (list_blobs(jb, &p.names, &p.n) == 0 && p.n) {
        rs_svc_log("pass: %zu blob(s) in %s", p.n, jb->binding);
        if (jb->lock_mode) { /* the no-lock variant keeps the original's order: its replicas race on purpose */
            char hex[9];
            rs_svc_random_hex(hex, 4);
            p.start = (size_t)strtoul(hex, NULL, 16) % p.n;
        }
        pthread_t th[64];
        int nth = 0;
        for (int i = 1; i < jb->workers && (size_t)i < p.n; i++)
            if (pthread_create(&th[nth], NULL, pass_worker, &p) == 0) nth++;
        pass_worker(&p); /* this thread is a worker too */
        for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
    }
    for (size_t i = 0; i < p.n; i++) free(p.names[i].name);
    free(p.names);
    pthread_mutex_unlock(&jb->pass_mu);
    dapr_reply_text(rep, 200, "processed %d of %zu\n", atomic_load(&p.processed), p.n);
}

int main(void) {
    static job_t jb;
    const char *mode = rs_svc_env("LOYALTY_MODE", "lock");
    jb.lock_mode = strcmp(mode, "nolock") != 0;
    if (jb.lock_mode && strcmp(mode, "lock") != 0) {
        fprintf(stderr, "customer-loyalty-job: LOYALTY_MODE must be lock or nolock (got %s)\n", mode);
        return 2;
    }
    const char *app_id = rs_svc_env("APP_ID", jb.lock_mode ? "customer-loyalty-job" : "customer-loyalty-job-nolock");
    rs_svc_set_name(jb.lock_mode ? "customer-loyalty-job" : "customer-loyalty-job-nolock");
    jb.binding = rs_svc_env("ORDER_BINDING", jb.lock_mode ? "order-binding" : "order-binding-nolock");
    jb.store = rs_svc_env("LOYALTY_STORE", jb.lock_mode ? "loyalty-store" : "loyalty-store-nolock");
    jb.lock_store = rs_svc_env("LOCK_STORE", "loyalty-lock");
    jb.list_size = (int)rs_svc_env_long("LIST_SIZE", 10, 1, 5000);
    jb.lock_expiry = (int)rs_svc_env_long("LOCK_EXPIRY_SECONDS", 60, 1, 3600);
    jb.customer_lock = strcmp(rs_svc_env("CUSTOMER_LOCK", "1"), "0") != 0;
    jb.crash_after = rs_svc_env_long("LOYALTY_FAULT_EXIT_AFTER_COUNT", 0, 0, 1000000);
    jb.workers = (int)rs_svc_env_long("LOYALTY_WORKERS", 4, 1, 64);
    if (jb.crash_after > 0) jb.workers = 1; /* one worker: exactly one counted order is left undeleted */
    jb.name_meta = rs_svc_env("NAME_METADATA", "blobName");
    const char *route = rs_svc_env("CRON_ROUTE", jb.lock_mode ? "/checkorders" : "/checkorders-nolock");
    /* The original used the app id as lock owner, so one replica could release the other's lock. The pid lets
     * `ripstop demo` tell whose lock it is (its whenHolding kill, src/tools/ripstop/lock_watch.h). */
    char hex[13];
    rs_svc_random_hex(hex, 6);
    snprintf(jb.owner, sizeof jb.owner, "%s-%d-%s", app_id, (int)getpid(), hex);
    pthread_mutex_init(&jb.pass_mu, NULL);
    jb.client = dapr_client_new(NULL);

    dapr_app_t *app = rs_svc_app_new();
    if (!app) return 1;
    dapr_app_binding(app, route, on_tick, &jb);
    rs_svc_log("listening on port %d: %s mode, cron route %s, binding %s, store %s, list size %d, %d worker(s)%s%s",
               dapr_app_port(app), jb.lock_mode ? "lock" : "no-lock", route, jb.binding, jb.store, jb.list_size,
               jb.workers,
               jb.lock_mode ? ", lock owner " : "", jb.lock_mode ? jb.owner : "");
    int rc = rs_svc_app_run(app);
    dapr_client_free(jb.client);
    return rc == 0 ? 0 : 1;
}

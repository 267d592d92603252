/* Resource YAML (sidecar/resources/loader.c over core/yaml.c): Components, Subscriptions (v1alpha1 and v2alpha1
 * with CEL rules), Resiliency and Configuration documents, as ripstopd reads them at start-up; then what is built
 * from them: the resiliency policies (durations, retry and breaker specs, trip expressions) and the declarative
 * subscriptions. Input: a selector byte (bit 0: the file is the --config file, else a resources file), then
 * the YAML. Invariants: a refusal says where and why; everything loaded is named. */
#include <event2/event.h>
#include <unistd.h>

#include "core/log.h"
#include "fuzz.h"
#include "sidecar/messaging/subscriptions.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resources/resources.h"

static char dir[64], file[96];
static struct event_base *base;

static void cleanup(void) {
    unlink(file);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    rs_log_set_level(RS_LOG_FATAL); /* the loader warns about what it skips: noise at a million inputs */
    /* The input is written to a file per run: in memory (/dev/shm) where there is one, not on a disk. */
    snprintf(dir, sizeof dir, "%s/rs-fuzz-res-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(file, sizeof file, "%s/r.yaml", dir);
    atexit(cleanup);
    base = event_base_new();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned sel = fz_take_byte(&data, &size);
    FILE *f = fopen(file, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);

    rs_strlist_t paths = {0};
    const char *config = NULL;
    if (sel & 1)
        config = file;
    else
        rs_strlist_add(&paths, dir);
    rs_resources_t res;
    memset(&res, 0, sizeof res);
    char err[512] = "";
    if (rs_resources_load(&res, &paths, config, "app", err, sizeof err) != 0) {
        FZ_CHECK(err[0] != '\0');
    } else {
        for (size_t i = 0; i < res.ncomponents; i++) FZ_CHECK(res.components[i].name && res.components[i].type);
        for (size_t i = 0; i < res.nsubscriptions; i++) FZ_CHECK(res.subscriptions[i].name);
        char rerr[512] = "";
        rs_resiliency_t *r = rs_resiliency_new(base, &res, "app", rerr, sizeof rerr);
        if (r)
            rs_resiliency_free(r);
        else
            FZ_CHECK(rerr[0] != '\0');
        rs_subscriptions_t subs = {0};
        rs_subscriptions_add_declarative(&subs, &res);
        rs_subscriptions_free(&subs);
        rs_resources_free(&res);
    }
    rs_strlist_free(&paths);
    return 0;
}

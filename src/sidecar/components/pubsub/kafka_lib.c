/* SPDX-License-Identifier: MIT */
/* librdkafka opened on first use (kafka_lib.h says why), as http/curl_client.c opens libcurl. */
#include "sidecar/components/pubsub/kafka_lib.h"

#include <dlfcn.h>
#include <stdio.h>

rs_rdkafka_t rs_rk;

int rs_rdkafka_load(char *err, size_t errlen) {
    static int state; /* 0 not tried, 1 loaded, -1 failed */
    static char why[256];
    if (!state) {
        state = -1;
        void *h = dlopen("librdkafka.so.1", RTLD_LAZY | RTLD_LOCAL); /* its tree bound lazily, as when linked */
        if (!h) snprintf(why, sizeof why, "pubsub.kafka needs librdkafka, which could not be loaded: %s", dlerror());
        struct {
            const char *name;
            void **slot;
        } syms[] = {
#define RS_RDKAFKA_SYM(f) {"rd_kafka_" #f, (void **)&rs_rk.f},
            RS_RDKAFKA_FUNCTIONS(RS_RDKAFKA_SYM)
#undef RS_RDKAFKA_SYM
        };
        size_t i = 0;
        for (; h && i < sizeof syms / sizeof syms[0]; i++) {
            *syms[i].slot = dlsym(h, syms[i].name); /* POSIX: a function pointer round-trips through void * */
            if (!*syms[i].slot) {
                snprintf(why, sizeof why, "librdkafka.so.1 has no %s", syms[i].name);
                break;
            }
        }
        if (h && i == sizeof syms / sizeof syms[0]) state = 1;
    }
    if (state < 0) snprintf(err, errlen, "%s", why);
    return state > 0 ? 0 : -1;
}

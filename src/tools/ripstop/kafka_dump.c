/* SPDX-License-Identifier: MIT */
/* `ripstop kafka-dump --brokers B --topic T`: prints every order published on a
 * topic (from the beginning up to the high watermark) as a JSON array, for
 * tests and for checking a run by hand. The reading is verdict_kafka.c's: its
 * consumer joins no group, so it cannot disturb the services' consumers. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/str.h"
#include "tools/ripstop/verdict_kafka.h"

int rs_cmd_kafka_dump(int argc, char **argv);

int rs_cmd_kafka_dump(int argc, char **argv) {
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"timeout-ms", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = getenv("RIPSTOP_KAFKA_BROKERS"), *topic = NULL;
    long long timeout = 15000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'w':
            if (rs_parse_int64(optarg, &timeout) || timeout < 1 || timeout > 600000) {
                fprintf(stderr, "ripstop kafka-dump: --timeout-ms wants 1..600000\n");
                return 2;
            }
            break;
        case 'h':
            printf("usage: ripstop kafka-dump --brokers HOST:PORT[,..] --topic NAME [--timeout-ms N]\n"
                   "Prints a JSON array of {orderId, customerId, orderTotal, partition, offset}, one per message.\n"
                   "--brokers defaults to $RIPSTOP_KAFKA_BROKERS.\n");
            return 0;
        default: return 2;
        }
    }
    if (!brokers || !*brokers || !topic || optind < argc) {
        fprintf(stderr, "usage: ripstop kafka-dump --brokers HOST:PORT[,..] --topic NAME [--timeout-ms N]\n");
        return 2;
    }
    char err[512];
    json_t *orders = rs_verdict_read_orders(brokers, topic, (int)timeout, err, sizeof err);
    if (!orders) {
        fprintf(stderr, "ripstop kafka-dump: %s\n", err);
        return 1;
    }
    json_dumpf(orders, stdout, JSON_INDENT(1));
    printf("\n");
    json_decref(orders);
    return 0;
}

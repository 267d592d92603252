/* SPDX-License-Identifier: MIT */
/* pubsub.kafka metadata (Dapr's names, spec §3.4) mapped to librdkafka
 * settings. Kept apart from the I/O so the mapping — notably SASL and TLS,
 * which the local mock cluster cannot exercise — is unit-tested on its own.
 * Private to the pubsub.kafka component. */
#ifndef RS_SIDECAR_PUBSUB_KAFKA_CONFIG_H
#define RS_SIDECAR_PUBSUB_KAFKA_CONFIG_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

typedef enum { RS_KAFKA_BACKOFF_CONSTANT = 0, RS_KAFKA_BACKOFF_EXPONENTIAL } rs_kafka_backoff_kind_t;

/** How a message the runtime failed to deliver (acked with success = 0) is retried by the component. */
typedef struct {
    int enabled;               /* consumeRetryEnabled, default true: redeliver; false: move on */
    rs_kafka_backoff_kind_t kind; /* backOffPolicy: constant (default) | exponential */
    int64_t duration_ms;       /* backOffDuration (constant), default 5s */
    int64_t initial_ms;        /* backOffInitialInterval (exponential), default 500ms */
    int64_t max_interval_ms;   /* backOffMaxInterval, default 60s */
    double multiplier;         /* backOffMultiplier, default 1.5 */
    long long max_retries;     /* backOffMaxRetries, default -1 = forever */
} rs_kafka_retry_t;

typedef struct {
    char *brokers;             /* bootstrap.servers */
    char *consumer_group;      /* consumerGroup > consumerID > app id */
    char *client_id;           /* clientID, default "sarama" as in Dapr's code */
    int initial_offset_oldest; /* initialOffset: newest (0, default) | oldest (1) */
    long long max_message_bytes; /* 0 = librdkafka's default */
    rs_kafka_retry_t retry;
    rs_kvlist_t common;        /* librdkafka settings for producer and consumer */
    rs_kvlist_t producer;      /* producer-only settings */
    rs_kvlist_t consumer;      /* consumer-only settings */
} rs_kafka_config_t;

/** Reads component metadata (names compared case-insensitively, like Dapr's decoder) into cfg.
 *  app_id supplies the consumer group default. Returns 0, or -1 with a reason (cfg is then freed). */
int rs_kafka_config_parse(const rs_kvlist_t *meta, const char *app_id, rs_kafka_config_t *cfg, char *err,
                          size_t errlen);
void rs_kafka_config_free(rs_kafka_config_t *cfg);

/** Applies every setting of `list` to conf. Returns 0, or -1 with librdkafka's reason. */
int rs_kafka_conf_apply(rd_kafka_conf_t *conf, const rs_kvlist_t *list, char *err, size_t errlen);

/** The delay before redelivery number `attempt` (1 = first redelivery) of a failed message. */
int64_t rs_kafka_retry_delay_ms(const rs_kafka_retry_t *r, int attempt);

#endif

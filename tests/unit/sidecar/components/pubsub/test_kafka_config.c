/* SPDX-License-Identifier: MIT */
/* pubsub.kafka metadata -> librdkafka settings. SASL and TLS cannot be tried
 * against the mock cluster (it speaks neither), so the mapping is pinned here,
 * and every produced setting is fed to rd_kafka_conf_set to prove librdkafka
 * accepts it. */
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include "sidecar/components/pubsub/kafka_config.h"
#include "sidecar/components/pubsub/kafka_lib.h"
#include "test.h"

static rs_kvlist_t meta(const char *const *kv) {
    rs_kvlist_t l = {0};
    for (; kv[0]; kv += 2) rs_kvlist_set(&l, kv[0], kv[1]);
    return l;
}

/* Parses, checks librdkafka accepts every setting, returns 0/-1 like the parser. */
static int parse(const char *const *kv, const char *app, rs_kafka_config_t *cfg, char *err) {
    rs_kvlist_t l = meta(kv);
    int rc = rs_kafka_config_parse(&l, app, cfg, err, 256);
    rs_kvlist_free(&l);
    if (rc == 0) {
        char e[256];
        if (rs_rdkafka_load(e, sizeof e)) {
            printf("  %s\n", e);
            return -2;
        }
        rd_kafka_conf_t *conf = rs_rk.conf_new();
        int ok = rs_kafka_conf_apply(conf, &cfg->common, e, sizeof e) == 0 &&
                 rs_kafka_conf_apply(conf, &cfg->producer, e, sizeof e) == 0 &&
                 rs_kafka_conf_apply(conf, &cfg->consumer, e, sizeof e) == 0;
        rs_rk.conf_destroy(conf);
        if (!ok) {
            printf("  librdkafka rejected a setting: %s\n", e);
            return -2;
        }
    }
    return rc;
}

TEST(defaults_follow_dapr_code) {
    static const char *const kv[] = {"brokers", " 127.0.0.1:9092, 127.0.0.1:9093 ", "authType", "none", NULL};
    rs_kafka_config_t cfg;
    char err[256];
    ASSERT_EQ(parse(kv, "order-processor", &cfg, err), 0);
    ASSERT_STREQ(cfg.brokers, "127.0.0.1:9092,127.0.0.1:9093");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "bootstrap.servers"), "127.0.0.1:9092,127.0.0.1:9093");
    ASSERT_STREQ(cfg.consumer_group, "order-processor");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "group.id"), "order-processor");
    ASSERT_STREQ(cfg.client_id, "sarama");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "security.protocol"), "ssl"); /* TLS unless disableTls */
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "auto.offset.reset"), "latest");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "enable.auto.offset.store"), "false");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "session.timeout.ms"), "10000");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "heartbeat.interval.ms"), "3000");
    ASSERT_STREQ(rs_kvlist_get(&cfg.producer, "acks"), "all");
    ASSERT_TRUE(rs_kvlist_get(&cfg.producer, "message.max.bytes") == NULL);
    ASSERT_TRUE(rs_kvlist_get(&cfg.common, "sasl.mechanism") == NULL);
    ASSERT_EQ(cfg.retry.enabled, 1);
    ASSERT_EQ(cfg.retry.max_retries, -1);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 1), 5000);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 50), 5000);
    rs_kafka_config_free(&cfg);
}

TEST(group_client_offset_size) {
    static const char *const kv[] = {"brokers", "b:1", "authType", "NONE", "disableTls", "true", "consumerID", "cid",
                                     "clientID", "audit", "initialOffset", "Oldest", "maxMessageBytes", "2097152",
                                     NULL};
    rs_kafka_config_t cfg;
    char err[256];
    ASSERT_EQ(parse(kv, "app", &cfg, err), 0);
    ASSERT_STREQ(cfg.consumer_group, "cid"); /* consumerID when no consumerGroup */
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "client.id"), "audit");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "security.protocol"), "plaintext");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "auto.offset.reset"), "earliest");
    ASSERT_STREQ(rs_kvlist_get(&cfg.producer, "message.max.bytes"), "2097152");
    ASSERT_STREQ(rs_kvlist_get(&cfg.consumer, "fetch.message.max.bytes"), "2097152");
    rs_kafka_config_free(&cfg);

    static const char *const kv2[] = {"brokers", "b:1", "authType", "none", "consumerGroup", "g", "consumerID", "cid",
                                      NULL};
    ASSERT_EQ(parse(kv2, "app", &cfg, err), 0);
    ASSERT_STREQ(cfg.consumer_group, "g"); /* consumerGroup wins */
    rs_kafka_config_free(&cfg);
}

TEST(sasl_plain_over_tls_and_plaintext) {
    static const char *const kv[] = {"brokers", "b:1", "authType", "password", "saslUsername", "alice",
                                     "saslPassword", "s3cret", NULL};
    rs_kafka_config_t cfg;
    char err[256];
    ASSERT_EQ(parse(kv, "app", &cfg, err), 0);
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "security.protocol"), "sasl_ssl");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "sasl.mechanism"), "PLAIN");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "sasl.username"), "alice");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "sasl.password"), "s3cret");
    rs_kafka_config_free(&cfg);

    static const char *const kv2[] = {"brokers", "b:1", "authType", "password", "saslUsername", "alice",
                                      "saslPassword", "s3cret", "disableTls", "true", NULL};
    ASSERT_EQ(parse(kv2, "app", &cfg, err), 0);
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "security.protocol"), "sasl_plaintext");
    rs_kafka_config_free(&cfg);
}

TEST(sasl_scram_mechanisms) {
    static const struct {
        const char *dapr, *rd;
    } cases[] = {{"SHA-256", "SCRAM-SHA-256"}, {"SHA-512", "SCRAM-SHA-512"}, {"scram-sha-512", "SCRAM-SHA-512"},
                 {"plain", "PLAIN"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const kv[] = {"brokers", "b:1", "authType", "password", "saslUsername", "u", "saslPassword", "p",
                                  "saslMechanism", cases[i].dapr, NULL};
        rs_kafka_config_t cfg;
        char err[256];
        ASSERT_EQ(parse(kv, "app", &cfg, err), 0);
        ASSERT_STREQ(rs_kvlist_get(&cfg.common, "sasl.mechanism"), cases[i].rd);
        rs_kafka_config_free(&cfg);
    }
}

TEST(tls_options) {
    static const char *const kv[] = {"brokers", "b:1", "authType", "none", "skipVerify", "true", NULL};
    rs_kafka_config_t cfg;
    char err[256];
    ASSERT_EQ(parse(kv, "app", &cfg, err), 0);
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "enable.ssl.certificate.verification"), "false");
    ASSERT_STREQ(rs_kvlist_get(&cfg.common, "ssl.endpoint.identification.algorithm"), "none");
    rs_kafka_config_free(&cfg);
}

TEST(retry_settings) {
    static const char *const kv[] = {"brokers", "b:1", "authType", "none", "backOffPolicy", "exponential",
                                     "backOffInitialInterval", "100ms", "backOffMaxInterval", "1s",
                                     "backOffMultiplier", "2", "backOffMaxRetries", "3", NULL};
    rs_kafka_config_t cfg;
    char err[256];
    ASSERT_EQ(parse(kv, "app", &cfg, err), 0);
    ASSERT_EQ(cfg.retry.max_retries, 3);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 1), 100);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 2), 200);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 3), 400);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 10), 1000); /* capped */
    rs_kafka_config_free(&cfg);

    static const char *const kv2[] = {"brokers", "b:1", "authType", "none", "consumeRetryEnabled", "false",
                                      "backOffDuration", "250", NULL};
    ASSERT_EQ(parse(kv2, "app", &cfg, err), 0);
    ASSERT_EQ(cfg.retry.enabled, 0);
    ASSERT_EQ(rs_kafka_retry_delay_ms(&cfg.retry, 1), 250); /* bare integer = milliseconds */
    rs_kafka_config_free(&cfg);
}

TEST(rejects_bad_metadata) {
    const char *const *bad[] = {
        (const char *const[]){"authType", "none", NULL},                                  /* no brokers */
        (const char *const[]){"brokers", "b:1", NULL},                                    /* no authType */
        (const char *const[]){"brokers", "b:1", "authType", "oidc", NULL},                /* unsupported */
        (const char *const[]){"brokers", "b:1", "authType", "password", "saslUsername", "u", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "password", "saslUsername", "u", "saslPassword", "p",
                              "saslMechanism", "GSSAPI", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "none", "initialOffset", "latest", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "none", "maxMessageBytes", "lots", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "none", "disableTls", "yes please", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "none", "backOffDuration", "5 s", NULL},
        (const char *const[]){"brokers", "b:1", "authType", "none", "backOffPolicy", "random", NULL},
    };
    static const char *const expect[] = {"brokers", "authType", "oidc", "saslPassword", "GSSAPI", "initialOffset",
                                         "maxMessageBytes", "disableTls", "backOffDuration", "backOffPolicy"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rs_kafka_config_t cfg;
        char err[256] = "";
        ASSERT_EQ(parse(bad[i], "app", &cfg, err), -1);
        if (!strstr(err, expect[i])) {
            TEST_FAIL_AT("case %zu: error '%s' does not mention %s", i, err, expect[i]);
            return;
        }
    }
}

int main(void) {
    RUN(defaults_follow_dapr_code);
    RUN(group_client_offset_size);
    RUN(sasl_plain_over_tls_and_plaintext);
    RUN(sasl_scram_mechanisms);
    RUN(tls_options);
    RUN(retry_settings);
    RUN(rejects_bad_metadata);
    return TEST_SUMMARY();
}

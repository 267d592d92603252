/* SPDX-License-Identifier: MIT */
/* Dapr pubsub.kafka metadata -> librdkafka settings. Defaults follow Dapr's
 * code (spec §3.4), not its docs: clientID "sarama", TLS on unless
 * disableTls, retry failed messages forever every 5s. */
#include "kafka_config.h"
#include "sidecar/components/pubsub/kafka_lib.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/duration.h"

static const char *meta(const rs_kvlist_t *m, const char *key) {
    const char *v = rs_kvlist_get_ci(m, key);
    return v && *v ? v : NULL;
}

/* Strips blanks around each comma-separated broker ("a:9092, b:9092" -> "a:9092,b:9092"). */
static char *clean_brokers(const char *s) {
    char *out = rs_xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) *o++ = *s;
    *o = 0;
    return out;
}

static int parse_bool_meta(const rs_kvlist_t *m, const char *key, int def, int *out, char *err, size_t errlen) {
    const char *v = meta(m, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (rs_parse_bool(v, out)) {
        snprintf(err, errlen, "kafka: %s: '%s' is not a boolean", key, v);
        return -1;
    }
    return 0;
}

static int parse_dur_meta(const rs_kvlist_t *m, const char *key, int64_t def, int64_t *out, char *err,
                          size_t errlen) {
    const char *v = meta(m, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (rs_duration_parse_ms_default(v, out) || *out < 0) {
        snprintf(err, errlen, "kafka: %s: '%s' is not a duration", key, v);
        return -1;
    }
    return 0;
}

static void set_ms(rs_kvlist_t *l, const char *key, int64_t ms) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)ms);
    rs_kvlist_set(l, key, buf);
}

/* SASL and TLS: authType none|password; the other Dapr auth types need certificates or token providers we
 * do not ship, so they are refused with a clear reason instead of silently connecting without auth. */
static int map_security(const rs_kvlist_t *m, rs_kafka_config_t *cfg, char *err, size_t errlen) {
    const char *auth = meta(m, "authType");
    int disable_tls, skip_verify;
    if (!auth) {
        snprintf(err, errlen, "kafka: missing 'authType' attribute (none or password)");
        return -1;
    }
    if (parse_bool_meta(m, "disableTls", 0, &disable_tls, err, errlen)) return -1;
    if (parse_bool_meta(m, "skipVerify", 0, &skip_verify, err, errlen)) return -1;
    if (strcasecmp(auth, "none") == 0) {
        rs_kvlist_set(&cfg->common, "security.protocol", disable_tls ? "plaintext" : "ssl");
    } else if (strcasecmp(auth, "password") == 0) {
        const char *user = meta(m, "saslUsername"), *pass = meta(m, "saslPassword");
        const char *mech = meta(m, "saslMechanism");
        if (!user || !pass) {
            snprintf(err, errlen, "kafka: authType password needs saslUsername and saslPassword");
            return -1;
        }
        const char *rdmech;
        if (!mech || strcasecmp(mech, "PLAIN") == 0) rdmech = "PLAIN";
        else if (strcasecmp(mech, "SHA-256") == 0 || strcasecmp(mech, "SCRAM-SHA-256") == 0) rdmech = "SCRAM-SHA-256";
        else if (strcasecmp(mech, "SHA-512") == 0 || strcasecmp(mech, "SCRAM-SHA-512") == 0) rdmech = "SCRAM-SHA-512";
        else {
            snprintf(err, errlen, "kafka: saslMechanism '%s' is not supported (PLAIN, SHA-256, SHA-512)", mech);
            return -1;
        }
        rs_kvlist_set(&cfg->common, "security.protocol", disable_tls ? "sasl_plaintext" : "sasl_ssl");
        rs_kvlist_set(&cfg->common, "sasl.mechanism", rdmech);
        rs_kvlist_set(&cfg->common, "sasl.username", user);
        rs_kvlist_set(&cfg->common, "sasl.password", pass);
    } else {
        snprintf(err, errlen, "kafka: authType '%s' is not supported by ripstopd (use none or password)", auth);
        return -1;
    }
    if (!disable_tls) {
        const char *ca = meta(m, "caCert");
        if (ca) rs_kvlist_set(&cfg->common, "ssl.ca.pem", ca);
        if (skip_verify) {
            rs_kvlist_set(&cfg->common, "enable.ssl.certificate.verification", "false");
            rs_kvlist_set(&cfg->common, "ssl.endpoint.identification.algorithm", "none");
        }
    }
    return 0;
}

static int map_retry(const rs_kvlist_t *m, rs_kafka_retry_t *r, char *err, size_t errlen) {
    if (parse_bool_meta(m, "consumeRetryEnabled", 1, &r->enabled, err, errlen)) return -1;
    const char *pol = meta(m, "backOffPolicy");
    if (!pol || strcasecmp(pol, "constant") == 0) r->kind = RS_KAFKA_BACKOFF_CONSTANT;
    else if (strcasecmp(pol, "exponential") == 0) r->kind = RS_KAFKA_BACKOFF_EXPONENTIAL;
    else {
        snprintf(err, errlen, "kafka: backOffPolicy '%s' is not constant or exponential", pol);
        return -1;
    }
    if (parse_dur_meta(m, "backOffDuration", 5000, &r->duration_ms, err, errlen)) return -1;
    if (parse_dur_meta(m, "backOffInitialInterval", 500, &r->initial_ms, err, errlen)) return -1;
    if (parse_dur_meta(m, "backOffMaxInterval", 60000, &r->max_interval_ms, err, errlen)) return -1;
    r->multiplier = 1.5;
    const char *mul = meta(m, "backOffMultiplier");
    if (mul) {
        char *end;
        r->multiplier = strtod(mul, &end);
        if (*end || !(r->multiplier >= 1.0 && r->multiplier <= 100.0)) {
            snprintf(err, errlen, "kafka: backOffMultiplier '%s' must be a number in 1..100", mul);
            return -1;
        }
    }
    r->max_retries = -1;
    const char *mr = meta(m, "backOffMaxRetries");
    if (mr && (rs_parse_int64(mr, &r->max_retries) || r->max_retries < -1)) {
        snprintf(err, errlen, "kafka: backOffMaxRetries '%s' must be an integer >= -1", mr);
        return -1;
    }
    return 0;
}

int rs_kafka_config_parse(const rs_kvlist_t *m, const char *app_id, rs_kafka_config_t *cfg, char *err,
                          size_t errlen) {
    memset(cfg, 0, sizeof *cfg);
    const char *brokers = meta(m, "brokers");
    if (!brokers) {
        snprintf(err, errlen, "kafka: missing 'brokers' attribute");
        return -1;
    }
    cfg->brokers = clean_brokers(brokers);
    const char *group = meta(m, "consumerGroup");
    if (!group) group = meta(m, "consumerID");
    if (!group) group = app_id && *app_id ? app_id : NULL;
    cfg->consumer_group = group ? rs_strdup(group) : NULL;
    const char *cid = meta(m, "clientID");
    cfg->client_id = rs_strdup(cid ? cid : "sarama");

    const char *off = meta(m, "initialOffset");
    if (!off || strcasecmp(off, "newest") == 0) cfg->initial_offset_oldest = 0;
    else if (strcasecmp(off, "oldest") == 0) cfg->initial_offset_oldest = 1;
    else {
        snprintf(err, errlen, "kafka: initialOffset '%s' must be newest or oldest", off);
        goto fail;
    }
    const char *mmb = meta(m, "maxMessageBytes");
    if (mmb && (rs_parse_int64(mmb, &cfg->max_message_bytes) || cfg->max_message_bytes < 1000 ||
                cfg->max_message_bytes > 1000000000)) {
        snprintf(err, errlen, "kafka: maxMessageBytes '%s' must be an integer in 1000..1000000000", mmb);
        goto fail;
    }
    if (map_security(m, cfg, err, errlen)) goto fail;
    if (map_retry(m, &cfg->retry, err, errlen)) goto fail;

    rs_kvlist_set(&cfg->common, "bootstrap.servers", cfg->brokers);
    rs_kvlist_set(&cfg->common, "client.id", cfg->client_id);

    /* Producer: sarama's defaults (acks=all, 5 retries); a message that cannot be delivered fails after 10s
     * (sarama gives up after its retries rather than queueing for minutes). */
    const char *acks = meta(m, "producerRequiredAcks");
    rs_kvlist_set(&cfg->producer, "acks", acks ? acks : "all");
    if (acks && strcasecmp(acks, "all") && strcmp(acks, "-1") && strcmp(acks, "0") && strcmp(acks, "1")) {
        snprintf(err, errlen, "kafka: producerRequiredAcks '%s' must be all, 0 or 1", acks);
        goto fail;
    }
    const char *retries = meta(m, "producerRetryMax");
    rs_kvlist_set(&cfg->producer, "message.send.max.retries", retries ? retries : "5");
    rs_kvlist_set(&cfg->producer, "message.timeout.ms", "10000");
    rs_kvlist_set(&cfg->producer, "linger.ms", "1");
    const char *comp = meta(m, "compression");
    if (comp) rs_kvlist_set(&cfg->producer, "compression.codec", comp);
    if (cfg->max_message_bytes) set_ms(&cfg->producer, "message.max.bytes", cfg->max_message_bytes);

    /* Consumer: offsets are stored by us only after the app accepted a message (and everything before it in
     * the partition); librdkafka auto-commits stored offsets every second, like sarama's auto-commit. */
    if (cfg->consumer_group) rs_kvlist_set(&cfg->consumer, "group.id", cfg->consumer_group);
    rs_kvlist_set(&cfg->consumer, "auto.offset.reset", cfg->initial_offset_oldest ? "earliest" : "latest");
    rs_kvlist_set(&cfg->consumer, "enable.auto.commit", "true");
    rs_kvlist_set(&cfg->consumer, "enable.auto.offset.store", "false");
    rs_kvlist_set(&cfg->consumer, "auto.commit.interval.ms", "1000");
    rs_kvlist_set(&cfg->consumer, "allow.auto.create.topics", "true");
    int64_t hb, st;
    if (parse_dur_meta(m, "heartbeatInterval", 3000, &hb, err, errlen)) goto fail;
    if (parse_dur_meta(m, "sessionTimeout", 10000, &st, err, errlen)) goto fail;
    set_ms(&cfg->consumer, "heartbeat.interval.ms", hb);
    set_ms(&cfg->consumer, "session.timeout.ms", st);
    if (cfg->max_message_bytes && cfg->max_message_bytes > 1048576)
        set_ms(&cfg->consumer, "fetch.message.max.bytes", cfg->max_message_bytes);
    return 0;
fail:
    rs_kafka_config_free(cfg);
    return -1;
}

void rs_kafka_config_free(rs_kafka_config_t *cfg) {
    free(cfg->brokers);
    free(cfg->consumer_group);
    free(cfg->client_id);
    rs_kvlist_free(&cfg->common);
    rs_kvlist_free(&cfg->producer);
    rs_kvlist_free(&cfg->consumer);
    memset(cfg, 0, sizeof *cfg);
}

int rs_kafka_conf_apply(rd_kafka_conf_t *conf, const rs_kvlist_t *list, char *err, size_t errlen) {
    for (size_t i = 0; i < list->len; i++) {
        char e[256];
        if (rs_rk.conf_set(conf, list->items[i].key, list->items[i].value, e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka: %s: %s", list->items[i].key, e);
            return -1;
        }
    }
    return 0;
}

int64_t rs_kafka_retry_delay_ms(const rs_kafka_retry_t *r, int attempt) {
    if (r->kind == RS_KAFKA_BACKOFF_CONSTANT) return r->duration_ms;
    double d = (double)r->initial_ms * pow(r->multiplier, attempt > 1 ? attempt - 1 : 0);
    if (d > (double)r->max_interval_ms) d = (double)r->max_interval_ms;
    return (int64_t)d;
}

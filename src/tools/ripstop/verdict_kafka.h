/* SPDX-License-Identifier: MIT */
/* Reads back the orders that really were published: every message of a
 * Kafka topic from the beginning, with a consumer of our own that joins no
 * group and commits nothing (so it cannot disturb the audit service's group). */
#ifndef RS_TOOLS_VERDICT_KAFKA_H
#define RS_TOOLS_VERDICT_KAFKA_H

#include <jansson.h>
#include <stddef.h>

/** How to reach a Kafka cluster: a broker list, optionally SASL/PLAIN and/or TLS. */
typedef struct {
    const char *brokers;       /**< "host:port[,host:port...]" */
    const char *sasl_user;     /**< SASL/PLAIN user; NULL: no SASL */
    const char *sasl_password; /**< with sasl_user */
    int tls;                   /**< 1: TLS to the brokers (SASL_SSL with a user, else SSL) */
    const char *ca_file;       /**< PEM bundle to verify the brokers with; NULL: the system's CAs */
} rs_verdict_kafka_t;

/** Same as rs_verdict_read_orders() on the cluster `k` (SASL/PLAIN, TLS as set there). Errors name the
 *  broker list. */
json_t *rs_verdict_read_orders_from(const rs_verdict_kafka_t *k, const char *topic, int timeout_ms, char *err,
                                    size_t errlen);

/** Reads `topic` on `brokers` up to each partition's high watermark, blocking for at most timeout_ms.
 *  Returns a JSON array (new reference) of {orderId, customerId, orderTotal, partition, offset}, one per
 *  message (duplicates kept; a message that is not an order JSON or a CloudEvent of one gets only
 *  partition/offset and "raw"). NULL with err on failure (brokers unreachable, timeout). */
json_t *rs_verdict_read_orders(const char *brokers, const char *topic, int timeout_ms, char *err, size_t errlen);

/** Extracts {orderId, customerId, orderTotal} from one message value (an order, or a CloudEvent whose
 *  data is the order, as JSON or as a JSON string). New reference, or NULL when it is neither. */
json_t *rs_verdict_parse_order(const char *value, size_t len);

#endif

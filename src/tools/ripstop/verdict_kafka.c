/* SPDX-License-Identifier: MIT */
/* Manual partition assignment (no group join, so no rebalance wait) from
 * OFFSET_BEGINNING, reading until every partition reaches the high watermark
 * queried at the start. */
#include "tools/ripstop/verdict_kafka.h"

#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/str.h"

json_t *rs_verdict_parse_order(const char *value, size_t len) {
    json_t *v = json_loadb(value, len, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    json_t *order = v;
    json_t *data = json_object_get(v, "data");
    if (json_is_object(data)) order = data;
    json_t *parsed = NULL;
    if (json_is_string(data)) {
        parsed = json_loads(json_string_value(data), 0, NULL);
        if (json_is_object(parsed)) order = parsed;
    }
    json_t *cid = json_object_get(order, "customerId"), *tot = json_object_get(order, "orderTotal"),
           *oid = json_object_get(order, "orderId");
    json_t *out = NULL;
    long long id = 0;
    double total = 0; /* a total that is not a number counts as 0 */
    if (json_is_number(tot)) total = json_number_value(tot);
    else if (json_is_string(tot) && rs_parse_double(json_string_value(tot), &total)) total = 0;
    if (json_is_integer(cid) || (json_is_string(cid) && rs_parse_int64(json_string_value(cid), &id) == 0) ||
        (json_is_real(cid) && fabs(json_real_value(cid)) < 1e18)) {
        if (json_is_integer(cid)) id = json_integer_value(cid);
        else if (json_is_real(cid)) id = (long long)json_real_value(cid);
        out = json_object();
        json_object_set_new(out, "customerId", json_integer(id));
        json_object_set_new(out, "orderTotal", json_real(total));
        if (json_is_string(oid)) json_object_set(out, "orderId", oid);
        else if (json_is_integer(oid)) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(oid));
            json_object_set_new(out, "orderId", json_string(b));
        }
    }
    json_decref(parsed);
    json_decref(v);
    return out;
}

json_t *rs_verdict_read_orders(const char *brokers, const char *topic, int timeout_ms, char *err, size_t errlen) {
    rs_verdict_kafka_t k = {.brokers = brokers};
    return rs_verdict_read_orders_from(&k, topic, timeout_ms, err, errlen);
}

/* The client settings for k: librdkafka's security.protocol is the product of SASL and TLS. */
static int security_conf(rd_kafka_conf_t *conf, const rs_verdict_kafka_t *k, char *errstr, size_t len) {
    const char *proto = k->sasl_user ? (k->tls ? "SASL_SSL" : "SASL_PLAINTEXT") : (k->tls ? "SSL" : "PLAINTEXT");
    if (rd_kafka_conf_set(conf, "security.protocol", proto, errstr, len) != RD_KAFKA_CONF_OK) return -1;
    if (k->sasl_user && (rd_kafka_conf_set(conf, "sasl.mechanisms", "PLAIN", errstr, len) != RD_KAFKA_CONF_OK ||
                         rd_kafka_conf_set(conf, "sasl.username", k->sasl_user, errstr, len) != RD_KAFKA_CONF_OK ||
                         rd_kafka_conf_set(conf, "sasl.password", k->sasl_password ? k->sasl_password : "", errstr,
                                           len) != RD_KAFKA_CONF_OK))
        return -1;
    if (k->tls && k->ca_file && rd_kafka_conf_set(conf, "ssl.ca.location", k->ca_file, errstr, len) != RD_KAFKA_CONF_OK)
        return -1;
    return 0;
}

/* A consumer of its own group (nothing committed) for k's brokers and security settings, or NULL with a reason. */
static rd_kafka_t *new_consumer(const rs_verdict_kafka_t *k, char *err, size_t errlen) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[96];
    snprintf(group, sizeof group, "ripstop-verdict-%d-%lld", (int)getpid(), (long long)rs_wall_ms());
    if (rd_kafka_conf_set(conf, "bootstrap.servers", k->brokers, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        security_conf(conf, k, errstr, sizeof errstr) != 0) {
        snprintf(err, errlen, "kafka config for %s: %s", k->brokers, errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        snprintf(err, errlen, "kafka consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* One message as an order object with its partition and offset (a payload that is no order is kept as "raw"). */
static json_t *order_of(const rd_kafka_message_t *m) {
    json_t *o = rs_verdict_parse_order(m->payload, m->len);
    if (!o) {
        o = json_object();
        json_object_set_new(o, "raw", json_stringn_nocheck(m->payload ? (const char *)m->payload : "",
                                                            m->len > 200 ? 200 : m->len));
    }
    json_object_set_new(o, "partition", json_integer(m->partition));
    json_object_set_new(o, "offset", json_integer(m->offset));
    return o;
}

json_t *rs_verdict_read_orders_from(const rs_verdict_kafka_t *k, const char *topic, int timeout_ms, char *err,
                                    size_t errlen) {
    const char *brokers = k->brokers;
    rd_kafka_t *rk = new_consumer(k, err, errlen);
    if (!rk) return NULL;
    int64_t deadline = rs_now_ms() + timeout_ms;
    json_t *out = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *hi = NULL, *pos = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e || !md || md->topic_cnt != 1 || md->topics[0].err) {
        snprintf(err, errlen, "kafka metadata for topic '%s' on %s: %s", topic, brokers,
                 rd_kafka_err2str(e ? e : md && md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto done;
    }
    int np = md->topics[0].partition_cnt;
    parts = rd_kafka_topic_partition_list_new(np);
    hi = rs_xcalloc((size_t)np + 1, sizeof *hi);
    pos = rs_xcalloc((size_t)np + 1, sizeof *pos);
    int remaining = 0;
    for (int p = 0; p < np; p++) {
        int32_t pid = md->topics[0].partitions[p].id;
        int64_t lo = 0, h = 0;
        int left = (int)(deadline - rs_now_ms());
        e = rd_kafka_query_watermark_offsets(rk, topic, pid, &lo, &h, left > 0 ? left : 1);
        if (e) {
            snprintf(err, errlen, "kafka watermarks of %s[%d] on %s: %s", topic, pid, brokers, rd_kafka_err2str(e));
            goto done;
        }
        hi[p] = h;
        pos[p] = lo;
        if (h > lo) {
            rd_kafka_topic_partition_list_add(parts, topic, pid)->offset = RD_KAFKA_OFFSET_BEGINNING;
            remaining++;
        }
    }
    out = json_array();
    if (remaining == 0) goto done;
    if ((e = rd_kafka_assign(rk, parts)) != 0) {
        snprintf(err, errlen, "kafka assign: %s", rd_kafka_err2str(e));
        json_decref(out);
        out = NULL;
        goto done;
    }
    while (remaining > 0) {
        int left = (int)(deadline - rs_now_ms());
        if (left <= 0) {
            snprintf(err, errlen, "timed out reading topic '%s' on %s (%zu messages read)", topic, brokers,
                     json_array_size(out));
            json_decref(out);
            out = NULL;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, left < 200 ? left : 200);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "ripstop: reading topic %s: %s\n", topic, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        int idx = -1;
        for (int p = 0; p < np; p++)
            if (md->topics[0].partitions[p].id == m->partition) idx = p;
        if (idx >= 0 && m->offset < hi[idx]) {
            json_array_append_new(out, order_of(m));
            if (m->offset + 1 >= hi[idx] && pos[idx] < hi[idx]) {
                pos[idx] = hi[idx];
                remaining--;
            }
        }
        rd_kafka_message_destroy(m);
    }
done:
    if (md) rd_kafka_metadata_destroy(md);
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    free(hi);
    free(pos);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

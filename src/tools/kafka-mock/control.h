/* SPDX-License-Identifier: MIT */
/* kafka-mock's loopback HTTP control API (documented in docs/kafka-mock.md):
 *
 *   GET    /healthz                         200 {"status":"ok"}
 *   GET    /state                           brokers, latencies, topics
 *   PUT    /brokers/{id|all}/latency        {"latency_ms":600,"jitter_ms":200}
 *   POST   /brokers/{id|all}/down | /up
 *   POST   /errors                          {"api":"Produce","errors":["REQUEST_TIMED_OUT",...]}
 *                                           or {"api":"Produce","error":"...","count":N}
 *   DELETE /errors/{api}
 *   POST   /topics                          {"name":"orders","partitions":3}
 *
 * Bad input gets a 4xx with {"errorCode","message"}. */
#ifndef RS_TOOLS_KAFKA_MOCK_CONTROL_H
#define RS_TOOLS_KAFKA_MOCK_CONTROL_H

#include "cluster.h"
#include "http/server.h"

/** Adds the control routes to server s, operating on m (which must outlive s). */
void rs_kmock_control_attach(rs_http_server_t *s, rs_kmock_t *m);

#endif

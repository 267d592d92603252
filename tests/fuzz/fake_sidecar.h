/* For the fuzz targets that drive ripstopd's servers over real sockets (fuzz_http_api.c, fuzz_grpc_*.c):
 * a sidecar runtime built by hand, as tests/unit/sidecar/api/test_state_api.c does, whose components are
 * in-memory fakes that answer at once (a state store, pub/sub, lock store, output binding and secret store, all
 * named after their kind), with the whole HTTP API and the gRPC API registered, and an "app" on the same loop
 * (an HTTP server answering 200 with the path) so that service invocation runs end to end.
 *
 * fs_exchange() sends one input on a new connection (a socketpair handed to the server), half-closes it, and
 * runs the loop until the server closes the connection, collecting what it wrote. The fakes and servers are the real code paths a client reaches;
 * nothing here parses requests. */
#ifndef RS_FUZZ_FAKE_SIDECAR_H
#define RS_FUZZ_FAKE_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/** Builds the runtime and starts its servers (once, from LLVMFuzzerInitialize). */
void fs_init(void);
typedef enum { FS_HTTP_API, FS_GRPC_API } fs_api_t;
/** Opens a connection to the HTTP or the gRPC API (a socketpair whose server end goes through the server's own
 *  connection set-up, as if its listener had accepted it from 127.0.0.1), sends data, half-closes it and runs the
 *  loop until the server closes it (at most `max_rounds` loop rounds: a server that keeps a half-closed
 *  connection with nothing pending is a finding). The server's bytes (up to `cap`) are left in out (rs_buf_free
 *  it); with RS_FUZZ_VERBOSE set in the environment they are also printed to stderr. Returns 1 if the server
 *  closed. */
int fs_exchange(fs_api_t api, const uint8_t *data, size_t size, rs_buf_t *out, size_t cap, int max_rounds);

#endif

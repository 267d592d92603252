/* The gRPC server's HTTP/2 input (sidecar/grpc/server.c over nghttp2): any frames after the client connection
 * preface, over a socket, into the Dapr service with the in-memory components of fake_sidecar.h.
 * Seeds are valid calls of every method (written by fuzz_grpc_methods, see there). Invariant: the server closes
 * the half-closed connection, so no frame sequence keeps it (or a call) alive. */
#include "fake_sidecar.h"
#include "fuzz.h"
#include <nghttp2/nghttp2.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fs_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(NGHTTP2_CLIENT_MAGIC_LEN + size);
    memcpy(in, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN);
    if (size) memcpy(in + NGHTTP2_CLIENT_MAGIC_LEN, data, size);
    rs_buf_t out;
    int closed = fs_exchange(FS_GRPC_API, in, NGHTTP2_CLIENT_MAGIC_LEN + size, &out, 8 << 20, 100000);
    FZ_CHECK(closed);
    rs_buf_free(&out);
    free(in);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* A small-block allocator for nghttp2 sessions (nghttp2_mem).
 *
 * nghttp2 allocates and frees a handful of small objects for every stream
 * (the stream, its outbound frames, copies of header lists); on a unary gRPC
 * call these cost about as much as the call's own work in malloc/free. A pool
 * keeps freed blocks in per-size free lists (64 bytes to 16 KiB) and hands
 * them out again; bigger blocks go straight to malloc. At most
 * RS_H2_POOL_KEEP blocks per size up to 2 KiB and 8 of each larger size are
 * kept, so an idle pool holds a bounded amount of memory (under 1 MiB). (nghttp2
 * takes two blocks over 2 KiB per stream: from malloc, blocks that size make
 * glibc consolidate its free chunks on every call.)
 *
 * One pool serves every session of one event loop (it is not thread-safe). It
 * must outlive the sessions that use it and the header buffers (rcbufs) they
 * handed out. */
#ifndef RS_HTTP_H2_POOL_H
#define RS_HTTP_H2_POOL_H

#include <nghttp2/nghttp2.h>

/** Blocks kept per size class. */
#define RS_H2_POOL_KEEP 64

typedef struct rs_h2_pool rs_h2_pool_t;

rs_h2_pool_t *rs_h2_pool_new(void);
/** Frees the kept blocks and the pool. NULL is ignored. */
void rs_h2_pool_free(rs_h2_pool_t *p);
/** The nghttp2_mem to pass to nghttp2_session_*_new3 (valid while the pool lives). */
nghttp2_mem *rs_h2_pool_mem(rs_h2_pool_t *p);

#endif

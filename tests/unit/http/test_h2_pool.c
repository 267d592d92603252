/* SPDX-License-Identifier: MIT */
/* The nghttp2 block pool: blocks of every size usable and reused, realloc keeping the contents, calloc zeroed,
 * and a real nghttp2 session running on it (a client and a server session exchanging a request). */
#include <string.h>

#include "http/h2_pool.h"
#include "test.h"

TEST(blocks_are_reused_and_keep_contents) {
    rs_h2_pool_t *p = rs_h2_pool_new();
    nghttp2_mem *m = rs_h2_pool_mem(p);
    void *a = m->malloc(100, m->mem_user_data);
    ASSERT_TRUE(a != NULL);
    memset(a, 'a', 100);
    m->free(a, m->mem_user_data);
    void *b = m->malloc(90, m->mem_user_data); /* the same size class: the same block again */
    ASSERT_TRUE(a == b);
    memset(b, 'b', 90);
    char *c = m->realloc(b, 5000, m->mem_user_data); /* to a big block: contents kept */
    ASSERT_TRUE(c != NULL);
    ASSERT_EQ(c[0], 'b');
    ASSERT_EQ(c[89], 'b');
    memset(c, 'c', 5000);
    c = m->realloc(c, 100000, m->mem_user_data);
    ASSERT_EQ(c[4999], 'c');
    m->free(c, m->mem_user_data);
    unsigned char *z = m->calloc(10, 30, m->mem_user_data);
    for (int i = 0; i < 300; i++) ASSERT_EQ(z[i], 0);
    m->free(z, m->mem_user_data);
    m->free(NULL, m->mem_user_data);
    /* more frees than the pool keeps: the rest go back to malloc (ASan would see a leak or a double free) */
    void *many[3 * RS_H2_POOL_KEEP];
    for (int i = 0; i < 3 * RS_H2_POOL_KEEP; i++) many[i] = m->malloc(200, m->mem_user_data);
    for (int i = 0; i < 3 * RS_H2_POOL_KEEP; i++) m->free(many[i], m->mem_user_data);
    rs_h2_pool_free(p);
    rs_h2_pool_free(NULL);
}

static ssize_t pipe_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user) {
    (void)s, (void)flags;
    nghttp2_session *peer = *(nghttp2_session **)user;
    return nghttp2_session_mem_recv(peer, data, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : (ssize_t)len;
}

static int got_request;
static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user) {
    (void)s, (void)user;
    if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) got_request++;
    return 0;
}

TEST(sessions_run_on_the_pool) {
    rs_h2_pool_t *p = rs_h2_pool_new();
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, pipe_send);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session *client = NULL, *server = NULL;
    ASSERT_EQ(nghttp2_session_client_new3(&client, cb, &server, NULL, rs_h2_pool_mem(p)), 0);
    ASSERT_EQ(nghttp2_session_server_new3(&server, cb, &client, NULL, rs_h2_pool_mem(p)), 0);
    nghttp2_session_callbacks_del(cb);
    ASSERT_EQ(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
    ASSERT_EQ(nghttp2_submit_settings(server, NGHTTP2_FLAG_NONE, NULL, 0), 0);
    for (int i = 0; i < 50; i++) {
        nghttp2_nv nv[] = {{(uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0},
                           {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
                           {(uint8_t *)":path", (uint8_t *)"/x", 5, 2, 0},
                           {(uint8_t *)":authority", (uint8_t *)"a", 10, 1, 0}};
        ASSERT_TRUE(nghttp2_submit_request(client, NULL, nv, 4, NULL, NULL) > 0);
        ASSERT_EQ(nghttp2_session_send(client), 0);
        ASSERT_EQ(nghttp2_session_send(server), 0);
    }
    ASSERT_EQ(got_request, 50);
    nghttp2_session_del(client);
    nghttp2_session_del(server);
    rs_h2_pool_free(p);
}

int main(void) {
    RUN(blocks_are_reused_and_keep_contents);
    RUN(sessions_run_on_the_pool);
    return TEST_SUMMARY();
}

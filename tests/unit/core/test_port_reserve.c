/* SPDX-License-Identifier: MIT */
/* core/port_reserve.h: ports outside the kernel's ephemeral range, distinct, bindable, and
 * held against another process until this one exits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/port_reserve.h"
#include "test.h"

enum { N = 40 };
static int ports[N];

static int bind_ok(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    int ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

TEST(reserved_ports_are_distinct_bindable_and_not_ephemeral) {
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        ASSERT_EQ(fscanf(f, "%d %d", &lo, &hi), 2);
        fclose(f);
    }
    for (int i = 0; i < N; i++) {
        ports[i] = rs_port_reserve();
        ASSERT_TRUE(ports[i] > 0);
        ASSERT_TRUE(ports[i] < lo || ports[i] > hi);
        ASSERT_TRUE(bind_ok(ports[i]));
        for (int j = 0; j < i; j++) ASSERT_TRUE(ports[j] != ports[i]);
    }
}

/* A second process searching the same range never gets a port this one holds, even when it
 * looks exactly where this one did. */
TEST(another_process_never_gets_a_held_port) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        int clash = 0;
        for (int i = 0; i < 200; i++) {
            int p = rs_port_reserve();
            for (int j = 0; j < N; j++) clash |= p == ports[j] || p == 0;
        }
        _exit(write(fds[1], &clash, sizeof clash) == sizeof clash ? 0 : 1);
    }
    close(fds[1]);
    int clash = -1;
    ASSERT_EQ(read(fds[0], &clash, sizeof clash), (long long)sizeof clash);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(clash, 0);
}

int main(void) {
    RUN(reserved_ports_are_distinct_bindable_and_not_ephemeral);
    RUN(another_process_never_gets_a_held_port);
    return TEST_SUMMARY();
}

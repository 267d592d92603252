/* SPDX-License-Identifier: MIT */
/* The baseline of bench_startup.py: the least a program can do to be "healthy" — listen on 127.0.0.1:PORT and
 * answer every connection "204 No Content". Starting it costs what starting any dynamically linked C program
 * costs on this machine (fork, exec, the loader, libc, a socket), so ripstopd's start-to-healthy minus this one's
 * is ripstopd's own start-up. Usage: bench_listener PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc == 2 ? atoi(argv[1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: bench_listener PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) {
        perror("bench_listener");
        return 1;
    }
    static const char reply[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        char buf[1024];
        if (read(c, buf, sizeof buf) > 0 && write(c, reply, sizeof reply - 1) < 0) perror("bench_listener: write");
        close(c);
    }
}

#include "core/port_reserve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Ports below this are left alone: well-known and commonly configured services live there. */
enum { LOWEST_PORT = 10000, HIGHEST_PORT = 65535 };

/* The candidate range [*lo, *hi]: the larger side of the ephemeral range. 0 when none fits. */
static int candidate_range(int *lo, int *hi) {
    int eph_lo = 32768, eph_hi = 60999; /* Linux's default, if /proc cannot be read */
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f) {
        int a, b;
        if (fscanf(f, "%d %d", &a, &b) == 2 && a > 0 && b >= a && b <= HIGHEST_PORT) eph_lo = a, eph_hi = b;
        fclose(f);
    }
    int below = eph_lo - 1 - LOWEST_PORT, above = HIGHEST_PORT - (eph_hi + 1);
    if (below >= above && below > 100) return *lo = LOWEST_PORT, *hi = eph_lo - 1, 1;
    if (above > 100) return *lo = eph_hi + 1, *hi = HIGHEST_PORT, 1;
    return 0;
}

/* Whether a listener could bind 127.0.0.1:port now (no SO_REUSEADDR: a port still in
 * TIME_WAIT is skipped too, so any server binds it whatever its socket options). */
static int bindable(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    int ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* Takes the machine-wide lock for port; the descriptor stays open (and so the lock held)
 * until this process exits. A lock file that cannot be made at all does not stop the
 * reservation: the bind check alone is then the guard. */
static int lock_port(const char *dir, int port) {
    char path[96];
    snprintf(path, sizeof path, "%s/%d.lock", dir, port);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EACCES || errno == ENOENT ? 1 : 0;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return 0;
    }
    return 1; /* fd deliberately kept: the lock is the reservation */
}

int rs_port_reserve(void) {
    static unsigned next; /* where this process's next search starts */
    int lo, hi;
    if (!candidate_range(&lo, &hi)) return 0;
    char dir[64];
    snprintf(dir, sizeof dir, RS_PORT_LOCK_DIR_FMT, (unsigned)getuid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) dir[0] = 0;
    unsigned span = (unsigned)(hi - lo + 1);
    if (!next) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        next = (unsigned)getpid() * 7919u + (unsigned)ts.tv_nsec;
    }
    for (unsigned tries = 0; tries < span && tries < 4096; tries++) {
        int port = lo + (int)(next++ % span);
        if (!bindable(port)) continue;
        if (dir[0] && !lock_port(dir, port)) continue;
        /* Checked again under the lock: another process may have bound it in between. */
        if (!bindable(port)) continue;
        return port;
    }
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* The process_* families daprd gets from Prometheus' Go process collector, computed
 * when /metrics is scraped from /proc/self (stat, limits, fd/), so nothing is kept
 * or updated between scrapes. Names, types and units are the collector's. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sidecar/metrics/metrics.h"

/* The fields of /proc/self/stat after the command name: utime(14), stime(15), starttime(22), vsize(23), rss(24). */
static int read_stat(double *cpu_s, double *start_ticks, double *vsize, double *rss_pages) {
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    char line[1024];
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    char *p = ok ? strrchr(line, ')') : NULL; /* the command name may hold spaces and ')' */
    if (!p) return -1;
    unsigned long long utime, stime, start, vs;
    long long rss;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime cutime
     * cstime priority nice threads itrealvalue starttime(22) vsize rss */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
               &utime, &stime, &start, &vs, &rss) != 5)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(utime + stime) / hz;
    *start_ticks = (double)start / hz;
    *vsize = (double)vs;
    *rss_pages = (double)rss;
    return 0;
}

/* Seconds since the epoch at boot, from /proc/stat's btime. */
static double boot_time(void) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[256];
    double bt = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lf", &bt) == 1) break;
    fclose(f);
    return bt;
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* not the descriptor opendir itself holds */
}

static void family(rs_buf_t *b, const char *name, const char *type, const char *help, double v) {
    rs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void rs_metrics_render_process(rs_buf_t *b) {
    double cpu, start, vsize, rss;
    if (read_stat(&cpu, &start, &vsize, &rss) == 0) {
        family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
        family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
               rss * (double)sysconf(_SC_PAGESIZE));
        family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
        family(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
               boot_time() + start);
    }
    int fds = open_fds();
    if (fds >= 0) family(b, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.", (double)rl.rlim_cur);
}

/* SPDX-License-Identifier: MIT */
/* `ripstop matrix`: scenarios × seeds, one `ripstop demo` after the other.
 *
 * Each run is a fresh child process (`ripstop demo --scenario S --seed N`), so
 * each starts clean: its own Redis, Azurite, kafka-mock and order system on
 * new ports, stopped before the next one starts. Seeds are distinct across the
 * whole matrix (base, base+1, ...). Rounds go over the whole library before
 * the next seed, so a matrix cut short still covers every scenario. Afterwards
 * DIR/summary.json, DIR/summary.md and DIR/index.html (links to every run's
 * report) hold the table. Exit 0 only when every run's verdict holds. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fs.h"
#include "core/str.h"
#include "tools/ripstop/procs.h"
#include "tools/ripstop/runfile.h"
#include "tools/ripstop/scenario.h"
#include "tools/ripstop/scenario_check.h"

int rs_cmd_matrix(int argc, char **argv);

#define MAX_SCENARIOS 32

/* The two scenarios of --ci: an infrastructure restart, and pauses plus every kind of network fault. */
static const char *const ci_scenarios[] = {"redis-restart.yaml", "pause-and-network.yaml"};

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *o) {
    fprintf(o, "usage: ripstop matrix [--rounds N | --runs N] [--seed-base N] [--quick] [--ci] [--out DIR] [SCENARIO.yaml...]\n"
               "  Runs every scenario (default: deploy/local/scenarios/*.yaml) once per round, each with its own\n"
               "  seed (seed-base, seed-base+1, ...) and from a clean start, then writes DIR/summary.md,\n"
               "  DIR/summary.json and DIR/index.html with links to each run's report. Exit 0 only when every\n"
               "  verdict holds. --runs N: N runs in all, going round the library. --ci: the quick versions of\n"
               "  two scenarios, one seed each. See docs/demo.md.\n");
}

/* Runs one `ripstop demo` child with its output in dir/demo.log; returns its exit status (or 128+signal). */
static int run_demo(const char *scenario, long long seed, int quick, const char *dir) {
    char log[PATH_MAX], seed_s[32];
    snprintf(log, sizeof log, "%s/demo.log", dir);
    snprintf(seed_s, sizeof seed_s, "%lld", seed);
    pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        const char *argv[] = {"ripstop", "demo", "--scenario", scenario, "--seed", seed_s, "--out", dir,
                              quick ? "--quick" : NULL, NULL};
        execv("/proc/self/exe", (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return 127;
        if (g_stop) kill(pid, SIGINT); /* the demo stops what it started, then exits */
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One row of the table, from the run's verdict.json. */
static json_t *row_from_verdict(const char *name, long long seed, const char *dir, int rc, double secs) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    json_t *v = json_load_file(path, 0, NULL);
    json_t *lock = json_object_get(json_object_get(v, "loyalty"), "lock");
    json_t *nolock = json_object_get(json_object_get(v, "loyalty"), "nolock");
    json_t *failed = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "checks"), i, c) if (!json_is_true(json_object_get(c, "pass")))
        json_array_append(failed, json_object_get(c, "name"));
    const char *base = strrchr(dir, '/');
    json_t *row = json_pack("{s:s, s:I, s:s, s:b, s:i, s:f, s:o}", "scenario", name, "seed", (json_int_t)seed, "dir",
                            base ? base + 1 : dir, "pass", v && json_is_true(json_object_get(v, "pass")) && rc == 0,
                            "exit", rc, "seconds", secs, "failed_checks", failed);
    json_object_set_new(row, "verdict_found", json_boolean(v != NULL));
    json_object_set_new(row, "orders", json_integer(json_integer_value(
                                           json_object_get(json_object_get(v, "published"), "distinct_orders"))));
    json_object_set_new(row, "duplicate_messages",
                        json_integer(json_integer_value(
                            json_object_get(json_object_get(v, "published"), "duplicate_messages"))));
    json_object_set_new(row, "lock_lost", json_integer(json_integer_value(json_object_get(lock, "lost"))));
    json_object_set_new(row, "lock_double_counted",
                        json_integer(json_integer_value(json_object_get(lock, "overcount"))));
    json_object_set_new(row, "lock_exact", json_boolean(json_is_true(json_object_get(lock, "exact"))));
    json_object_set_new(row, "nolock_overcount",
                        json_integer(json_integer_value(json_object_get(nolock, "overcount"))));
    const json_t *dapr = json_object_get(json_object_get(v, "frontends"), "dapr"),
                 *direct = json_object_get(json_object_get(v, "frontends"), "direct");
    json_object_set_new(row, "dapr_success", json_real(json_number_value(
                                                 json_object_get(json_object_get(dapr, "chaos_window"), "success_rate"))));
    json_object_set_new(row, "direct_success",
                        json_real(json_number_value(
                            json_object_get(json_object_get(direct, "chaos_window"), "success_rate"))));
    json_decref(v);
    return row;
}

static const char *rs_str(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_row(FILE *o, const json_t *r, int markdown, int html) {
    char failed[256] = "";
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(r, "failed_checks"), i, c)
        n += (size_t)snprintf(failed + n, sizeof failed - n > 0 ? sizeof failed - n : 0, "%s%s", i ? ", " : "",
                              json_string_value(c));
    if (!json_is_true(json_object_get(r, "verdict_found"))) snprintf(failed, sizeof failed, "no verdict (exit %d)",
                                                                     (int)json_integer_value(json_object_get(r, "exit")));
    const char *verdict = json_is_true(json_object_get(r, "pass")) ? "PASS" : "FAIL";
    long long seed = json_integer_value(json_object_get(r, "seed"));
    int orders = (int)json_integer_value(json_object_get(r, "orders")),
        dups = (int)json_integer_value(json_object_get(r, "duplicate_messages")),
        lost = (int)json_integer_value(json_object_get(r, "lock_lost")),
        dbl = (int)json_integer_value(json_object_get(r, "lock_double_counted")),
        over = (int)json_integer_value(json_object_get(r, "nolock_overcount"));
    double ds = 100 * json_number_value(json_object_get(r, "dapr_success")),
           ps = 100 * json_number_value(json_object_get(r, "direct_success")),
           secs = json_number_value(json_object_get(r, "seconds"));
    if (html)
        fprintf(o,
                "<tr><td>%s</td><td>%lld</td><td class=\"%s\">%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>"
                "<td>%+d</td><td>%.0f%%</td><td>%.0f%%</td><td>%.0f</td><td><a href=\"%s/report.html\">report</a>"
                "</td><td>%s</td></tr>\n",
                rs_str(r, "scenario"), seed, verdict, verdict, orders, dups, lost, dbl, over, ds, ps, secs,
                rs_str(r, "dir"), failed);
    else if (markdown)
        fprintf(o, "| %s | %lld | %s | %d | %d | %d | %d | %+d | %.0f%% | %.0f%% | %.0f | %s/report.html | %s |\n",
                rs_str(r, "scenario"), seed, verdict, orders, dups, lost, dbl, over, ds, ps, secs, rs_str(r, "dir"),
                failed);
    else
        fprintf(o, "%-24s %6lld  %s  orders %4d  dup %3d  lock lost %d, double %d  nolock %+4d  dapr %3.0f%%  "
                   "direct %3.0f%%  %4.0f s %s\n",
                rs_str(r, "scenario"), seed, verdict, orders, dups, lost, dbl, over, ds, ps, secs, failed);
}

static const char *const md_head =
    "| scenario | seed | verdict | orders | duplicate msgs | lock lost | lock double-counted | no-lock over-count "
    "| dapr ok in window | direct ok in window | s | report | failed checks |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

static void write_summary(const char *out, json_t *rows, int all_pass) {
    char p[PATH_MAX];
    json_t *sum = json_pack("{s:O, s:b, s:i}", "runs", rows, "pass", all_pass, "count", (int)json_array_size(rows));
    snprintf(p, sizeof p, "%s/summary.json", out);
    json_dump_file(sum, p, JSON_INDENT(1));
    json_decref(sum);
    size_t i, npass = 0;
    json_t *r;
    json_array_foreach(rows, i, r) npass += json_is_true(json_object_get(r, "pass"));
    snprintf(p, sizeof p, "%s/summary.md", out);
    FILE *f = fopen(p, "w");
    if (f) {
        fprintf(f, "%zu runs, %zu hold%s\n\n%s", json_array_size(rows), npass, all_pass ? "" : " (NOT ALL)", md_head);
        json_array_foreach(rows, i, r) print_row(f, r, 1, 0);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/index.html", out);
    f = fopen(p, "w");
    if (f) {
        fprintf(f, "<!doctype html><meta charset=\"utf-8\"><title>ripstop matrix</title>\n"
                   "<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
                   "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
                   ".PASS{color:#1a7f37;font-weight:bold}.FAIL{color:#c0392b;font-weight:bold}</style>\n"
                   "<h1>Scenario matrix: %zu runs, %zu hold</h1>\n<table><tr><th>scenario</th><th>seed</th>"
                   "<th>verdict</th><th>orders</th><th>duplicate msgs</th><th>lock lost</th>"
                   "<th>lock double-counted</th><th>no-lock over-count</th><th>dapr ok in window</th>"
                   "<th>direct ok in window</th><th>s</th><th>report</th><th>failed checks</th></tr>\n",
                json_array_size(rows), npass);
        json_array_foreach(rows, i, r) print_row(f, r, 0, 1);
        fprintf(f, "</table>\n");
        fclose(f);
    }
}

/* The scenario files: the arguments, the two of --ci, or the whole library. */
static int collect(int argc, char **argv, int ci, char files[][PATH_MAX], int *n) {
    char lib[PATH_MAX];
    *n = 0;
    if (optind < argc) {
        for (int i = optind; i < argc && *n < MAX_SCENARIOS; i++) snprintf(files[(*n)++], PATH_MAX, "%s", argv[i]);
        return 0;
    }
    if (rs_find_project_path("deploy/local/scenarios", lib, sizeof lib) != 0) {
        fprintf(stderr, "ripstop matrix: deploy/local/scenarios not found; name the scenario files\n");
        return -1;
    }
    if (ci) {
        for (size_t i = 0; i < sizeof ci_scenarios / sizeof *ci_scenarios; i++)
            snprintf(files[(*n)++], PATH_MAX, "%.*s/%s", PATH_MAX / 2, lib, ci_scenarios[i]);
        return 0;
    }
    char pat[PATH_MAX];
    snprintf(pat, sizeof pat, "%.*s/*.yaml", PATH_MAX - 8, lib);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0) {
        fprintf(stderr, "ripstop matrix: no scenarios in %s\n", lib);
        return -1;
    }
    for (size_t i = 0; i < g.gl_pathc && *n < MAX_SCENARIOS; i++) snprintf(files[(*n)++], PATH_MAX, "%s", g.gl_pathv[i]);
    globfree(&g);
    return 0;
}

int rs_cmd_matrix(int argc, char **argv) {
    static const struct option opts[] = {{"runs", required_argument, 0, 'n'},
                                         {"rounds", required_argument, 0, 'r'},    {"seed-base", required_argument, 0, 'b'},
                                         {"quick", no_argument, 0, 'q'},          {"ci", no_argument, 0, 'c'},
                                         {"out", required_argument, 0, 'o'},      {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long rounds = 1, base = 1, max_runs = 0;
    int quick = 0, ci = 0, ch;
    char out[PATH_MAX] = "matrix-out";
    optind = 1;
    while ((ch = getopt_long(argc, argv, "n:r:b:qco:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (rs_parse_int64(optarg, &max_runs) || max_runs < 1 || max_runs > 10000) {
                fprintf(stderr, "ripstop matrix: --runs wants 1..10000\n");
                return 2;
            }
            break;
        case 'r':
            if (rs_parse_int64(optarg, &rounds) || rounds < 1 || rounds > 1000) {
                fprintf(stderr, "ripstop matrix: --rounds wants 1..1000\n");
                return 2;
            }
            break;
        case 'b':
            if (rs_parse_int64(optarg, &base) || base < 0 || base > (1LL << 40)) {
                fprintf(stderr, "ripstop matrix: --seed-base wants a whole number >= 0\n");
                return 2;
            }
            break;
        case 'q': quick = 1; break;
        case 'c': ci = quick = 1; break;
        case 'o': snprintf(out, sizeof out, "%s", optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    static char files[MAX_SCENARIOS][PATH_MAX];
    char names[MAX_SCENARIOS][64];
    int n;
    if (collect(argc, argv, ci, files, &n) != 0) return 2;
    /* Every scenario is validated before the first run starts (the demo checks its run file too). */
    for (int i = 0; i < n; i++) {
        rs_scenario_t s;
        char err[1024];
        if (rs_scenario_load(files[i], quick, &s, err, sizeof err) != 0) {
            fprintf(stderr, "ripstop matrix: %s\n", err);
            return 2;
        }
        rs_runfile_t rf;
        int bad = rs_runfile_load(&rf, s.run_file, err, sizeof err);
        if (!bad) {
            bad = rs_scenario_check_system(&s, &rf, err, sizeof err);
            rs_runfile_free(&rf);
        }
        if (bad) {
            fprintf(stderr, "ripstop matrix: %s\n", err);
            rs_scenario_free(&s);
            return 2;
        }
        snprintf(names[i], sizeof names[i], "%s", s.name);
        rs_scenario_free(&s);
        char *abs = realpath(files[i], NULL);
        if (abs) {
            snprintf(files[i], PATH_MAX, "%s", abs);
            free(abs);
        }
    }
    if (rs_mkdir_p(out, 0755) != 0) {
        fprintf(stderr, "ripstop matrix: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (max_runs) rounds = (max_runs + n - 1) / n;
    printf("ripstop matrix: %d scenario%s x %lld round%s%s, output %s\n", n, n == 1 ? "" : "s", rounds,
           rounds == 1 ? "" : "s", quick ? " (quick)" : "", out);
    fflush(stdout);
    json_t *rows = json_array();
    int all_pass = 1;
    long long run = 0;
    for (long long r = 0; r < rounds && !g_stop; r++) {
        for (int i = 0; i < n && !g_stop && (!max_runs || run < max_runs); i++, run++) {
            long long seed = base + run;
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s/%s-seed%lld", PATH_MAX / 2, out, names[i], seed);
            if (rs_mkdir_p(dir, 0755) != 0) {
                fprintf(stderr, "ripstop matrix: cannot create %s\n", dir);
                all_pass = 0;
                continue;
            }
            int64_t t = rs_now_ms();
            int rc = run_demo(files[i], seed, quick, dir);
            json_t *row = row_from_verdict(names[i], seed, dir, rc, (double)(rs_now_ms() - t) / 1000.0);
            all_pass &= json_is_true(json_object_get(row, "pass"));
            print_row(stdout, row, 0, 0);
            fflush(stdout);
            json_array_append_new(rows, row);
            write_summary(out, rows, all_pass); /* after every run: a long matrix can be read while it goes */
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (g_stop) {
        fprintf(stderr, "ripstop matrix: interrupted after %zu runs\n", json_array_size(rows));
        all_pass = 0;
    }
    printf("\n%zu runs; summary: %s/summary.md, page: %s/index.html\nMATRIX: %s\n", json_array_size(rows), out, out,
           all_pass ? "PASS" : "FAIL");
    json_decref(rows);
    return g_stop ? 130 : all_pass ? 0 : 1;
}

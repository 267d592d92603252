/* SPDX-License-Identifier: MIT */
/* A call is handed over with one user event on the proxy's loop (event_active is
 * safe from another thread once libevent uses pthread locks) and answered with a
 * condition variable; callers take turns through call_mu. */
#include "tools/ripstop/chaos_thread.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

struct rs_chaos_thread {
    struct event_base *base;
    struct event *job_ev;
    rs_chaos_t *chaos;
    pthread_t thread;
    pthread_mutex_t call_mu; /* one caller at a time */
    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t cv;
    void (*fn)(rs_chaos_t *c, void *arg);
    void *arg;
    int done;
    int stop;
};

static void on_job(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    rs_chaos_thread_t *t = arg;
    pthread_mutex_lock(&t->mu);
    void (*fn)(rs_chaos_t *, void *) = t->fn;
    void *a = t->arg;
    pthread_mutex_unlock(&t->mu);
    if (fn) fn(t->chaos, a);
    pthread_mutex_lock(&t->mu);
    t->done = 1;
    if (t->stop) event_base_loopbreak(t->base);
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void *thread_main(void *arg) {
    rs_chaos_thread_t *t = arg;
    event_base_loop(t->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void use_pthreads(void) { evthread_use_pthreads(); }

rs_chaos_thread_t *rs_chaos_thread_start(unsigned long seed, char *err, size_t errlen) {
    /* before the base exists: its lock is what makes event_active from the caller's thread safe */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, use_pthreads);
    rs_chaos_thread_t *t = rs_xcalloc(1, sizeof *t);
    t->base = event_base_new();
    if (!t->base) {
        snprintf(err, errlen, "chaos proxy: cannot create an event loop");
        free(t);
        return NULL;
    }
    t->job_ev = event_new(t->base, -1, 0, on_job, t);
    t->chaos = rs_chaos_new(t->base, seed);
    pthread_mutex_init(&t->call_mu, NULL);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    /* Bufferevents write with writev(), which raises SIGPIPE towards a peer that has gone. The thread starts
     * with SIGPIPE blocked, so such a write only fails (EPIPE) and closes that connection; the process lives. */
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    int rc = pthread_create(&t->thread, NULL, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "chaos proxy: cannot start its thread: %s", strerror(rc));
        rs_chaos_free(t->chaos);
        event_free(t->job_ev);
        event_base_free(t->base);
        free(t);
        return NULL;
    }
    return t;
}

static void run_on_thread(rs_chaos_thread_t *t, void (*fn)(rs_chaos_t *, void *), void *arg, int stop) {
    pthread_mutex_lock(&t->call_mu);
    pthread_mutex_lock(&t->mu);
    t->fn = fn;
    t->arg = arg;
    t->done = 0;
    t->stop = stop;
    pthread_mutex_unlock(&t->mu);
    event_active(t->job_ev, EV_READ, 1);
    pthread_mutex_lock(&t->mu);
    while (!t->done) pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    pthread_mutex_unlock(&t->call_mu);
}

void rs_chaos_thread_call(rs_chaos_thread_t *t, void (*fn)(rs_chaos_t *c, void *arg), void *arg) {
    run_on_thread(t, fn, arg, 0);
}

static void free_registry(rs_chaos_t *c, void *arg) {
    (void)arg;
    rs_chaos_free(c);
}

void rs_chaos_thread_stop(rs_chaos_thread_t *t) {
    if (!t) return;
    run_on_thread(t, free_registry, NULL, 1); /* the last job: frees the registry and breaks the loop */
    pthread_join(t->thread, NULL);
    event_free(t->job_ev);
    event_base_free(t->base);
    pthread_mutex_destroy(&t->call_mu);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

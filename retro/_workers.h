/* A small pool of worker threads for stepping many emulators at once.
 *
 * retro_workers_run(pool, fn, arg, njobs) calls fn(arg, j) for j in
 * [0, njobs) and returns when all calls are done. The calling thread takes
 * part: with T extra threads, thread t (0 = the caller) runs the jobs
 * j = t, t + T + 1, ... . Workers spin for a short while after their last
 * job, so the next round starts without a sleep and wake-up round trip
 * (which costs tens of microseconds in a virtual machine), then sleep on a
 * condition variable. The caller waits for the workers the same way. After
 * the first few microseconds a spinning thread yields its CPU between
 * checks, so on a busy machine it does not keep a thread it waits for from
 * running.
 *
 * Jobs are plain C and must not touch Python: the caller runs this with the
 * GIL released.
 */
#ifndef RETRO_WORKERS_H
#define RETRO_WORKERS_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef void (*retro_job_fn)(void *arg, int job);

typedef struct retro_workers retro_workers;

typedef struct {
    retro_workers *pool;
    int id; /* 1..T; the caller is 0 */
    pthread_t thread;
} retro_worker;

struct retro_workers {
    int nthreads; /* extra threads */
    long spin_ns;
    retro_worker *workers;
    /* the current round */
    retro_job_fn fn;
    void *arg;
    int njobs;
    atomic_uint generation;
    atomic_int pending;
    atomic_int quit;
    /* sleeping */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* workers wait here for a round */
    pthread_cond_t done;     /* the caller waits here for the workers */
    atomic_int sleepers;     /* workers asleep (or about to be) on `wake` */
    atomic_int caller_asleep;
};

static inline void retro_workers_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline long retro_workers_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* One step of a spin wait that began at `start`: false once `spin_ns` is over. */
static inline int retro_workers_spin(long start, long spin_ns, int *i) {
    long elapsed;
    retro_workers_pause();
    if ((++*i & 63) != 0)
        return 1;
    elapsed = retro_workers_now_ns() - start;
    if (elapsed > spin_ns)
        return 0;
    if (elapsed > 20000)
        sched_yield();
    return 1;
}

static void retro_workers_run_share(retro_workers *w, int id) {
    int j;
    for (j = id; j < w->njobs; j += w->nthreads + 1)
        w->fn(w->arg, j);
}

/* Wait until the round counter moves past `seen` (or the pool quits). */
static unsigned retro_workers_wait_round(retro_workers *w, unsigned seen) {
    long start = retro_workers_now_ns();
    unsigned gen;
    int i = 0;
    for (;;) {
        gen = atomic_load(&w->generation);
        if (gen != seen || atomic_load(&w->quit))
            return gen;
        if (!retro_workers_spin(start, w->spin_ns, &i))
            break;
    }
    pthread_mutex_lock(&w->lock);
    atomic_fetch_add(&w->sleepers, 1);
    while ((gen = atomic_load(&w->generation)) == seen && !atomic_load(&w->quit))
        pthread_cond_wait(&w->wake, &w->lock);
    atomic_fetch_sub(&w->sleepers, 1);
    pthread_mutex_unlock(&w->lock);
    return gen;
}

static void *retro_workers_main(void *p) {
    retro_worker *me = (retro_worker *)p;
    retro_workers *w = me->pool;
    unsigned seen = 0;
    for (;;) {
        seen = retro_workers_wait_round(w, seen);
        if (atomic_load(&w->quit))
            return NULL;
        retro_workers_run_share(w, me->id);
        if (atomic_fetch_sub(&w->pending, 1) == 1 && atomic_load(&w->caller_asleep)) {
            pthread_mutex_lock(&w->lock);
            pthread_cond_broadcast(&w->done);
            pthread_mutex_unlock(&w->lock);
        }
    }
}

static void retro_workers_free(retro_workers *w);

/* A pool with `nthreads` extra threads (0 is allowed: the caller runs all jobs). */
static retro_workers *retro_workers_new(int nthreads, long spin_ns) {
    retro_workers *w = (retro_workers *)calloc(1, sizeof(retro_workers));
    int i;
    if (w == NULL)
        return NULL;
    w->spin_ns = spin_ns;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    atomic_init(&w->generation, 0);
    atomic_init(&w->pending, 0);
    atomic_init(&w->quit, 0);
    atomic_init(&w->sleepers, 0);
    atomic_init(&w->caller_asleep, 0);
    if (nthreads > 0) {
        w->workers = (retro_worker *)calloc((size_t)nthreads, sizeof(retro_worker));
        if (w->workers == NULL) {
            retro_workers_free(w);
            return NULL;
        }
    }
    for (i = 0; i < nthreads; i++) {
        w->workers[i].pool = w;
        w->workers[i].id = i + 1;
        if (pthread_create(&w->workers[i].thread, NULL, retro_workers_main, &w->workers[i]) != 0) {
            retro_workers_free(w);
            return NULL;
        }
        w->nthreads = i + 1;
    }
    return w;
}

static void retro_workers_run(retro_workers *w, retro_job_fn fn, void *arg, int njobs) {
    long start;
    int i = 0;
    if (w->nthreads == 0 || njobs <= 1) {
        for (i = 0; i < njobs; i++)
            fn(arg, i);
        return;
    }
    w->fn = fn;
    w->arg = arg;
    w->njobs = njobs;
    atomic_store(&w->pending, w->nthreads);
    atomic_fetch_add(&w->generation, 1);
    if (atomic_load(&w->sleepers)) {
        pthread_mutex_lock(&w->lock);
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
    }
    retro_workers_run_share(w, 0);
    start = retro_workers_now_ns();
    while (atomic_load(&w->pending) > 0) {
        if (!retro_workers_spin(start, w->spin_ns, &i)) {
            pthread_mutex_lock(&w->lock);
            atomic_store(&w->caller_asleep, 1);
            while (atomic_load(&w->pending) > 0)
                pthread_cond_wait(&w->done, &w->lock);
            atomic_store(&w->caller_asleep, 0);
            pthread_mutex_unlock(&w->lock);
            break;
        }
    }
}

static void retro_workers_free(retro_workers *w) {
    int i;
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->quit, 1);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (i = 0; i < w->nthreads; i++)
        pthread_join(w->workers[i].thread, NULL);
    free(w->workers);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

#endif

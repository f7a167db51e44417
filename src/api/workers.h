/* workers.h — a fixed pool of threads that run queued jobs. The server hands them every
 * request that may block (store writes that wait for a group commit, password hashing), so
 * the event threads keep answering verification while writes wait for the disk. */
#ifndef APIKEYD_WORKERS_H
#define APIKEYD_WORKERS_H

#include <stddef.h>

/* A unit of work; embedded in the caller's own state, so submitting allocates nothing. */
struct worker_job {
    void (*run)(struct worker_job *job);
    struct worker_job *next; /* queue link, owned by the pool while queued */
};

struct workers;

/* Starts n threads (n = 0: a pool whose every job its caller runs, for the HTTP fuzzer's
 * single-threaded server). NULL when a thread cannot be started (the ones started are
 * stopped). */
struct workers *workers_start(unsigned n);

/* Queues job to run on a pool thread. 0 when queued; -1 once the pool is stopping or when it
 * has no threads, in which case the caller runs the job itself. */
int workers_submit(struct workers *w, struct worker_job *job);

/* Refuses new jobs, runs every job already queued, joins the threads and frees the pool.
 * NULL is a no-op. */
void workers_stop(struct workers *w);

#endif

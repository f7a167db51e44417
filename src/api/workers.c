/* workers.c — see workers.h. One mutex-protected FIFO; threads sleep on a condition variable
 * when it is empty. Stopping drains the queue before the threads end. */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct worker_job *head, **tail;
    int stopping;
    unsigned count;
    pthread_t threads[];
};

static void *work(void *arg)
{
    struct workers *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->ready, &w->lock);
        struct worker_job *job = w->head;
        if (!job) /* stopping and drained */
            break;
        w->head = job->next;
        if (!w->head)
            w->tail = &w->head;
        pthread_mutex_unlock(&w->lock);
        job->run(job);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct workers *workers_start(unsigned n)
{
    struct workers *w = calloc(1, sizeof *w + n * sizeof(pthread_t));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->ready, NULL);
    w->tail = &w->head;
    for (; w->count < n; w->count++) {
        if (pthread_create(&w->threads[w->count], NULL, work, w) != 0) {
            workers_stop(w);
            return NULL;
        }
    }
    return w;
}

int workers_submit(struct workers *w, struct worker_job *job)
{
    if (w->count == 0)
        return -1; /* no threads (set once at the start): the caller runs it */
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    job->next = NULL;
    *w->tail = job;
    w->tail = &job->next;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void workers_stop(struct workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->ready);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->count; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* revoker.c — see revoker.h. Each request's hashes are one batch in a FIFO under a mutex; the
 * thread takes a batch at a time. A store that cannot take the write now (unreachable, busy,
 * full) is retried every second, for at most REVOKER_RETRIES seconds per key, and once more
 * while stopping. */
#include "revoker.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "audit.h"
#include "leaks.h"

#define REVOKER_RETRIES 60

struct revoke_batch {
    struct revoke_batch *next;
    char client[64];
    size_t n;
    uint8_t hashes[][STORE_HASH_LEN];
};

struct revoker {
    struct core *core;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct revoke_batch *head, *tail;
    size_t pending; /* hashes queued or being revoked */
    int stop;
};

/* Waits up to a second unless stopping; returns 1 when stopping. Caller holds the lock. */
static int pause_a_second(struct revoker *r)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    if (!r->stop)
        pthread_cond_timedwait(&r->wake, &r->lock, &until);
    return r->stop;
}

/* Revokes one reported key, retrying while the store cannot take the write. */
static void revoke_one(struct revoker *r, const uint8_t hash[STORE_HASH_LEN], const char *client)
{
    struct leak_report by = {REVOKE_ACTOR, client, NULL, NULL};
    enum leak_label label;
    for (int attempt = 0;; attempt++) {
        enum err e = leaks_revoke(r->core, hash, &by, &label);
        if (e == ERR_OK)
            return;
        pthread_mutex_lock(&r->lock);
        int stopping = attempt >= REVOKER_RETRIES || pause_a_second(r);
        pthread_mutex_unlock(&r->lock);
        if (stopping && attempt > 0) {
            log_warn("revoke: a reported key could not be looked up or revoked (%s)", err_slug(e));
            return;
        }
    }
}

static void *revoker_main(void *arg)
{
    struct revoker *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->head && !r->stop)
            pthread_cond_wait(&r->wake, &r->lock);
        struct revoke_batch *b = r->head;
        if (!b)
            break; /* stopping, and nothing is left */
        r->head = b->next;
        if (!r->head)
            r->tail = NULL;
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < b->n; i++)
            revoke_one(r, b->hashes[i], b->client);
        size_t n = b->n;
        sodium_memzero(b->hashes, n * STORE_HASH_LEN);
        free(b);
        pthread_mutex_lock(&r->lock);
        r->pending -= n;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

enum err revoker_start(struct core *c, struct revoker **out)
{
    struct revoker *r = calloc(1, sizeof *r);
    if (!r)
        return ERR_NOMEM;
    r->core = c;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, revoker_main, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return ERR_INTERNAL;
    }
    *out = r;
    return ERR_OK;
}

enum err revoker_submit(struct revoker *r, const uint8_t (*hashes)[STORE_HASH_LEN], size_t n,
                        const char *client)
{
    struct revoke_batch *b = malloc(sizeof *b + n * STORE_HASH_LEN);
    if (!b)
        return ERR_NOMEM;
    b->next = NULL;
    snprintf(b->client, sizeof b->client, "%s", client ? client : "");
    b->n = n;
    memcpy(b->hashes, hashes, n * STORE_HASH_LEN);
    pthread_mutex_lock(&r->lock);
    int full = r->pending + n > REVOKER_PENDING_MAX;
    if (!full) {
        if (r->tail)
            r->tail->next = b;
        else
            r->head = b;
        r->tail = b;
        r->pending += n;
        pthread_cond_signal(&r->wake);
    }
    pthread_mutex_unlock(&r->lock);
    if (full) {
        sodium_memzero(b->hashes, n * STORE_HASH_LEN);
        free(b);
        return ERR_THROTTLED;
    }
    return ERR_OK;
}

void revoker_stop(struct revoker *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* throttle.c — see throttle.h. The table is split into THROTTLE_STRIPES parts, each with its
 * own mutex, so that checks on the verification path rarely wait for each other. Within a part:
 * open addressing over a short probe window; when the window is full the stalest entry is
 * replaced, so an attacker spraying names cannot grow memory. */
#include "throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_NAME_MAX 80
#define THROTTLE_PROBE 8
#define THROTTLE_MAX_BLOCK_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (15 * 60 * 1000) /* failures older than this no longer count */
#define THROTTLE_STRIPES 64

struct throttle_entry {
    char name[THROTTLE_NAME_MAX + 1];
    int failures;
    int blocks;
    int64_t blocked_until_ms;
    int64_t touched_ms;
};

struct throttle_stripe {
    pthread_mutex_t lock;
    struct throttle_entry *entries;
};

struct throttle {
    struct throttle_stripe stripes[THROTTLE_STRIPES];
    size_t mask; /* entries per stripe - 1 */
    int64_t backoff_ms;
};

struct throttle *throttle_new(size_t capacity, int64_t backoff_ms)
{
    size_t per_stripe = THROTTLE_PROBE;
    while (per_stripe * THROTTLE_STRIPES < capacity)
        per_stripe <<= 1;
    struct throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->mask = per_stripe - 1;
    t->backoff_ms = backoff_ms;
    for (size_t i = 0; i < THROTTLE_STRIPES; i++) {
        pthread_mutex_init(&t->stripes[i].lock, NULL);
        t->stripes[i].entries = calloc(per_stripe, sizeof(struct throttle_entry));
        if (!t->stripes[i].entries) {
            throttle_free(t);
            return NULL;
        }
    }
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < THROTTLE_STRIPES; i++) {
        pthread_mutex_destroy(&t->stripes[i].lock);
        free(t->stripes[i].entries);
    }
    free(t);
}

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The stripe that holds name; lock it before calling lookup. */
static struct throttle_stripe *stripe_of(struct throttle *t, size_t hash)
{
    return &t->stripes[hash % THROTTLE_STRIPES];
}

/* Finds name's entry; with create, claims an empty or the stalest slot. Caller holds the
 * stripe's lock. */
static struct throttle_entry *lookup(struct throttle *t, struct throttle_stripe *sp, size_t hash,
                                     const char *name, int create)
{
    size_t start = (hash / THROTTLE_STRIPES) & t->mask;
    struct throttle_entry *stalest = NULL;
    for (size_t k = 0; k < THROTTLE_PROBE; k++) {
        struct throttle_entry *e = &sp->entries[(start + k) & t->mask];
        if (e->name[0] && strcmp(e->name, name) == 0)
            return e;
        if (!stalest || !e->name[0] || (stalest->name[0] && e->touched_ms < stalest->touched_ms))
            stalest = e;
    }
    if (!create)
        return NULL;
    memset(stalest, 0, sizeof *stalest);
    strncpy(stalest->name, name, THROTTLE_NAME_MAX);
    return stalest;
}

int64_t throttle_blocked_ms(struct throttle *t, const char *name, int64_t now_ms)
{
    size_t h = name_hash(name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 0);
    int64_t left = e && e->blocked_until_ms > now_ms ? e->blocked_until_ms - now_ms : 0;
    pthread_mutex_unlock(&sp->lock);
    return left;
}

void throttle_fail(struct throttle *t, const char *name, int max_failures, int64_t now_ms)
{
    size_t h = name_hash(name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 1);
    /* quiet for FORGET_MS since the last failure or the end of the last block: start afresh */
    int64_t last = e->touched_ms > e->blocked_until_ms ? e->touched_ms : e->blocked_until_ms;
    if (e->touched_ms && now_ms - last > THROTTLE_FORGET_MS) {
        e->failures = 0;
        e->blocks = 0;
    }
    e->touched_ms = now_ms;
    if (++e->failures >= max_failures) {
        int64_t block = t->backoff_ms;
        for (int i = 0; i < e->blocks && block < THROTTLE_MAX_BLOCK_MS; i++)
            block *= 2;
        if (block > THROTTLE_MAX_BLOCK_MS)
            block = THROTTLE_MAX_BLOCK_MS;
        e->blocked_until_ms = now_ms + block;
        e->blocks++;
        e->failures = 0;
    }
    pthread_mutex_unlock(&sp->lock);
}

void throttle_clear(struct throttle *t, const char *name)
{
    size_t h = name_hash(name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 0);
    if (e)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&sp->lock);
}

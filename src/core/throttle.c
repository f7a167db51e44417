/* throttle.c — see throttle.h. Open addressing over a short probe window; when the window is
 * full the stalest entry is replaced, so an attacker spraying names cannot grow memory. */
#include "throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_NAME_MAX 80
#define THROTTLE_PROBE 8
#define THROTTLE_MAX_BLOCK_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (15 * 60 * 1000) /* failures older than this no longer count */

struct throttle_entry {
    char name[THROTTLE_NAME_MAX + 1];
    int failures;
    int blocks;
    int64_t blocked_until_ms;
    int64_t touched_ms;
};

struct throttle {
    pthread_mutex_t lock;
    struct throttle_entry *entries;
    size_t mask;
    int64_t backoff_ms;
};

struct throttle *throttle_new(size_t capacity, int64_t backoff_ms)
{
    size_t cap = 16;
    while (cap < capacity)
        cap <<= 1;
    struct throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->entries = calloc(cap, sizeof *t->entries);
    if (!t->entries) {
        free(t);
        return NULL;
    }
    t->mask = cap - 1;
    t->backoff_ms = backoff_ms;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->entries);
    free(t);
}

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Finds name's entry; with create, claims an empty or the stalest slot. Caller holds lock. */
static struct throttle_entry *lookup(struct throttle *t, const char *name, int create)
{
    size_t start = name_hash(name) & t->mask;
    struct throttle_entry *stalest = NULL;
    for (size_t k = 0; k < THROTTLE_PROBE; k++) {
        struct throttle_entry *e = &t->entries[(start + k) & t->mask];
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
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = lookup(t, name, 0);
    int64_t left = e && e->blocked_until_ms > now_ms ? e->blocked_until_ms - now_ms : 0;
    pthread_mutex_unlock(&t->lock);
    return left;
}

void throttle_fail(struct throttle *t, const char *name, int max_failures, int64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = lookup(t, name, 1);
    if (e->touched_ms && now_ms - e->touched_ms > THROTTLE_FORGET_MS &&
        e->blocked_until_ms <= now_ms) {
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
    pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = lookup(t, name, 0);
    if (e)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&t->lock);
}

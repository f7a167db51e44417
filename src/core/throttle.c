/* throttle.c — see throttle.h. The table is split into THROTTLE_STRIPES parts, each with its
 * own mutex, so that checks on the verification path rarely wait for each other. Within a part:
 * open addressing over a short probe window, placed by SipHash (libsodium's crypto_shorthash)
 * under a key drawn when the table is made. When the window is full the stalest entry that is
 * neither blocked nor in use is replaced, so spraying names cannot grow memory nor flush a
 * block. */
#include "throttle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_NAME_MAX 80
#define THROTTLE_PROBE 8
#define THROTTLE_MAX_BLOCK_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (15 * 60 * 1000) /* failures older than this no longer count */
#define THROTTLE_STRIPES 64
#define THROTTLE_BUSY_WAIT_MS 1000 /* what a refused reservation is told to wait, at least */

struct throttle_entry {
    char name[THROTTLE_NAME_MAX + 1];
    int failures;
    int pending; /* reserved attempts not yet released */
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
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct throttle *throttle_new(size_t capacity, int64_t backoff_ms)
{
    if (sodium_init() < 0)
        return NULL;
    size_t per_stripe = THROTTLE_PROBE;
    while (per_stripe * THROTTLE_STRIPES < capacity)
        per_stripe <<= 1;
    struct throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->mask = per_stripe - 1;
    t->backoff_ms = backoff_ms;
    crypto_shorthash_keygen(t->hash_key);
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
    sodium_memzero(t->hash_key, sizeof t->hash_key);
    free(t);
}

static uint64_t name_hash(const struct throttle *t, const char *name)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)name, strnlen(name, THROTTLE_NAME_MAX),
                     t->hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

static struct throttle_stripe *stripe_of(struct throttle *t, uint64_t hash)
{
    return &t->stripes[hash % THROTTLE_STRIPES];
}

/* An entry another name may take: unused, or neither blocked nor with attempts in flight. */
static int reusable(const struct throttle_entry *e, int64_t now_ms)
{
    return !e->name[0] || (e->pending == 0 && e->blocked_until_ms <= now_ms);
}

/* Finds name's entry; with create, claims an empty or the stalest reusable slot (NULL when
 * every slot of the window is pinned). Caller holds the stripe's lock. */
static struct throttle_entry *lookup(struct throttle *t, struct throttle_stripe *sp,
                                     uint64_t hash, const char *name, int create, int64_t now_ms)
{
    size_t start = (hash / THROTTLE_STRIPES) & t->mask;
    struct throttle_entry *stalest = NULL;
    for (size_t k = 0; k < THROTTLE_PROBE; k++) {
        struct throttle_entry *e = &sp->entries[(start + k) & t->mask];
        if (e->name[0] && strncmp(e->name, name, THROTTLE_NAME_MAX) == 0)
            return e;
        if (!reusable(e, now_ms))
            continue;
        if (!stalest || !e->name[0] || (stalest->name[0] && e->touched_ms < stalest->touched_ms))
            stalest = e;
    }
    if (!create || !stalest)
        return NULL;
    memset(stalest, 0, sizeof *stalest);
    strncpy(stalest->name, name, THROTTLE_NAME_MAX);
    return stalest;
}

/* Quiet for FORGET_MS since the last failure or the end of the last block: start afresh. */
static void forget_if_quiet(struct throttle_entry *e, int64_t now_ms)
{
    int64_t last = e->touched_ms > e->blocked_until_ms ? e->touched_ms : e->blocked_until_ms;
    if (e->touched_ms && e->pending == 0 && now_ms - last > THROTTLE_FORGET_MS) {
        e->failures = 0;
        e->blocks = 0;
    }
}

/* Counts one failure of e; the max-th starts a block. */
static void count_failure(struct throttle *t, struct throttle_entry *e, int max, int64_t now_ms)
{
    e->touched_ms = now_ms;
    if (++e->failures >= max) {
        int64_t block = t->backoff_ms;
        for (int i = 0; i < e->blocks && block < THROTTLE_MAX_BLOCK_MS; i++)
            block *= 2;
        if (block > THROTTLE_MAX_BLOCK_MS)
            block = THROTTLE_MAX_BLOCK_MS;
        e->blocked_until_ms = now_ms + block;
        e->blocks++;
        e->failures = 0;
    }
}

int64_t throttle_blocked_ms(struct throttle *t, const char *name, int64_t now_ms)
{
    uint64_t h = name_hash(t, name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 0, now_ms);
    int64_t left = e && e->blocked_until_ms > now_ms ? e->blocked_until_ms - now_ms : 0;
    pthread_mutex_unlock(&sp->lock);
    return left;
}

void throttle_fail(struct throttle *t, const char *name, int max_failures, int64_t now_ms)
{
    uint64_t h = name_hash(t, name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 1, now_ms);
    if (e) {
        forget_if_quiet(e, now_ms);
        count_failure(t, e, max_failures, now_ms);
    }
    pthread_mutex_unlock(&sp->lock);
}

void throttle_clear(struct throttle *t, const char *name)
{
    uint64_t h = name_hash(t, name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    struct throttle_entry *e = lookup(t, sp, h, name, 0, 0);
    if (e) {
        int pending = e->pending; /* attempts in flight still release */
        memset(e, 0, sizeof *e);
        if (pending) {
            strncpy(e->name, name, THROTTLE_NAME_MAX);
            e->pending = pending;
        }
    }
    pthread_mutex_unlock(&sp->lock);
}

int64_t throttle_reserve(struct throttle *t, const char *name, int max_failures, int64_t now_ms)
{
    uint64_t h = name_hash(t, name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    int64_t wait = 0;
    struct throttle_entry *e = lookup(t, sp, h, name, 1, now_ms);
    if (!e) {
        wait = THROTTLE_BUSY_WAIT_MS; /* no room to count it: refuse rather than not count */
    } else if (e->blocked_until_ms > now_ms) {
        wait = e->blocked_until_ms - now_ms;
    } else {
        forget_if_quiet(e, now_ms);
        if (e->failures + e->pending >= max_failures) {
            wait = THROTTLE_BUSY_WAIT_MS; /* the attempts in flight may use up the allowance */
        } else {
            e->pending++;
            e->touched_ms = now_ms;
        }
    }
    pthread_mutex_unlock(&sp->lock);
    return wait;
}

void throttle_release(struct throttle *t, const char *name, enum throttle_outcome outcome,
                      int max_failures, int64_t now_ms)
{
    uint64_t h = name_hash(t, name);
    struct throttle_stripe *sp = stripe_of(t, h);
    pthread_mutex_lock(&sp->lock);
    /* a pending entry is never reused, so it is found unless throttle_clear emptied it */
    struct throttle_entry *e = lookup(t, sp, h, name, 1, now_ms);
    if (e) {
        if (e->pending > 0)
            e->pending--;
        if (outcome == THROTTLE_FAILED) {
            count_failure(t, e, max_failures, now_ms);
        } else if (outcome == THROTTLE_SUCCEEDED) {
            e->failures = 0;
            e->blocks = 0;
            e->blocked_until_ms = 0;
        }
    }
    pthread_mutex_unlock(&sp->lock);
}

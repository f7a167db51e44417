/* keyindex.c — open-addressing hash table (linear probing, backward-shift deletion) of
 * pointers to entries. The SHA-256 is already uniform, so its first 8 bytes are the hash. */
#include "keyindex.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct key_entry {
    uint8_t hash[STORE_HASH_LEN];
    struct keyindex_view view;
    _Atomic int64_t last_used;
    atomic_int dirty; /* 1 while queued for the usage writer */
};

struct keyindex {
    pthread_rwlock_t lock;
    struct key_entry **slots;
    size_t cap; /* power of two */
    size_t count;

    pthread_mutex_t touch_lock; /* guards the queue below */
    uint8_t (*touch_queue)[STORE_HASH_LEN];
    size_t touch_len, touch_cap;
};

static size_t slot_of(const struct keyindex *ix, const uint8_t *hash)
{
    uint64_t h;
    memcpy(&h, hash, sizeof h);
    return (size_t)h & (ix->cap - 1);
}

struct keyindex *keyindex_new(void)
{
    struct keyindex *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->cap = 1024;
    ix->slots = calloc(ix->cap, sizeof *ix->slots);
    if (!ix->slots) {
        free(ix);
        return NULL;
    }
    pthread_rwlock_init(&ix->lock, NULL);
    pthread_mutex_init(&ix->touch_lock, NULL);
    return ix;
}

void keyindex_free(struct keyindex *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->slots[i]);
    free(ix->slots);
    free(ix->touch_queue);
    pthread_rwlock_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->touch_lock);
    free(ix);
}

/* Finds the slot holding hash, or the empty slot where it would go. Caller holds a lock. */
static size_t find_slot(const struct keyindex *ix, const uint8_t *hash)
{
    size_t i = slot_of(ix, hash);
    while (ix->slots[i] && memcmp(ix->slots[i]->hash, hash, STORE_HASH_LEN) != 0)
        i = (i + 1) & (ix->cap - 1);
    return i;
}

static enum err grow(struct keyindex *ix)
{
    size_t old_cap = ix->cap;
    struct key_entry **old = ix->slots;
    struct key_entry **slots = calloc(old_cap * 2, sizeof *slots);
    if (!slots)
        return ERR_NOMEM;
    ix->slots = slots;
    ix->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            ix->slots[find_slot(ix, old[i]->hash)] = old[i];
    free(old);
    return ERR_OK;
}

enum err keyindex_put(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN],
                      const struct keyindex_view *v)
{
    enum err e = ERR_OK;
    pthread_rwlock_wrlock(&ix->lock);
    if ((ix->count + 1) * 10 > ix->cap * 7 && (e = grow(ix)))
        goto out;
    size_t i = find_slot(ix, hash);
    if (ix->slots[i]) {
        ix->slots[i]->view = *v;
        goto out;
    }
    struct key_entry *entry = calloc(1, sizeof *entry);
    if (!entry) {
        e = ERR_NOMEM;
        goto out;
    }
    memcpy(entry->hash, hash, STORE_HASH_LEN);
    entry->view = *v;
    ix->slots[i] = entry;
    ix->count++;
out:
    pthread_rwlock_unlock(&ix->lock);
    return e;
}

void keyindex_remove(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN])
{
    pthread_rwlock_wrlock(&ix->lock);
    size_t i = find_slot(ix, hash);
    if (!ix->slots[i])
        goto out;
    free(ix->slots[i]);
    ix->slots[i] = NULL;
    ix->count--;
    /* backward-shift: move later entries of the probe run into the hole */
    size_t hole = i;
    for (size_t j = (i + 1) & (ix->cap - 1); ix->slots[j]; j = (j + 1) & (ix->cap - 1)) {
        size_t home = slot_of(ix, ix->slots[j]->hash);
        /* entry at j may move to hole when home is not cyclically in (hole, j] */
        int in_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_between) {
            ix->slots[hole] = ix->slots[j];
            ix->slots[j] = NULL;
            hole = j;
        }
    }
out:
    pthread_rwlock_unlock(&ix->lock);
}

static void queue_touch(struct keyindex *ix, const uint8_t *hash)
{
    pthread_mutex_lock(&ix->touch_lock);
    if (ix->touch_len == ix->touch_cap) {
        size_t cap = ix->touch_cap ? ix->touch_cap * 2 : 256;
        void *q = realloc(ix->touch_queue, cap * sizeof *ix->touch_queue);
        if (!q) {
            pthread_mutex_unlock(&ix->touch_lock);
            return; /* the time stays in memory; a later use queues it again */
        }
        ix->touch_queue = q;
        ix->touch_cap = cap;
    }
    memcpy(ix->touch_queue[ix->touch_len++], hash, STORE_HASH_LEN);
    pthread_mutex_unlock(&ix->touch_lock);
}

int keyindex_lookup(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN], int64_t touch_at,
                    struct keyindex_view *out)
{
    int found = 0, queue = 0;
    pthread_rwlock_rdlock(&ix->lock);
    struct key_entry *entry = ix->slots[find_slot(ix, hash)];
    if (entry) {
        found = 1;
        *out = entry->view;
        if (touch_at > 0 && atomic_load_explicit(&entry->last_used, memory_order_relaxed) < touch_at) {
            atomic_store_explicit(&entry->last_used, touch_at, memory_order_relaxed);
            queue = atomic_exchange(&entry->dirty, 1) == 0;
        }
    }
    pthread_rwlock_unlock(&ix->lock);
    if (queue)
        queue_touch(ix, hash);
    return found;
}

size_t keyindex_drain_touches(struct keyindex *ix, struct key_touch *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&ix->touch_lock);
    size_t take = ix->touch_len < max ? ix->touch_len : max;
    pthread_rwlock_rdlock(&ix->lock);
    for (size_t i = 0; i < take; i++) {
        const uint8_t *hash = ix->touch_queue[ix->touch_len - 1 - i];
        struct key_entry *entry = ix->slots[find_slot(ix, hash)];
        if (!entry)
            continue; /* deleted since */
        atomic_store(&entry->dirty, 0);
        memcpy(out[n].hash, hash, STORE_HASH_LEN);
        out[n].last_used_at = atomic_load(&entry->last_used);
        n++;
    }
    pthread_rwlock_unlock(&ix->lock);
    ix->touch_len -= take;
    pthread_mutex_unlock(&ix->touch_lock);
    return n;
}

size_t keyindex_count(struct keyindex *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->count;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

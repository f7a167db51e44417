/* keyindex.c — open-addressing hash table (linear probing, backward-shift deletion) of
 * pointers to entries. The SHA-256 is already uniform, so its first 8 bytes are the hash.
 * Owner and creator names are interned in a second, chained table of refcounted records, so a
 * million keys of a few thousand people store each name once; each owner keeps a doubly
 * linked list of its entries. All of it is guarded by one rwlock. */
#include "keyindex.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/netaddr.h"

/* An interned principal ("user:alice") or person ("alice"). */
struct name_rec {
    struct name_rec *next_in_bucket;
    size_t refs;
    atomic_int disabled;
    struct key_entry *first_key; /* keys owned (only for principals) */
    char type[24];               /* "" for a plain person name */
    char id[STORE_NAME_MAX + 1];
};

struct key_entry {
    uint8_t hash[STORE_HASH_LEN];
    char id[STORE_ID_LEN + 1];
    uint64_t scopes;
    int64_t expires_at;
    _Atomic int64_t last_used;
    atomic_int dirty; /* 1 while queued for the usage writer */
    /* the client address of the latest use (a seqlock: from_seq is odd while the address is
     * rewritten, under touch_lock; readers retry nothing, a torn read just looks different) */
    _Atomic uint64_t from_w[2];
    atomic_int from_v6;  /* 0 IPv4, 1 IPv6 */
    atomic_uint from_seq; /* 0: no address yet */
    struct name_rec *owner;
    struct name_rec *creator;
    struct key_entry *prev_of_owner, *next_of_owner;
};

struct keyindex {
    pthread_rwlock_t lock;
    struct key_entry **slots;
    size_t cap; /* power of two */
    size_t count;

    struct name_rec **names; /* chained; grows with the number of names */
    size_t names_cap, names_count;

    pthread_mutex_t touch_lock; /* guards the queues below and every entry's address writes */
    uint8_t (*touch_queue)[STORE_HASH_LEN];
    size_t touch_len, touch_cap;
    struct sighting *sightings; /* addresses a key moved away from, with their last time */
    size_t sightings_len;
};

#define SIGHTINGS_MAX 4096 /* past this (between two flushes) older addresses are not kept */

struct sighting {
    uint8_t hash[STORE_HASH_LEN];
    struct netaddr addr;
    int64_t at;
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
    ix->names_cap = 256;
    ix->names = calloc(ix->names_cap, sizeof *ix->names);
    if (!ix->slots || !ix->names) {
        free(ix->slots);
        free(ix->names);
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
    for (size_t i = 0; i < ix->names_cap; i++) {
        for (struct name_rec *n = ix->names[i], *next; n; n = next) {
            next = n->next_in_bucket;
            free(n);
        }
    }
    free(ix->names);
    free(ix->slots);
    free(ix->touch_queue);
    free(ix->sightings);
    pthread_rwlock_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->touch_lock);
    free(ix);
}

/* ---- interned names (caller holds the write lock unless only reading) ---- */

static size_t name_hash(const char *type, const char *id)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a over type, ':', id */
    for (const char *p = type; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ ':') * 1099511628211ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static struct name_rec *name_find(const struct keyindex *ix, const char *type, const char *id)
{
    struct name_rec *n = ix->names[name_hash(type, id) & (ix->names_cap - 1)];
    while (n && (strcmp(n->type, type) != 0 || strcmp(n->id, id) != 0))
        n = n->next_in_bucket;
    return n;
}

static void names_grow(struct keyindex *ix)
{
    size_t cap = ix->names_cap * 2;
    struct name_rec **names = calloc(cap, sizeof *names);
    if (!names)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < ix->names_cap; i++) {
        for (struct name_rec *n = ix->names[i], *next; n; n = next) {
            next = n->next_in_bucket;
            size_t b = name_hash(n->type, n->id) & (cap - 1);
            n->next_in_bucket = names[b];
            names[b] = n;
        }
    }
    free(ix->names);
    ix->names = names;
    ix->names_cap = cap;
}

/* Finds or creates the record and takes a reference. NULL when out of memory. */
static struct name_rec *name_ref(struct keyindex *ix, const char *type, const char *id)
{
    struct name_rec *n = name_find(ix, type, id);
    if (!n) {
        if (ix->names_count >= ix->names_cap)
            names_grow(ix);
        n = calloc(1, sizeof *n);
        if (!n)
            return NULL;
        snprintf(n->type, sizeof n->type, "%s", type);
        snprintf(n->id, sizeof n->id, "%s", id);
        size_t b = name_hash(type, id) & (ix->names_cap - 1);
        n->next_in_bucket = ix->names[b];
        ix->names[b] = n;
        ix->names_count++;
    }
    n->refs++;
    return n;
}

/* Drops a reference; frees the record when nothing refers to it and it carries no state. */
static void name_unref(struct keyindex *ix, struct name_rec *n)
{
    if (--n->refs > 0 || atomic_load(&n->disabled))
        return;
    struct name_rec **link = &ix->names[name_hash(n->type, n->id) & (ix->names_cap - 1)];
    while (*link != n)
        link = &(*link)->next_in_bucket;
    *link = n->next_in_bucket;
    ix->names_count--;
    free(n);
}

/* ---- the key table ---- */

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

static void link_to_owner(struct key_entry *e)
{
    e->prev_of_owner = NULL;
    e->next_of_owner = e->owner->first_key;
    if (e->next_of_owner)
        e->next_of_owner->prev_of_owner = e;
    e->owner->first_key = e;
}

static void unlink_from_owner(struct key_entry *e)
{
    if (e->prev_of_owner)
        e->prev_of_owner->next_of_owner = e->next_of_owner;
    else
        e->owner->first_key = e->next_of_owner;
    if (e->next_of_owner)
        e->next_of_owner->prev_of_owner = e->prev_of_owner;
}

/* Fills entry fields from v; takes name references. Caller holds the write lock. */
static enum err entry_set(struct keyindex *ix, struct key_entry *e, const struct keyindex_view *v)
{
    struct name_rec *owner = name_ref(ix, v->owner_type, v->owner_id);
    struct name_rec *creator = owner ? name_ref(ix, "", v->created_by) : NULL;
    if (!creator) {
        if (owner)
            name_unref(ix, owner);
        return ERR_NOMEM;
    }
    memcpy(e->id, v->id, sizeof e->id);
    e->scopes = v->scopes;
    e->expires_at = v->expires_at;
    e->owner = owner;
    e->creator = creator;
    link_to_owner(e);
    return ERR_OK;
}

/* Drops the entry's name references and owner link. Caller holds the write lock. */
static void entry_clear(struct keyindex *ix, struct key_entry *e)
{
    unlink_from_owner(e);
    name_unref(ix, e->owner);
    name_unref(ix, e->creator);
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
        entry_clear(ix, ix->slots[i]);
        if ((e = entry_set(ix, ix->slots[i], v)) != ERR_OK) {
            free(ix->slots[i]); /* cannot restore: drop rather than keep a half entry */
            ix->slots[i] = NULL;
            ix->count--;
        }
        goto out;
    }
    struct key_entry *entry = calloc(1, sizeof *entry);
    if (!entry) {
        e = ERR_NOMEM;
        goto out;
    }
    memcpy(entry->hash, hash, STORE_HASH_LEN);
    if ((e = entry_set(ix, entry, v)) != ERR_OK) {
        free(entry);
        goto out;
    }
    ix->slots[i] = entry;
    ix->count++;
out:
    pthread_rwlock_unlock(&ix->lock);
    return e;
}

/* Empties slot i and shifts the rest of its probe run back. Caller holds the write lock. */
static void remove_slot(struct keyindex *ix, size_t i)
{
    entry_clear(ix, ix->slots[i]);
    free(ix->slots[i]);
    ix->slots[i] = NULL;
    ix->count--;
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
}

void keyindex_set_expiry(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN],
                         int64_t expires_at)
{
    pthread_rwlock_wrlock(&ix->lock);
    size_t i = find_slot(ix, hash);
    if (ix->slots[i])
        ix->slots[i]->expires_at = expires_at;
    pthread_rwlock_unlock(&ix->lock);
}

void keyindex_remove(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN])
{
    pthread_rwlock_wrlock(&ix->lock);
    size_t i = find_slot(ix, hash);
    if (ix->slots[i])
        remove_slot(ix, i);
    pthread_rwlock_unlock(&ix->lock);
}

/* Sets the disabled flag of the name (owner_type, owner_id). Caller holds the write lock. */
static enum err set_name_disabled(struct keyindex *ix, const char *owner_type,
                                  const char *owner_id, int disabled)
{
    struct name_rec *n = name_find(ix, owner_type, owner_id);
    if (disabled && !n) {
        /* remember the state even before the owner has keys */
        if ((n = name_ref(ix, owner_type, owner_id)) == NULL)
            return ERR_NOMEM;
        n->refs--; /* kept alive by the flag alone */
    }
    if (n) {
        atomic_store(&n->disabled, disabled ? 1 : 0);
        if (!disabled && n->refs == 0) { /* nothing else keeps it */
            n->refs = 1;
            name_unref(ix, n);
        }
    }
    return ERR_OK;
}

enum err keyindex_set_owner_disabled(struct keyindex *ix, const char *owner_type,
                                     const char *owner_id, int disabled)
{
    pthread_rwlock_wrlock(&ix->lock);
    enum err e = set_name_disabled(ix, owner_type, owner_id, disabled);
    /* a person also stands behind the API-account keys they issued (their created_by, whose
     * license those keys work under): the same flag on the person as creator refuses them */
    if (!e && strcmp(owner_type, "user") == 0)
        e = set_name_disabled(ix, "", owner_id, disabled);
    pthread_rwlock_unlock(&ix->lock);
    return e;
}

size_t keyindex_remove_owner(struct keyindex *ix, const char *owner_type, const char *owner_id)
{
    size_t removed = 0;
    pthread_rwlock_wrlock(&ix->lock);
    struct name_rec *n = name_find(ix, owner_type, owner_id);
    while (n && n->first_key) {
        /* the record may be freed by the last removal: test before removing */
        int last = n->first_key->next_of_owner == NULL && n->refs == 1 &&
                   !atomic_load(&n->disabled);
        remove_slot(ix, find_slot(ix, n->first_key->hash));
        removed++;
        if (last)
            break;
    }
    pthread_rwlock_unlock(&ix->lock);
    return removed;
}

/* Appends hash to the touch queue; touch_lock is held. */
static void queue_touch_locked(struct keyindex *ix, const uint8_t *hash)
{
    if (ix->touch_len == ix->touch_cap) {
        size_t cap = ix->touch_cap ? ix->touch_cap * 2 : 256;
        void *q = realloc(ix->touch_queue, cap * sizeof *ix->touch_queue);
        if (!q)
            return; /* the time stays in memory; a later use queues it again */
        ix->touch_queue = q;
        ix->touch_cap = cap;
    }
    memcpy(ix->touch_queue[ix->touch_len++], hash, STORE_HASH_LEN);
}

static void queue_touch(struct keyindex *ix, const uint8_t *hash)
{
    pthread_mutex_lock(&ix->touch_lock);
    queue_touch_locked(ix, hash);
    pthread_mutex_unlock(&ix->touch_lock);
}

/* 1 when the entry's latest address is a (no lock: a read torn by a concurrent rewrite
 * answers 0, and the caller then checks again under touch_lock). */
static int from_is(const struct key_entry *e, const struct netaddr *a)
{
    unsigned seq = atomic_load_explicit(&e->from_seq, memory_order_acquire);
    if (seq == 0 || (seq & 1))
        return 0;
    uint64_t w[2];
    memcpy(w, a->bytes, sizeof w);
    int same = atomic_load_explicit(&e->from_w[0], memory_order_relaxed) == w[0] &&
               atomic_load_explicit(&e->from_w[1], memory_order_relaxed) == w[1] &&
               atomic_load_explicit(&e->from_v6, memory_order_relaxed) == a->v6;
    atomic_thread_fence(memory_order_acquire);
    return same && atomic_load_explicit(&e->from_seq, memory_order_relaxed) == seq;
}

/* The entry's latest address into out; 0 when it has none. touch_lock is held. */
static int from_get(const struct key_entry *e, struct netaddr *out)
{
    if (atomic_load(&e->from_seq) == 0)
        return 0;
    uint64_t w[2] = {atomic_load(&e->from_w[0]), atomic_load(&e->from_w[1])};
    memcpy(out->bytes, w, sizeof w);
    out->v6 = atomic_load(&e->from_v6);
    return 1;
}

/* A use from an address other than the entry's latest: under touch_lock, the address it
 * moves away from is kept as a sighting (with prev, its last time), the new one becomes the
 * entry's, and the key is queued for the writer. queued: the caller's lookup already set
 * dirty (the hash must be queued here). */
static void record_move(struct keyindex *ix, const uint8_t *hash, const struct netaddr *from,
                        int64_t prev, int queued)
{
    pthread_mutex_lock(&ix->touch_lock);
    pthread_rwlock_rdlock(&ix->lock);
    struct key_entry *entry = ix->slots[find_slot(ix, hash)];
    if (entry && !from_is(entry, from)) {
        if (prev > 0 && ix->sightings_len < SIGHTINGS_MAX) {
            if (!ix->sightings)
                ix->sightings = malloc(SIGHTINGS_MAX * sizeof *ix->sightings);
            struct sighting *s = ix->sightings ? &ix->sightings[ix->sightings_len] : NULL;
            if (s && from_get(entry, &s->addr)) {
                memcpy(s->hash, hash, STORE_HASH_LEN);
                s->at = prev;
                ix->sightings_len++;
            }
        }
        unsigned seq = atomic_load(&entry->from_seq);
        atomic_store_explicit(&entry->from_seq, seq | 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release); /* odd before any word changes */
        uint64_t w[2];
        memcpy(w, from->bytes, sizeof w);
        atomic_store_explicit(&entry->from_w[0], w[0], memory_order_relaxed);
        atomic_store_explicit(&entry->from_w[1], w[1], memory_order_relaxed);
        atomic_store_explicit(&entry->from_v6, from->v6, memory_order_relaxed);
        atomic_store_explicit(&entry->from_seq, (seq | 1) + 1, memory_order_release);
        if (atomic_exchange(&entry->dirty, 1) == 0)
            queued = 1;
    }
    if (queued)
        queue_touch_locked(ix, hash);
    pthread_rwlock_unlock(&ix->lock);
    pthread_mutex_unlock(&ix->touch_lock);
}

static void view_of_entry(const struct key_entry *e, struct keyindex_view *out)
{
    memcpy(out->id, e->id, sizeof out->id);
    memcpy(out->owner_type, e->owner->type, sizeof out->owner_type);
    memcpy(out->owner_id, e->owner->id, sizeof out->owner_id);
    memcpy(out->created_by, e->creator->id, sizeof out->created_by);
    out->scopes = e->scopes;
    out->expires_at = e->expires_at;
    out->disabled = atomic_load_explicit(&e->owner->disabled, memory_order_relaxed) ||
                    atomic_load_explicit(&e->creator->disabled, memory_order_relaxed);
}

int keyindex_lookup(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN], int64_t touch_at,
                    const struct netaddr *from, struct keyindex_view *out)
{
    int found = 0, queue = 0, moved = 0;
    int64_t prev = 0;
    pthread_rwlock_rdlock(&ix->lock);
    struct key_entry *entry = ix->slots[find_slot(ix, hash)];
    if (entry) {
        found = 1;
        view_of_entry(entry, out);
        if (touch_at > 0) {
            prev = atomic_load_explicit(&entry->last_used, memory_order_relaxed);
            if (prev < touch_at) {
                atomic_store_explicit(&entry->last_used, touch_at, memory_order_relaxed);
                queue = atomic_exchange(&entry->dirty, 1) == 0;
            }
            moved = from && !from_is(entry, from);
        }
    }
    pthread_rwlock_unlock(&ix->lock);
    if (moved)
        record_move(ix, hash, from, prev, queue);
    else if (queue)
        queue_touch(ix, hash);
    return found;
}

size_t keyindex_drain_touches(struct keyindex *ix, struct key_touch *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&ix->touch_lock);
    pthread_rwlock_rdlock(&ix->lock);
    /* first the addresses keys moved away from, in the order they were left (older than
     * what the queue below holds) */
    size_t left = ix->sightings_len < max ? ix->sightings_len : max;
    for (; n < left; n++) {
        const struct sighting *s = &ix->sightings[n];
        memcpy(out[n].hash, s->hash, STORE_HASH_LEN);
        out[n].last_used_at = s->at;
        netaddr_format(&s->addr, out[n].from);
    }
    if (left) {
        ix->sightings_len -= left;
        memmove(ix->sightings, ix->sightings + left, ix->sightings_len * sizeof *ix->sightings);
    }
    size_t take = ix->touch_len < max - n ? ix->touch_len : max - n;
    for (size_t i = 0; i < take; i++) {
        const uint8_t *hash = ix->touch_queue[ix->touch_len - 1 - i];
        struct key_entry *entry = ix->slots[find_slot(ix, hash)];
        if (!entry)
            continue; /* deleted since */
        atomic_store(&entry->dirty, 0);
        memcpy(out[n].hash, hash, STORE_HASH_LEN);
        out[n].last_used_at = atomic_load(&entry->last_used);
        struct netaddr a;
        if (from_get(entry, &a))
            netaddr_format(&a, out[n].from);
        else
            out[n].from[0] = '\0';
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

void keyindex_clear(struct keyindex *ix)
{
    pthread_rwlock_wrlock(&ix->lock);
    for (size_t i = 0; i < ix->cap; i++) {
        free(ix->slots[i]);
        ix->slots[i] = NULL;
    }
    ix->count = 0;
    for (size_t i = 0; i < ix->names_cap; i++) {
        for (struct name_rec *n = ix->names[i], *next; n; n = next) {
            next = n->next_in_bucket;
            free(n);
        }
        ix->names[i] = NULL;
    }
    ix->names_count = 0;
    pthread_rwlock_unlock(&ix->lock);
}

/* peercount.c — see peercount.h. Open addressing with linear probing; an entry whose count
 * falls to zero is removed by shifting later entries of its chain back (no tombstones, so
 * chains stay short however many clients come and go). The table has at least twice as many
 * slots as connections can exist, so it never fills. */
#include "peercount.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct peer_slot {
    struct netaddr key; /* the address, IPv6 cut to its /64 */
    unsigned count;     /* 0: the slot is empty */
    size_t home;        /* where the key's chain starts */
};

struct peercount {
    pthread_mutex_t lock;
    size_t mask;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    struct peer_slot slots[];
};

struct peercount *peercount_new(unsigned max_conns)
{
    size_t n = 16;
    while (n < (size_t)max_conns * 2 + 16)
        n <<= 1;
    struct peercount *pc = calloc(1, sizeof *pc + n * sizeof(struct peer_slot));
    if (!pc)
        return NULL;
    pthread_mutex_init(&pc->lock, NULL);
    pc->mask = n - 1;
    crypto_shorthash_keygen(pc->hash_key);
    return pc;
}

void peercount_free(struct peercount *pc)
{
    if (!pc)
        return;
    pthread_mutex_destroy(&pc->lock);
    free(pc);
}

static struct netaddr key_of(const struct netaddr *a)
{
    struct netaddr k = *a;
    if (k.v6)
        memset(k.bytes + 8, 0, 8); /* one subscriber's /64 */
    return k;
}

static size_t home_of(const struct peercount *pc, const struct netaddr *k)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)k, sizeof *k, pc->hash_key);
    size_t i;
    memcpy(&i, h, sizeof i);
    return i & pc->mask;
}

/* The slot holding k, or with create the empty one that ends its chain. */
static struct peer_slot *find(struct peercount *pc, const struct netaddr *k, int create)
{
    size_t home = home_of(pc, k);
    for (size_t probe = 0; probe <= pc->mask; probe++) {
        struct peer_slot *s = &pc->slots[(home + probe) & pc->mask];
        if (s->count == 0) {
            if (!create)
                return NULL;
            s->key = *k;
            s->home = home;
            return s;
        }
        if (memcmp(&s->key, k, sizeof *k) == 0)
            return s;
    }
    return NULL;
}

/* Empties slot i, moving back later entries of the run that would no longer be found. */
static void remove_at(struct peercount *pc, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & pc->mask;
        struct peer_slot *s = &pc->slots[j];
        if (s->count == 0)
            break;
        /* s may fill the hole at i when its home is not inside (i, j] (cyclically) */
        size_t dist_home = (j - s->home) & pc->mask, dist_hole = (j - i) & pc->mask;
        if (dist_home >= dist_hole) {
            pc->slots[i] = *s;
            i = j;
        }
    }
    memset(&pc->slots[i], 0, sizeof pc->slots[i]);
}

int peercount_acquire(struct peercount *pc, const struct netaddr *a, unsigned max)
{
    struct netaddr k = key_of(a);
    pthread_mutex_lock(&pc->lock);
    struct peer_slot *s = max > 0 ? find(pc, &k, 1) : NULL;
    int ok = s && s->count < max;
    if (ok)
        s->count++;
    pthread_mutex_unlock(&pc->lock);
    return ok;
}

void peercount_release(struct peercount *pc, const struct netaddr *a)
{
    struct netaddr k = key_of(a);
    pthread_mutex_lock(&pc->lock);
    struct peer_slot *s = find(pc, &k, 0);
    if (s && --s->count == 0)
        remove_at(pc, (size_t)(s - pc->slots));
    pthread_mutex_unlock(&pc->lock);
}

/* keyindex.h — the in-memory index that answers verification without the store.
 * Keyed by the SHA-256 of a key; holds what verify needs. A readers-writer lock lets many
 * verifications run at once; create, delete and disable take the write lock briefly.
 * Owners are shared records: disabling an owner is one flag that every key of theirs sees at
 * once, and removing an owner's keys walks only that owner's list.
 * last_used times and the latest client address are recorded in the entry (atomics, under
 * the read lock) and handed to the usage writer through a queue of dirty hashes. */
#ifndef APIKEYD_KEYINDEX_H
#define APIKEYD_KEYINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/netaddr.h"
#include "../store/store.h"

struct keyindex;

/* What verify needs of one key: a copy made under the lock. */
struct keyindex_view {
    char id[STORE_ID_LEN + 1];
    char owner_type[24];
    char owner_id[STORE_NAME_MAX + 1];
    char created_by[STORE_NAME_MAX + 1];
    uint64_t scopes; /* bit i = catalogue scope i */
    int64_t expires_at;
    int disabled; /* the owner is disabled (ignored by keyindex_put) */
};

/* Makes an empty index. Returns NULL when out of memory. */
struct keyindex *keyindex_new(void);
/* Frees the index and all entries. */
void keyindex_free(struct keyindex *ix);

/* Adds or replaces the entry for hash. ERR_NOMEM on allocation failure. */
enum err keyindex_put(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN],
                      const struct keyindex_view *v);
/* Changes the expiry of the entry for hash in place (no allocation, so it cannot fail); no-op
 * when absent. */
void keyindex_set_expiry(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN],
                         int64_t expires_at);
/* Removes the entry for hash; no-op when absent. */
void keyindex_remove(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN]);

/* Marks every key of the owner (present and future) disabled or enabled again. */
enum err keyindex_set_owner_disabled(struct keyindex *ix, const char *owner_type,
                                     const char *owner_id, int disabled);

/* Removes every key of the owner; returns how many. */
size_t keyindex_remove_owner(struct keyindex *ix, const char *owner_type, const char *owner_id);

/* Looks hash up. When found copies it into *out, and when touch_at > 0 records it as the
 * last use (queued for the store when it changed), from the client address from (NULL: not
 * known). The entry keeps its latest address: a use from the same one costs no lock; one from
 * another takes touch_lock once, keeps the address moved away from (with its last time) for
 * the writer and queues the key. Returns 1 when found, 0 otherwise. */
int keyindex_lookup(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN], int64_t touch_at,
                    const struct netaddr *from, struct keyindex_view *out);

/* Moves up to max queued last-use records into out (each with the key's latest address, and
 * one record for each address a key moved away from) and returns how many. */
size_t keyindex_drain_touches(struct keyindex *ix, struct key_touch *out, size_t max);

/* Removes every key and every owner flag (before a full reload). */
void keyindex_clear(struct keyindex *ix);

/* Number of keys held. */
size_t keyindex_count(struct keyindex *ix);

#endif

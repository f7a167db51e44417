/* keys_gone.h — the keys a bulk delete removed (an owner's deletion, a token family's
 * revocation, retention): collected while the store deletes them, each audited `key.delete`
 * in the same transaction with its name and owner (so its `key.deleted` webhook event names
 * the key although its row is gone), then dropped from the index. */
#ifndef APIKEYD_KEYS_GONE_H
#define APIKEYD_KEYS_GONE_H

#include "core.h"

struct keys_gone {
    struct key_record *keys; /* id, hash, name, owner and expiry filled */
    size_t n, cap;
    int nomem; /* a key could not be kept: the caller must refuse the whole change */
};

/* store_key_cb for the store's bulk deletes: keeps a copy of k in ctx (struct keys_gone). */
int keys_gone_add(void *ctx, const struct key_record *k);

/* The key.delete record of g->keys[i], by who (a caller) or else by actor from client, its
 * detail "NAME (owner TYPE:ID); why", the key's name and owner set for its webhook event. */
void keys_gone_record(const struct keys_gone *g, size_t i, const struct caller *who,
                      const char *actor, const char *client, const char *why,
                      struct audit_record *out);

/* Appends the key.delete records of g->keys[from..g->n) inside the open audited section;
 * ERR_NOMEM when the collection was cut short (nothing may then be kept). */
enum err keys_gone_audit(struct core *c, const struct keys_gone *g, size_t from,
                         const struct caller *who, const char *actor, const char *client,
                         const char *why);

/* Drops every collected key from this node's index (other nodes: the feed). */
void keys_gone_unindex(struct core *c, const struct keys_gone *g);

void keys_gone_free(struct keys_gone *g);

#endif

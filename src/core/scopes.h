/* scopes.h — the scope catalogue ("API sets") held in memory, each scope a bit position.
 * Bit i is the i-th scope in catalogue order; order never changes, so bits stay stable.
 * At most SCOPES_MAX scopes exist. Loaded from the store at start, extended by scopes_add. */
#ifndef APIKEYD_SCOPES_H
#define APIKEYD_SCOPES_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../store/store.h"

#define SCOPES_MAX 64

struct scopes;

/* Loads the catalogue from the store. Sets *out on success; free with scopes_free. */
enum err scopes_load(struct store *st, struct scopes **out);
void scopes_free(struct scopes *sc);

/* Reads the catalogue again (scopes added by another node). Positions only grow, so the bits
 * of known scopes do not change. */
enum err scopes_reload(struct scopes *sc, struct store *st);

/* Bit index of the scope called name, or -1 when the catalogue has no such scope. */
int scopes_bit(struct scopes *sc, const char *name);

/* Parses a comma-separated list of names into a mask. Unknown names are skipped. */
uint64_t scopes_mask_from_csv(struct scopes *sc, const char *csv);

/* Writes the names of mask's scopes, joined by sep, into out (cap bytes, NUL-terminated). */
void scopes_mask_to_text(struct scopes *sc, uint64_t mask, const char *sep, char *out, size_t cap);

/* Calls cb for each scope in order with its name and description; stops when cb returns
 * nonzero. The catalogue is read-locked during the walk: cb must not call scopes_add. */
void scopes_each(struct scopes *sc, int (*cb)(void *ctx, const char *name, const char *desc),
                 void *ctx);

/* 1 when name is 1..64 characters of A-Z a-z 0-9 _ . : - */
int scopes_name_valid(const char *name);

/* 1 when desc is at most 1000 characters with no control characters but tab and newline. */
int scopes_description_valid(const char *desc);

/* Adds a scope to the store and the catalogue: ERR_CONFLICT if it exists, ERR_LIMIT when the
 * catalogue is full, ERR_INVALID for a bad name or description. */
enum err scopes_add(struct scopes *sc, struct store *st, const char *name, const char *desc);

/* scopes_add whose store write and audit record a are one transaction (an audited section,
 * store_ops.audited_begin): when a cannot be stored, neither the store nor the catalogue
 * gets the scope. */
enum err scopes_add_audited(struct scopes *sc, struct store *st, const char *name,
                            const char *desc, const struct audit_record *a);

#endif

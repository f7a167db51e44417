/* strmap.h — a small chained hash map from strings (copied) to pointers (not owned).
 * Not thread-safe: callers hold their own lock. */
#ifndef APIKEYD_STRMAP_H
#define APIKEYD_STRMAP_H

#include <stddef.h>

struct strmap;

/* An empty map; NULL when out of memory. */
struct strmap *strmap_new(void);
/* Frees the map and its key copies; values are the caller's. */
void strmap_free(struct strmap *m);

/* Sets key to value (replacing). Returns 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, void *value);
/* The value of key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Removes key; returns its value (or NULL). */
void *strmap_remove(struct strmap *m, const char *key);
/* Calls fn for every entry; fn must not change the map. */
void strmap_each(const struct strmap *m, void (*fn)(void *ctx, const char *key, void *value),
                 void *ctx);
/* Number of entries. */
size_t strmap_count(const struct strmap *m);

#endif

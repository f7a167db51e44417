/* strmap.c — see strmap.h. FNV-1a hashing, power-of-two buckets, doubling at load 1. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_entry {
    struct strmap_entry *next;
    void *value;
    char key[]; /* NUL-terminated copy */
};

struct strmap {
    struct strmap_entry **buckets;
    size_t cap, count;
};

static size_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 64;
    m->buckets = calloc(m->cap, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        for (struct strmap_entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(m->buckets);
    free(m);
}

static struct strmap_entry **find(const struct strmap *m, const char *key)
{
    struct strmap_entry **link = &m->buckets[hash_of(key) & (m->cap - 1)];
    while (*link && strcmp((*link)->key, key) != 0)
        link = &(*link)->next;
    return link;
}

static void grow(struct strmap *m)
{
    size_t cap = m->cap * 2;
    struct strmap_entry **b = calloc(cap, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < m->cap; i++)
        for (struct strmap_entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t j = hash_of(e->key) & (cap - 1);
            e->next = b[j];
            b[j] = e;
        }
    free(m->buckets);
    m->buckets = b;
    m->cap = cap;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
    struct strmap_entry **link = find(m, key);
    if (*link) {
        (*link)->value = value;
        return 0;
    }
    size_t len = strlen(key);
    struct strmap_entry *e = malloc(sizeof *e + len + 1);
    if (!e)
        return -1;
    memcpy(e->key, key, len + 1);
    e->value = value;
    e->next = NULL;
    *link = e;
    if (++m->count > m->cap)
        grow(m);
    return 0;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_entry *e = *find(m, key);
    return e ? e->value : NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct strmap_entry **link = find(m, key);
    struct strmap_entry *e = *link;
    if (!e)
        return NULL;
    void *value = e->value;
    *link = e->next;
    free(e);
    m->count--;
    return value;
}

void strmap_each(const struct strmap *m, void (*fn)(void *ctx, const char *key, void *value),
                 void *ctx)
{
    for (size_t i = 0; i < m->cap; i++)
        for (struct strmap_entry *e = m->buckets[i]; e; e = e->next)
            fn(ctx, e->key, e->value);
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

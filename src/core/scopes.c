/* scopes.c — see scopes.h. */
#include "scopes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"

struct scopes {
    pthread_rwlock_t lock;
    size_t count;
    struct scope_record items[SCOPES_MAX];
};

static int load_one(void *ctx, const struct scope_record *r)
{
    struct scopes *sc = ctx;
    if (sc->count >= SCOPES_MAX)
        return 1;
    sc->items[sc->count++] = *r;
    return 0;
}

enum err scopes_load(struct store *st, struct scopes **out)
{
    struct scopes *sc = calloc(1, sizeof *sc);
    if (!sc)
        return ERR_NOMEM;
    pthread_rwlock_init(&sc->lock, NULL);
    enum err e = st->ops->scope_each(st, load_one, sc);
    if (e) {
        scopes_free(sc);
        return e;
    }
    *out = sc;
    return ERR_OK;
}

enum err scopes_reload(struct scopes *sc, struct store *st)
{
    struct scopes *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return ERR_NOMEM;
    enum err e = st->ops->scope_each(st, load_one, fresh);
    if (!e) {
        pthread_rwlock_wrlock(&sc->lock);
        memcpy(sc->items, fresh->items, sizeof sc->items);
        sc->count = fresh->count;
        pthread_rwlock_unlock(&sc->lock);
    }
    free(fresh);
    return e;
}

void scopes_free(struct scopes *sc)
{
    if (!sc)
        return;
    pthread_rwlock_destroy(&sc->lock);
    free(sc);
}

static int find_locked(struct scopes *sc, const char *name)
{
    for (size_t i = 0; i < sc->count; i++)
        if (strcmp(sc->items[i].name, name) == 0)
            return (int)i;
    return -1;
}

int scopes_bit(struct scopes *sc, const char *name)
{
    pthread_rwlock_rdlock(&sc->lock);
    int bit = find_locked(sc, name);
    pthread_rwlock_unlock(&sc->lock);
    return bit;
}

uint64_t scopes_mask_from_csv(struct scopes *sc, const char *csv)
{
    uint64_t mask = 0;
    char name[STORE_NAME_MAX + 1];
    pthread_rwlock_rdlock(&sc->lock);
    while (*csv) {
        size_t len = strcspn(csv, ",");
        if (len > 0 && len <= STORE_NAME_MAX) {
            memcpy(name, csv, len);
            name[len] = '\0';
            int bit = find_locked(sc, name);
            if (bit >= 0)
                mask |= UINT64_C(1) << bit;
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
    pthread_rwlock_unlock(&sc->lock);
    return mask;
}

void scopes_mask_to_text(struct scopes *sc, uint64_t mask, const char *sep, char *out, size_t cap)
{
    size_t used = 0, sep_len = strlen(sep);
    out[0] = '\0';
    pthread_rwlock_rdlock(&sc->lock);
    for (size_t i = 0; i < sc->count; i++) {
        if (!(mask & (UINT64_C(1) << i)))
            continue;
        size_t len = strlen(sc->items[i].name), lead = used ? sep_len : 0;
        if (used + lead + len >= cap) /* whole names only */
            break;
        memcpy(out + used, sep, lead);
        memcpy(out + used + lead, sc->items[i].name, len);
        used += lead + len;
        out[used] = '\0';
    }
    pthread_rwlock_unlock(&sc->lock);
}

void scopes_each(struct scopes *sc, int (*cb)(void *ctx, const char *name, const char *desc),
                 void *ctx)
{
    pthread_rwlock_rdlock(&sc->lock);
    for (size_t i = 0; i < sc->count; i++)
        if (cb(ctx, sc->items[i].name, sc->items[i].description))
            break;
    pthread_rwlock_unlock(&sc->lock);
}

int scopes_name_valid(const char *name)
{
    return text_is_token(name, "_.:-", STORE_NAME_MAX);
}

int scopes_description_valid(const char *desc)
{
    return strlen(desc) <= STORE_DESCRIPTION_BYTES && text_codepoints(desc) <= 1000 &&
           !text_has_control(desc, 1);
}

enum err scopes_add(struct scopes *sc, struct store *st, const char *name, const char *desc)
{
    return scopes_add_audited(sc, st, name, desc, NULL);
}

enum err scopes_add_audited(struct scopes *sc, struct store *st, const char *name,
                            const char *desc, const struct audit_record *a)
{
    if (!scopes_name_valid(name) || !scopes_description_valid(desc))
        return ERR_INVALID;
    struct scope_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.description, sizeof r.description, "%s", desc);
    /* the write lock spans the store write so catalogue order equals store order */
    pthread_rwlock_wrlock(&sc->lock);
    enum err e;
    if (find_locked(sc, name) >= 0)
        e = ERR_CONFLICT;
    else if (sc->count >= SCOPES_MAX)
        e = ERR_LIMIT;
    else if (!a)
        e = st->ops->scope_create(st, &r, SCOPES_MAX);
    else if ((e = st->ops->audited_begin(st)) == ERR_OK) /* lock order: catalogue, store */
        e = st->ops->audited_end(st, st->ops->scope_create(st, &r, SCOPES_MAX), a);
    if (e == ERR_OK)
        sc->items[sc->count++] = r;
    pthread_rwlock_unlock(&sc->lock);
    return e;
}

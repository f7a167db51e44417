/* access.c — see access.h. Two string maps under one rwlock: project id -> parent id (a
 * malloc'd copy, "" at the top) and "project|principal" -> role. */
#include "access.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/strmap.h"

#define ACCESS_MAX_DEPTH 16 /* guards the walk; projects are limited to 8 levels */

struct access {
    pthread_rwlock_t lock;
    struct strmap *parents;
    struct strmap *roles;
};

enum project_role project_role_parse(const char *name)
{
    if (!name)
        return ROLE_NONE;
    if (strcmp(name, "reader") == 0)
        return ROLE_READER;
    if (strcmp(name, "contributor") == 0)
        return ROLE_CONTRIBUTOR;
    if (strcmp(name, "owner") == 0)
        return ROLE_OWNER;
    return ROLE_NONE;
}

const char *project_role_name(enum project_role role)
{
    static const char *const names[] = {"", "reader", "contributor", "owner"};
    return (unsigned)role < 4 ? names[role] : "";
}

static void member_key(char *out, size_t cap, const char *project_id, const char *principal)
{
    snprintf(out, cap, "%s|%s", project_id, principal);
}

static int load_project(void *ctx, const struct project_record *p)
{
    return access_add_project(ctx, p->id, p->parent) != ERR_OK;
}

static int load_member(void *ctx, const char *project_id, const char *principal,
                       const char *role)
{
    return access_set(ctx, project_id, principal, project_role_parse(role)) != ERR_OK;
}

enum err access_load(struct store *st, struct access **out)
{
    struct access *a = calloc(1, sizeof *a);
    if (!a)
        return ERR_NOMEM;
    pthread_rwlock_init(&a->lock, NULL);
    a->parents = strmap_new();
    a->roles = strmap_new();
    enum err e = (!a->parents || !a->roles) ? ERR_NOMEM : ERR_OK;
    if (!e)
        e = st->ops->project_each(st, load_project, a);
    if (!e)
        e = st->ops->member_each(st, NULL, load_member, a);
    if (e) {
        access_free(a);
        return e;
    }
    *out = a;
    return ERR_OK;
}

static void free_value(void *ctx, const char *key, void *value)
{
    (void)ctx, (void)key;
    free(value);
}

void access_free(struct access *a)
{
    if (!a)
        return;
    if (a->parents) {
        strmap_each(a->parents, free_value, NULL);
        strmap_free(a->parents);
    }
    strmap_free(a->roles);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

enum err access_reload(struct access *a, struct store *st)
{
    struct access *fresh = NULL;
    enum err e = access_load(st, &fresh);
    if (e)
        return e;
    pthread_rwlock_wrlock(&a->lock);
    struct strmap *old_parents = a->parents, *old_roles = a->roles;
    a->parents = fresh->parents;
    a->roles = fresh->roles;
    fresh->parents = old_parents;
    fresh->roles = old_roles;
    pthread_rwlock_unlock(&a->lock);
    access_free(fresh);
    return ERR_OK;
}

enum project_role access_role(struct access *a, const char *project_id, const char *principal,
                              char from[STORE_ID_LEN + 1])
{
    enum project_role best = ROLE_NONE;
    char key[STORE_ID_LEN + STORE_PRINCIPAL_MAX + 4];
    char id[STORE_ID_LEN + 1];
    snprintf(id, sizeof id, "%s", project_id);
    if (from)
        from[0] = '\0';
    pthread_rwlock_rdlock(&a->lock);
    for (int depth = 0; depth < ACCESS_MAX_DEPTH && id[0]; depth++) {
        const char *parent = strmap_get(a->parents, id);
        if (!parent)
            break; /* unknown project */
        member_key(key, sizeof key, id, principal);
        enum project_role r = (enum project_role)(intptr_t)strmap_get(a->roles, key);
        if (r > best) {
            best = r;
            if (from)
                snprintf(from, STORE_ID_LEN + 1, "%s", id);
        }
        snprintf(id, sizeof id, "%s", parent);
    }
    pthread_rwlock_unlock(&a->lock);
    return best;
}

enum err access_add_project(struct access *a, const char *id, const char *parent)
{
    char *copy = strdup(parent ? parent : "");
    if (!copy)
        return ERR_NOMEM;
    pthread_rwlock_wrlock(&a->lock);
    free(strmap_get(a->parents, id));
    int rc = strmap_put(a->parents, id, copy);
    pthread_rwlock_unlock(&a->lock);
    if (rc) {
        free(copy);
        return ERR_NOMEM;
    }
    return ERR_OK;
}

struct prefix_walk {
    const char *prefix;
    size_t len;
    char (*keys)[STORE_ID_LEN + STORE_PRINCIPAL_MAX + 4];
    size_t n, cap;
};

static void collect_prefixed(void *ctx, const char *key, void *value)
{
    (void)value;
    struct prefix_walk *w = ctx;
    if (strncmp(key, w->prefix, w->len) != 0 || w->n >= w->cap)
        return;
    snprintf(w->keys[w->n++], sizeof w->keys[0], "%s", key);
}

static void collect_suffixed(void *ctx, const char *key, void *value)
{
    (void)value;
    struct prefix_walk *w = ctx;
    size_t klen = strlen(key);
    if (klen < w->len || strcmp(key + klen - w->len, w->prefix) != 0 || w->n >= w->cap)
        return;
    snprintf(w->keys[w->n++], sizeof w->keys[0], "%s", key);
}

/* Removes every role key selected by collect. Caller holds the write lock. */
static void remove_matching(struct access *a, void (*collect)(void *, const char *, void *),
                            const char *pattern)
{
    struct prefix_walk w = {pattern, strlen(pattern), NULL, 0, strmap_count(a->roles)};
    if (w.cap == 0)
        return;
    w.keys = malloc(w.cap * sizeof *w.keys);
    if (!w.keys)
        return;
    strmap_each(a->roles, collect, &w);
    for (size_t i = 0; i < w.n; i++)
        strmap_remove(a->roles, w.keys[i]);
    free(w.keys);
}

void access_remove_project(struct access *a, const char *id)
{
    char prefix[STORE_ID_LEN + 2];
    snprintf(prefix, sizeof prefix, "%s|", id);
    pthread_rwlock_wrlock(&a->lock);
    free(strmap_remove(a->parents, id));
    remove_matching(a, collect_prefixed, prefix);
    pthread_rwlock_unlock(&a->lock);
}

enum err access_set(struct access *a, const char *project_id, const char *principal,
                    enum project_role role)
{
    char key[STORE_ID_LEN + STORE_PRINCIPAL_MAX + 4];
    member_key(key, sizeof key, project_id, principal);
    enum err e = ERR_OK;
    pthread_rwlock_wrlock(&a->lock);
    if (role == ROLE_NONE)
        strmap_remove(a->roles, key);
    else if (strmap_put(a->roles, key, (void *)(intptr_t)role) != 0)
        e = ERR_NOMEM;
    pthread_rwlock_unlock(&a->lock);
    return e;
}

void access_forget_principal(struct access *a, const char *principal)
{
    char suffix[STORE_PRINCIPAL_MAX + 2];
    snprintf(suffix, sizeof suffix, "|%s", principal);
    pthread_rwlock_wrlock(&a->lock);
    remove_matching(a, collect_suffixed, suffix);
    pthread_rwlock_unlock(&a->lock);
}

int access_project_exists(struct access *a, const char *id, int *depth)
{
    int found = 0, d = 0;
    char cur[STORE_ID_LEN + 1];
    snprintf(cur, sizeof cur, "%s", id);
    pthread_rwlock_rdlock(&a->lock);
    const char *parent = strmap_get(a->parents, cur);
    found = parent != NULL;
    while (parent && d < ACCESS_MAX_DEPTH) {
        d++;
        if (!parent[0])
            break;
        snprintf(cur, sizeof cur, "%s", parent);
        parent = strmap_get(a->parents, cur);
    }
    pthread_rwlock_unlock(&a->lock);
    if (depth)
        *depth = d;
    return found;
}

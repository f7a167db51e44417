/* ldap_sync.c — see ldap_sync.h. */
#include "ldap_sync.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "directory.h"
#include "ldap_login.h"
#include "users.h"

struct ldap_sync {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic int stop;
};

/* The names of the enabled directory users, read before the directory is asked. */
struct names {
    char (*name)[STORE_NAME_MAX + 1];
    size_t count, cap;
};

static int collect(void *ctx, const struct user_record *u)
{
    struct names *n = ctx;
    if (u->disabled || strcmp(u->auth_source, "ldap") != 0)
        return 0;
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 64;
        void *grown = realloc(n->name, cap * sizeof *n->name);
        if (!grown)
            return 1;
        n->name = grown;
        n->cap = cap;
    }
    memcpy(n->name[n->count++], u->username, sizeof n->name[0]);
    return 0;
}

/* Disables username as the sync (actor "(ldap-sync)", which no username can be). */
static int disable(struct core *c, const char *username, const char *why)
{
    struct caller sync = {.kind = CALLER_SESSION,
                          .authorities = (1u << AUTHORITY_COUNT) - 1,
                          .holds_admin = 1};
    snprintf(sync.username, sizeof sync.username, "%s", LDAP_SYNC_ACTOR);
    struct user_patch p = {.disabled = 1};
    struct field_errors fe = {0};
    struct user_record *rec = malloc(sizeof *rec);
    if (!rec)
        return 0;
    enum err e = users_update(c, &sync, username, &p, &fe, rec);
    free(rec);
    if (e == ERR_CONFLICT) {
        log_warn("ldap sync: %s is %s in the directory but stays enabled: the last enabled admin",
                 username, why);
        return 0;
    }
    if (e) {
        log_warn("ldap sync: could not disable %s (%s): %s", username, why, err_title(e));
        return 0;
    }
    log_info("ldap sync: disabled %s (%s in the directory)", username, why);
    return 1;
}

/* Brings username's profile and roles up to what the directory says now (du); disables them
 * when du is another entry than the one their account belongs to. 1 when disabled. */
static int refresh(struct core *c, const char *username, const struct directory_user *du)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return 0;
    enum err e = c->store->ops->user_get(c->store, username, u);
    if (!e && !u->disabled && strcmp(u->auth_source, "ldap") == 0)
        e = ldap_user_refresh(c, u, du, "(ldap-sync)", "");
    sodium_memzero(u, sizeof *u);
    free(u);
    if (e == ERR_LOGIN_FAILED)
        return disable(c, username, "replaced by another entry");
    if (e && e != ERR_NOT_FOUND)
        log_warn("ldap sync: could not bring %s up to date: %s", username, err_title(e));
    return 0;
}

int ldap_sync_round(struct core *c)
{
    if (!c->directory)
        return 0;
    struct names n = {0};
    if (c->store->ops->user_each(c->store, collect, &n) != ERR_OK) {
        free(n.name);
        return -1;
    }
    int disabled = 0;
    struct directory_conn *conn = NULL;
    if (n.count > 0 && directory_connect(c->directory, &conn) != ERR_OK) {
        free(n.name);
        return -1;
    }
    struct directory_user *du = malloc(sizeof *du);
    for (size_t i = 0; du && i < n.count; i++) {
        if (c->ldap_sync && atomic_load(&c->ldap_sync->stop))
            break;
        enum err e = directory_lookup(conn, n.name[i], du);
        if (e == ERR_NOT_FOUND)
            disabled += disable(c, n.name[i], "gone");
        else if (e == ERR_OK && du->disabled)
            disabled += disable(c, n.name[i], "disabled");
        else if (e == ERR_OK)
            disabled += refresh(c, n.name[i], du);
        else if (e == ERR_DIRECTORY_UNAVAILABLE) { /* the rest of the round waits */
            disabled = disabled ? disabled : -1;
            break;
        }
    }
    directory_disconnect(conn);
    free(du);
    free(n.name);
    return disabled;
}

static void *sync_main(void *arg)
{
    struct core *c = arg;
    struct ldap_sync *s = c->ldap_sync;
    int every = directory_sync_seconds(c->directory);
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stop)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += every;
        while (!atomic_load(&s->stop) &&
               pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
            ;
        if (atomic_load(&s->stop))
            break;
        pthread_mutex_unlock(&s->lock);
        ldap_sync_round(c);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

enum err ldap_sync_start(struct core *c)
{
    if (!c->directory || directory_sync_seconds(c->directory) <= 0)
        return ERR_OK;
    struct ldap_sync *s = calloc(1, sizeof *s);
    if (!s)
        return ERR_NOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    c->ldap_sync = s;
    if (pthread_create(&s->thread, NULL, sync_main, c) != 0) {
        c->ldap_sync = NULL;
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

void ldap_sync_stop(struct core *c)
{
    struct ldap_sync *s = c->ldap_sync;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, 1);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
    c->ldap_sync = NULL;
}

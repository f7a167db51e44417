/* sync.c — see sync.h. */
#include "sync.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "core_internal.h"

static int index_one(void *ctx, const struct key_record *k)
{
    struct core *c = ctx;
    struct keyindex_view v;
    core_view_of_record(c, k, &v);
    return keyindex_put(c->index, k->hash, &v) != ERR_OK;
}

static int mark_disabled_user(void *ctx, const struct user_record *u)
{
    struct core *c = ctx;
    if (u->disabled)
        return keyindex_set_owner_disabled(c->index, "user", u->username, 1) != ERR_OK;
    return 0;
}

static int mark_disabled_account(void *ctx, const struct account_record *a)
{
    struct core *c = ctx;
    if (a->disabled)
        return keyindex_set_owner_disabled(c->index, "service-account", a->id, 1) != ERR_OK;
    return 0;
}

enum err sync_load_all(struct core *c)
{
    struct store *st = c->store;
    enum err e = scopes_reload(c->scopes, st);
    if (!e)
        e = access_reload(c->access, st);
    if (!e) {
        keyindex_clear(c->index);
        e = st->ops->key_each_for_index(st, index_one, c);
    }
    if (!e)
        e = st->ops->user_each(st, mark_disabled_user, c);
    if (!e)
        e = st->ops->account_each(st, mark_disabled_account, c);
    return e;
}

/* ---- the feed ---- */

static void apply_key_added(struct core *c, const char *id)
{
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return;
    if (c->store->ops->key_get(c->store, id, k) == ERR_OK)
        index_one(c, k);
    free(k);
}

static void apply_key_removed(struct core *c, const char *hex)
{
    uint8_t hash[STORE_HASH_LEN];
    size_t len = 0;
    if (sodium_hex2bin(hash, sizeof hash, hex, strlen(hex), NULL, &len, NULL) == 0 &&
        len == sizeof hash)
        keyindex_remove(c->index, hash);
}

/* "TYPE:ID:FLAG" (flag NULL for a deleted owner). */
static void apply_owner(struct core *c, char *rest, int deleted)
{
    char *id = strchr(rest, ':');
    if (!id)
        return;
    *id++ = '\0';
    if (deleted) {
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "%s:%s", rest, id);
        keyindex_remove_owner(c->index, rest, id);
        keyindex_set_owner_disabled(c->index, rest, id, 0);
        access_forget_principal(c->access, principal);
        return;
    }
    char *flag = strrchr(id, ':');
    if (!flag)
        return;
    *flag++ = '\0';
    keyindex_set_owner_disabled(c->index, rest, id, strcmp(flag, "0") != 0);
}

/* "PROJECT:PRINCIPAL:ROLE" where PRINCIPAL holds a ':' itself. */
static void apply_member(struct core *c, char *rest)
{
    char *principal = strchr(rest, ':');
    char *role = strrchr(rest, ':');
    if (!principal || role == principal)
        return;
    *principal++ = '\0';
    *role++ = '\0';
    access_set(c->access, rest, principal, project_role_parse(role));
}

static void feed_event(void *ctx, const char *payload)
{
    struct core *c = ctx;
    char buf[256];
    if (strlen(payload) >= sizeof buf)
        return;
    snprintf(buf, sizeof buf, "%s", payload);
    char *colon = strchr(buf, ':');
    if (!colon)
        return;
    *colon = '\0';
    char *rest = colon + 1;
    if (strcmp(buf, "key+") == 0)
        apply_key_added(c, rest);
    else if (strcmp(buf, "key-") == 0)
        apply_key_removed(c, rest);
    else if (strcmp(buf, "owner") == 0)
        apply_owner(c, rest, 0);
    else if (strcmp(buf, "owner-") == 0)
        apply_owner(c, rest, 1);
    else if (strcmp(buf, "member") == 0)
        apply_member(c, rest);
    else if (strcmp(buf, "project+") == 0) {
        char *parent = strchr(rest, ':');
        if (parent) {
            *parent++ = '\0';
            access_add_project(c->access, rest, parent);
        }
    } else if (strcmp(buf, "project-") == 0)
        access_remove_project(c->access, rest);
    else if (strcmp(buf, "scope+") == 0)
        scopes_reload(c->scopes, c->store);
}

static int feed_connected(void *ctx)
{
    struct core *c = ctx;
    atomic_store(&c->view_loaded, 0); /* verification answers UNAVAILABLE meanwhile */
    enum err e = sync_load_all(c);
    if (e) {
        log_warn("sync: reload failed; retrying");
        return -1;
    }
    log_info("sync: view reloaded, %zu keys", keyindex_count(c->index));
    atomic_store(&c->view_loaded, 1);
    return 0;
}

static void feed_alive(void *ctx)
{
    struct core *c = ctx;
    atomic_store(&c->feed_alive_ms, time_monotonic_ms());
}

enum err sync_start(struct core *c, int wait_ms)
{
    if (!c->store->ops->watch) {
        enum err e = sync_load_all(c);
        if (!e)
            atomic_store(&c->view_loaded, 1);
        return e;
    }
    c->feed_required = 1;
    /* a quarter of stale_after_ms (at most a second): a round trip slower than the rest of
     * it is what it takes to count as stale, not any heartbeat's own latency */
    int beat = c->cfg.stale_after_ms / 4;
    struct store_feed_handler h = {feed_event, feed_connected, feed_alive, c,
                                   beat > 1000 ? 1000 : beat};
    enum err e = c->store->ops->watch(c->store, &h);
    if (e)
        return e;
    c->feed_started = 1;
    for (int waited = 0; waited < wait_ms && !atomic_load(&c->view_loaded); waited += 10) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (!atomic_load(&c->view_loaded))
        log_warn("sync: not yet in step with the store; verification answers UNAVAILABLE");
    return ERR_OK;
}

void sync_stop(struct core *c)
{
    if (c->feed_started)
        c->store->ops->unwatch(c->store);
    c->feed_started = 0;
}

int sync_view_stale(struct core *c)
{
    if (!atomic_load_explicit(&c->view_loaded, memory_order_relaxed))
        return 1;
    if (!c->feed_required)
        return 0;
    int64_t alive = atomic_load_explicit(&c->feed_alive_ms, memory_order_relaxed);
    return time_monotonic_ms() - alive > c->cfg.stale_after_ms;
}

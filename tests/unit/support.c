/* support.c — fixtures shared by the unit test areas (see unit.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

char *unit_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t cap = strlen(base) + 32;
    char *path = malloc(cap);
    assert_non_null(path);
    snprintf(path, cap, "%s/apikeyd-unit-XXXXXX", base);
    if (!mkdtemp(path)) {
        free(path);
        fail_msg("mkdtemp failed");
    }
    return path;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void unit_rmtree(char *dir)
{
    if (!dir)
        return;
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* The people the tests act as: keys can only be made for users that exist. */
void unit_core_add_people(struct unit_core *u)
{
    struct store *st = u->store;
    static const char *const names[] = {"alice", "bob"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct user_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.username, sizeof rec.username, "%s", names[i]);
        snprintf(rec.auth_source, sizeof rec.auth_source, "local");
        snprintf(rec.environment, sizeof rec.environment, "ROOT");
        snprintf(rec.roles, sizeof rec.roles, "user");
        st->ops->user_create(st, &rec, 100); /* ERR_CONFLICT on reopen: already there */
    }
}

static int open_parts(struct unit_core *u)
{
    if (store_sqlite_open(u->dir, &u->store) != ERR_OK) {
        u->store = NULL;
        return -1;
    }
    if (core_open(&u->cfg, u->store, &u->core) != ERR_OK) {
        u->core = NULL;
        u->store->ops->close(u->store);
        u->store = NULL;
        return -1;
    }
    return 0;
}

int unit_core_open(struct unit_core *u, const struct core_config *cfg)
{
    memset(u, 0, sizeof *u);
    if (cfg)
        u->cfg = *cfg;
    else
        core_config_defaults(&u->cfg);
    u->dir = unit_tempdir();
    if (open_parts(u) != 0) {
        unit_rmtree(u->dir);
        u->dir = NULL;
        return -1;
    }
    return 0;
}

void unit_core_close(struct unit_core *u)
{
    if (u->core)
        core_close(u->core);
    u->core = NULL;
    if (u->store)
        u->store->ops->close(u->store);
    u->store = NULL;
}

int unit_core_reopen(struct unit_core *u)
{
    unit_core_close(u);
    return open_parts(u);
}

void unit_core_destroy(struct unit_core *u)
{
    unit_core_close(u);
    unit_rmtree(u->dir);
    u->dir = NULL;
}

void unit_session_caller(struct caller *who, const char *name)
{
    memset(who, 0, sizeof *who);
    who->kind = CALLER_SESSION;
    snprintf(who->username, sizeof who->username, "%s", name);
    snprintf(who->owner_type, sizeof who->owner_type, "user");
    snprintf(who->owner_id, sizeof who->owner_id, "%s", name);
}

void unit_key_caller(struct caller *who, const char *name, uint64_t scopes, int64_t expires_at)
{
    memset(who, 0, sizeof *who);
    who->kind = CALLER_KEY;
    snprintf(who->username, sizeof who->username, "%s", name);
    snprintf(who->owner_type, sizeof who->owner_type, "user");
    snprintf(who->owner_id, sizeof who->owner_id, "%s", name);
    who->scopes = scopes;
    who->expires_at = expires_at;
    snprintf(who->key_id, sizeof who->key_id, "000000000000000000000000");
}

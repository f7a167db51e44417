/* sql_identity.c — the SQL operations for users, roles, groups and environments.
 * A user's and a group's roles live in user_roles / group_roles; records carry them as
 * comma-separated text, which these functions split and join. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

#define LOCK(st) sq_write_begin(st)
#define UNLOCK(st) sq_write_end(st)
#define RLOCK(st) sq_read_begin(st)
#define RUNLOCK(st) sq_read_end(st)

/* Calls fn(st, item, arg) for each comma-separated item of csv; stops at the first error. */
static enum err each_csv(struct sql_store *st, const char *csv,
                         enum err (*fn)(struct sql_store *, const char *, const char *),
                         const char *arg)
{
    char item[STORE_NAME_MAX + 1];
    while (*csv) {
        size_t len = strcspn(csv, ",");
        if (len > STORE_NAME_MAX)
            return ERR_INVALID;
        if (len > 0) {
            memcpy(item, csv, len);
            item[len] = '\0';
            enum err e = fn(st, item, arg);
            if (e)
                return e;
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
    return ERR_OK;
}

static enum err require(struct sql_store *st, const char *sql, const char *name)
{
    int64_t n = 0;
    enum err e = sq_int(st, &n, sql, "t", name);
    return e ? e : (n ? ERR_OK : ERR_INVALID);
}

static enum err add_user_role(struct sql_store *st, const char *role, const char *username)
{
    enum err e = require(st, "SELECT count(*) FROM roles WHERE name = ?", role);
    return e ? e
             : sq_run(st, NULL,
                      "INSERT INTO user_roles(username, role) VALUES (?, ?) ON CONFLICT DO NOTHING",
                      "tt", username, role);
}

static enum err add_group_role(struct sql_store *st, const char *role, const char *group)
{
    enum err e = require(st, "SELECT count(*) FROM roles WHERE name = ?", role);
    return e ? e
             : sq_run(
                   st, NULL,
                   "INSERT INTO group_roles(group_name, role) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   "tt", group, role);
}

/* ---- users ---- */

#define USER_COLUMNS                                                                               \
    "username, password_hash, full_name, email, auth_source, environment, disabled, created_at, "  \
    "mfa_enabled, mfa_secret, mfa_pending, mfa_last_step, "                                        \
    "(SELECT group_concat(role, ',') FROM (SELECT role FROM user_roles r"                          \
    " WHERE r.username = users.username ORDER BY role) AS own_roles)"

struct user_walk {
    struct sq_walk base;
    store_user_cb cb;
};

static int user_row(void *ctx, struct sq_row *row)
{
    struct user_walk *w = ctx;
    struct user_record *u = w->base.rec;
    memset(u, 0, sizeof *u);
    sq_text(row, 0, u->username, sizeof u->username);
    sq_text(row, 1, u->password_hash, sizeof u->password_hash);
    sq_text(row, 2, u->full_name, sizeof u->full_name);
    sq_text(row, 3, u->email, sizeof u->email);
    sq_text(row, 4, u->auth_source, sizeof u->auth_source);
    sq_text(row, 5, u->environment, sizeof u->environment);
    u->disabled = (int)sq_col_int64(row, 6);
    u->created_at = sq_col_int64(row, 7);
    u->mfa_enabled = (int)sq_col_int64(row, 8);
    u->mfa_secret_len = sq_blob(row, 9, u->mfa_secret, sizeof u->mfa_secret);
    u->mfa_pending_len = sq_blob(row, 10, u->mfa_pending, sizeof u->mfa_pending);
    u->mfa_last_step = sq_col_int64(row, 11);
    sq_text(row, 12, u->roles, sizeof u->roles);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, u) : 1;
}

static enum err check_user_refs(struct sql_store *st, const struct user_record *u)
{
    return require(st, "SELECT count(*) FROM environments WHERE name = ?", u->environment);
}

/* The writes of a user creation, after the limit check (sq_write_under_limit). */
static enum err insert_user(struct sql_store *st, const void *arg)
{
    const struct user_record *u = arg;
    enum err e = check_user_refs(st, u);
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO users(username, password_hash, full_name, email, auth_source,"
                   " environment, disabled, created_at, mfa_enabled, mfa_secret, mfa_pending,"
                   " mfa_last_step) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   "ttttttiiibbi", u->username, u->password_hash, u->full_name, u->email,
                   u->auth_source, u->environment, (int64_t)u->disabled, u->created_at,
                   (int64_t)u->mfa_enabled, u->mfa_secret, (int)u->mfa_secret_len, u->mfa_pending,
                   (int)u->mfa_pending_len, u->mfa_last_step);
    if (!e)
        e = each_csv(st, u->roles, add_user_role, u->username);
    return e;
}

static enum err sq_user_create(struct store *s, const struct user_record *u, int max)
{
    return sq_write_under_limit(as_sql(s), "SELECT count(*) FROM users", max, insert_user, u);
}

static enum err sq_user_get(struct store *s, const char *username, struct user_record *out)
{
    struct user_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), user_row, &w.base, sizeof *out, out,
                       "SELECT " USER_COLUMNS " FROM users WHERE username = ?", "t", username);
}

static enum err sq_user_count(struct store *s, int64_t *out)
{
    struct sql_store *st = as_sql(s);
    RLOCK(st);
    enum err e = sq_int(st, out, "SELECT count(*) FROM users", NULL);
    RUNLOCK(st);
    return e;
}

static enum err sq_user_each(struct store *s, store_user_cb cb, void *ctx)
{
    struct user_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), user_row, &w.base, sizeof(struct user_record), NULL,
                       "SELECT " USER_COLUMNS " FROM users ORDER BY username", NULL);
}

/* Enabled users holding role directly or through a group (on the calling thread's
 * connection: inside a write, the transaction's own view). */
#define ROLE_HOLDERS_SQL                                                                           \
    "SELECT count(*) FROM users u WHERE u.disabled = 0 AND ("                                      \
    " EXISTS (SELECT 1 FROM user_roles ur WHERE ur.username = u.username"                          \
    "  AND ur.role = ?1) OR"                                                                       \
    " EXISTS (SELECT 1 FROM group_members gm JOIN group_roles gr"                                  \
    "  ON gr.group_name = gm.group_name"                                                           \
    "  WHERE gm.username = u.username AND gr.role = ?1))"

/* Inside a write transaction: serialises every change that must keep an enabled holder of
 * role (a row lock on the role's row on PostgreSQL, which READ COMMITTED would not give the
 * count alone; SQLite's BEGIN IMMEDIATE already serialises), then counts its holders. */
static enum err lock_and_count_holders(struct sql_store *st, const char *role, int64_t *out)
{
    enum err e = sq_run(st, NULL, "UPDATE roles SET builtin = builtin WHERE name = ?", "t", role);
    return e ? e : sq_int(st, out, ROLE_HOLDERS_SQL, "t", role);
}

/* After the writes of a change that began with before holders of role: ERR_CONFLICT when it
 * left none where there were some. */
static enum err still_held(struct sql_store *st, const char *role, int64_t before)
{
    int64_t after = 0;
    enum err e = sq_int(st, &after, ROLE_HOLDERS_SQL, "t", role);
    return e ? e : (before > 0 && after == 0 ? ERR_CONFLICT : ERR_OK);
}

/* Runs one conditional UPDATE of a user row under the write lock: ERR_OK when it changed the
 * row; else ERR_NOT_FOUND when the user does not exist, ERR_CONFLICT when the condition failed. */
static enum err update_user_if(struct sql_store *st, const char *username, const char *sql,
                               const char *fmt, ...)
{
    int changes = 0;
    int64_t exists = 0;
    va_list ap;
    va_start(ap, fmt);
    LOCK(st);
    enum err e = st->drv->run(st, &changes, sql, fmt, ap);
    if (!e && changes == 0) {
        e = sq_int(st, &exists, "SELECT count(*) FROM users WHERE username = ?", "t", username);
        if (!e)
            e = exists ? ERR_CONFLICT : ERR_NOT_FOUND;
    }
    UNLOCK(st);
    va_end(ap);
    return e;
}

static enum err sq_user_set_profile(struct store *s, const char *username, const char *full_name,
                                    const char *email)
{
    return sq_change_one(as_sql(s),
                         "UPDATE users SET full_name = COALESCE(?1, full_name),"
                         " email = COALESCE(?2, email) WHERE username = ?3",
                         "TTt", full_name, email, username);
}

static enum err sq_user_set_password(struct store *s, const char *username, const char *hash,
                                     const char *expect)
{
    return update_user_if(as_sql(s), username,
                          "UPDATE users SET password_hash = ?1 WHERE username = ?2"
                          " AND (?3 IS NULL OR password_hash = ?3)",
                          "ttT", hash, username, expect);
}

static enum err sq_user_admin_change(struct store *s, const char *username,
                                     const struct user_change *ch)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    int64_t before = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    if (ch->keep_role)
        e = lock_and_count_holders(st, ch->keep_role, &before);
    if (!e && ch->environment)
        e = require(st, "SELECT count(*) FROM environments WHERE name = ?", ch->environment);
    if (!e)
        e = sq_run(st, &changes,
                   "UPDATE users SET full_name = COALESCE(?1, full_name),"
                   " email = COALESCE(?2, email), password_hash = COALESCE(?3, password_hash),"
                   " environment = COALESCE(?4, environment),"
                   " disabled = CASE WHEN ?5 < 0 THEN disabled ELSE ?5 END WHERE username = ?6",
                   "TTTTit", ch->full_name, ch->email, ch->password_hash, ch->environment,
                   (int64_t)(ch->disabled < 0 ? -1 : ch->disabled != 0), username);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    /* a user leaves the groups of an environment they no longer belong to */
    if (!e && ch->environment)
        e = sq_run(st, NULL,
                   "DELETE FROM group_members WHERE username = ?1 AND group_name IN"
                   " (SELECT name FROM groups WHERE environment <> ?2)",
                   "tt", username, ch->environment);
    if (!e && ch->roles)
        e = sq_run(st, NULL, "DELETE FROM user_roles WHERE username = ?", "t", username);
    if (!e && ch->roles)
        e = each_csv(st, ch->roles, add_user_role, username);
    if (!e && ch->keep_role)
        e = still_held(st, ch->keep_role, before);
    e = sq_finish(st, e);
out:
    UNLOCK(st);
    return e;
}

static enum err sq_user_delete(struct store *s, const char *username, const char *keep_role,
                               store_key_cb cb, void *ctx)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    int64_t before = 0;
    struct key_record *rec = malloc(sizeof *rec);
    if (!rec)
        return ERR_NOMEM;
    struct sql_gone_walk w = {cb, ctx, rec}; /* each key deleted, for its key.delete event */
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e && keep_role)
        e = lock_and_count_holders(st, keep_role, &before);
    if (!e)
        e = sq_each(st, sql_key_gone_row, &w,
                    "DELETE FROM api_keys WHERE owner_type = 'user' AND owner_id = ?"
                    " RETURNING " SQL_KEY_GONE_COLUMNS,
                    "t", username);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM sessions WHERE username = ?", "t", username);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM mfa_recovery_codes WHERE username = ?", "t", username);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM project_members WHERE principal = 'user:' || ?", "t",
                   username);
    if (!e)
        e = sq_run(st, &changes, "DELETE FROM users WHERE username = ?", "t", username);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    if (!e && keep_role)
        e = still_held(st, keep_role, before);
    e = sq_finish(st, e);
    UNLOCK(st);
    free(rec);
    return e;
}

static enum err sq_user_mfa_set_pending(struct store *s, const char *username,
                                        const uint8_t *pending, size_t len)
{
    return update_user_if(as_sql(s), username,
                          "UPDATE users SET mfa_pending = ?1 WHERE username = ?2"
                          " AND mfa_enabled = 0",
                          "bt", pending, (int)len, username);
}

static enum err sq_user_mfa_enable(struct store *s, const char *username, const uint8_t *pending,
                                   size_t len, int64_t step)
{
    if (len == 0)
        return ERR_CONFLICT;
    return update_user_if(as_sql(s), username,
                          "UPDATE users SET mfa_secret = mfa_pending, mfa_pending = NULL,"
                          " mfa_enabled = 1, mfa_last_step = CASE WHEN mfa_last_step > ?1"
                          " THEN mfa_last_step ELSE ?1 END"
                          " WHERE username = ?2 AND mfa_enabled = 0 AND mfa_pending = ?3",
                          "itb", step, username, pending, (int)len);
}

static enum err sq_user_mfa_disable(struct store *s, const char *username, const uint8_t *secret,
                                    size_t len)
{
    if (len == 0)
        return ERR_CONFLICT;
    struct sql_store *st = as_sql(s);
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e)
        e = update_user_if(st, username,
                           "UPDATE users SET mfa_enabled = 0, mfa_secret = NULL, mfa_pending = NULL"
                           " WHERE username = ?1 AND mfa_enabled = 1 AND mfa_secret = ?2",
                           "tb", username, secret, (int)len);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM mfa_recovery_codes WHERE username = ?", "t", username);
    e = sq_finish(st, e);
    UNLOCK(st);
    return e;
}

static enum err sq_user_recovery_replace(struct store *s, const char *username,
                                         const uint8_t (*hashes)[STORE_HASH_LEN], size_t n)
{
    struct sql_store *st = as_sql(s);
    int on = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    /* a no-op write locks the user's row (PostgreSQL): MFA cannot go off meanwhile */
    if (!e)
        e = sq_run(st, &on,
                   "UPDATE users SET mfa_enabled = mfa_enabled WHERE username = ?"
                   " AND mfa_enabled = 1",
                   "t", username);
    if (!e && !on)
        e = ERR_CONFLICT;
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM mfa_recovery_codes WHERE username = ?", "t", username);
    for (size_t i = 0; !e && i < n; i++)
        e = sq_run(st, NULL, "INSERT INTO mfa_recovery_codes(username, code_hash) VALUES (?, ?)",
                   "tb", username, hashes[i], STORE_HASH_LEN);
    e = sq_finish(st, e);
    UNLOCK(st);
    return e;
}

static enum err sq_user_recovery_has(struct store *s, const char *username,
                                     const uint8_t hash[STORE_HASH_LEN])
{
    struct sql_store *st = as_sql(s);
    int64_t n = 0;
    RLOCK(st);
    enum err e = sq_int(st, &n,
                        "SELECT count(*) FROM mfa_recovery_codes WHERE username = ?"
                        " AND code_hash = ?",
                        "tb", username, hash, STORE_HASH_LEN);
    RUNLOCK(st);
    return !e && n == 0 ? ERR_NOT_FOUND : e;
}

static enum err sq_user_recovery_count(struct store *s, const char *username, int64_t *out)
{
    struct sql_store *st = as_sql(s);
    RLOCK(st);
    enum err e = sq_int(st, out, "SELECT count(*) FROM mfa_recovery_codes WHERE username = ?",
                        "t", username);
    RUNLOCK(st);
    return e;
}

static enum err sq_user_mfa_advance(struct store *s, const char *username, int64_t step)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    LOCK(st);
    enum err e = sq_run(st, &changes,
                        "UPDATE users SET mfa_last_step = ?1 WHERE username = ?2"
                        " AND mfa_last_step < ?1",
                        "it", step, username);
    UNLOCK(st);
    return !e && changes == 0 ? ERR_CONFLICT : e;
}

/* ---- roles ---- */

#define ROLE_COLUMNS "name, description, authorities, builtin"

struct role_walk {
    struct sq_walk base;
    store_role_cb cb;
};

static int role_row(void *ctx, struct sq_row *row)
{
    struct role_walk *w = ctx;
    struct role_record *r = w->base.rec;
    memset(r, 0, sizeof *r);
    sq_text(row, 0, r->name, sizeof r->name);
    sq_text(row, 1, r->description, sizeof r->description);
    sq_text(row, 2, r->authorities, sizeof r->authorities);
    r->builtin = (int)sq_col_int64(row, 3);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, r) : 1;
}

static enum err sq_user_roles_each(struct store *s, const char *username, store_role_cb cb,
                                   void *ctx)
{
    struct role_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), role_row, &w.base, sizeof(struct role_record), NULL,
                       "SELECT " ROLE_COLUMNS " FROM roles WHERE name IN"
                       " (SELECT role FROM user_roles WHERE username = ?1"
                       "  UNION SELECT gr.role FROM group_roles gr JOIN group_members gm"
                       "  ON gm.group_name = gr.group_name WHERE gm.username = ?1)"
                       " ORDER BY name",
                       "t", username);
}

static enum err sq_role_each(struct store *s, store_role_cb cb, void *ctx)
{
    struct role_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), role_row, &w.base, sizeof(struct role_record), NULL,
                       "SELECT " ROLE_COLUMNS " FROM roles ORDER BY builtin DESC, name", NULL);
}

static enum err sq_role_get(struct store *s, const char *name, struct role_record *out)
{
    struct role_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), role_row, &w.base, sizeof *out, out,
                       "SELECT " ROLE_COLUMNS " FROM roles WHERE name = ?", "t", name);
}

static enum err sq_role_holders(struct store *s, const char *role, int64_t *out)
{
    struct sql_store *st = as_sql(s);
    RLOCK(st);
    enum err e = sq_int(st, out, ROLE_HOLDERS_SQL, "t", role);
    RUNLOCK(st);
    return e;
}

static enum err sq_role_create(struct store *s, const struct role_record *r, int max)
{
    return sq_insert_under_limit(
        as_sql(s), "SELECT count(*) FROM roles", max,
        "INSERT INTO roles(name, description, authorities, builtin) VALUES (?,?,?,0)", "ttt",
        r->name, r->description, r->authorities);
}

static enum err sq_role_update(struct store *s, const struct role_record *r)
{
    return sq_change_one(as_sql(s),
                         "UPDATE roles SET description = ?, authorities = ? WHERE name = ?", "ttt",
                         r->description, r->authorities, r->name);
}

static enum err sq_role_delete(struct store *s, const char *name)
{
    return sq_delete_unless_used(as_sql(s),
                                 "SELECT (SELECT count(*) FROM user_roles WHERE role = ?1) +"
                                 " (SELECT count(*) FROM group_roles WHERE role = ?1)",
                                 "DELETE FROM roles WHERE name = ?", name);
}

/* ---- groups ---- */

#define GROUP_COLUMNS                                                                              \
    "name, description, environment, (SELECT group_concat(role, ',') FROM (SELECT role FROM"       \
    " group_roles r WHERE r.group_name = groups.name ORDER BY role) AS own_roles)"

struct group_walk {
    struct sq_walk base;
    store_group_cb cb;
};

static int group_row(void *ctx, struct sq_row *row)
{
    struct group_walk *w = ctx;
    struct group_record *g = w->base.rec;
    memset(g, 0, sizeof *g);
    sq_text(row, 0, g->name, sizeof g->name);
    sq_text(row, 1, g->description, sizeof g->description);
    sq_text(row, 2, g->environment, sizeof g->environment);
    sq_text(row, 3, g->roles, sizeof g->roles);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, g) : 1;
}

static enum err sq_group_each(struct store *s, store_group_cb cb, void *ctx)
{
    struct group_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), group_row, &w.base, sizeof(struct group_record), NULL,
                       "SELECT " GROUP_COLUMNS " FROM groups ORDER BY name", NULL);
}

static enum err sq_group_get(struct store *s, const char *name, struct group_record *out)
{
    struct group_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), group_row, &w.base, sizeof *out, out,
                       "SELECT " GROUP_COLUMNS " FROM groups WHERE name = ?", "t", name);
}

struct name_walk {
    store_name_cb cb;
    void *ctx;
};

static int name_row(void *ctx, struct sq_row *row)
{
    struct name_walk *w = ctx;
    const char *t = sq_col_text(row, 0);
    return w->cb(w->ctx, t ? t : "");
}

static enum err sq_group_members_each(struct store *s, const char *name, store_name_cb cb,
                                      void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct name_walk w = {cb, ctx};
    RLOCK(st);
    enum err e = sq_each(st, name_row, &w,
                         "SELECT username FROM group_members WHERE group_name = ?"
                         " ORDER BY username",
                         "t", name);
    RUNLOCK(st);
    return e;
}

static enum err sq_role_holders_each(struct store *s, const char *role, store_name_cb cb,
                                     void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct name_walk w = {cb, ctx};
    RLOCK(st);
    enum err e = sq_each(st, name_row, &w,
                         "SELECT username FROM user_roles WHERE role = ?1"
                         " UNION SELECT gm.username FROM group_members gm JOIN group_roles gr"
                         " ON gr.group_name = gm.group_name WHERE gr.role = ?1"
                         " ORDER BY 1",
                         "t", role);
    RUNLOCK(st);
    return e;
}

static enum err sq_user_groups_each(struct store *s, const char *username, store_name_cb cb,
                                    void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct name_walk w = {cb, ctx};
    RLOCK(st);
    enum err e = sq_each(st, name_row, &w,
                         "SELECT group_name FROM group_members WHERE username = ?"
                         " ORDER BY group_name",
                         "t", username);
    RUNLOCK(st);
    return e;
}

/* Replaces a group's roles and members. Caller holds the lock inside a transaction. */
static enum err set_group_lists(struct sql_store *st, const struct group_record *g,
                                const char *const *members, size_t n)
{
    enum err e = sq_run(st, NULL, "DELETE FROM group_roles WHERE group_name = ?", "t", g->name);
    if (!e)
        e = each_csv(st, g->roles, add_group_role, g->name);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM group_members WHERE group_name = ?", "t", g->name);
    for (size_t i = 0; !e && i < n; i++) {
        int64_t ok = 0;
        e = sq_int(st, &ok, "SELECT count(*) FROM users WHERE username = ? AND environment = ?",
                   "tt", members[i], g->environment);
        if (!e && !ok)
            e = ERR_INVALID;
        if (!e)
            e = sq_run(st, NULL,
                       "INSERT INTO group_members(group_name, username) VALUES (?, ?)"
                       " ON CONFLICT DO NOTHING",
                       "tt", g->name, members[i]);
    }
    return e;
}

struct group_create_args {
    const struct group_record *g;
    const char *const *members;
    size_t n;
};

/* The writes of a group creation, after the limit check (sq_write_under_limit). */
static enum err insert_group(struct sql_store *st, const void *arg)
{
    const struct group_create_args *a = arg;
    enum err e = require(st, "SELECT count(*) FROM environments WHERE name = ?", a->g->environment);
    if (!e)
        e = sq_run(st, NULL, "INSERT INTO groups(name, description, environment) VALUES (?,?,?)",
                   "ttt", a->g->name, a->g->description, a->g->environment);
    if (!e)
        e = set_group_lists(st, a->g, a->members, a->n);
    return e;
}

static enum err sq_group_create(struct store *s, const struct group_record *g,
                                const char *const *members, size_t n, int max)
{
    struct group_create_args a = {g, members, n};
    return sq_write_under_limit(as_sql(s), "SELECT count(*) FROM groups", max, insert_group, &a);
}

static enum err sq_group_update(struct store *s, const struct group_record *g,
                                const char *const *members, size_t n)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    e = sq_run(st, &changes, "UPDATE groups SET description = ? WHERE name = ?", "tt",
               g->description, g->name);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    if (!e)
        e = set_group_lists(st, g, members, n);
    e = sq_finish(st, e);
out:
    UNLOCK(st);
    return e;
}

static enum err sq_group_delete(struct store *s, const char *name)
{
    return sq_change_one(as_sql(s), "DELETE FROM groups WHERE name = ?", "t", name);
}

/* ---- environments ---- */

struct env_walk {
    struct sq_walk base;
    store_environment_cb cb;
};

static int env_row(void *ctx, struct sq_row *row)
{
    struct env_walk *w = ctx;
    struct environment_record *env = w->base.rec;
    sq_text(row, 0, env->name, sizeof env->name);
    sq_text(row, 1, env->description, sizeof env->description);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, env) : 1;
}

static enum err sq_environment_each(struct store *s, store_environment_cb cb, void *ctx)
{
    struct env_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), env_row, &w.base, sizeof(struct environment_record), NULL,
                       "SELECT name, description FROM environments ORDER BY name <> 'ROOT', name",
                       NULL);
}

static enum err sq_environment_get(struct store *s, const char *name,
                                   struct environment_record *out)
{
    struct env_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), env_row, &w.base, sizeof *out, out,
                       "SELECT name, description FROM environments WHERE name = ?", "t", name);
}

static enum err sq_environment_create(struct store *s, const struct environment_record *env,
                                      int max)
{
    return sq_insert_under_limit(as_sql(s), "SELECT count(*) FROM environments", max,
                                 "INSERT INTO environments(name, description) VALUES (?, ?)", "tt",
                                 env->name, env->description);
}

static enum err sq_environment_delete(struct store *s, const char *name)
{
    return sq_delete_unless_used(as_sql(s),
                                 "SELECT (SELECT count(*) FROM users WHERE environment = ?1) +"
                                 " (SELECT count(*) FROM groups WHERE environment = ?1)",
                                 "DELETE FROM environments WHERE name = ?", name);
}

void sql_identity_ops(struct store_ops *ops)
{
    ops->user_create = sq_user_create;
    ops->user_get = sq_user_get;
    ops->user_count = sq_user_count;
    ops->user_each = sq_user_each;
    ops->user_set_profile = sq_user_set_profile;
    ops->user_set_password = sq_user_set_password;
    ops->user_admin_change = sq_user_admin_change;
    ops->user_delete = sq_user_delete;
    ops->user_mfa_set_pending = sq_user_mfa_set_pending;
    ops->user_mfa_enable = sq_user_mfa_enable;
    ops->user_mfa_disable = sq_user_mfa_disable;
    ops->user_mfa_advance = sq_user_mfa_advance;
    ops->user_recovery_replace = sq_user_recovery_replace;
    ops->user_recovery_has = sq_user_recovery_has;
    ops->user_recovery_count = sq_user_recovery_count;
    ops->user_roles_each = sq_user_roles_each;
    ops->user_groups_each = sq_user_groups_each;
    ops->role_holders = sq_role_holders;
    ops->role_holders_each = sq_role_holders_each;
    ops->role_each = sq_role_each;
    ops->role_get = sq_role_get;
    ops->role_create = sq_role_create;
    ops->role_update = sq_role_update;
    ops->role_delete = sq_role_delete;
    ops->group_each = sq_group_each;
    ops->group_get = sq_group_get;
    ops->group_members_each = sq_group_members_each;
    ops->group_create = sq_group_create;
    ops->group_update = sq_group_update;
    ops->group_delete = sq_group_delete;
    ops->environment_each = sq_environment_each;
    ops->environment_get = sq_environment_get;
    ops->environment_create = sq_environment_create;
    ops->environment_delete = sq_environment_delete;
}

/* store_sqlite.c — the embedded SQLite backend of struct store.
 * One connection in WAL mode with synchronous=FULL, so a write is durable when its call
 * returns; a mutex serialises use of the connection. Schema changes are numbered
 * migrations tracked in PRAGMA user_version. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/log.h"
#include "store.h"

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char *const migrations[] = {
    /* 1: users, scopes, keys, sessions */
    "CREATE TABLE users ("
    "  username TEXT PRIMARY KEY,"
    "  password_hash TEXT NOT NULL DEFAULT '',"
    "  full_name TEXT NOT NULL DEFAULT '',"
    "  email TEXT NOT NULL DEFAULT '',"
    "  auth_source TEXT NOT NULL DEFAULT 'local',"
    "  roles TEXT NOT NULL DEFAULT 'user',"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE scopes ("
    "  position INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL DEFAULT '');"
    "INSERT INTO scopes(name, description) VALUES"
    " ('Authentication', 'Allows operations on Environments, Groups, and Users'),"
    " ('PublishApp', 'Allows management of applications (e.g., publishing, updating, editing,"
    " and deleting apps)'),"
    " ('PublishAimms', 'Allows publishing of AIMMS versions to the Cloud Portal'),"
    " ('Tasks', 'Allows management of Tasks'),"
    " ('APIKey', 'Permits operations on API keys themselves (e.g., creating and deleting keys)'),"
    " ('Session', 'Enables operations related to WebUI, Solve, and Task sessions (e.g.,"
    " retrieving session information, logs, terminating, or deleting a session)'),"
    " ('Secret', 'Allows management of Secrets'),"
    " ('User', 'Allows user specific operations. Reserved for future use.'),"
    " ('Account', 'Allows operations related to account-level management and configuration');"
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  hint TEXT NOT NULL,"
    "  owner_type TEXT NOT NULL,"
    "  owner_id TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  description TEXT,"
    "  scopes TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (owner_type, owner_id, name));"
    "CREATE INDEX api_keys_owner ON api_keys(owner_type, owner_id, created_at);"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"
    "  csrf_hash BLOB NOT NULL,"
    "  username TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_user ON sessions(username, created_at);",
};

static struct sqlite_store *as_sqlite(struct store *s)
{
    return (struct sqlite_store *)s;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static enum err sql_fail(struct sqlite_store *st, const char *what)
{
    log_error("sqlite: %s: %s", what, sqlite3_errmsg(st->db));
    return ERR_STORE;
}

/* Prepares sql; on failure logs and returns ERR_STORE. */
static enum err prepare(struct sqlite_store *st, const char *sql, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
        return sql_fail(st, "prepare");
    return ERR_OK;
}

static enum err exec(struct sqlite_store *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("sqlite: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return ERR_STORE;
    }
    return ERR_OK;
}

/* Steps a statement that returns no rows; maps constraint violations to ERR_CONFLICT. */
static enum err step_done(struct sqlite_store *st, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return ERR_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return ERR_CONFLICT;
    return sql_fail(st, "step");
}

static enum err migrate(struct sqlite_store *st)
{
    sqlite3_stmt *stmt = NULL;
    enum err e = prepare(st, "PRAGMA user_version", &stmt);
    if (e)
        return e;
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    int target = (int)(sizeof migrations / sizeof migrations[0]);
    for (int v = version; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((e = exec(st, "BEGIN IMMEDIATE")))
            return e;
        if ((e = exec(st, migrations[v])) || (e = exec(st, pragma))) {
            exec(st, "ROLLBACK");
            return e;
        }
        if ((e = exec(st, "COMMIT")))
            return e;
        log_info("store: migrated schema to version %d", v + 1);
    }
    return ERR_OK;
}

/* ---- users ---- */

static void read_user(sqlite3_stmt *stmt, struct user_record *u)
{
    memset(u, 0, sizeof *u);
    copy_text(u->username, sizeof u->username, sqlite3_column_text(stmt, 0));
    copy_text(u->password_hash, sizeof u->password_hash, sqlite3_column_text(stmt, 1));
    copy_text(u->full_name, sizeof u->full_name, sqlite3_column_text(stmt, 2));
    copy_text(u->email, sizeof u->email, sqlite3_column_text(stmt, 3));
    copy_text(u->auth_source, sizeof u->auth_source, sqlite3_column_text(stmt, 4));
    copy_text(u->roles, sizeof u->roles, sqlite3_column_text(stmt, 5));
    u->disabled = sqlite3_column_int(stmt, 6);
    u->created_at = sqlite3_column_int64(stmt, 7);
}

#define USER_COLUMNS                                                                               \
    "username, password_hash, full_name, email, auth_source, roles, disabled, created_at"

static enum err sq_user_create(struct store *s, const struct user_record *u)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "INSERT INTO users(" USER_COLUMNS ") VALUES (?,?,?,?,?,?,?,?)", &stmt);
    if (e)
        goto out;
    sqlite3_bind_text(stmt, 1, u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, u->full_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, u->auth_source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, u->roles, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 7, u->disabled);
    sqlite3_bind_int64(stmt, 8, u->created_at);
    e = step_done(st, stmt);
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_user_get(struct store *s, const char *username, struct user_record *out)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "SELECT " USER_COLUMNS " FROM users WHERE username = ?", &stmt);
    if (e)
        goto out;
    sqlite3_bind_text(stmt, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_user(stmt, out);
    else
        e = rc == SQLITE_DONE ? ERR_NOT_FOUND : sql_fail(st, "user_get");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_user_count(struct store *s, int64_t *out)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "SELECT count(*) FROM users", &stmt);
    if (!e) {
        if (sqlite3_step(stmt) == SQLITE_ROW)
            *out = sqlite3_column_int64(stmt, 0);
        else
            e = sql_fail(st, "user_count");
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_user_each(struct store *s, store_user_cb cb, void *ctx)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "SELECT " USER_COLUMNS " FROM users ORDER BY username", &stmt);
    if (e)
        goto out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_user(stmt, u);
        if (cb(ctx, u))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sql_fail(st, "user_each");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    free(u);
    return e;
}

/* ---- scopes ---- */

static enum err sq_scope_each(struct store *s, store_scope_cb cb, void *ctx)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    struct scope_record *sc = malloc(sizeof *sc);
    if (!sc)
        return ERR_NOMEM;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "SELECT name, description FROM scopes ORDER BY position", &stmt);
    if (e)
        goto out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        copy_text(sc->name, sizeof sc->name, sqlite3_column_text(stmt, 0));
        copy_text(sc->description, sizeof sc->description, sqlite3_column_text(stmt, 1));
        if (cb(ctx, sc))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sql_fail(st, "scope_each");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    free(sc);
    return e;
}

/* Returns the single integer of a one-row query with up to two text parameters. */
static enum err query_int(struct sqlite_store *st, const char *sql, const char *p1, const char *p2,
                          int64_t *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err e = prepare(st, sql, &stmt);
    if (e)
        return e;
    if (p1)
        sqlite3_bind_text(stmt, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(stmt, 2, p2, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else
        e = sql_fail(st, "query_int");
    sqlite3_finalize(stmt);
    return e;
}

static enum err sq_scope_create(struct store *s, const struct scope_record *sc, int max)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    int64_t count = 0;
    pthread_mutex_lock(&st->lock);
    enum err e = exec(st, "BEGIN IMMEDIATE");
    if (e)
        goto out;
    if ((e = query_int(st, "SELECT count(*) FROM scopes", NULL, NULL, &count)))
        goto rollback;
    if (count >= max) {
        e = ERR_LIMIT;
        goto rollback;
    }
    if ((e = prepare(st, "INSERT INTO scopes(name, description) VALUES (?, ?)", &stmt)))
        goto rollback;
    sqlite3_bind_text(stmt, 1, sc->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, sc->description, -1, SQLITE_STATIC);
    if ((e = step_done(st, stmt)))
        goto rollback;
    e = exec(st, "COMMIT");
    goto out;
rollback:
    exec(st, "ROLLBACK");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

/* ---- keys ---- */

#define KEY_COLUMNS                                                                                \
    "id, hash, hint, owner_type, owner_id, created_by, name, description, scopes, created_at, "   \
    "expires_at, last_used_at"

static void read_key(sqlite3_stmt *stmt, struct key_record *k)
{
    memset(k, 0, sizeof *k);
    copy_text(k->id, sizeof k->id, sqlite3_column_text(stmt, 0));
    if (sqlite3_column_bytes(stmt, 1) == STORE_HASH_LEN)
        memcpy(k->hash, sqlite3_column_blob(stmt, 1), STORE_HASH_LEN);
    copy_text(k->hint, sizeof k->hint, sqlite3_column_text(stmt, 2));
    copy_text(k->owner_type, sizeof k->owner_type, sqlite3_column_text(stmt, 3));
    copy_text(k->owner_id, sizeof k->owner_id, sqlite3_column_text(stmt, 4));
    copy_text(k->created_by, sizeof k->created_by, sqlite3_column_text(stmt, 5));
    copy_text(k->name, sizeof k->name, sqlite3_column_text(stmt, 6));
    k->has_description = sqlite3_column_type(stmt, 7) != SQLITE_NULL;
    copy_text(k->description, sizeof k->description, sqlite3_column_text(stmt, 7));
    copy_text(k->scopes, sizeof k->scopes, sqlite3_column_text(stmt, 8));
    k->created_at = sqlite3_column_int64(stmt, 9);
    k->expires_at = sqlite3_column_int64(stmt, 10);
    k->last_used_at = sqlite3_column_int64(stmt, 11);
}

static enum err sq_key_create(struct store *s, const struct key_record *k, int max_per_owner)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    int64_t count = 0;
    pthread_mutex_lock(&st->lock);
    enum err e = exec(st, "BEGIN IMMEDIATE");
    if (e)
        goto out;
    if ((e = query_int(st, "SELECT count(*) FROM api_keys WHERE owner_type = ? AND owner_id = ?",
                       k->owner_type, k->owner_id, &count)))
        goto rollback;
    if (count >= max_per_owner) {
        e = ERR_LIMIT;
        goto rollback;
    }
    if ((e = prepare(st, "INSERT INTO api_keys(" KEY_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     &stmt)))
        goto rollback;
    sqlite3_bind_text(stmt, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 2, k->hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, k->hint, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, k->owner_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, k->owner_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, k->created_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, k->name, -1, SQLITE_STATIC);
    if (k->has_description)
        sqlite3_bind_text(stmt, 8, k->description, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 8);
    sqlite3_bind_text(stmt, 9, k->scopes, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, k->created_at);
    sqlite3_bind_int64(stmt, 11, k->expires_at);
    sqlite3_bind_int64(stmt, 12, k->last_used_at);
    if ((e = step_done(st, stmt)))
        goto rollback;
    e = exec(st, "COMMIT");
    goto out;
rollback:
    exec(st, "ROLLBACK");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_key_get(struct store *s, const char *id, struct key_record *out)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?", &stmt);
    if (e)
        goto out;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_key(stmt, out);
    else
        e = rc == SQLITE_DONE ? ERR_NOT_FOUND : sql_fail(st, "key_get");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_key_update(struct store *s, const struct key_record *k)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "UPDATE api_keys SET name = ?, description = ? WHERE id = ?", &stmt);
    if (e)
        goto out;
    sqlite3_bind_text(stmt, 1, k->name, -1, SQLITE_STATIC);
    if (k->has_description)
        sqlite3_bind_text(stmt, 2, k->description, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    sqlite3_bind_text(stmt, 3, k->id, -1, SQLITE_STATIC);
    e = step_done(st, stmt);
    if (!e && sqlite3_changes(st->db) == 0)
        e = ERR_NOT_FOUND;
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_key_delete(struct store *s, const char *id)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "DELETE FROM api_keys WHERE id = ?", &stmt);
    if (e)
        goto out;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    e = step_done(st, stmt);
    if (!e && sqlite3_changes(st->db) == 0)
        e = ERR_NOT_FOUND;
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_key_each(struct store *s, const char *owner_type, const char *owner_id,
                            store_key_cb cb, void *ctx)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    pthread_mutex_lock(&st->lock);
    enum err e;
    if (owner_type)
        e = prepare(st,
                    "SELECT " KEY_COLUMNS " FROM api_keys WHERE owner_type = ? AND owner_id = ?"
                    " ORDER BY created_at DESC, rowid DESC",
                    &stmt);
    else
        e = prepare(st, "SELECT " KEY_COLUMNS " FROM api_keys", &stmt);
    if (e)
        goto out;
    if (owner_type) {
        sqlite3_bind_text(stmt, 1, owner_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, owner_id, -1, SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_key(stmt, k);
        if (cb(ctx, k))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sql_fail(st, "key_each");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    free(k);
    return e;
}

static enum err sq_key_touch(struct store *s, const struct key_touch *items, size_t n)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = exec(st, "BEGIN IMMEDIATE");
    if (e)
        goto out;
    if ((e = prepare(st,
                     "UPDATE api_keys SET last_used_at = ? WHERE hash = ? AND last_used_at < ?",
                     &stmt)))
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(stmt, 1, items[i].last_used_at);
        sqlite3_bind_blob(stmt, 2, items[i].hash, STORE_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, items[i].last_used_at);
        if ((e = step_done(st, stmt)))
            goto rollback;
        sqlite3_reset(stmt);
    }
    e = exec(st, "COMMIT");
    goto out;
rollback:
    exec(st, "ROLLBACK");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

/* ---- sessions ---- */

static enum err sq_session_create(struct store *s, const struct session_record *r,
                                  int max_per_user)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = exec(st, "BEGIN IMMEDIATE");
    if (e)
        goto out;
    if ((e = prepare(st,
                     "INSERT INTO sessions(token_hash, csrf_hash, username, created_at,"
                     " expires_at) VALUES (?,?,?,?,?)",
                     &stmt)))
        goto rollback;
    sqlite3_bind_blob(stmt, 1, r->token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 2, r->csrf_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, r->username, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, r->created_at);
    sqlite3_bind_int64(stmt, 5, r->expires_at);
    if ((e = step_done(st, stmt)))
        goto rollback;
    sqlite3_finalize(stmt);
    stmt = NULL;
    /* drop expired sessions of everyone, and this user's sessions past the limit */
    if ((e = prepare(st,
                     "DELETE FROM sessions WHERE expires_at <= ?1 OR (username = ?2 AND"
                     " token_hash NOT IN (SELECT token_hash FROM sessions WHERE username = ?2"
                     " ORDER BY created_at DESC, rowid DESC LIMIT ?3))",
                     &stmt)))
        goto rollback;
    sqlite3_bind_int64(stmt, 1, r->created_at);
    sqlite3_bind_text(stmt, 2, r->username, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, max_per_user);
    if ((e = step_done(st, stmt)))
        goto rollback;
    e = exec(st, "COMMIT");
    goto out;
rollback:
    exec(st, "ROLLBACK");
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_session_get(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                               int64_t now, struct session_record *out)
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st,
                         "SELECT csrf_hash, username, created_at, expires_at FROM sessions"
                         " WHERE token_hash = ? AND expires_at > ?",
                         &stmt);
    if (e)
        goto out;
    sqlite3_bind_blob(stmt, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == STORE_HASH_LEN) {
        memset(out, 0, sizeof *out);
        memcpy(out->token_hash, token_hash, STORE_HASH_LEN);
        memcpy(out->csrf_hash, sqlite3_column_blob(stmt, 0), STORE_HASH_LEN);
        copy_text(out->username, sizeof out->username, sqlite3_column_text(stmt, 1));
        out->created_at = sqlite3_column_int64(stmt, 2);
        out->expires_at = sqlite3_column_int64(stmt, 3);
    } else {
        e = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? ERR_NOT_FOUND : sql_fail(st, "session_get");
    }
out:
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static enum err sq_session_delete(struct store *s, const uint8_t token_hash[STORE_HASH_LEN])
{
    struct sqlite_store *st = as_sqlite(s);
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&st->lock);
    enum err e = prepare(st, "DELETE FROM sessions WHERE token_hash = ?", &stmt);
    if (!e) {
        sqlite3_bind_blob(stmt, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
        e = step_done(st, stmt);
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&st->lock);
    return e;
}

static void sq_close(struct store *s)
{
    struct sqlite_store *st = as_sqlite(s);
    if (!st)
        return;
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static const struct store_ops sqlite_ops = {
    .close = sq_close,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_count = sq_user_count,
    .user_each = sq_user_each,
    .scope_each = sq_scope_each,
    .scope_create = sq_scope_create,
    .key_create = sq_key_create,
    .key_get = sq_key_get,
    .key_update = sq_key_update,
    .key_delete = sq_key_delete,
    .key_each = sq_key_each,
    .key_touch = sq_key_touch,
    .session_create = sq_session_create,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
};

enum err store_sqlite_open(const char *dir, struct store **out)
{
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("store: cannot create data directory %s", dir);
        return ERR_STORE;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/apikeyd.db", dir) >= sizeof path)
        return ERR_STORE;
    struct sqlite_store *st = calloc(1, sizeof *st);
    if (!st)
        return ERR_NOMEM;
    st->base.ops = &sqlite_ops;
    pthread_mutex_init(&st->lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        log_error("store: cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "?");
        sq_close(&st->base);
        return ERR_STORE;
    }
    sqlite3_busy_timeout(st->db, 5000);
    enum err e;
    if ((e = exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      " PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")) ||
        (e = migrate(st))) {
        sq_close(&st->base);
        return e;
    }
    *out = &st->base;
    return ERR_OK;
}

/* sqlite_driver.c — the embedded SQLite backend of struct store: opening, numbered schema
 * migrations (PRAGMA user_version), and the driver that runs the shared SQL operations.
 * One connection in WAL mode with synchronous=FULL, so a write is durable when its call
 * returns; a mutex serialises use of the connection. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "../base/log.h"
#include <sqlite3.h>

#include "sql_internal.h"
#include "sql_webhook_schema.h"
#include "sqlite_stmts.h"

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

    /* 2: roles, groups, environments, MFA, audit; users.roles becomes user_roles */
    "CREATE TABLE environments ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT NOT NULL DEFAULT '');"
    "INSERT INTO environments(name, description) VALUES ('ROOT', 'The default environment');"
    "CREATE TABLE roles ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  authorities TEXT NOT NULL DEFAULT '',"
    "  builtin INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO roles(name, description, authorities, builtin) VALUES"
    " ('admin', 'Every authority', 'manage_users,manage_user_api_keys,manage_roles,"
    "manage_groups,manage_environments,manage_service_accounts,manage_projects,manage_scopes,"
    "view_audit', 1),"
    " ('user', 'No administrative authority', '', 1);"
    "CREATE TABLE user_roles ("
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  role TEXT NOT NULL REFERENCES roles(name),"
    "  PRIMARY KEY (username, role));"
    "INSERT INTO user_roles SELECT username, 'admin' FROM users WHERE roles LIKE '%admin%';"
    "INSERT INTO user_roles SELECT username, 'user' FROM users WHERE roles NOT LIKE '%admin%';"
    "ALTER TABLE users DROP COLUMN roles;"
    "ALTER TABLE users ADD COLUMN environment TEXT NOT NULL DEFAULT 'ROOT'"
    "  REFERENCES environments(name);"
    "ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN mfa_secret BLOB;"
    "ALTER TABLE users ADD COLUMN mfa_pending BLOB;"
    "ALTER TABLE users ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE groups ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  environment TEXT NOT NULL REFERENCES environments(name));"
    "CREATE TABLE group_roles ("
    "  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
    "  role TEXT NOT NULL REFERENCES roles(name),"
    "  PRIMARY KEY (group_name, role));"
    "CREATE TABLE group_members ("
    "  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  PRIMARY KEY (group_name, username));"
    "CREATE INDEX group_members_user ON group_members(username);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target_type TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  client TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_actor ON audit(actor, id);"
    "CREATE INDEX audit_target ON audit(target, id);",

    /* 3: projects, their members, API accounts */
    "CREATE TABLE projects ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  parent TEXT REFERENCES projects(id),"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX projects_sibling_name ON projects(coalesce(parent, ''), name);"
    "CREATE TABLE project_members ("
    "  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  principal TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'contributor', 'reader')),"
    "  PRIMARY KEY (project_id, principal));"
    "CREATE INDEX project_members_principal ON project_members(principal);"
    "CREATE TABLE service_accounts ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  project_id TEXT REFERENCES projects(id),"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX service_accounts_name ON service_accounts(coalesce(project_id, ''), "
    "name);",

    /* 4: each owner's number of keys, kept by triggers (the per-owner limit reads one row) */
    "CREATE TABLE key_counts ("
    "  owner_type TEXT NOT NULL,"
    "  owner_id TEXT NOT NULL,"
    "  keys INTEGER NOT NULL,"
    "  PRIMARY KEY (owner_type, owner_id)) WITHOUT ROWID;"
    "INSERT INTO key_counts SELECT owner_type, owner_id, count(*) FROM api_keys"
    "  GROUP BY owner_type, owner_id;"
    "CREATE TRIGGER api_keys_count_insert AFTER INSERT ON api_keys BEGIN"
    "  INSERT INTO key_counts VALUES (NEW.owner_type, NEW.owner_id, 1)"
    "    ON CONFLICT (owner_type, owner_id) DO UPDATE SET keys = keys + 1;"
    "END;"
    "CREATE TRIGGER api_keys_count_delete AFTER DELETE ON api_keys BEGIN"
    "  UPDATE key_counts SET keys = keys - 1"
    "    WHERE owner_type = OLD.owner_type AND owner_id = OLD.owner_id;"
    "END;",

    /* 5: names people read are unique without regard to case ("Admin" while "admin" exists
     * is a conflict), as GitHub and GitLab fold them; names are ASCII tokens, so NOCASE folds
     * all of them */
    "CREATE UNIQUE INDEX users_username_nocase ON users(username COLLATE NOCASE);"
    "CREATE UNIQUE INDEX roles_name_nocase ON roles(name COLLATE NOCASE);"
    "CREATE UNIQUE INDEX groups_name_nocase ON groups(name COLLATE NOCASE);",

    /* 6: when each session was last used, so that idle sessions end (session_idle_seconds) */
    "ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE sessions SET last_seen_at = created_at;",

    /* 7: MFA recovery codes, each stored as its SHA-256 until used */
    "CREATE TABLE mfa_recovery_codes ("
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  code_hash BLOB NOT NULL,"
    "  PRIMARY KEY (username, code_hash)) WITHOUT ROWID;",

    /* 8: the per-creator project count and the per-project account count read an index */
    "CREATE INDEX projects_created_by ON projects(created_by);"
    "CREATE INDEX service_accounts_project ON service_accounts(project_id);",

    /* 9: OpenID Connect: nonces already used (until their ID token expires) and the provider
     * subject each SSO user is bound to (sql_sso.c) */
    "CREATE TABLE sso_nonces (nonce_hash BLOB PRIMARY KEY, expires_at INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE INDEX sso_nonces_expiry ON sso_nonces(expires_at);"
    "CREATE TABLE sso_subjects (username TEXT PRIMARY KEY, subject TEXT NOT NULL,"
    "  user_created_at INTEGER NOT NULL) WITHOUT ROWID;",

    /* 10: rotation (core/rotate.c): each key's family, the key it replaced, the key that
     * replaced it and when. A key's name is unique among its owner's keys that are not rotated
     * out (a partial index), so a rotation's new key takes the name while the old one lives on
     * through its overlap. SQLite cannot drop the table's UNIQUE constraint: the table is
     * rebuilt (rowids kept, so the listing order stays), with its indexes and triggers. */
    "CREATE TABLE api_keys_new ("
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
    "  family_id TEXT NOT NULL,"
    "  rotated_from TEXT,"
    "  superseded_by TEXT,"
    "  rotated_at INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO api_keys_new(rowid, id, hash, hint, owner_type, owner_id, created_by, name,"
    "  description, scopes, created_at, expires_at, last_used_at, family_id)"
    "  SELECT rowid, id, hash, hint, owner_type, owner_id, created_by, name, description,"
    "  scopes, created_at, expires_at, last_used_at, id FROM api_keys;"
    "DROP TABLE api_keys;"
    "ALTER TABLE api_keys_new RENAME TO api_keys;"
    "CREATE INDEX api_keys_owner ON api_keys(owner_type, owner_id, created_at);"
    "CREATE UNIQUE INDEX api_keys_current_name ON api_keys(owner_type, owner_id, name)"
    "  WHERE superseded_by IS NULL;"
    "CREATE INDEX api_keys_family ON api_keys(family_id);"
    "CREATE TRIGGER api_keys_count_insert AFTER INSERT ON api_keys BEGIN"
    "  INSERT INTO key_counts VALUES (NEW.owner_type, NEW.owner_id, 1)"
    "    ON CONFLICT (owner_type, owner_id) DO UPDATE SET keys = keys + 1;"
    "END;"
    "CREATE TRIGGER api_keys_count_delete AFTER DELETE ON api_keys BEGIN"
    "  UPDATE key_counts SET keys = keys - 1"
    "    WHERE owner_type = OLD.owner_type AND owner_id = OLD.owner_id;"
    "END;",

    /* 11: expiry notices, one row per key and threshold (0: expired), claimed once on any
     * node, and the people each was mailed to (sql_notices.c) */
    "CREATE INDEX api_keys_expiry ON api_keys(expires_at);"
    "CREATE TABLE key_notices ("
    "  key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,"
    "  threshold INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  claimed_at INTEGER NOT NULL,"
    "  next_try_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  sent_at INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, threshold)) WITHOUT ROWID;"
    "CREATE INDEX key_notices_pending ON key_notices(status, next_try_at);"
    "CREATE TABLE key_notice_mail ("
    "  key_id TEXT NOT NULL,"
    "  threshold INTEGER NOT NULL,"
    "  username TEXT NOT NULL,"
    "  sent_at INTEGER NOT NULL,"
    "  PRIMARY KEY (key_id, threshold, username),"
    "  FOREIGN KEY (key_id, threshold) REFERENCES key_notices(key_id, threshold)"
    "    ON DELETE CASCADE) WITHOUT ROWID;",

    /* 12: webhooks: endpoints (the signing secret sealed with the server key), the outbox
     * written with each audit record, and the delivery attempts (sql_webhooks.c) */
    WEBHOOK_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "BLOB")
    "UPDATE roles SET authorities = authorities || ',manage_webhooks'"
    "  WHERE name = 'admin' AND authorities NOT LIKE '%manage_webhooks%';",

    /* 13: mails about revoked leaked keys, queued at the revocation and sent (retried) by the
     * notice thread; the key is gone by then, so no reference to api_keys (sql_notices.c) */
    "CREATE TABLE leak_mail ("
    "  key_id TEXT NOT NULL,"
    "  username TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  next_try_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  sent_at INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, username)) WITHOUT ROWID;"
    "CREATE INDEX leak_mail_pending ON leak_mail(status, next_try_at);",

    /* 14: the last distinct client addresses each key was used from, with when each was last
     * seen (base/usedfrom.h: "address seconds,..."; written by the usage writer) */
    "ALTER TABLE api_keys ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';",

    /* 15: retention (core/retention.c): rotated-out keys by expiry (a partial index: the prune
     * reads only them), finished leaked-key mails by age */
    "CREATE INDEX api_keys_rotated_out ON api_keys(expires_at) WHERE superseded_by IS NOT NULL;"
    "CREATE INDEX leak_mail_created ON leak_mail(created_at);",
};

/* The driver's state: a statement cache per connection, the data folder. */
struct lite_state {
    struct stmt_cache *write_stmts, *read_stmts;
    char dir[4096];
};

static sqlite3 *db_of(struct sql_store *st)
{
    return sq_conn(st);
}

/* The statement cache of the connection this thread uses now. */
static struct stmt_cache *stmts_of(struct sql_store *st)
{
    struct lite_state *ls = st->extra;
    return sq_conn(st) == st->conn ? ls->write_stmts : ls->read_stmts;
}

/* 1 when a failed write was most likely for want of room. SQLite reports ENOSPC as
 * SQLITE_FULL, but EFBIG (past the file size limit, ulimit -f) and EDQUOT as a plain write
 * error, and the errno it keeps is not the write's: so the room is looked at instead — a
 * file size limit on the process, or under 1 MiB left for it in the data folder. */
static int out_of_room(struct sql_store *st)
{
    struct lite_state *ls = st->extra;
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        return 1;
    struct statvfs sv;
    return ls && statvfs(ls->dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}

/* What a failed call means to a caller: no room (SQLITE_FULL, or a failed write with no room
 * left) is ERR_STORAGE_FULL; another I/O error, a lock held too long or a file that cannot be
 * opened is ERR_UNAVAILABLE (retry); the rest ERR_STORE. */
static enum err lite_error(struct sql_store *st, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return ERR_STORAGE_FULL;
    case SQLITE_IOERR:
        return (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_TRUNCATE ||
                rc == SQLITE_IOERR_SHMSIZE) && out_of_room(st)
                   ? ERR_STORAGE_FULL
                   : ERR_UNAVAILABLE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return ERR_UNAVAILABLE;
    case SQLITE_NOMEM:
        return ERR_NOMEM;
    default:
        return ERR_STORE;
    }
}

static enum err sql_fail(struct sql_store *st, const char *what)
{
    log_error("sqlite: %s: %s (code %d)", what, sqlite3_errmsg(db_of(st)),
              sqlite3_extended_errcode(db_of(st)));
    return lite_error(st, sqlite3_extended_errcode(db_of(st)));
}

static enum err lite_exec(struct sql_store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db_of(st), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("sqlite: %s (code %d)", msg ? msg : "exec failed",
                  sqlite3_extended_errcode(db_of(st)));
        sqlite3_free(msg);
        return lite_error(st, sqlite3_extended_errcode(db_of(st)));
    }
    return ERR_OK;
}

/* Prepares sql and binds arguments per fmt (see sq_run). */
static enum err prepare_bind(struct sql_store *st, sqlite3_stmt **out, const char *sql,
                             const char *fmt, va_list ap)
{
    sqlite3_stmt *stmt = stmt_cache_take(stmts_of(st), sql);
    if (!stmt)
        return sql_fail(st, "prepare");
    for (int i = 1; fmt && *fmt; fmt++, i++) {
        switch (*fmt) {
        case 't':
            sqlite3_bind_text(stmt, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
            break;
        case 'T': {
            const char *t = va_arg(ap, const char *);
            if (t)
                sqlite3_bind_text(stmt, i, t, -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(stmt, i);
            break;
        }
        case 'i':
            sqlite3_bind_int64(stmt, i, va_arg(ap, int64_t));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            int len = va_arg(ap, int);
            if (p && len > 0)
                sqlite3_bind_blob(stmt, i, p, len, SQLITE_STATIC);
            else
                sqlite3_bind_null(stmt, i);
            break;
        }
        default:
            stmt_cache_give(stmts_of(st), sql, stmt);
            log_error("sqlite: bad bind format");
            return ERR_INTERNAL;
        }
    }
    *out = stmt;
    return ERR_OK;
}

static enum err lite_run(struct sql_store *st, int *changes, const char *sql, const char *fmt,
                         va_list ap)
{
    sqlite3_stmt *stmt;
    enum err e = prepare_bind(st, &stmt, sql, fmt, ap);
    if (e)
        return e;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        e = ERR_OK;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT)
        e = ERR_CONFLICT;
    else
        e = sql_fail(st, "step");
    if (changes)
        *changes = sqlite3_changes(db_of(st));
    stmt_cache_give(stmts_of(st), sql, stmt);
    return e;
}

static const struct sql_driver sqlite_driver;

static enum err lite_each(struct sql_store *st, sq_row_fn fn, void *ctx, const char *sql,
                          const char *fmt, va_list ap)
{
    sqlite3_stmt *stmt;
    enum err e = prepare_bind(st, &stmt, sql, fmt, ap);
    if (e)
        return e;
    struct sq_row row = {&sqlite_driver, stmt, 0};
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (fn(ctx, &row))
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = sql_fail(st, "each");
    stmt_cache_give(stmts_of(st), sql, stmt);
    return e;
}

static const char *lite_col_text(struct sq_row *row, int col)
{
    return (const char *)sqlite3_column_text(row->impl, col);
}

static int64_t lite_col_int64(struct sq_row *row, int col)
{
    return sqlite3_column_int64(row->impl, col);
}

static int lite_col_is_null(struct sq_row *row, int col)
{
    return sqlite3_column_type(row->impl, col) == SQLITE_NULL;
}

static size_t lite_col_blob(struct sq_row *row, int col, void *dst, size_t cap)
{
    int len = sqlite3_column_bytes(row->impl, col);
    const void *p = sqlite3_column_blob(row->impl, col);
    if (!p || len <= 0 || (size_t)len > cap)
        return 0;
    memcpy(dst, p, (size_t)len);
    return (size_t)len;
}

static void lite_close(struct sql_store *st)
{
    struct lite_state *ls = st->extra;
    if (ls) {
        stmt_cache_free(ls->read_stmts);
        stmt_cache_free(ls->write_stmts);
        free(ls);
        st->extra = NULL;
    }
    sqlite3_close(st->read_conn);
    sqlite3_close(st->conn);
}

static const struct sql_driver sqlite_driver = {
    .begin_sql = "BEGIN IMMEDIATE",
    .skip_locked = "", /* one writer: the lease alone decides */
    .exec = lite_exec,
    .run = lite_run,
    .each = lite_each,
    .col_text = lite_col_text,
    .col_int64 = lite_col_int64,
    .col_is_null = lite_col_is_null,
    .col_blob = lite_col_blob,
    .close = lite_close,
};

static enum err migrate(struct sql_store *st)
{
    int64_t version = 0;
    enum err e = sq_int(st, &version, "PRAGMA user_version", NULL);
    if (e)
        return e;
    int target = (int)(sizeof migrations / sizeof migrations[0]);
    for (int v = (int)version; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((e = sq_begin(st)))
            return e;
        if ((e = lite_exec(st, migrations[v])) || (e = lite_exec(st, pragma))) {
            sq_rollback(st);
            return e;
        }
        if ((e = sq_commit(st)))
            return e;
        log_info("store: migrated schema to version %d", v + 1);
    }
    return ERR_OK;
}

static struct store_ops sqlite_ops;
static pthread_once_t sqlite_ops_once = PTHREAD_ONCE_INIT;

static void fill_ops(void)
{
    sql_fill_ops(&sqlite_ops);
}

enum err store_sqlite_open(const char *dir, struct store **out)
{
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("store: cannot create data directory %s", dir);
        return ERR_STORE;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/apikeyd.db", dir) >= sizeof path)
        return ERR_STORE;
    pthread_once(&sqlite_ops_once, fill_ops);
    struct sql_store *st = calloc(1, sizeof *st);
    if (!st)
        return ERR_NOMEM;
    st->base.ops = &sqlite_ops;
    st->drv = &sqlite_driver;
    sql_store_init(st);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    st->conn = db;
    if (rc != SQLITE_OK) {
        log_error("store: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite_ops.close(&st->base);
        return ERR_STORE;
    }
    sqlite3_busy_timeout(db, 5000);
    struct lite_state *ls = calloc(1, sizeof *ls);
    st->extra = ls;
    if (ls)
        snprintf(ls->dir, sizeof ls->dir, "%s", dir);
    if (!ls || !(ls->write_stmts = stmt_cache_new(db))) {
        sqlite_ops.close(&st->base);
        return ERR_NOMEM;
    }
    enum err e;
    /* foreign keys stay off during migrations (ALTER TABLE), on afterwards */
    if ((e = lite_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                           " PRAGMA secure_delete = ON;")) ||
        (e = migrate(st)) || (e = lite_exec(st, "PRAGMA foreign_keys = ON;"))) {
        sqlite_ops.close(&st->base);
        return e;
    }
    /* WAL lets this one read while the other commits */
    sqlite3 *reader = NULL;
    if (sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ==
        SQLITE_OK) {
        sqlite3_busy_timeout(reader, 5000);
        ls->read_stmts = stmt_cache_new(reader);
        if (ls->read_stmts) {
            st->read_conn = reader;
        } else {
            sqlite3_close(reader);
            log_warn("store: no separate read connection; reads wait for commits");
        }
    } else {
        sqlite3_close(reader);
        log_warn("store: no separate read connection; reads wait for commits");
    }
    *out = &st->base;
    return ERR_OK;
}

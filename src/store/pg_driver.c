/* pg_driver.c — the PostgreSQL backend of struct store (libpq): schema migrations under an
 * advisory lock (several nodes may start at once), the driver that runs the shared SQL
 * operations (placeholders rewritten to $N, typed parameters, bytea in binary), and
 * triggers that publish every change a verification depends on with NOTIFY, in the
 * writing transaction. The change feed itself is in pg_feed.c. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "pg_internal.h"
#include "sql_webhook_schema.h"

#define PG_MIGRATION_LOCK 727274 /* advisory lock id: "apikeyd" */
#define PG_MAX_PARAMS 16
#define PG_SQL_MAX 4096

static const char *const pg_migrations[] = {
    /* 1: the whole schema of SQLite version 3, in PostgreSQL types */
    "CREATE TABLE environments (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '');"
    "INSERT INTO environments VALUES ('ROOT', 'The default environment');"
    "CREATE TABLE users ("
    "  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL DEFAULT '',"
    "  full_name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',"
    "  auth_source TEXT NOT NULL DEFAULT 'local', disabled BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  environment TEXT NOT NULL DEFAULT 'ROOT' REFERENCES environments(name),"
    "  mfa_enabled BIGINT NOT NULL DEFAULT 0, mfa_secret BYTEA, mfa_pending BYTEA,"
    "  mfa_last_step BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE scopes (position BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
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
    "  id TEXT PRIMARY KEY, hash BYTEA NOT NULL UNIQUE, hint TEXT NOT NULL,"
    "  owner_type TEXT NOT NULL, owner_id TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  name TEXT NOT NULL, description TEXT, scopes TEXT NOT NULL, created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL, last_used_at BIGINT NOT NULL DEFAULT 0,"
    "  rowid BIGSERIAL," /* SQLite's implicit rowid: insertion order for the shared SQL */
    "  UNIQUE (owner_type, owner_id, name));"
    "CREATE INDEX api_keys_owner ON api_keys(owner_type, owner_id, created_at);"
    "CREATE TABLE sessions (token_hash BYTEA PRIMARY KEY, csrf_hash BYTEA NOT NULL,"
    "  username TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
    "  rowid BIGSERIAL);"
    "CREATE INDEX sessions_user ON sessions(username, created_at);"
    "CREATE TABLE roles (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '',"
    "  authorities TEXT NOT NULL DEFAULT '', builtin BIGINT NOT NULL DEFAULT 0);"
    "INSERT INTO roles VALUES"
    " ('admin', 'Every authority', 'manage_users,manage_user_api_keys,manage_roles,"
    "manage_groups,manage_environments,manage_service_accounts,manage_projects,manage_scopes,"
    "view_audit', 1),"
    " ('user', 'No administrative authority', '', 1);"
    "CREATE TABLE user_roles ("
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  role TEXT NOT NULL REFERENCES roles(name), PRIMARY KEY (username, role));"
    "CREATE TABLE groups (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '',"
    "  environment TEXT NOT NULL REFERENCES environments(name));"
    "CREATE TABLE group_roles ("
    "  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
    "  role TEXT NOT NULL REFERENCES roles(name), PRIMARY KEY (group_name, role));"
    "CREATE TABLE group_members ("
    "  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  PRIMARY KEY (group_name, username));"
    "CREATE INDEX group_members_user ON group_members(username);"
    "CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, target_type TEXT NOT NULL, target TEXT NOT NULL,"
    "  client TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_actor ON audit(actor, id);"
    "CREATE INDEX audit_target ON audit(target, id);"
    "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  parent TEXT REFERENCES projects(id), created_by TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX projects_sibling_name ON projects(coalesce(parent, ''), name);"
    "CREATE TABLE project_members ("
    "  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
    "  principal TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'contributor', 'reader')),"
    "  PRIMARY KEY (project_id, principal));"
    "CREATE INDEX project_members_principal ON project_members(principal);"
    "CREATE TABLE service_accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '', project_id TEXT REFERENCES projects(id),"
    "  created_by TEXT NOT NULL, created_at BIGINT NOT NULL,"
    "  disabled BIGINT NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX service_accounts_name ON service_accounts(coalesce(project_id, ''),"
    "  name);"
    /* SQLite's group_concat(text, sep), which the shared SQL uses */
    "CREATE FUNCTION apikeyd_concat(acc TEXT, v TEXT, sep TEXT) RETURNS TEXT"
    "  LANGUAGE sql IMMUTABLE AS"
    "  $$ SELECT CASE WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;"
    "CREATE AGGREGATE group_concat(TEXT, TEXT) (SFUNC = apikeyd_concat, STYPE = TEXT);"
    /* the change feed: every change a verification depends on, in the writing transaction */
    "CREATE FUNCTION apikeyd_notify_key() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'INSERT' THEN PERFORM pg_notify('apikeyd', 'key+:' || NEW.id);"
    "  ELSE PERFORM pg_notify('apikeyd', 'key-:' || encode(OLD.hash, 'hex')); END IF;"
    "  RETURN NULL; END $$;"
    "CREATE TRIGGER api_keys_feed AFTER INSERT OR DELETE ON api_keys"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_key();"
    "CREATE FUNCTION apikeyd_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN PERFORM pg_notify('apikeyd', 'owner-:user:' || OLD.username);"
    "  ELSIF TG_OP = 'INSERT' OR NEW.disabled <> OLD.disabled THEN"
    "    PERFORM pg_notify('apikeyd', 'owner:user:' || NEW.username || ':' || NEW.disabled);"
    "  END IF; RETURN NULL; END $$;"
    "CREATE TRIGGER users_feed AFTER INSERT OR UPDATE OR DELETE ON users"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_user();"
    "CREATE FUNCTION apikeyd_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN"
    "    PERFORM pg_notify('apikeyd', 'owner-:service-account:' || OLD.id);"
    "  ELSIF TG_OP = 'INSERT' OR NEW.disabled <> OLD.disabled THEN"
    "    PERFORM pg_notify('apikeyd', 'owner:service-account:' || NEW.id || ':' || NEW.disabled);"
    "  END IF; RETURN NULL; END $$;"
    "CREATE TRIGGER service_accounts_feed AFTER INSERT OR UPDATE OR DELETE ON service_accounts"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_account();"
    "CREATE FUNCTION apikeyd_notify_member() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN PERFORM pg_notify('apikeyd',"
    "    'member:' || OLD.project_id || ':' || OLD.principal || ':');"
    "  ELSE PERFORM pg_notify('apikeyd',"
    "    'member:' || NEW.project_id || ':' || NEW.principal || ':' || NEW.role); END IF;"
    "  RETURN NULL; END $$;"
    "CREATE TRIGGER project_members_feed AFTER INSERT OR UPDATE OR DELETE ON project_members"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_member();"
    "CREATE FUNCTION apikeyd_notify_project() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN PERFORM pg_notify('apikeyd', 'project-:' || OLD.id);"
    "  ELSE PERFORM pg_notify('apikeyd',"
    "    'project+:' || NEW.id || ':' || coalesce(NEW.parent, '')); END IF;"
    "  RETURN NULL; END $$;"
    "CREATE TRIGGER projects_feed AFTER INSERT OR DELETE ON projects"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_project();"
    "CREATE FUNCTION apikeyd_notify_scope() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  PERFORM pg_notify('apikeyd', 'scope+:' || NEW.name); RETURN NULL; END $$;"
    "CREATE TRIGGER scopes_feed AFTER INSERT ON scopes"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_notify_scope();",

    /* 2: each owner's number of keys, kept by triggers (the per-owner limit reads one row; the
     * row lock of the increment orders concurrent creates of one owner across nodes) */
    "CREATE TABLE key_counts (owner_type TEXT NOT NULL, owner_id TEXT NOT NULL,"
    "  keys BIGINT NOT NULL, PRIMARY KEY (owner_type, owner_id));"
    "INSERT INTO key_counts SELECT owner_type, owner_id, count(*) FROM api_keys"
    "  GROUP BY owner_type, owner_id;"
    "CREATE FUNCTION apikeyd_count_key() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO key_counts VALUES (NEW.owner_type, NEW.owner_id, 1)"
    "      ON CONFLICT (owner_type, owner_id) DO UPDATE SET keys = key_counts.keys + 1;"
    "  ELSE"
    "    UPDATE key_counts SET keys = keys - 1"
    "      WHERE owner_type = OLD.owner_type AND owner_id = OLD.owner_id;"
    "  END IF; RETURN NULL; END $$;"
    "CREATE TRIGGER api_keys_count AFTER INSERT OR DELETE ON api_keys"
    "  FOR EACH ROW EXECUTE FUNCTION apikeyd_count_key();",

    /* 3: names people read are unique without regard to case (SQLite's entry 5) */
    "CREATE UNIQUE INDEX users_username_nocase ON users (lower(username));"
    "CREATE UNIQUE INDEX roles_name_nocase ON roles (lower(name));"
    "CREATE UNIQUE INDEX groups_name_nocase ON groups (lower(name));",

    /* 4: when each session was last used (SQLite's entry 6) */
    "ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;"
    "UPDATE sessions SET last_seen_at = created_at;",

    /* 5: MFA recovery codes (SQLite's entry 7) */
    "CREATE TABLE mfa_recovery_codes ("
    "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
    "  code_hash BYTEA NOT NULL, PRIMARY KEY (username, code_hash));",

    /* 6: indexes for the project and account limits (SQLite's entry 8) */
    "CREATE INDEX projects_created_by ON projects(created_by);"
    "CREATE INDEX service_accounts_project ON service_accounts(project_id);",

    /* 7: OpenID Connect's used nonces and bound subjects (SQLite's entry 9) */
    "CREATE TABLE sso_nonces (nonce_hash BYTEA PRIMARY KEY, expires_at BIGINT NOT NULL);"
    "CREATE INDEX sso_nonces_expiry ON sso_nonces(expires_at);"
    "CREATE TABLE sso_subjects (username TEXT PRIMARY KEY, subject TEXT NOT NULL,"
    "  user_created_at BIGINT NOT NULL);",

    /* 8: rotation (SQLite's entry 10): family, rotated_from, superseded_by, rotated_at; the
     * name unique only among keys not rotated out; a changed expiry is fed to every node
     * ("key+:ID": the node reads the key again), the last-use writes are not */
    "ALTER TABLE api_keys ADD COLUMN family_id TEXT NOT NULL DEFAULT '',"
    "  ADD COLUMN rotated_from TEXT, ADD COLUMN superseded_by TEXT,"
    "  ADD COLUMN rotated_at BIGINT NOT NULL DEFAULT 0;"
    "UPDATE api_keys SET family_id = id;"
    "ALTER TABLE api_keys DROP CONSTRAINT api_keys_owner_type_owner_id_name_key;"
    "CREATE UNIQUE INDEX api_keys_current_name ON api_keys(owner_type, owner_id, name)"
    "  WHERE superseded_by IS NULL;"
    "CREATE INDEX api_keys_family ON api_keys(family_id);"
    "CREATE OR REPLACE FUNCTION apikeyd_notify_key() RETURNS trigger LANGUAGE plpgsql AS $$"
    "  BEGIN"
    "  IF TG_OP = 'DELETE' THEN PERFORM pg_notify('apikeyd', 'key-:' || encode(OLD.hash, 'hex'));"
    "  ELSE PERFORM pg_notify('apikeyd', 'key+:' || NEW.id); END IF;"
    "  RETURN NULL; END $$;"
    "CREATE TRIGGER api_keys_feed_expiry AFTER UPDATE OF expires_at ON api_keys"
    "  FOR EACH ROW WHEN (OLD.expires_at <> NEW.expires_at)"
    "  EXECUTE FUNCTION apikeyd_notify_key();",

    /* 9: expiry notices (SQLite's entry 11) */
    "CREATE INDEX api_keys_expiry ON api_keys(expires_at);"
    "CREATE TABLE key_notices ("
    "  key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,"
    "  threshold BIGINT NOT NULL, status TEXT NOT NULL, claimed_at BIGINT NOT NULL,"
    "  next_try_at BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,"
    "  sent_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (key_id, threshold));"
    "CREATE INDEX key_notices_pending ON key_notices(status, next_try_at);"
    "CREATE TABLE key_notice_mail (key_id TEXT NOT NULL, threshold BIGINT NOT NULL,"
    "  username TEXT NOT NULL, sent_at BIGINT NOT NULL,"
    "  PRIMARY KEY (key_id, threshold, username),"
    "  FOREIGN KEY (key_id, threshold) REFERENCES key_notices(key_id, threshold)"
    "    ON DELETE CASCADE);",

    /* 10: webhooks (SQLite's entry 12) */
    WEBHOOK_TABLES("BIGSERIAL PRIMARY KEY", "BIGINT", "BYTEA")
    "UPDATE roles SET authorities = authorities || ',manage_webhooks'"
    "  WHERE name = 'admin' AND authorities NOT LIKE '%manage_webhooks%';",

    /* 11: mails about revoked leaked keys (SQLite's entry 13) */
    "CREATE TABLE leak_mail (key_id TEXT NOT NULL, username TEXT NOT NULL,"
    "  subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, next_try_at BIGINT NOT NULL,"
    "  attempts BIGINT NOT NULL DEFAULT 0, sent_at BIGINT NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, username));"
    "CREATE INDEX leak_mail_pending ON leak_mail(status, next_try_at);",

    /* 12: the last client addresses each key was used from (SQLite's entry 14) */
    "ALTER TABLE api_keys ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';",

    /* 13: retention (SQLite's entry 15) */
    "CREATE INDEX api_keys_rotated_out ON api_keys(expires_at) WHERE superseded_by IS NOT NULL;"
    "CREATE INDEX leak_mail_created ON leak_mail(created_at);",
};

static PGconn *conn_of(struct sql_store *st)
{
    return sq_conn(st);
}

/* A connection lost earlier is re-established before the next command, but not inside a
 * transaction: its statements must fail (and it roll back), not run on in autocommit. */
static void ensure_connected(struct sql_store *st)
{
    if (PQstatus(conn_of(st)) == CONNECTION_BAD && !(st->tx_depth && conn_of(st) == st->conn))
        PQreset(conn_of(st));
}

/* SQLSTATEs that mean "not now" (retry), not a fault of apikeyd's: connection exceptions
 * (08), insufficient resources (53: 53100 disk full is ERR_STORAGE_FULL), the server shutting
 * down or starting (57P01-57P03), a read-only server (25006: a standby after a failover),
 * serialization failure and deadlock (40001, 40P01). */
static enum err pg_state_error(const char *state)
{
    if (!state)
        return ERR_STORE;
    if (strcmp(state, "53100") == 0)
        return ERR_STORAGE_FULL;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P0", 4) == 0 || strcmp(state, "25006") == 0 ||
        strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return ERR_UNAVAILABLE;
    return ERR_STORE;
}

/* Logs a failure; a lost connection is reset for the next call and answers ERR_UNAVAILABLE. */
static enum err pg_fail(struct sql_store *st, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && strncmp(state, "23", 2) == 0)
        return ERR_CONFLICT; /* integrity constraint violation */
    log_error("postgresql: %s: %s", what, PQerrorMessage(conn_of(st)));
    if (PQstatus(conn_of(st)) == CONNECTION_BAD)
        return ERR_UNAVAILABLE;
    return pg_state_error(state);
}

/* Rewrites SQLite-style placeholders (? and ?N) to $N, leaving string literals alone. */
static int rewrite_placeholders(const char *sql, char *out, size_t cap)
{
    size_t o = 0;
    int next = 1, in_string = 0;
    for (const char *p = sql; *p; p++) {
        if (o + 8 >= cap)
            return -1;
        if (*p == '\'')
            in_string = !in_string;
        if (*p == '?' && !in_string) {
            int n;
            if (p[1] >= '0' && p[1] <= '9') {
                n = (int)strtol(p + 1, (char **)&p, 10);
                p--;
            } else {
                n = next;
            }
            next = n + 1;
            o += (size_t)snprintf(out + o, cap - o, "$%d", n);
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return 0;
}

/* Runs sql with parameters per fmt (see sq_run); the caller clears the result. */
static PGresult *pg_exec_params(struct sql_store *st, const char *sql, const char *fmt,
                                va_list ap)
{
    char text[PG_SQL_MAX];
    char ints[PG_MAX_PARAMS][24];
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS], formats[PG_MAX_PARAMS];
    Oid types[PG_MAX_PARAMS];
    int n = 0;
    if (rewrite_placeholders(sql, text, sizeof text) != 0)
        return NULL;
    ensure_connected(st);
    for (; fmt && *fmt && n < PG_MAX_PARAMS; fmt++, n++) {
        lengths[n] = 0;
        formats[n] = 0;
        switch (*fmt) {
        case 't':
        case 'T':
            values[n] = va_arg(ap, const char *);
            types[n] = 25; /* text */
            break;
        case 'i':
            snprintf(ints[n], sizeof ints[n], "%lld", (long long)va_arg(ap, int64_t));
            values[n] = ints[n];
            types[n] = 20; /* int8 */
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            int len = va_arg(ap, int);
            values[n] = p && len > 0 ? p : NULL;
            lengths[n] = len;
            formats[n] = 1; /* binary */
            types[n] = 17;  /* bytea */
            break;
        }
        default:
            return NULL;
        }
    }
    return PQexecParams(conn_of(st), text, n, types, values, lengths, formats, 0);
}

static enum err pgd_exec(struct sql_store *st, const char *sql)
{
    ensure_connected(st);
    PGresult *res = PQexec(conn_of(st), sql);
    ExecStatusType s = PQresultStatus(res);
    enum err e = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? ERR_OK : pg_fail(st, res, "exec");
    PQclear(res);
    return e;
}

static enum err pgd_run(struct sql_store *st, int *changes, const char *sql, const char *fmt,
                        va_list ap)
{
    PGresult *res = pg_exec_params(st, sql, fmt, ap);
    if (!res)
        return pg_fail(st, NULL, "run");
    ExecStatusType s = PQresultStatus(res);
    enum err e = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? ERR_OK : pg_fail(st, res, "run");
    if (changes)
        *changes = e ? 0 : atoi(PQcmdTuples(res));
    PQclear(res);
    return e;
}

static const struct sql_driver pg_driver;

static enum err pgd_each(struct sql_store *st, sq_row_fn fn, void *ctx, const char *sql,
                         const char *fmt, va_list ap)
{
    PGresult *res = pg_exec_params(st, sql, fmt, ap);
    if (!res)
        return pg_fail(st, NULL, "each");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        enum err e = pg_fail(st, res, "each");
        PQclear(res);
        return e;
    }
    struct sq_row row = {&pg_driver, res, 0};
    int rows = PQntuples(res);
    for (row.index = 0; row.index < rows; row.index++)
        if (fn(ctx, &row))
            break;
    PQclear(res);
    return ERR_OK;
}

static const char *pgd_col_text(struct sq_row *row, int col)
{
    if (PQgetisnull(row->impl, row->index, col))
        return NULL;
    return PQgetvalue(row->impl, row->index, col);
}

static int64_t pgd_col_int64(struct sq_row *row, int col)
{
    const char *v = pgd_col_text(row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static int pgd_col_is_null(struct sq_row *row, int col)
{
    return PQgetisnull(row->impl, row->index, col);
}

static size_t pgd_col_blob(struct sq_row *row, int col, void *dst, size_t cap)
{
    const char *v = pgd_col_text(row, col);
    if (!v)
        return 0;
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)v, &len);
    if (!bytes)
        return 0;
    if (len > cap)
        len = 0;
    else
        memcpy(dst, bytes, len);
    PQfreemem(bytes);
    return len;
}

static void pgd_close(struct sql_store *st)
{
    pg_feed_stop(st);
    if (st->read_conn)
        PQfinish(st->read_conn);
    PQfinish(st->conn);
}

static const struct sql_driver pg_driver = {
    .begin_sql = "BEGIN",
    .skip_locked = " FOR UPDATE OF m SKIP LOCKED",
    .exec = pgd_exec,
    .run = pgd_run,
    .each = pgd_each,
    .col_text = pgd_col_text,
    .col_int64 = pgd_col_int64,
    .col_is_null = pgd_col_is_null,
    .col_blob = pgd_col_blob,
    .close = pgd_close,
};

/* Server notices ("relation already exists, skipping") are not worth a log line. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static enum err migrate(struct sql_store *st)
{
    enum err e = sq_begin(st);
    int64_t version = 0;
    if (!e)
        e = sq_run(st, NULL, "SELECT pg_advisory_xact_lock(?)", "i", (int64_t)PG_MIGRATION_LOCK);
    if (!e)
        e = pgd_exec(st, "CREATE TABLE IF NOT EXISTS apikeyd_schema (version BIGINT NOT NULL);"
                         "INSERT INTO apikeyd_schema SELECT 0 WHERE NOT EXISTS"
                         " (SELECT 1 FROM apikeyd_schema)");
    if (!e)
        e = sq_int(st, &version, "SELECT version FROM apikeyd_schema", NULL);
    int target = (int)(sizeof pg_migrations / sizeof pg_migrations[0]);
    for (int v = (int)version; !e && v < target; v++) {
        if (!(e = pgd_exec(st, pg_migrations[v])))
            e = sq_run(st, NULL, "UPDATE apikeyd_schema SET version = ?", "i", (int64_t)(v + 1));
        if (!e)
            log_info("store: migrated PostgreSQL schema to version %d", v + 1);
    }
    if (!e)
        e = sq_commit(st);
    else
        sq_rollback(st);
    return e;
}

static struct store_ops pg_ops;
static pthread_once_t pg_ops_once = PTHREAD_ONCE_INIT;

static void fill_ops(void)
{
    sql_fill_ops(&pg_ops);
    pg_ops.watch = pg_feed_watch;
    pg_ops.unwatch = pg_feed_unwatch;
}

enum err store_pg_open(const char *url, struct store **out)
{
    pthread_once(&pg_ops_once, fill_ops);
    struct sql_store *st = calloc(1, sizeof *st);
    if (!st)
        return ERR_NOMEM;
    st->base.ops = &pg_ops;
    st->drv = &pg_driver;
    sql_store_init(st);
    PGconn *conn = PQconnectdb(url);
    st->conn = conn;
    enum err e = ERR_OK;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        log_error("store: cannot connect to PostgreSQL: %s",
                  conn ? PQerrorMessage(conn) : "out of memory");
        e = ERR_UNAVAILABLE;
    }
    if (!e)
        PQsetNoticeProcessor(conn, ignore_notice, NULL);
    if (!e && (e = pg_feed_init(st, url)) == ERR_OK)
        e = migrate(st);
    if (!e) { /* reads need not wait for a commit in progress */
        PGconn *reader = PQconnectdb(url);
        if (reader && PQstatus(reader) == CONNECTION_OK) {
            PQsetNoticeProcessor(reader, ignore_notice, NULL);
            st->read_conn = reader;
        } else {
            PQfinish(reader);
        }
    }
    if (e) {
        pg_ops.close(&st->base);
        return e;
    }
    *out = &st->base;
    return ERR_OK;
}

/* sqlite_keys.c — SQLite operations for the scope catalogue, API keys, last-use times and
 * portal sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

#define LOCK(st) sq_write_begin(st)
#define UNLOCK(st) sq_write_end(st)
#define RLOCK(st) sq_read_begin(st)
#define RUNLOCK(st) sq_read_end(st)

/* ---- scopes ---- */

struct scope_walk {
    struct sq_walk base;
    store_scope_cb cb;
};

static int scope_row(void *ctx, struct sq_row *row)
{
    struct scope_walk *w = ctx;
    struct scope_record *sc = w->base.rec;
    sq_text(row, 0, sc->name, sizeof sc->name);
    sq_text(row, 1, sc->description, sizeof sc->description);
    return w->cb(w->base.ctx, sc);
}

static enum err sq_scope_each(struct store *s, store_scope_cb cb, void *ctx)
{
    struct scope_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), scope_row, &w.base, sizeof(struct scope_record), NULL,
                       "SELECT name, description FROM scopes ORDER BY position", NULL);
}

static enum err sq_scope_create(struct store *s, const struct scope_record *sc, int max)
{
    return sq_insert_under_limit(as_sql(s), "SELECT count(*) FROM scopes", max,
                                 "INSERT INTO scopes(name, description) VALUES (?, ?)", "tt",
                                 sc->name, sc->description);
}

/* ---- keys ---- */

#define KEY_COLUMNS                                                                                \
    "id, hash, hint, owner_type, owner_id, created_by, name, description, scopes, created_at, "    \
    "expires_at, last_used_at, family_id, rotated_from, superseded_by, rotated_at, "          \
    "last_used_from"

struct key_walk {
    struct sq_walk base;
    store_key_cb cb;
};

static int key_row(void *ctx, struct sq_row *row)
{
    struct key_walk *w = ctx;
    struct key_record *k = w->base.rec;
    memset(k, 0, sizeof *k);
    sq_text(row, 0, k->id, sizeof k->id);
    sq_blob(row, 1, k->hash, sizeof k->hash);
    sq_text(row, 2, k->hint, sizeof k->hint);
    sq_text(row, 3, k->owner_type, sizeof k->owner_type);
    sq_text(row, 4, k->owner_id, sizeof k->owner_id);
    sq_text(row, 5, k->created_by, sizeof k->created_by);
    sq_text(row, 6, k->name, sizeof k->name);
    k->has_description = !sq_col_is_null(row, 7);
    sq_text(row, 7, k->description, sizeof k->description);
    sq_text(row, 8, k->scopes, sizeof k->scopes);
    k->created_at = sq_col_int64(row, 9);
    k->expires_at = sq_col_int64(row, 10);
    k->last_used_at = sq_col_int64(row, 11);
    sq_text(row, 12, k->family_id, sizeof k->family_id);
    sq_text(row, 13, k->rotated_from, sizeof k->rotated_from);
    sq_text(row, 14, k->superseded_by, sizeof k->superseded_by);
    k->rotated_at = sq_col_int64(row, 15);
    sq_text(row, 16, k->last_used_from, sizeof k->last_used_from);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, k) : 1;
}

/* Checks and inserts one key inside the open transaction. */
static enum err insert_key(struct sql_store *st, const struct key_record *k, int max_per_owner)
{
    int64_t count = 0, usable = 1;
    enum err e = ERR_OK;
    if (strcmp(k->owner_type, "user") == 0 &&
        !(e = sq_int(st, &usable, "SELECT count(*) FROM users WHERE username = ? AND disabled = 0",
                     "t", k->owner_id)) &&
        !usable)
        e = ERR_FORBIDDEN;
    if (!e && strcmp(k->owner_type, "service-account") == 0 &&
        !(e = sq_int(st, &usable,
                     "SELECT count(*) FROM service_accounts WHERE id = ? AND"
                     " disabled = 0",
                     "t", k->owner_id)) &&
        !usable)
        e = ERR_FORBIDDEN;
    /* insert, then read the owner's count (kept by a trigger, so it includes this key): over
     * the limit undoes both with the caller's savepoint */
    if (!e && max_per_owner <= 0)
        e = ERR_LIMIT;
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO api_keys(" KEY_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                   "NULL,0,?)",
                   "tbtttttTtiiitTt", k->id, k->hash, STORE_HASH_LEN, k->hint, k->owner_type,
                   k->owner_id, k->created_by, k->name, k->has_description ? k->description : NULL,
                   k->scopes, k->created_at, k->expires_at, k->last_used_at,
                   k->family_id[0] ? k->family_id : k->id,
                   k->rotated_from[0] ? k->rotated_from : NULL, k->last_used_from);
    if (!e &&
        !(e = sq_int(st, &count,
                     "SELECT keys FROM key_counts WHERE owner_type = ? AND owner_id = ?", "tt",
                     k->owner_type, k->owner_id)) &&
        count > max_per_owner)
        e = ERR_LIMIT;
    return e;
}

struct key_create_args {
    const struct key_record *key;
    int max_per_owner;
    const struct audit_record *audit; /* or NULL */
};

static enum err key_create_job(struct sql_store *st, const void *arg)
{
    const struct key_create_args *a = arg;
    enum err e = insert_key(st, a->key, a->max_per_owner);
    if (!e && a->audit)
        e = sql_audit_insert(st, a->audit);
    return e;
}

/* Durable when it returns: written in a group commit with other concurrent writes. */
static enum err sq_key_create(struct store *s, const struct key_record *k, int max_per_owner)
{
    struct key_create_args a = {k, max_per_owner, NULL};
    return sq_group_commit(as_sql(s), key_create_job, &a);
}

static enum err sq_key_create_audited(struct store *s, const struct key_record *k,
                                      int max_per_owner, const struct audit_record *audit)
{
    struct key_create_args a = {k, max_per_owner, audit};
    return sq_group_commit(as_sql(s), key_create_job, &a);
}

static enum err sq_key_get(struct store *s, const char *id, struct key_record *out)
{
    struct key_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), key_row, &w.base, sizeof *out, out,
                       "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?", "t", id);
}

static enum err sq_key_get_by_hash(struct store *s, const uint8_t hash[STORE_HASH_LEN],
                                   struct key_record *out)
{
    struct key_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), key_row, &w.base, sizeof *out, out,
                       "SELECT " KEY_COLUMNS " FROM api_keys WHERE hash = ?", "b", hash,
                       STORE_HASH_LEN);
}

static enum err sq_key_update(struct store *s, const struct key_record *k)
{
    return sq_change_one(as_sql(s), "UPDATE api_keys SET name = ?, description = ? WHERE id = ?",
                         "tTt", k->name, k->has_description ? k->description : NULL, k->id);
}

void sql_key_note_gone(struct sql_store *st, const char *id)
{
    memset(&st->gone_key, 0, sizeof st->gone_key);
    struct key_record *k = calloc(1, sizeof *k);
    struct key_walk w = {.cb = NULL};
    if (k && sq_walk_run(st, key_row, &w.base, sizeof *k, k,
                         "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?", "t", id) == ERR_OK) {
        snprintf(st->gone_key.id, sizeof st->gone_key.id, "%s", k->id);
        snprintf(st->gone_key.name, sizeof st->gone_key.name, "%s", k->name);
        snprintf(st->gone_key.owner_type, sizeof st->gone_key.owner_type, "%s", k->owner_type);
        snprintf(st->gone_key.owner_id, sizeof st->gone_key.owner_id, "%s", k->owner_id);
    }
    free(k);
}

static enum err sq_key_delete(struct store *s, const char *id)
{
    struct sql_store *st = as_sql(s);
    LOCK(st); /* the note and the delete under one hold of the write lock */
    sql_key_note_gone(st, id); /* a key.delete audit record after it names the key */
    enum err e = sq_change_one(st, "DELETE FROM api_keys WHERE id = ?", "t", id);
    UNLOCK(st);
    return e;
}

static enum err sq_key_each(struct store *s, const char *owner_type, const char *owner_id,
                            store_key_cb cb, void *ctx)
{
    struct key_walk w = {.base.ctx = ctx, .cb = cb};
    if (owner_type)
        return sq_walk_run(as_sql(s), key_row, &w.base, sizeof(struct key_record), NULL,
                           "SELECT " KEY_COLUMNS " FROM api_keys WHERE owner_type = ? AND"
                           " owner_id = ? ORDER BY created_at DESC, rowid DESC",
                           "tt", owner_type, owner_id);
    return sq_walk_run(as_sql(s), key_row, &w.base, sizeof(struct key_record), NULL,
                       "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY created_at DESC, rowid DESC",
                       NULL);
}

static int key_index_row(void *ctx, struct sq_row *row)
{
    struct key_walk *w = ctx;
    struct key_record *k = w->base.rec;
    sq_text(row, 0, k->id, sizeof k->id);
    sq_blob(row, 1, k->hash, sizeof k->hash);
    sq_text(row, 2, k->owner_type, sizeof k->owner_type);
    sq_text(row, 3, k->owner_id, sizeof k->owner_id);
    sq_text(row, 4, k->created_by, sizeof k->created_by);
    sq_text(row, 5, k->scopes, sizeof k->scopes);
    k->expires_at = sq_col_int64(row, 6);
    return w->cb(w->base.ctx, k);
}

static enum err sq_key_each_for_index(struct store *s, store_key_cb cb, void *ctx)
{
    struct key_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), key_index_row, &w.base, sizeof(struct key_record), NULL,
                       "SELECT id, hash, owner_type, owner_id, created_by, scopes, expires_at"
                       " FROM api_keys",
                       NULL);
}

static int text_row(void *ctx, struct sq_row *row)
{
    sq_text(row, 0, ctx, USEDFROM_TEXT_MAX);
    return 1;
}

/* Merges the sighting t->from at t->last_used_at into the key's last_used_from, inside the
 * open transaction. The no-op update first locks the key's row (PostgreSQL), so two nodes
 * merging into one key take turns and each reads what the other committed. */
static enum err merge_from(struct sql_store *st, const struct key_touch *t)
{
    char text[USEDFROM_TEXT_MAX] = "";
    int found = 0;
    enum err e = sq_run(st, &found, "UPDATE api_keys SET last_used_from = last_used_from"
                                    " WHERE hash = ?", "b", t->hash, STORE_HASH_LEN);
    if (e || !found)
        return e; /* deleted since */
    e = sq_each(st, text_row, text, "SELECT last_used_from FROM api_keys WHERE hash = ?", "b",
                t->hash, STORE_HASH_LEN);
    if (e)
        return e;
    struct usedfrom l;
    usedfrom_parse(text, &l);
    usedfrom_add(&l, t->from, t->last_used_at);
    char merged[USEDFROM_TEXT_MAX];
    usedfrom_format(&l, merged);
    if (strcmp(merged, text) == 0)
        return ERR_OK;
    return sq_run(st, NULL, "UPDATE api_keys SET last_used_from = ? WHERE hash = ?", "tb", merged,
                  t->hash, STORE_HASH_LEN);
}

/* By hash, and in the given order within one key (the order its addresses were seen). */
static int touch_order(const void *a, const void *b)
{
    const struct key_touch *const *x = a, *const *y = b;
    int c = memcmp((*x)->hash, (*y)->hash, STORE_HASH_LEN);
    return c ? c : (*x < *y ? -1 : *x > *y);
}

static enum err sq_key_touch(struct store *s, const struct key_touch *items, size_t n)
{
    struct sql_store *st = as_sql(s);
    /* rows are locked in one order (by hash) on every node, so two writers cannot deadlock */
    const struct key_touch **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &items[i];
    qsort(sorted, n, sizeof *sorted, touch_order);
    LOCK(st);
    enum err e = sq_begin(st);
    for (size_t i = 0; !e && i < n; i++) {
        e = sq_run(st, NULL,
                   "UPDATE api_keys SET last_used_at = ?1 WHERE hash = ?2 AND last_used_at < ?1",
                   "ib", sorted[i]->last_used_at, sorted[i]->hash, STORE_HASH_LEN);
        if (!e && sorted[i]->from[0])
            e = merge_from(st, sorted[i]);
    }
    e = sq_finish(st, e);
    UNLOCK(st);
    free(sorted);
    return e;
}

/* ---- rotation ---- */

/* Takes the row lock of the owner's key count (PostgreSQL; SQLite has one writer anyway), so
 * rotations and family revocations of one owner take their locks in one order and a
 * revocation sees every key a rotation committed before it. */
static enum err lock_owner_keys(struct sql_store *st, const char *owner_type, const char *owner_id)
{
    return sq_run(st, NULL,
                  "UPDATE key_counts SET keys = keys WHERE owner_type = ? AND owner_id = ?", "tt",
                  owner_type, owner_id);
}

struct key_rotate_args {
    const char *old_id;
    int64_t now, old_expires_at;
    const struct key_record *key;
    int max_per_owner;
    const struct audit_record *audit;
};

static enum err key_rotate_job(struct sql_store *st, const void *arg)
{
    const struct key_rotate_args *a = arg;
    const struct key_record *k = a->key;
    int changed = 0;
    int64_t exists = 0;
    enum err e = lock_owner_keys(st, k->owner_type, k->owner_id);
    /* the conditional update decides between concurrent rotations: the second one waits for
     * the first one's row lock (PostgreSQL) or the write lock (SQLite), then changes nothing */
    if (!e)
        e = sq_run(st, &changed,
                   "UPDATE api_keys SET superseded_by = ?1, rotated_at = ?2,"
                   " expires_at = CASE WHEN expires_at < ?3 THEN expires_at ELSE ?3 END"
                   " WHERE id = ?4 AND owner_type = ?5 AND owner_id = ?6"
                   " AND superseded_by IS NULL AND expires_at > ?2",
                   "tiittt", k->id, a->now, a->old_expires_at, a->old_id, k->owner_type,
                   k->owner_id);
    if (!e && !changed &&
        !(e = sq_int(st, &exists,
                     "SELECT count(*) FROM api_keys WHERE id = ? AND owner_type = ? AND"
                     " owner_id = ?",
                     "ttt", a->old_id, k->owner_type, k->owner_id)))
        e = exists ? ERR_CONFLICT : ERR_NOT_FOUND;
    if (!e)
        e = insert_key(st, k, a->max_per_owner);
    if (!e)
        e = sql_audit_insert(st, a->audit);
    return e;
}

static enum err sq_key_rotate(struct store *s, const char *old_id, int64_t now,
                              int64_t old_expires_at, const struct key_record *k,
                              int max_per_owner, const struct audit_record *audit)
{
    struct key_rotate_args a = {old_id, now, old_expires_at, k, max_per_owner, audit};
    return sq_group_commit(as_sql(s), key_rotate_job, &a);
}

int sql_key_gone_row(void *ctx, struct sq_row *row)
{
    struct sql_gone_walk *w = ctx;
    if (!w->cb)
        return 0;
    memset(w->rec, 0, sizeof *w->rec);
    sq_text(row, 0, w->rec->id, sizeof w->rec->id);
    sq_blob(row, 1, w->rec->hash, sizeof w->rec->hash);
    sq_text(row, 2, w->rec->name, sizeof w->rec->name);
    sq_text(row, 3, w->rec->owner_type, sizeof w->rec->owner_type);
    sq_text(row, 4, w->rec->owner_id, sizeof w->rec->owner_id);
    w->rec->expires_at = sq_col_int64(row, 5);
    w->cb(w->ctx, w->rec);
    return 0; /* every row: the statement has deleted them all already */
}

static enum err sq_key_family_revoke(struct store *s, const char *family_id,
                                     const char *owner_type, const char *owner_id, int64_t now,
                                     store_key_cb cb, void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct key_record *rec = malloc(sizeof *rec);
    if (!rec)
        return ERR_NOMEM;
    struct sql_gone_walk w = {cb, ctx, rec};
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e) {
        e = lock_owner_keys(st, owner_type, owner_id);
        if (!e)
            e = sq_each(st, sql_key_gone_row, &w,
                        "DELETE FROM api_keys WHERE family_id = ? AND owner_type = ? AND"
                        " owner_id = ? AND expires_at > ? RETURNING " SQL_KEY_GONE_COLUMNS,
                        "ttti", family_id, owner_type, owner_id, now);
        e = sq_finish(st, e);
    }
    UNLOCK(st);
    free(rec);
    return e;
}

static enum err sq_key_prune_rotated_out(struct store *s, int64_t expired_before, int limit,
                                         store_key_cb cb, void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct key_record *rec = malloc(sizeof *rec);
    if (!rec)
        return ERR_NOMEM;
    struct sql_gone_walk w = {cb, ctx, rec};
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e) { /* the oldest first, through the partial index of rotated-out keys by expiry */
        e = sq_each(st, sql_key_gone_row, &w,
                    "DELETE FROM api_keys WHERE id IN (SELECT id FROM api_keys"
                    " WHERE superseded_by IS NOT NULL AND expires_at < ?"
                    " ORDER BY expires_at LIMIT ?) RETURNING " SQL_KEY_GONE_COLUMNS,
                    "ii", expired_before, (int64_t)limit);
        e = sq_finish(st, e);
    }
    UNLOCK(st);
    free(rec);
    return e;
}

/* ---- sessions ---- */

static enum err sq_session_create(struct store *s, const struct session_record *r, int max_per_user,
                                  const struct user_record *checked)
{
    struct sql_store *st = as_sql(s);
    int still = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    /* a no-op write locks the user's row until commit (PostgreSQL): a reset or disable
     * either waits for this session and then ends it, or lands first and refuses it */
    if (!e && checked) {
        e = sq_run(st, &still,
                   "UPDATE users SET password_hash = password_hash WHERE username = ?"
                   " AND password_hash = ? AND disabled = 0 AND mfa_enabled = ?",
                   "tti", r->username, checked->password_hash,
                   (int64_t)(checked->mfa_enabled != 0));
        if (!e && !still)
            e = ERR_CONFLICT;
    }
    /* a code (TOTP step or recovery code) is spent only with the session it opens: refused
     * together, it stays unused */
    if (!e && r->mfa_step > 0) {
        e = sq_run(st, &still,
                   "UPDATE users SET mfa_last_step = ? WHERE username = ? AND mfa_last_step < ?",
                   "iti", r->mfa_step, r->username, r->mfa_step);
        if (!e && !still)
            e = ERR_CONFLICT;
    }
    if (!e && r->recovery_used) {
        e = sq_run(st, &still,
                   "DELETE FROM mfa_recovery_codes WHERE username = ? AND code_hash = ?", "tb",
                   r->username, r->recovery_hash, STORE_HASH_LEN);
        if (!e && !still)
            e = ERR_CONFLICT;
    }
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO sessions(token_hash, csrf_hash, username, created_at, expires_at,"
                   " last_seen_at) VALUES (?,?,?,?,?,?)",
                   "bbtiii", r->token_hash, STORE_HASH_LEN, r->csrf_hash, STORE_HASH_LEN,
                   r->username, r->created_at, r->expires_at, r->created_at);
    /* drop expired sessions of everyone, and this user's sessions past the limit */
    if (!e)
        e = sq_run(st, NULL,
                   "DELETE FROM sessions WHERE expires_at <= ?1 OR (username = ?2 AND"
                   " token_hash NOT IN (SELECT token_hash FROM sessions WHERE username = ?2"
                   " ORDER BY created_at DESC, rowid DESC LIMIT ?3))",
                   "iti", r->created_at, r->username, (int64_t)max_per_user);
    e = sq_finish(st, e);
    UNLOCK(st);
    return e;
}

struct session_walk {
    struct session_record *out;
    int found;
};

static int session_row(void *ctx, struct sq_row *row)
{
    struct session_walk *w = ctx;
    if (sq_blob(row, 0, w->out->csrf_hash, STORE_HASH_LEN) != STORE_HASH_LEN)
        return 1;
    sq_text(row, 1, w->out->username, sizeof w->out->username);
    w->out->created_at = sq_col_int64(row, 2);
    w->out->expires_at = sq_col_int64(row, 3);
    w->out->last_seen_at = sq_col_int64(row, 4);
    w->found = 1;
    return 1;
}

static enum err sq_session_get(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                               int64_t now, struct session_record *out)
{
    struct sql_store *st = as_sql(s);
    memset(out, 0, sizeof *out);
    memcpy(out->token_hash, token_hash, STORE_HASH_LEN);
    struct session_walk w = {out, 0};
    RLOCK(st);
    enum err e = sq_each(st, session_row, &w,
                         "SELECT csrf_hash, username, created_at, expires_at, last_seen_at"
                         " FROM sessions"
                         " WHERE token_hash = ? AND expires_at > ?",
                         "bi", token_hash, STORE_HASH_LEN, now);
    RUNLOCK(st);
    return !e && !w.found ? ERR_NOT_FOUND : e;
}

static enum err sq_session_delete(struct store *s, const uint8_t token_hash[STORE_HASH_LEN])
{
    struct sql_store *st = as_sql(s);
    LOCK(st);
    enum err e = sq_run(st, NULL, "DELETE FROM sessions WHERE token_hash = ?", "b", token_hash,
                        STORE_HASH_LEN);
    UNLOCK(st);
    return e;
}

static enum err sq_session_touch(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                                 int64_t now)
{
    struct sql_store *st = as_sql(s);
    LOCK(st);
    enum err e = sq_run(st, NULL,
                        "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?"
                        " AND last_seen_at < ?",
                        "ibi", now, token_hash, STORE_HASH_LEN, now);
    UNLOCK(st);
    return e;
}

static enum err sq_session_delete_user(struct store *s, const char *username,
                                       const uint8_t *keep_hash)
{
    struct sql_store *st = as_sql(s);
    LOCK(st);
    enum err e = sq_run(st, NULL,
                        "DELETE FROM sessions WHERE username = ? AND (?2 IS NULL OR"
                        " token_hash <> ?2)",
                        "tb", username, keep_hash, keep_hash ? STORE_HASH_LEN : 0);
    UNLOCK(st);
    return e;
}

void sql_keys_ops(struct store_ops *ops)
{
    ops->scope_each = sq_scope_each;
    ops->scope_create = sq_scope_create;
    ops->key_create = sq_key_create;
    ops->key_create_audited = sq_key_create_audited;
    ops->key_get = sq_key_get;
    ops->key_get_by_hash = sq_key_get_by_hash;
    ops->key_update = sq_key_update;
    ops->key_delete = sq_key_delete;
    ops->key_each = sq_key_each;
    ops->key_each_for_index = sq_key_each_for_index;
    ops->key_touch = sq_key_touch;
    ops->key_rotate = sq_key_rotate;
    ops->key_family_revoke = sq_key_family_revoke;
    ops->key_prune_rotated_out = sq_key_prune_rotated_out;
    ops->session_create = sq_session_create;
    ops->session_get = sq_session_get;
    ops->session_touch = sq_session_touch;
    ops->session_delete = sq_session_delete;
    ops->session_delete_user = sq_session_delete_user;
}

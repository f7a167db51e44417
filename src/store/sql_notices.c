/* sql_notices.c — expiry notices (store.h, notice_*): the keys whose expiry is near, one
 * claimed row per key and threshold (its primary key makes exactly one node win the claim,
 * on PostgreSQL as on SQLite), the attempts to mail it and the people already mailed; and the
 * queued mails about revoked leaked keys (leak_mail_*), one row per key and person. */
#include <stdio.h>
#include <string.h>

#include "sql_internal.h"

struct notice_key_walk {
    struct sq_walk base;
    store_notice_key_cb cb;
};

static int notice_key_row(void *ctx, struct sq_row *row)
{
    struct notice_key_walk *w = ctx;
    struct key_record *k = w->base.rec;
    memset(k, 0, sizeof *k);
    sq_text(row, 0, k->id, sizeof k->id);
    sq_text(row, 1, k->hint, sizeof k->hint);
    sq_text(row, 2, k->owner_type, sizeof k->owner_type);
    sq_text(row, 3, k->owner_id, sizeof k->owner_id);
    sq_text(row, 4, k->created_by, sizeof k->created_by);
    sq_text(row, 5, k->name, sizeof k->name);
    k->created_at = sq_col_int64(row, 6);
    k->expires_at = sq_col_int64(row, 7);
    w->base.found = 1;
    return w->cb(w->base.ctx, k, (int)sq_col_int64(row, 8));
}

static enum err sq_notice_keys_each(struct store *s, int64_t expires_until, int64_t expires_after,
                                    store_notice_key_cb cb, void *ctx)
{
    struct notice_key_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), notice_key_row, &w.base, sizeof(struct key_record), NULL,
                       "SELECT k.id, k.hint, k.owner_type, k.owner_id, k.created_by, k.name,"
                       " k.created_at, k.expires_at,"
                       " coalesce((SELECT min(n.threshold) FROM key_notices n"
                       "  WHERE n.key_id = k.id), -1)"
                       " FROM api_keys k WHERE k.expires_at <= ? AND k.expires_at > ?"
                       " AND k.superseded_by IS NULL" /* rotated out: its successor is told */
                       " AND NOT EXISTS (SELECT 1 FROM key_notices z"
                       "  WHERE z.key_id = k.id AND z.threshold = 0)"
                       " ORDER BY k.expires_at",
                       "ii", expires_until, expires_after);
}

static enum err sq_notice_claim(struct store *s, const char *key_id, int threshold, int64_t now,
                                int64_t lease_until)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e) {
        /* the primary key decides between nodes: a concurrent claim of the same row waits
         * for this transaction and then inserts nothing */
        e = sq_run(st, &changes,
                   "INSERT INTO key_notices(key_id, threshold, status, claimed_at, next_try_at)"
                   " SELECT ?1, ?2, 'pending', ?3, ?4"
                   " WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?1)"
                   " AND NOT EXISTS (SELECT 1 FROM key_notices WHERE key_id = ?1"
                   "  AND threshold <= ?2)"
                   " ON CONFLICT DO NOTHING",
                   "tiii", key_id, (int64_t)threshold, now, lease_until);
        if (!e && changes == 0)
            e = ERR_CONFLICT;
        if (!e)
            e = sq_run(st, NULL,
                       "UPDATE key_notices SET status = 'superseded'"
                       " WHERE key_id = ? AND threshold > ? AND status = 'pending'",
                       "ti", key_id, (int64_t)threshold);
        e = sq_finish(st, e);
    }
    sq_write_end(st);
    return e;
}

struct notice_walk {
    struct sq_walk base;
    store_notice_cb cb;
};

#define NOTICE_COLUMNS "n.key_id, n.threshold, n.status, n.claimed_at, n.next_try_at, " \
                       "n.attempts, n.sent_at"

static int notice_row(void *ctx, struct sq_row *row)
{
    struct notice_walk *w = ctx;
    struct notice_record *n = w->base.rec;
    memset(n, 0, sizeof *n);
    sq_text(row, 0, n->key_id, sizeof n->key_id);
    n->threshold = (int)sq_col_int64(row, 1);
    sq_text(row, 2, n->status, sizeof n->status);
    n->claimed_at = sq_col_int64(row, 3);
    n->next_try_at = sq_col_int64(row, 4);
    n->attempts = (int)sq_col_int64(row, 5);
    n->sent_at = sq_col_int64(row, 6);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, n) : 1;
}

static enum err sq_notice_pending_each(struct store *s, int64_t now, store_notice_cb cb,
                                       void *ctx)
{
    struct notice_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), notice_row, &w.base, sizeof(struct notice_record), NULL,
                       "SELECT " NOTICE_COLUMNS " FROM key_notices n"
                       " WHERE n.status = 'pending' AND n.next_try_at <= ?"
                       " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = n.key_id)"
                       " ORDER BY n.next_try_at",
                       "i", now);
}

static enum err sq_notice_get(struct store *s, const char *key_id, int threshold,
                              struct notice_record *out)
{
    struct notice_walk w = {0};
    return sq_walk_run(as_sql(s), notice_row, &w.base, sizeof(struct notice_record), out,
                       "SELECT " NOTICE_COLUMNS " FROM key_notices n"
                       " WHERE n.key_id = ? AND n.threshold = ?",
                       "ti", key_id, (int64_t)threshold);
}

static enum err sq_notice_take(struct store *s, const char *key_id, int threshold, int64_t seen,
                               int64_t lease_until)
{
    enum err e = sq_change_one(as_sql(s),
                               "UPDATE key_notices SET next_try_at = ? WHERE key_id = ?"
                               " AND threshold = ? AND status = 'pending' AND next_try_at = ?",
                               "itii", lease_until, key_id,
                               (int64_t)threshold, seen);
    return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

static enum err sq_notice_update(struct store *s, const char *key_id, int threshold,
                                 const char *status, int64_t next_try_at, int attempts,
                                 int64_t now)
{
    return sq_change_one(as_sql(s),
                         "UPDATE key_notices SET status = ?, next_try_at = ?, attempts = ?,"
                         " sent_at = CASE WHEN ? = 'done' THEN ? ELSE sent_at END"
                         " WHERE key_id = ? AND threshold = ? AND status = 'pending'",
                         "tiititi", status, next_try_at, (int64_t)attempts, status, now, key_id,
                         (int64_t)threshold);
}

static enum err sq_notice_mail_record(struct store *s, const char *key_id, int threshold,
                                      const char *username, int64_t now)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_run(st, NULL,
                        "INSERT INTO key_notice_mail(key_id, threshold, username, sent_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        "titi", key_id, (int64_t)threshold, username, now);
    sq_write_end(st);
    return e;
}

static enum err sq_notice_mail_has(struct store *s, const char *key_id, int threshold,
                                   const char *username)
{
    struct sql_store *st = as_sql(s);
    int64_t n = 0;
    sq_read_begin(st);
    enum err e = sq_int(st, &n,
                        "SELECT count(*) FROM key_notice_mail WHERE key_id = ? AND threshold = ?"
                        " AND username = ?",
                        "tit", key_id, (int64_t)threshold, username);
    sq_read_end(st);
    return e ? e : n ? ERR_OK : ERR_NOT_FOUND;
}

static enum err sq_leak_mail_add(struct store *s, const char *key_id, const char *username,
                                 const char *subject, const char *body, int64_t now)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_run(st, NULL,
                        "INSERT INTO leak_mail(key_id, username, subject, body, status,"
                        " created_at, next_try_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)"
                        " ON CONFLICT DO NOTHING",
                        "ttttii", key_id, username, subject, body, now, now);
    sq_write_end(st);
    return e;
}

struct leak_mail_walk {
    struct sq_walk base;
    store_leak_mail_cb cb;
};

#define LEAK_MAIL_COLUMNS "key_id, username, status, subject, body, created_at, next_try_at, " \
                          "attempts, sent_at"

static int leak_mail_row(void *ctx, struct sq_row *row)
{
    struct leak_mail_walk *w = ctx;
    struct leak_mail_record *m = w->base.rec;
    memset(m, 0, sizeof *m);
    sq_text(row, 0, m->key_id, sizeof m->key_id);
    sq_text(row, 1, m->username, sizeof m->username);
    sq_text(row, 2, m->status, sizeof m->status);
    sq_text(row, 3, m->subject, sizeof m->subject);
    sq_text(row, 4, m->body, sizeof m->body);
    m->created_at = sq_col_int64(row, 5);
    m->next_try_at = sq_col_int64(row, 6);
    m->attempts = (int)sq_col_int64(row, 7);
    m->sent_at = sq_col_int64(row, 8);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, m) : 1;
}

static enum err sq_leak_mail_pending_each(struct store *s, int64_t now, store_leak_mail_cb cb,
                                          void *ctx)
{
    struct leak_mail_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), leak_mail_row, &w.base, sizeof(struct leak_mail_record), NULL,
                       "SELECT " LEAK_MAIL_COLUMNS " FROM leak_mail"
                       " WHERE status = 'pending' AND next_try_at <= ?"
                       " ORDER BY next_try_at, created_at",
                       "i", now);
}

static enum err sq_leak_mail_get(struct store *s, const char *key_id, const char *username,
                                 struct leak_mail_record *out)
{
    struct leak_mail_walk w = {0};
    return sq_walk_run(as_sql(s), leak_mail_row, &w.base, sizeof(struct leak_mail_record), out,
                       "SELECT " LEAK_MAIL_COLUMNS " FROM leak_mail"
                       " WHERE key_id = ? AND username = ?",
                       "tt", key_id, username);
}

static enum err sq_leak_mail_take(struct store *s, const char *key_id, const char *username,
                                  int64_t seen, int64_t lease_until)
{
    enum err e = sq_change_one(as_sql(s),
                               "UPDATE leak_mail SET next_try_at = ? WHERE key_id = ?"
                               " AND username = ? AND status = 'pending' AND next_try_at = ?",
                               "itti", lease_until, key_id, username, seen);
    return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

static enum err sq_leak_mail_update(struct store *s, const char *key_id, const char *username,
                                    const char *status, int64_t next_try_at, int attempts,
                                    int64_t now)
{
    return sq_change_one(as_sql(s),
                         "UPDATE leak_mail SET status = ?, next_try_at = ?, attempts = ?,"
                         " sent_at = CASE WHEN ? = 'done' THEN ? ELSE sent_at END"
                         " WHERE key_id = ? AND username = ? AND status = 'pending'",
                         "tiititt", status, next_try_at, (int64_t)attempts, status, now, key_id,
                         username);
}

static enum err sq_retention_prune(struct store *s, int64_t notices_before,
                                   int64_t leak_mail_before)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e) {
        /* a key that expired that long ago is past every notice window (notices.h), so no
         * notice of it is claimed again; the people mailed go with their notice (cascade) */
        e = sq_run(st, NULL,
                   "DELETE FROM key_notices WHERE status <> 'pending' AND key_id IN"
                   " (SELECT id FROM api_keys WHERE expires_at < ?)",
                   "i", notices_before);
        if (!e) /* a revoked key is revoked once: its mail is never queued again */
            e = sq_run(st, NULL,
                       "DELETE FROM leak_mail WHERE status <> 'pending' AND created_at < ?", "i",
                       leak_mail_before);
        e = sq_finish(st, e);
    }
    sq_write_end(st);
    return e;
}

void sql_notices_ops(struct store_ops *ops)
{
    ops->retention_prune = sq_retention_prune;
    ops->leak_mail_add = sq_leak_mail_add;
    ops->leak_mail_pending_each = sq_leak_mail_pending_each;
    ops->leak_mail_take = sq_leak_mail_take;
    ops->leak_mail_update = sq_leak_mail_update;
    ops->leak_mail_get = sq_leak_mail_get;
    ops->notice_keys_each = sq_notice_keys_each;
    ops->notice_claim = sq_notice_claim;
    ops->notice_pending_each = sq_notice_pending_each;
    ops->notice_take = sq_notice_take;
    ops->notice_update = sq_notice_update;
    ops->notice_mail_record = sq_notice_mail_record;
    ops->notice_mail_has = sq_notice_mail_has;
    ops->notice_get = sq_notice_get;
}

/* sql_webhooks.c — webhook endpoints, the outbox each audit record writes to in its own
 * transaction (sql_webhook_enqueue, called by sql_audit_insert), claims of due messages by one
 * node at a time, delivery attempts. Times of messages and attempts are in milliseconds. */
#include <stdio.h>
#include <string.h>

#include "sql_internal.h"

#define WEBHOOK_COLUMNS "id, url, actions, description, enabled, created_by, created_at, secret"

/* ---- the outbox ---- */

/* The message columns after webhook_id, as the enqueue statements bind them (?2..?12). */
#define MESSAGE_INSERT                                                                             \
    "INSERT INTO webhook_messages(webhook_id, at, actor, action, target_type, target, detail,"    \
    " subject_name, owner_type, owner_id, state, next_at, created_ms) "

/* The key the record names, when it is one: read from api_keys in this transaction (created,
 * rotated, expiring), or given by the record itself (a bulk delete's key.delete), or from the
 * row a delete just removed (sql_key_note_gone). */
static void key_of(struct sql_store *st, const struct audit_record *a, char *name, size_t ncap,
                   char *otype, size_t ocap, char *oid, size_t icap)
{
    name[0] = otype[0] = oid[0] = '\0';
    if (strcmp(a->target_type, "key") != 0)
        return;
    if (a->key_owner_type[0]) {
        snprintf(name, ncap, "%s", a->key_name);
        snprintf(otype, ocap, "%s", a->key_owner_type);
        snprintf(oid, icap, "%s", a->key_owner_id);
    } else if (strcmp(st->gone_key.id, a->target) == 0) {
        snprintf(name, ncap, "%s", st->gone_key.name);
        snprintf(otype, ocap, "%s", st->gone_key.owner_type);
        snprintf(oid, icap, "%s", st->gone_key.owner_id);
    }
}

enum err sql_webhook_enqueue(struct sql_store *st, const struct audit_record *a)
{
    char name[STORE_KEY_NAME_BYTES + 1], otype[24], oid[STORE_NAME_MAX + 1];
    key_of(st, a, name, sizeof name, otype, sizeof otype, oid, sizeof oid);
    memset(&st->gone_key, 0, sizeof st->gone_key); /* used once */
    /* one message per enabled endpoint whose actions name this one (actions are fixed names
     * of a-z, '.' and '_' from core's table: the LIKE sees no wildcard but '_', which
     * matches itself too); a key that still exists is named from its row */
    return sq_run(st, NULL,
                  MESSAGE_INSERT
                  "SELECT w.id, ?2, ?3, ?1, ?4, ?5, ?6,"
                  " coalesce((SELECT k.name FROM api_keys k WHERE ?4 = 'key' AND k.id = ?5), ?7),"
                  " coalesce((SELECT k.owner_type FROM api_keys k WHERE ?4 = 'key' AND"
                  " k.id = ?5), ?8),"
                  " coalesce((SELECT k.owner_id FROM api_keys k WHERE ?4 = 'key' AND"
                  " k.id = ?5), ?9),"
                  " 'pending', ?10, ?10 FROM webhooks w WHERE w.enabled = 1 AND"
                  " (',' || w.actions || ',') LIKE ('%,' || ?1 || ',%')",
                  "tittttttti", a->action, a->at, a->actor, a->target_type, a->target, a->detail,
                  name, otype, oid, a->at * 1000);
}

static enum err sq_webhook_enqueue_one(struct store *s, const char *id,
                                       const struct audit_record *a, int64_t now_ms)
{
    return sq_change_one(as_sql(s),
                         MESSAGE_INSERT
                         "SELECT id, ?, ?, ?, ?, ?, ?, '', '', '', 'pending', ?, ? FROM webhooks"
                         " WHERE id = ? AND enabled = 1",
                         "itttttiit", a->at, a->actor, a->action, a->target_type, a->target,
                         a->detail, now_ms, now_ms, id);
}

/* ---- endpoints ---- */

struct webhook_walk {
    struct sq_walk base;
    store_webhook_cb cb;
};

static int webhook_row(void *ctx, struct sq_row *row)
{
    struct webhook_walk *w = ctx;
    struct webhook_record *r = w->base.rec;
    memset(r, 0, sizeof *r);
    sq_text(row, 0, r->id, sizeof r->id);
    sq_text(row, 1, r->url, sizeof r->url);
    sq_text(row, 2, r->actions, sizeof r->actions);
    sq_text(row, 3, r->description, sizeof r->description);
    r->enabled = (int)sq_col_int64(row, 4);
    sq_text(row, 5, r->created_by, sizeof r->created_by);
    r->created_at = sq_col_int64(row, 6);
    r->secret_len = sq_blob(row, 7, r->secret, sizeof r->secret);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, r) : 1;
}

static enum err sq_webhook_create(struct store *s, const struct webhook_record *w, int max)
{
    return sq_insert_under_limit(as_sql(s), "SELECT count(*) FROM webhooks", max,
                                 "INSERT INTO webhooks(" WEBHOOK_COLUMNS ") VALUES (?,?,?,?,?,?,?,?)",
                                 "ttttitib", w->id, w->url, w->actions, w->description,
                                 (int64_t)w->enabled, w->created_by, w->created_at, w->secret,
                                 (int)w->secret_len);
}

static enum err sq_webhook_get(struct store *s, const char *id, struct webhook_record *out)
{
    struct webhook_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), webhook_row, &w.base, sizeof *out, out,
                       "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?", "t", id);
}

static enum err sq_webhook_each(struct store *s, store_webhook_cb cb, void *ctx)
{
    struct webhook_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), webhook_row, &w.base, sizeof(struct webhook_record), NULL,
                       "SELECT " WEBHOOK_COLUMNS " FROM webhooks ORDER BY created_at, id", NULL);
}

static enum err sq_webhook_update(struct store *s, const struct webhook_record *w)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    int changes = 0;
    if (!e)
        e = sq_run(st, &changes,
                   "UPDATE webhooks SET url = ?, actions = ?, description = ?, enabled = ?"
                   " WHERE id = ?",
                   "tttit", w->url, w->actions, w->description, (int64_t)w->enabled, w->id);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    if (!e && !w->enabled) /* a disabled endpoint gets nothing more, also nothing old */
        e = sq_run(st, NULL,
                   "UPDATE webhook_messages SET state = 'failed', claim = '', claimed_until = 0"
                   " WHERE webhook_id = ? AND state = 'pending'",
                   "t", w->id);
    e = sq_finish(st, e);
    sq_write_end(st);
    return e;
}

static enum err sq_webhook_delete(struct store *s, const char *id)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    int changes = 0;
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM webhook_attempts WHERE webhook_id = ?", "t", id);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM webhook_messages WHERE webhook_id = ?", "t", id);
    if (!e)
        e = sq_run(st, &changes, "DELETE FROM webhooks WHERE id = ?", "t", id);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    e = sq_finish(st, e);
    sq_write_end(st);
    return e;
}

/* ---- delivery ---- */

struct message_walk {
    struct webhook_message *m;
    int found;
};

static int message_row(void *ctx, struct sq_row *row)
{
    struct message_walk *w = ctx;
    struct webhook_message *m = w->m;
    m->id = sq_col_int64(row, 0);
    sq_text(row, 1, m->webhook_id, sizeof m->webhook_id);
    m->at = sq_col_int64(row, 2);
    sq_text(row, 3, m->actor, sizeof m->actor);
    sq_text(row, 4, m->action, sizeof m->action);
    sq_text(row, 5, m->target_type, sizeof m->target_type);
    sq_text(row, 6, m->target, sizeof m->target);
    sq_text(row, 7, m->detail, sizeof m->detail);
    sq_text(row, 8, m->subject_name, sizeof m->subject_name);
    sq_text(row, 9, m->owner_type, sizeof m->owner_type);
    sq_text(row, 10, m->owner_id, sizeof m->owner_id);
    m->attempts = (int)sq_col_int64(row, 11);
    sq_text(row, 12, m->claim, sizeof m->claim);
    w->found = 1;
    return 1;
}

static enum err sq_webhook_claim(struct store *s, int64_t now_ms, int64_t lease_ms,
                                 const char *claim, struct webhook_message *out)
{
    struct sql_store *st = as_sql(s);
    int64_t due = 0;
    /* a cheap look on the read connection first: most rounds find nothing to do and then
     * take no write lock */
    sq_read_begin(st);
    enum err e = sq_int(st, &due,
                        "SELECT count(*) FROM webhook_messages WHERE state = 'pending' AND"
                        " next_at <= ? AND claimed_until < ?",
                        "ii", now_ms, now_ms);
    sq_read_end(st);
    if (e || !due)
        return e ? e : ERR_NOT_FOUND;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE webhook_messages SET claim = ?1, claimed_until = ?2 WHERE id = ("
             "SELECT m.id FROM webhook_messages m JOIN webhooks w ON w.id = m.webhook_id"
             " WHERE m.state = 'pending' AND m.next_at <= ?3 AND m.claimed_until < ?3 AND"
             " w.enabled = 1 ORDER BY m.next_at, m.id LIMIT 1%s)"
             " AND state = 'pending' AND claimed_until < ?3",
             st->drv->skip_locked);
    struct message_walk w = {.m = out};
    memset(out, 0, sizeof *out);
    int changes = 0;
    sq_write_begin(st);
    if (!(e = sq_begin(st)) &&
        !(e = sq_run(st, &changes, sql, "tii", claim, now_ms + lease_ms, now_ms)) && changes)
        e = sq_each(st, message_row, &w,
                    "SELECT id, webhook_id, at, actor, action, target_type, target, detail,"
                    " subject_name, owner_type, owner_id, attempts, claim FROM webhook_messages"
                    " WHERE claim = ?",
                    "t", claim);
    e = sq_finish(st, e);
    sq_write_end(st);
    return e ? e : w.found ? ERR_OK : ERR_NOT_FOUND;
}

static enum err sq_webhook_attempt_record(struct store *s, const struct webhook_message *m,
                                          const struct webhook_attempt *a)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO webhook_attempts(message_id, webhook_id, action, at_ms, status,"
                   " error, duration_ms, next_at_ms, state) VALUES (?,?,?,?,?,?,?,?,?)",
                   "ittiitiit", m->id, m->webhook_id, m->action, a->at_ms, (int64_t)a->status,
                   a->error, a->duration_ms, a->next_at_ms, a->state);
    if (!e) /* only while this node still holds it: a lease that ran out went to another */
        e = sq_run(st, NULL,
                   "UPDATE webhook_messages SET state = ?, attempts = attempts + 1, next_at = ?,"
                   " claim = '', claimed_until = 0 WHERE id = ? AND claim = ?",
                   "tiit", a->state, a->next_at_ms ? a->next_at_ms : a->at_ms, m->id, m->claim);
    e = sq_finish(st, e);
    sq_write_end(st);
    return e;
}

struct attempt_walk {
    struct sq_walk base;
    store_attempt_cb cb;
};

static int attempt_row(void *ctx, struct sq_row *row)
{
    struct attempt_walk *w = ctx;
    struct webhook_attempt *a = w->base.rec;
    memset(a, 0, sizeof *a);
    a->id = sq_col_int64(row, 0);
    a->message_id = sq_col_int64(row, 1);
    sq_text(row, 2, a->action, sizeof a->action);
    a->at_ms = sq_col_int64(row, 3);
    a->status = (int)sq_col_int64(row, 4);
    sq_text(row, 5, a->error, sizeof a->error);
    a->duration_ms = sq_col_int64(row, 6);
    a->next_at_ms = sq_col_int64(row, 7);
    sq_text(row, 8, a->state, sizeof a->state);
    return w->cb(w->base.ctx, a);
}

static enum err sq_webhook_attempts_each(struct store *s, const char *id, int limit,
                                         store_attempt_cb cb, void *ctx)
{
    struct attempt_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), attempt_row, &w.base, sizeof(struct webhook_attempt), NULL,
                       "SELECT id, message_id, action, at_ms, status, error, duration_ms,"
                       " next_at_ms, state FROM webhook_attempts WHERE webhook_id = ?"
                       " ORDER BY id DESC LIMIT ?",
                       "ti", id, (int64_t)limit);
}

static enum err sq_webhook_prune(struct store *s, int64_t before_ms)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e)
        e = sq_run(st, NULL, "DELETE FROM webhook_attempts WHERE at_ms < ?", "i", before_ms);
    if (!e)
        e = sq_run(st, NULL,
                   "DELETE FROM webhook_messages WHERE state <> 'pending' AND next_at < ?", "i",
                   before_ms);
    e = sq_finish(st, e);
    sq_write_end(st);
    return e;
}

void sql_webhooks_ops(struct store_ops *ops)
{
    ops->webhook_create = sq_webhook_create;
    ops->webhook_get = sq_webhook_get;
    ops->webhook_each = sq_webhook_each;
    ops->webhook_update = sq_webhook_update;
    ops->webhook_delete = sq_webhook_delete;
    ops->webhook_enqueue_one = sq_webhook_enqueue_one;
    ops->webhook_claim = sq_webhook_claim;
    ops->webhook_attempt_record = sq_webhook_attempt_record;
    ops->webhook_attempts_each = sq_webhook_attempts_each;
    ops->webhook_prune = sq_webhook_prune;
}

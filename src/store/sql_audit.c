/* sql_audit.c — the audit trail: append (with the webhook outbox messages each record makes), audited sections (a change and its audit record in
 * one transaction) and the filtered, paged query. */
#include <string.h>

#include "sql_internal.h"

struct audit_walk {
    struct sq_walk base;
    store_audit_cb cb;
};

static int audit_row(void *ctx, struct sq_row *row)
{
    struct audit_walk *w = ctx;
    struct audit_record *a = w->base.rec;
    memset(a, 0, sizeof *a);
    a->id = sq_col_int64(row, 0);
    a->at = sq_col_int64(row, 1);
    sq_text(row, 2, a->actor, sizeof a->actor);
    sq_text(row, 3, a->action, sizeof a->action);
    sq_text(row, 4, a->target_type, sizeof a->target_type);
    sq_text(row, 5, a->target, sizeof a->target);
    sq_text(row, 6, a->client, sizeof a->client);
    sq_text(row, 7, a->detail, sizeof a->detail);
    return w->cb(w->base.ctx, a);
}

enum err sql_audit_insert(struct sql_store *st, const struct audit_record *a)
{
    enum err e = sq_run(st, NULL,
                        "INSERT INTO audit(at, actor, action, target_type, target, client, detail)"
                        " VALUES (?,?,?,?,?,?,?)",
                        "itttttt", a->at, a->actor, a->action, a->target_type, a->target,
                        a->client, a->detail);
    /* events are audit actions: the webhook outbox is written in the same transaction */
    return e ? e : sql_webhook_enqueue(st, a);
}

static enum err audit_append_job(struct sql_store *st, const void *arg)
{
    return sql_audit_insert(st, arg);
}

/* Durable when it returns; shares a group commit with concurrent writes. */
static enum err sq_audit_append(struct store *s, const struct audit_record *a)
{
    return sq_group_commit(as_sql(s), audit_append_job, a);
}

/* Takes the write lock and opens the section's transaction (kept until sq_audited_end). */
static enum err sq_audited_begin(struct store *s)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (e)
        sq_write_end(st);
    return e;
}

/* Appends a when the section's writes succeeded, then commits (or rolls back) and unlocks. */
static enum err sq_audited_end(struct store *s, enum err e, const struct audit_record *a)
{
    struct sql_store *st = as_sql(s);
    if (!e)
        e = sql_audit_insert(st, a);
    e = sq_finish(st, e);
    sq_write_end(st);
    return e;
}

static enum err sq_audit_query(struct store *s, const struct audit_filter *f, store_audit_cb cb,
                               void *ctx)
{
    struct audit_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), audit_row, &w.base, sizeof(struct audit_record), NULL,
                       "SELECT id, at, actor, action, target_type, target, client, detail"
                       " FROM audit WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR target = ?2)"
                       " AND (?3 = '' OR action = ?3) AND (?4 = 0 OR at >= ?4)"
                       " AND (?5 = 0 OR at <= ?5) AND (?6 = 0 OR id < ?6)"
                       " ORDER BY id DESC LIMIT ?7",
                       "tttiiii", f->actor ? f->actor : "", f->target ? f->target : "",
                       f->action ? f->action : "", f->since, f->until, f->before_id,
                       (int64_t)f->limit);
}

void sql_audit_ops(struct store_ops *ops)
{
    ops->audit_append = sq_audit_append;
    ops->audit_query = sq_audit_query;
    ops->audited_begin = sq_audited_begin;
    ops->audited_end = sq_audited_end;
}

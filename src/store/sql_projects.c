/* sqlite_projects.c — SQLite operations for projects, their memberships and API accounts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

#define LOCK(st) sq_write_begin(st)
#define UNLOCK(st) sq_write_end(st)
#define RLOCK(st) sq_read_begin(st)
#define RUNLOCK(st) sq_read_end(st)

/* ---- projects ---- */

struct project_walk {
    struct sq_walk base;
    store_project_cb cb;
};

static int project_row(void *ctx, struct sq_row *row)
{
    struct project_walk *w = ctx;
    struct project_record *p = w->base.rec;
    memset(p, 0, sizeof *p);
    sq_text(row, 0, p->id, sizeof p->id);
    sq_text(row, 1, p->name, sizeof p->name);
    sq_text(row, 2, p->parent, sizeof p->parent);
    sq_text(row, 3, p->created_by, sizeof p->created_by);
    p->created_at = sq_col_int64(row, 4);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, p) : 1;
}

#define PROJECT_COLUMNS "id, name, coalesce(parent, ''), created_by, created_at"

/* The writes of a project creation, after the limit check (sq_write_under_limit). */
static enum err insert_project(struct sql_store *st, const void *arg)
{
    const struct project_record *p = arg;
    int64_t parent_ok = 1;
    enum err e = ERR_OK;
    if (p->parent[0] &&
        !(e = sq_int(st, &parent_ok, "SELECT count(*) FROM projects WHERE id = ?", "t",
                     p->parent)) &&
        !parent_ok)
        e = ERR_INVALID;
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO projects(id, name, parent, created_by, created_at)"
                   " VALUES (?, ?, ?, ?, ?)",
                   "ttTti", p->id, p->name, p->parent[0] ? p->parent : NULL, p->created_by,
                   p->created_at);
    return e;
}

static enum err sq_project_create(struct store *s, const struct project_record *p, int max)
{
    struct sql_store *st = as_sql(s);
    int64_t count = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    /* the creator's row lock orders one creator's concurrent creates (also across nodes) */
    e = sq_run(st, NULL, "UPDATE users SET disabled = disabled WHERE username = ?", "t",
               p->created_by);
    if (!e && !(e = sq_int(st, &count, "SELECT count(*) FROM projects WHERE created_by = ?", "t",
                           p->created_by)) &&
        count >= max)
        e = ERR_LIMIT;
    if (!e)
        e = insert_project(st, p);
    e = sq_finish(st, e);
out:
    UNLOCK(st);
    return e;
}

static enum err sq_project_get(struct store *s, const char *id, struct project_record *out)
{
    struct project_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), project_row, &w.base, sizeof *out, out,
                       "SELECT " PROJECT_COLUMNS " FROM projects WHERE id = ?", "t", id);
}

static enum err sq_project_each(struct store *s, store_project_cb cb, void *ctx)
{
    struct project_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), project_row, &w.base, sizeof(struct project_record), NULL,
                       "SELECT " PROJECT_COLUMNS " FROM projects ORDER BY created_at, id", NULL);
}

static enum err sq_project_delete(struct store *s, const char *id)
{
    return sq_delete_unless_used(as_sql(s),
                                 "SELECT (SELECT count(*) FROM projects WHERE parent = ?1) +"
                                 " (SELECT count(*) FROM service_accounts WHERE project_id = ?1)",
                                 "DELETE FROM projects WHERE id = ?", id);
}

/* ---- memberships ---- */

static enum err sq_member_put(struct store *s, const char *project_id, const char *principal,
                              const char *role, int max)
{
    struct sql_store *st = as_sql(s);
    int64_t count = 0, exists = 0;
    LOCK(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    if (!(e = sq_int(st, &exists, "SELECT count(*) FROM projects WHERE id = ?", "t", project_id)) &&
        !exists)
        e = ERR_NOT_FOUND;
    if (!e &&
        !(e = sq_int(st, &count,
                     "SELECT count(*) FROM project_members WHERE project_id = ?1 AND"
                     " principal <> ?2",
                     "tt", project_id, principal)) &&
        count >= max)
        e = ERR_LIMIT;
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO project_members(project_id, principal, role) VALUES (?, ?, ?)"
                   " ON CONFLICT (project_id, principal) DO UPDATE SET role = excluded.role",
                   "ttt", project_id, principal, role);
    e = sq_finish(st, e);
out:
    UNLOCK(st);
    return e;
}

static enum err sq_member_delete(struct store *s, const char *project_id, const char *principal)
{
    return sq_change_one(as_sql(s),
                         "DELETE FROM project_members WHERE project_id = ? AND principal = ?", "tt",
                         project_id, principal);
}

struct member_walk {
    store_member_cb cb;
    void *ctx;
};

static int member_row(void *ctx, struct sq_row *row)
{
    struct member_walk *w = ctx;
    char project[STORE_ID_LEN + 1], principal[STORE_PRINCIPAL_MAX + 1], role[16];
    sq_text(row, 0, project, sizeof project);
    sq_text(row, 1, principal, sizeof principal);
    sq_text(row, 2, role, sizeof role);
    return w->cb(w->ctx, project, principal, role);
}

static enum err sq_member_each(struct store *s, const char *project_id, store_member_cb cb,
                               void *ctx)
{
    struct sql_store *st = as_sql(s);
    struct member_walk w = {cb, ctx};
    RLOCK(st);
    enum err e = project_id
                     ? sq_each(st, member_row, &w,
                               "SELECT project_id, principal, role FROM project_members"
                               " WHERE project_id = ? ORDER BY principal",
                               "t", project_id)
                     : sq_each(st, member_row, &w,
                               "SELECT project_id, principal, role FROM project_members", NULL);
    RUNLOCK(st);
    return e;
}

/* ---- API accounts ---- */

struct account_walk {
    struct sq_walk base;
    store_account_cb cb;
};

static int account_row(void *ctx, struct sq_row *row)
{
    struct account_walk *w = ctx;
    struct account_record *a = w->base.rec;
    memset(a, 0, sizeof *a);
    sq_text(row, 0, a->id, sizeof a->id);
    sq_text(row, 1, a->name, sizeof a->name);
    sq_text(row, 2, a->description, sizeof a->description);
    sq_text(row, 3, a->project, sizeof a->project);
    sq_text(row, 4, a->created_by, sizeof a->created_by);
    a->created_at = sq_col_int64(row, 5);
    a->disabled = (int)sq_col_int64(row, 6);
    w->base.found = 1;
    return w->cb ? w->cb(w->base.ctx, a) : 1;
}

#define ACCOUNT_COLUMNS                                                                            \
    "id, name, description, coalesce(project_id, ''), created_by, created_at, disabled"

/* ERR_LIMIT when a's project (or the site-wide set) already holds max accounts; locks the
 * project's row first, so concurrent creates in one project are counted in turn. */
static enum err accounts_under_limit(struct sql_store *st, const struct account_record *a, int max)
{
    int64_t count = 0;
    enum err e = ERR_OK;
    if (a->project[0]) {
        e = sq_run(st, NULL, "UPDATE projects SET name = name WHERE id = ?", "t", a->project);
        if (!e)
            e = sq_int(st, &count, "SELECT count(*) FROM service_accounts WHERE project_id = ?",
                       "t", a->project);
    } else {
        e = sq_int(st, &count, "SELECT count(*) FROM service_accounts WHERE project_id IS NULL",
                   NULL);
    }
    return e ? e : (count >= max ? ERR_LIMIT : ERR_OK);
}

static enum err sq_account_create(struct store *s, const struct account_record *a, const char *role,
                                  int max)
{
    struct sql_store *st = as_sql(s);
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e)
        e = accounts_under_limit(st, a, max);
    if (!e)
        e = sq_run(st, NULL,
                   "INSERT INTO service_accounts(id, name, description, project_id, created_by,"
                   " created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, 0)",
                   "tttTti", a->id, a->name, a->description, a->project[0] ? a->project : NULL,
                   a->created_by, a->created_at);
    if (!e && a->project[0]) {
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "service-account:%s", a->id);
        e = sq_run(st, NULL,
                   "INSERT INTO project_members(project_id, principal, role) VALUES (?, ?, ?)",
                   "ttt", a->project, principal, role);
    }
    e = sq_finish(st, e);
    UNLOCK(st);
    return e;
}

static enum err sq_account_get(struct store *s, const char *id, struct account_record *out)
{
    struct account_walk w = {.cb = NULL};
    return sq_walk_run(as_sql(s), account_row, &w.base, sizeof *out, out,
                       "SELECT " ACCOUNT_COLUMNS " FROM service_accounts WHERE id = ?", "t", id);
}

static enum err sq_account_each(struct store *s, store_account_cb cb, void *ctx)
{
    struct account_walk w = {.base.ctx = ctx, .cb = cb};
    return sq_walk_run(as_sql(s), account_row, &w.base, sizeof(struct account_record), NULL,
                       "SELECT " ACCOUNT_COLUMNS " FROM service_accounts ORDER BY created_at, id",
                       NULL);
}

static enum err sq_account_update(struct store *s, const struct account_record *a)
{
    return sq_change_one(as_sql(s),
                         "UPDATE service_accounts SET name = ?, description = ?, disabled = ?"
                         " WHERE id = ?",
                         "ttit", a->name, a->description, (int64_t)a->disabled, a->id);
}

static enum err sq_account_delete(struct store *s, const char *id, store_key_cb cb, void *ctx)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    struct key_record *rec = malloc(sizeof *rec);
    if (!rec)
        return ERR_NOMEM;
    struct sql_gone_walk w = {cb, ctx, rec}; /* each key deleted, for its key.delete event */
    LOCK(st);
    enum err e = sq_begin(st);
    if (!e)
        e = sq_each(st, sql_key_gone_row, &w,
                    "DELETE FROM api_keys WHERE owner_type = 'service-account' AND owner_id = ?"
                    " RETURNING " SQL_KEY_GONE_COLUMNS,
                    "t", id);
    if (!e)
        e = sq_run(st, NULL,
                   "DELETE FROM project_members WHERE principal = 'service-account:' || ?", "t",
                   id);
    if (!e)
        e = sq_run(st, &changes, "DELETE FROM service_accounts WHERE id = ?", "t", id);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    e = sq_finish(st, e);
    UNLOCK(st);
    free(rec);
    return e;
}

void sql_projects_ops(struct store_ops *ops)
{
    ops->project_create = sq_project_create;
    ops->project_get = sq_project_get;
    ops->project_each = sq_project_each;
    ops->project_delete = sq_project_delete;
    ops->member_put = sq_member_put;
    ops->member_delete = sq_member_delete;
    ops->member_each = sq_member_each;
    ops->account_create = sq_account_create;
    ops->account_get = sq_account_get;
    ops->account_each = sq_account_each;
    ops->account_update = sq_account_update;
    ops->account_delete = sq_account_delete;
}

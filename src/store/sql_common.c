/* sql_common.c — the driver-neutral helpers of sql_internal.h and the shared ops table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

enum err sq_run(struct sql_store *st, int *changes, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->run(st, changes, sql, fmt, ap);
    va_end(ap);
    return e;
}

enum err sq_each(struct sql_store *st, sq_row_fn row, void *ctx, const char *sql,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->each(st, row, ctx, sql, fmt, ap);
    va_end(ap);
    return e;
}

struct int_walk {
    int64_t value;
};

static int first_int(void *ctx, struct sq_row *row)
{
    ((struct int_walk *)ctx)->value = sq_col_int64(row, 0);
    return 1;
}

enum err sq_int(struct sql_store *st, int64_t *out, const char *sql, const char *fmt, ...)
{
    struct int_walk w = {0};
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->each(st, first_int, &w, sql, fmt, ap);
    va_end(ap);
    if (!e)
        *out = w.value;
    return e;
}

enum err sq_begin(struct sql_store *st)
{
    return st->drv->exec(st, st->drv->begin_sql);
}

enum err sq_commit(struct sql_store *st)
{
    return st->drv->exec(st, "COMMIT");
}

void sq_rollback(struct sql_store *st)
{
    st->drv->exec(st, "ROLLBACK");
}

const char *sq_col_text(struct sq_row *row, int col)
{
    return row->drv->col_text(row, col);
}

int64_t sq_col_int64(struct sq_row *row, int col)
{
    return row->drv->col_int64(row, col);
}

int sq_col_is_null(struct sq_row *row, int col)
{
    return row->drv->col_is_null(row, col);
}

void sq_text(struct sq_row *row, int col, char *dst, size_t cap)
{
    const char *t = sq_col_text(row, col);
    snprintf(dst, cap, "%s", t ? t : "");
}

size_t sq_blob(struct sq_row *row, int col, void *dst, size_t cap)
{
    return row->drv->col_blob(row, col, dst, cap);
}

static void sql_close(struct store *s)
{
    struct sql_store *st = as_sql(s);
    if (!st)
        return;
    st->drv->close(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

void sql_fill_ops(struct store_ops *ops)
{
    ops->close = sql_close;
    sql_keys_ops(ops);
    sql_identity_ops(ops);
    sql_audit_ops(ops);
    sql_projects_ops(ops);
}

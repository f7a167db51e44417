/* sql_common.c — the driver-neutral helpers of sql_internal.h and the shared ops table. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/metrics.h"
#include "../base/text.h"
#include "sql_internal.h"

/* The store's metrics: how long statements, commits and grouped writes take (op), and how
 * many writes share a group commit. */
enum store_op { OP_STATEMENT, OP_COMMIT, OP_GROUPED_WRITE, OP_COUNT };
static const char *const op_labels[OP_COUNT] = {"op=\"statement\"", "op=\"commit\"",
                                                "op=\"grouped_write\""};
/* 50 µs to 10 s */
static const uint64_t op_bounds[] = {50000,    100000,    250000,    500000,    1000000,
                                     2500000,  5000000,   10000000,  25000000,  50000000,
                                     100000000, 250000000, 1000000000, 10000000000};
static const uint64_t batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128};
static struct metrics_hist op_hist, batch_hist;

static void store_metrics_init(void)
{
    metrics_histogram("apikeyd_store_operation_duration_seconds",
                      "Time the store takes, by operation: one SQL statement, a transaction's "
                      "durable COMMIT, a grouped write from queueing to its batch's commit.",
                      op_labels, OP_COUNT, op_bounds, sizeof op_bounds / sizeof op_bounds[0],
                      1e-9, &op_hist);
    metrics_histogram("apikeyd_group_commit_batch_size",
                      "Writes that shared one transaction and one durable commit.", NULL, 1,
                      batch_bounds, sizeof batch_bounds / sizeof batch_bounds[0], 1.0,
                      &batch_hist);
}

static void op_done(enum store_op op, uint64_t t0)
{
    metrics_observe(&op_hist, op, metrics_now_ns() - t0);
}

enum err sq_run(struct sql_store *st, int *changes, const char *sql, const char *fmt, ...)
{
    uint64_t t0 = metrics_now_ns();
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->run(st, changes, sql, fmt, ap);
    va_end(ap);
    op_done(OP_STATEMENT, t0);
    return e;
}

enum err sq_each(struct sql_store *st, sq_row_fn row, void *ctx, const char *sql, const char *fmt,
                 ...)
{
    uint64_t t0 = metrics_now_ns();
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->each(st, row, ctx, sql, fmt, ap);
    va_end(ap);
    op_done(OP_STATEMENT, t0);
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
    uint64_t t0 = metrics_now_ns();
    va_list ap;
    va_start(ap, fmt);
    enum err e = st->drv->each(st, first_int, &w, sql, fmt, ap);
    va_end(ap);
    op_done(OP_STATEMENT, t0);
    if (!e)
        *out = w.value;
    return e;
}

enum err sq_change_one(struct sql_store *st, const char *sql, const char *fmt, ...)
{
    int changes = 0;
    va_list ap;
    va_start(ap, fmt);
    sq_write_begin(st);
    uint64_t t0 = metrics_now_ns();
    enum err e = st->drv->run(st, &changes, sql, fmt, ap);
    op_done(OP_STATEMENT, t0);
    sq_write_end(st);
    va_end(ap);
    return !e && changes == 0 ? ERR_NOT_FOUND : e;
}

enum err sq_begin(struct sql_store *st)
{
    enum err e = st->drv->exec(st, st->tx_depth ? "SAVEPOINT nested_write" : st->drv->begin_sql);
    if (!e)
        st->tx_depth++;
    return e;
}

enum err sq_commit(struct sql_store *st)
{
    int outer = st->tx_depth <= 1;
    uint64_t t0 = metrics_now_ns();
    enum err e = st->drv->exec(st, outer ? "COMMIT" : "RELEASE SAVEPOINT nested_write");
    if (outer)
        op_done(OP_COMMIT, t0);
    if (!e && st->tx_depth > 0)
        st->tx_depth--;
    return e;
}

void sq_rollback(struct sql_store *st)
{
    if (st->tx_depth > 1) { /* undo the inner part only; the enclosing transaction goes on */
        st->drv->exec(st, "ROLLBACK TO SAVEPOINT nested_write");
        st->drv->exec(st, "RELEASE SAVEPOINT nested_write");
        st->tx_depth--;
        return;
    }
    st->drv->exec(st, "ROLLBACK");
    st->tx_depth = 0;
}

enum err sq_finish(struct sql_store *st, enum err e)
{
    if (!e)
        e = sq_commit(st);
    if (e)
        sq_rollback(st);
    return e;
}

enum err sq_delete_unless_used(struct sql_store *st, const char *used_sql, const char *delete_sql,
                               const char *key)
{
    int64_t used = 0;
    int changes = 0;
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    if (!(e = sq_int(st, &used, used_sql, "t", key)) && used)
        e = ERR_CONFLICT;
    if (!e)
        e = sq_run(st, &changes, delete_sql, "t", key);
    if (!e && changes == 0)
        e = ERR_NOT_FOUND;
    e = sq_finish(st, e);
out:
    sq_write_end(st);
    return e;
}

enum err sq_write_under_limit(struct sql_store *st, const char *count_sql, int max, sq_job_fn fn,
                              const void *arg)
{
    int64_t count = 0;
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (e)
        goto out;
    if (!(e = sq_int(st, &count, count_sql, NULL)) && count >= max)
        e = ERR_LIMIT;
    if (!e)
        e = fn(st, arg);
    e = sq_finish(st, e);
out:
    sq_write_end(st);
    return e;
}

/* One statement for sq_insert_under_limit; ap points to its va_list. */
struct insert_job {
    const char *sql, *fmt;
    va_list *ap;
};

static enum err run_insert_job(struct sql_store *st, const void *arg)
{
    const struct insert_job *j = arg;
    return st->drv->run(st, NULL, j->sql, j->fmt, *j->ap);
}

enum err sq_insert_under_limit(struct sql_store *st, const char *count_sql, int max,
                               const char *insert_sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct insert_job j = {insert_sql, fmt, &ap};
    enum err e = sq_write_under_limit(st, count_sql, max, run_insert_job, &j);
    va_end(ap);
    return e;
}

enum err sq_walk_run(struct sql_store *st, sq_row_fn row, struct sq_walk *w, size_t rec_size,
                     void *out, const char *sql, const char *fmt, ...)
{
    w->rec = calloc(1, rec_size);
    if (!w->rec)
        return ERR_NOMEM;
    va_list ap;
    va_start(ap, fmt);
    sq_read_begin(st);
    enum err e = st->drv->each(st, row, w, sql, fmt, ap);
    sq_read_end(st);
    va_end(ap);
    if (!e && out) {
        if (w->found)
            memcpy(out, w->rec, rec_size);
        else
            e = ERR_NOT_FOUND;
    }
    sodium_memzero(w->rec, rec_size); /* records may hold password hashes and sealed seeds */
    free(w->rec);
    w->rec = NULL;
    return e;
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
    if (cap) /* a longer value is cut on a code-point boundary, never inside one */
        text_cutn(dst, cap, t ? t : "", cap); /* reads at most cap bytes, like snprintf */
}

size_t sq_blob(struct sq_row *row, int col, void *dst, size_t cap)
{
    return row->drv->col_blob(row, col, dst, cap);
}

/* One batch: every queued write in one transaction, one savepoint each. */
static void run_batch(struct sql_store *st, struct sql_pending *batch)
{
    sq_write_begin(st);
    uint64_t size = 0;
    for (struct sql_pending *p = batch; p; p = p->next)
        size++;
    metrics_observe(&batch_hist, 0, size);
    enum err e = sq_begin(st);
    for (struct sql_pending *p = batch; p; p = p->next) {
        if (e) {
            p->result = e;
            continue;
        }
        enum err pe = sq_run(st, NULL, "SAVEPOINT grouped_write", NULL);
        if (!pe)
            pe = p->fn(st, p->arg);
        if (pe)
            sq_run(st, NULL, "ROLLBACK TO SAVEPOINT grouped_write", NULL);
        sq_run(st, NULL, "RELEASE SAVEPOINT grouped_write", NULL);
        p->result = pe;
    }
    if (!e && (e = sq_commit(st)) != ERR_OK) {
        sq_rollback(st);
        for (struct sql_pending *p = batch; p; p = p->next)
            p->result = e; /* nothing of this batch is stored */
    }
    sq_write_end(st);
}

/* 1 when the calling thread holds the write lock with a transaction open (an audited
 * section): its writes belong to that transaction, not to a batch. */
static int in_own_transaction(struct sql_store *st)
{
    if (pthread_mutex_trylock(&st->lock) != 0)
        return 0; /* another thread holds it: not ours */
    int open = st->tx_depth > 0; /* recursive: we held it already only if a section is open */
    pthread_mutex_unlock(&st->lock);
    return open;
}

enum err sq_group_commit(struct sql_store *st, sq_job_fn fn, const void *arg)
{
    if (in_own_transaction(st)) {
        sq_write_begin(st);
        enum err e = sq_begin(st);
        if (!e)
            e = sq_finish(st, fn(st, arg));
        sq_write_end(st);
        return e;
    }
    struct sql_pending me = {fn, arg, ERR_OK, 0, NULL};
    uint64_t t0 = metrics_now_ns();
    pthread_mutex_lock(&st->batch_lock);
    *st->batch_tail = &me;
    st->batch_tail = &me.next;
    while (!me.done) {
        if (st->batch_running) { /* another caller is committing: wait for its turn to end */
            pthread_cond_wait(&st->batch_done, &st->batch_lock);
            continue;
        }
        struct sql_pending *batch = st->batch_head; /* lead a batch of everyone queued */
        st->batch_head = NULL;
        st->batch_tail = &st->batch_head;
        st->batch_running = 1;
        pthread_mutex_unlock(&st->batch_lock);
        run_batch(st, batch);
        pthread_mutex_lock(&st->batch_lock);
        for (struct sql_pending *p = batch, *next; p; p = next) {
            next = p->next; /* p may return and vanish once done is set */
            p->done = 1;
        }
        st->batch_running = 0;
        pthread_cond_broadcast(&st->batch_done);
    }
    pthread_mutex_unlock(&st->batch_lock);
    op_done(OP_GROUPED_WRITE, t0);
    return me.result;
}

/* How deep this thread is in reads and writes. Both locks are recursive, so a row callback
 * may call the store again (a nested read, or a write, which then uses the main connection). */
static __thread int reading, writing;

/* A thread that holds the write lock reads on the main connection (in its transaction) and
 * takes no read lock: lock order is always read lock, then write lock. */
void sq_read_begin(struct sql_store *st)
{
    if (st->read_conn && !writing) {
        pthread_mutex_lock(&st->read_lock);
        reading++;
    } else {
        sq_write_begin(st);
    }
}

void sq_read_end(struct sql_store *st)
{
    if (st->read_conn && !writing) { /* nesting is balanced: `writing` is as at the begin */
        reading--;
        pthread_mutex_unlock(&st->read_lock);
    } else {
        sq_write_end(st);
    }
}

void sq_write_begin(struct sql_store *st)
{
    pthread_mutex_lock(&st->lock);
    writing++;
}

void sq_write_end(struct sql_store *st)
{
    writing--;
    pthread_mutex_unlock(&st->lock);
}

void *sq_conn(struct sql_store *st)
{
    return !writing && reading && st->read_conn ? st->read_conn : st->conn;
}

static void init_recursive(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
}

void sql_store_init(struct sql_store *st)
{
    store_metrics_init();
    init_recursive(&st->lock);
    init_recursive(&st->read_lock);
    pthread_mutex_init(&st->batch_lock, NULL);
    pthread_cond_init(&st->batch_done, NULL);
    st->batch_head = NULL;
    st->batch_tail = &st->batch_head;
    st->batch_running = 0;
    st->tx_depth = 0;
}

void sql_store_destroy(struct sql_store *st)
{
    pthread_cond_destroy(&st->batch_done);
    pthread_mutex_destroy(&st->batch_lock);
    pthread_mutex_destroy(&st->read_lock);
    pthread_mutex_destroy(&st->lock);
}

static void sql_close(struct store *s)
{
    struct sql_store *st = as_sql(s);
    if (!st)
        return;
    st->drv->close(st);
    sql_store_destroy(st);
    free(st);
}

/* A write that changes nothing, rolled back: it needs the write lock (SQLite) and a
 * read-write primary (PostgreSQL), as every real write does. */
static enum err sql_check_writable(struct store *s)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e) {
        e = sq_run(st, NULL, "UPDATE roles SET description = description WHERE name = ?", "t",
                   "admin");
        sq_rollback(st);
    }
    sq_write_end(st);
    return e;
}

void sql_fill_ops(struct store_ops *ops)
{
    ops->close = sql_close;
    ops->check_writable = sql_check_writable;
    sql_keys_ops(ops);
    sql_identity_ops(ops);
    sql_audit_ops(ops);
    sql_projects_ops(ops);
    sql_sso_ops(ops);
    sql_notices_ops(ops);
    sql_webhooks_ops(ops);
}

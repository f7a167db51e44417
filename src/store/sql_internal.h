/* sql_internal.h — what the SQL backends share. The operations (sql_keys.c,
 * sql_identity.c, sql_audit.c, sql_projects.c) are written once in SQL that both SQLite and
 * PostgreSQL accept; a driver (sqlite_driver.c, pg_driver.c) runs it. Placeholders are `?` or
 * `?N`; the PostgreSQL driver rewrites them to `$N`. Helpers expect the caller to be inside
 * sq_read_begin/end or sq_write_begin/end. */
#ifndef APIKEYD_SQL_INTERNAL_H
#define APIKEYD_SQL_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "store.h"

struct sql_store;

/* One result row, valid only inside a row callback. */
struct sq_row {
    const struct sql_driver *drv;
    void *impl; /* sqlite3_stmt * or PGresult * */
    int index;  /* row number (PostgreSQL) */
};

/* Row callback for sq_each: return nonzero to stop. */
typedef int (*sq_row_fn)(void *ctx, struct sq_row *row);

struct sql_driver {
    const char *begin_sql; /* "BEGIN IMMEDIATE" or "BEGIN" */
    const char *skip_locked; /* a claim's row lock: " FOR UPDATE OF m SKIP LOCKED" or "" */
    enum err (*exec)(struct sql_store *st, const char *sql);
    enum err (*run)(struct sql_store *st, int *changes, const char *sql, const char *fmt,
                    va_list ap);
    enum err (*each)(struct sql_store *st, sq_row_fn row, void *ctx, const char *sql,
                     const char *fmt, va_list ap);
    const char *(*col_text)(struct sq_row *row, int col); /* NULL for SQL NULL */
    int64_t (*col_int64)(struct sq_row *row, int col);
    int (*col_is_null)(struct sq_row *row, int col);
    /* Copies a blob column into dst (cap bytes); its length, 0 when NULL or too long. */
    size_t (*col_blob)(struct sq_row *row, int col, void *dst, size_t cap);
    void (*close)(struct sql_store *st);
};

/* A write waiting for the group commit (sq_group_commit). */
typedef enum err (*sq_job_fn)(struct sql_store *st, const void *arg);
struct sql_pending {
    sq_job_fn fn;
    const void *arg;
    enum err result;
    int done;
    struct sql_pending *next;
};

struct sql_store {
    struct store base; /* first: a struct store * is a struct sql_store * */
    const struct sql_driver *drv;
    pthread_mutex_t lock; /* one connection, one user at a time */
    void *conn;           /* sqlite3 * or PGconn * */
    void *read_conn;      /* a second connection for reads outside transactions, or NULL */
    pthread_mutex_t read_lock;
    void *extra; /* the driver's own state */
    int tx_depth; /* open transactions on conn (nested ones are savepoints); under lock */

    /* the key a delete in this transaction removed (sql_keys.c), so that the audit record
     * after it can name the key in its webhook messages (sql_webhooks.c); under lock */
    struct {
        char id[STORE_ID_LEN + 1];
        char name[STORE_KEY_NAME_BYTES + 1];
        char owner_type[24];
        char owner_id[STORE_NAME_MAX + 1];
    } gone_key;

    /* group commit of key creations */
    pthread_mutex_t batch_lock;
    pthread_cond_t batch_done;
    struct sql_pending *batch_head, **batch_tail;
    int batch_running;
};

/* Initialises and destroys the shared parts of a sql_store (locks, batch queue). */
void sql_store_init(struct sql_store *st);
void sql_store_destroy(struct sql_store *st);

static inline struct sql_store *as_sql(struct store *s)
{
    return (struct sql_store *)s;
}

/* Runs sql with arguments bound per fmt, one letter each: 't' text (const char *),
 * 'T' text or NULL for SQL NULL, 'i' int64_t, 'b' blob (const void *, int length).
 * sq_run expects no rows: ERR_CONFLICT on a constraint violation, ERR_STORE otherwise.
 * *changes (if not NULL) receives the number of rows changed. */
enum err sq_run(struct sql_store *st, int *changes, const char *sql, const char *fmt, ...);
/* Calls row for every result row. */
enum err sq_each(struct sql_store *st, sq_row_fn row, void *ctx, const char *sql, const char *fmt,
                 ...);
/* The first column of the first row as an integer (0 when there is no row). */
enum err sq_int(struct sql_store *st, int64_t *out, const char *sql, const char *fmt, ...);

/* Brackets a read that needs no transaction: it uses the read connection (so it does not wait
 * for a commit in progress) when the driver opened one, else the main connection. */
void sq_read_begin(struct sql_store *st);
void sq_read_end(struct sql_store *st);
/* Brackets work on the main connection (writes, transactions). Both kinds nest. */
void sq_write_begin(struct sql_store *st);
void sq_write_end(struct sql_store *st);
/* The connection the calling thread uses now (read or main). */
void *sq_conn(struct sql_store *st);

/* Runs fn(st, arg) inside a transaction shared with every other write waiting at the same
 * time (group commit: one durable commit for all of them), each in its own savepoint so a
 * refused write does not undo the others. Returns fn's result once the commit is durable.
 * Takes st->lock itself: do not hold it. */
enum err sq_group_commit(struct sql_store *st, sq_job_fn fn, const void *arg);

/* sq_run under the write lock, outside a transaction: ERR_NOT_FOUND when it changes no row. */
enum err sq_change_one(struct sql_store *st, const char *sql, const char *fmt, ...);

/* BEGIN / COMMIT / ROLLBACK. Inside an open transaction (an audited section, see
 * store_ops.audited_begin) they nest: SAVEPOINT / RELEASE / ROLLBACK TO, so an operation's own
 * transaction becomes part of the enclosing one. */
enum err sq_begin(struct sql_store *st);
enum err sq_commit(struct sql_store *st);
void sq_rollback(struct sql_store *st);
/* Ends a transaction: COMMIT when e is ERR_OK, else (or if COMMIT fails) ROLLBACK; the result. */
enum err sq_finish(struct sql_store *st, enum err e);
/* In one transaction under the write lock: ERR_CONFLICT when used_sql (one text argument, key)
 * counts a row, else runs delete_sql (same argument), ERR_NOT_FOUND when it deletes nothing. */
enum err sq_delete_unless_used(struct sql_store *st, const char *used_sql, const char *delete_sql,
                               const char *key);
/* In one transaction under the write lock: ERR_LIMIT when count_sql (no arguments) counts max
 * rows or more, else fn(st, arg); then sq_finish. */
enum err sq_write_under_limit(struct sql_store *st, const char *count_sql, int max, sq_job_fn fn,
                              const void *arg);
/* sq_write_under_limit whose write is the one statement insert_sql, arguments bound per fmt. */
enum err sq_insert_under_limit(struct sql_store *st, const char *count_sql, int max,
                               const char *insert_sql, const char *fmt, ...);

/* The shared head of a record walk (struct user_walk, ...: this first, then the typed callback).
 * The row function fills rec, sets found and calls the typed callback with ctx. */
struct sq_walk {
    void *ctx; /* the caller's callback context */
    void *rec; /* the record being read, allocated zeroed by sq_walk_run */
    int found; /* a row was read */
};
/* Runs sql (arguments per fmt) on the read connection, row getting w (the typed walk) and a
 * zeroed record of rec_size bytes; with out (a get): copies the record there, ERR_NOT_FOUND
 * when there was no row. */
enum err sq_walk_run(struct sql_store *st, sq_row_fn row, struct sq_walk *w, size_t rec_size,
                     void *out, const char *sql, const char *fmt, ...);

/* Column accessors. */
const char *sq_col_text(struct sq_row *row, int col);
int64_t sq_col_int64(struct sq_row *row, int col);
int sq_col_is_null(struct sq_row *row, int col);
/* Copies a text column (NULL as "") into dst of cap bytes. */
void sq_text(struct sq_row *row, int col, char *dst, size_t cap);
/* Copies a blob column into dst (cap bytes); returns its length, 0 when NULL or too long. */
size_t sq_blob(struct sq_row *row, int col, void *dst, size_t cap);

/* Inserts one audit record (inside the caller's transaction), and its webhook messages. */
enum err sql_audit_insert(struct sql_store *st, const struct audit_record *a);
/* Writes the outbox messages of audit record a (one per enabled endpoint subscribed to its
 * action) inside the caller's transaction: the one call sql_audit_insert makes. */
enum err sql_webhook_enqueue(struct sql_store *st, const struct audit_record *a);
/* Notes the key id before a delete removes it (name and owner), for sql_webhook_enqueue. */
void sql_key_note_gone(struct sql_store *st, const char *id);

/* A bulk delete of keys that tells its caller each key it removed: the statement ends in
 * "RETURNING " SQL_KEY_GONE_COLUMNS and runs through sq_each(st, sql_key_gone_row, &walk, ...);
 * cb (may be NULL) gets each key with id, hash, name, owner and expiry filled. */
#define SQL_KEY_GONE_COLUMNS "id, hash, name, owner_type, owner_id, expires_at"
struct sql_gone_walk {
    store_key_cb cb;
    void *ctx;
    struct key_record *rec; /* scratch, allocated by the caller */
};
int sql_key_gone_row(void *ctx, struct sq_row *row);

/* Fills ops with the shared operations (and close). */
void sql_fill_ops(struct store_ops *ops);
void sql_keys_ops(struct store_ops *ops);
void sql_identity_ops(struct store_ops *ops);
void sql_audit_ops(struct store_ops *ops);
void sql_projects_ops(struct store_ops *ops);
void sql_sso_ops(struct store_ops *ops);
void sql_notices_ops(struct store_ops *ops);
void sql_webhooks_ops(struct store_ops *ops);

#endif

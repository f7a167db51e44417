/* sqlite_internal.h — what the files of the SQLite backend share: the private struct and
 * small statement helpers. Helpers expect the caller to hold st->lock. */
#ifndef APIKEYD_SQLITE_INTERNAL_H
#define APIKEYD_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    pthread_mutex_t lock;
};

static inline struct sqlite_store *as_sqlite(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* Row callback for sq_each: return nonzero to stop. */
typedef int (*sq_row_fn)(void *ctx, sqlite3_stmt *row);

/* Runs sql with arguments bound per fmt, one letter each: 't' text (const char *),
 * 'T' text or NULL for SQL NULL, 'i' int64_t, 'b' blob (const void *, int length).
 * sq_run expects no rows: ERR_CONFLICT on a constraint violation, ERR_STORE otherwise.
 * *changes (if not NULL) receives the number of rows changed. */
enum err sq_run(struct sqlite_store *st, int *changes, const char *sql, const char *fmt, ...);
/* Calls row for every result row. */
enum err sq_each(struct sqlite_store *st, sq_row_fn row, void *ctx, const char *sql,
                 const char *fmt, ...);
/* The first column of the first row as an integer (0 when there is no row). */
enum err sq_int(struct sqlite_store *st, int64_t *out, const char *sql, const char *fmt, ...);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
enum err sq_begin(struct sqlite_store *st);
enum err sq_commit(struct sqlite_store *st);
void sq_rollback(struct sqlite_store *st);

/* Copies a text column (NULL as "") into dst of cap bytes. */
void sq_text(sqlite3_stmt *row, int col, char *dst, size_t cap);
/* Copies a blob column into dst (cap bytes); returns its length, 0 when NULL or too long. */
size_t sq_blob(sqlite3_stmt *row, int col, void *dst, size_t cap);

/* The operations, by area (sqlite_keys.c, sqlite_identity.c, sqlite_audit.c). */
void sqlite_keys_ops(struct store_ops *ops);
void sqlite_identity_ops(struct store_ops *ops);
void sqlite_audit_ops(struct store_ops *ops);
void sqlite_projects_ops(struct store_ops *ops);

#endif

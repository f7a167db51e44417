/* sqlite_stmts.h — a cache of prepared SQLite statements for one connection, keyed by their
 * SQL text, so the shared SQL operations are parsed once instead of on every call. */
#ifndef APIKEYD_SQLITE_STMTS_H
#define APIKEYD_SQLITE_STMTS_H

#include <sqlite3.h>

struct stmt_cache;

/* An empty cache for statements of db. NULL when out of memory. */
struct stmt_cache *stmt_cache_new(sqlite3 *db);

/* A statement for sql, ready to bind: the cached one when it is free, else a new one (cached
 * when there is room). NULL when sql does not prepare. */
sqlite3_stmt *stmt_cache_take(struct stmt_cache *c, const char *sql);

/* Gives back a statement that stmt_cache_take returned for sql: a cached one is reset and its
 * bindings cleared (so it holds no read transaction and no caller memory); any other is
 * finalized. */
void stmt_cache_give(struct stmt_cache *c, const char *sql, sqlite3_stmt *stmt);

/* Finalizes every cached statement and frees the cache (before sqlite3_close). NULL is a
 * no-op. */
void stmt_cache_free(struct stmt_cache *c);

#endif

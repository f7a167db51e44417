/* sqlite_stmts.c — see sqlite_stmts.h. An open-addressing table of STMT_SLOTS entries; a
 * statement in use (a row callback running the same SQL again) is not handed out twice. The
 * caller serialises use of the connection, so the cache needs no lock of its own. */
#include "sqlite_stmts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STMT_SLOTS 256 /* a power of two; more than the distinct SQL texts of the store */

struct stmt_slot {
    char *sql; /* NULL: empty */
    uint64_t hash;
    sqlite3_stmt *stmt;
    int busy;
};

struct stmt_cache {
    sqlite3 *db;
    struct stmt_slot slots[STMT_SLOTS];
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct stmt_cache *stmt_cache_new(sqlite3 *db)
{
    struct stmt_cache *c = calloc(1, sizeof *c);
    if (c)
        c->db = db;
    return c;
}

static sqlite3_stmt *prepare(struct stmt_cache *c, const char *sql, unsigned flags)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, flags, &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

sqlite3_stmt *stmt_cache_take(struct stmt_cache *c, const char *sql)
{
    uint64_t h = fnv1a(sql);
    for (unsigned i = 0; i < STMT_SLOTS; i++) {
        struct stmt_slot *s = &c->slots[(h + i) & (STMT_SLOTS - 1)];
        if (!s->sql) { /* not cached yet: cache it here */
            char *copy = strdup(sql);
            sqlite3_stmt *stmt = copy ? prepare(c, sql, SQLITE_PREPARE_PERSISTENT) : NULL;
            if (!stmt) {
                free(copy);
                return copy ? NULL : prepare(c, sql, 0);
            }
            *s = (struct stmt_slot){copy, h, stmt, 1};
            return stmt;
        }
        if (s->hash == h && strcmp(s->sql, sql) == 0) {
            if (s->busy) /* in use further up this thread's stack */
                return prepare(c, sql, 0);
            s->busy = 1;
            return s->stmt;
        }
    }
    return prepare(c, sql, 0); /* the table is full */
}

void stmt_cache_give(struct stmt_cache *c, const char *sql, sqlite3_stmt *stmt)
{
    uint64_t h = fnv1a(sql);
    for (unsigned i = 0; i < STMT_SLOTS; i++) {
        struct stmt_slot *s = &c->slots[(h + i) & (STMT_SLOTS - 1)];
        if (!s->sql)
            break;
        if (s->stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            s->busy = 0;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

void stmt_cache_free(struct stmt_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < STMT_SLOTS; i++) {
        if (c->slots[i].sql) {
            sqlite3_finalize(c->slots[i].stmt);
            free(c->slots[i].sql);
        }
    }
    free(c);
}

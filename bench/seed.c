/* seed.c — bench helper: puts N API keys straight into an apikeyd SQLite store in one
 * transaction (the bulk path the benchmark uses instead of N HTTP calls), owned by an existing
 * user, and prints one of the keys for the load generator. The store must exist already
 * (start apikeyd on the data directory once). Usage: seed DATA_DIR OWNER N */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/random_token.h"
#include "../src/base/timeutil.h"
#include "../src/core/keyfmt.h"

int main(int argc, char **argv)
{
    if (argc != 4 || sodium_init() < 0) {
        fprintf(stderr, "usage: seed DATA_DIR OWNER N\n");
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    char path[4096];
    snprintf(path, sizeof path, "%s/apikeyd.db", argv[1]);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "seed: cannot open %s\n", path);
        return 1;
    }
    sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO api_keys(id, hash, hint, owner_type, owner_id, created_by,"
                       " name, scopes, created_at, expires_at) VALUES (?,?,?,'user',?,?,?,"
                       "'Tasks,APIKey',?,?)",
                       -1, &st, NULL);
    int64_t now = time_now();
    char key[KEYFMT_MAX_LEN + 1], first[KEYFMT_MAX_LEN + 1] = "";
    for (long i = 0; i < n; i++) {
        char id[RANDOM_ID_LEN + 1], hint[KEYFMT_HINT_LEN], name[32];
        uint8_t hash[KEYFMT_HASH_LEN];
        random_id(id);
        keyfmt_generate("apk", key);
        keyfmt_hash(key, strlen(key), hash);
        keyfmt_hint(key, hint);
        snprintf(name, sizeof name, "bench-%ld", i);
        if (i == 0)
            memcpy(first, key, sizeof first);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hint, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, argv[2], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, argv[2], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, now);
        sqlite3_bind_int64(st, 8, now + 300 * 86400);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "seed: insert failed: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "seed: commit failed: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_close(db);
    printf("%s\n", first);
    return 0;
}

/* store.h — the persistence interface, in domain words.
 * A backend (store_sqlite.c; store_pg.c later) fills a struct store_ops table and embeds
 * struct store as the first member of its own private struct, as SQLite's VFS does. Core
 * calls s->ops->fn(s, ...). Every function is safe to call from several threads.
 * Records use fixed-size buffers sized by the API's limits, so nothing here allocates for the
 * caller; lists are streamed through callbacks. Return codes: ERR_OK, ERR_NOT_FOUND,
 * ERR_CONFLICT (a unique name taken), ERR_LIMIT (a count limit), ERR_STORE (anything else,
 * logged by the backend without secrets). */
#ifndef APIKEYD_STORE_H
#define APIKEYD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define STORE_ID_LEN 24            /* hex of 12 random bytes */
#define STORE_NAME_MAX 64          /* usernames, scope names, owner ids (bytes) */
#define STORE_KEY_NAME_BYTES 400   /* 100 code points of up to 4 bytes */
#define STORE_DESCRIPTION_BYTES 4000
#define STORE_SCOPES_BYTES (64 * (STORE_NAME_MAX + 1))
#define STORE_HASH_LEN 32

struct user_record {
    char username[STORE_NAME_MAX + 1];
    char password_hash[128]; /* Argon2id encoded string (crypto_pwhash_STRBYTES); "" for SSO */
    char full_name[STORE_KEY_NAME_BYTES + 1];
    char email[256];
    char auth_source[16]; /* "local", "ldap", "saml" */
    char roles[256];      /* comma-separated role names */
    int disabled;
    int64_t created_at;
};

struct scope_record {
    char name[STORE_NAME_MAX + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
};

struct key_record {
    char id[STORE_ID_LEN + 1];
    uint8_t hash[STORE_HASH_LEN];
    char hint[16];
    char owner_type[24]; /* "user" or "service-account" */
    char owner_id[STORE_NAME_MAX + 1];
    char created_by[STORE_NAME_MAX + 1];
    char name[STORE_KEY_NAME_BYTES + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
    int has_description;
    char scopes[STORE_SCOPES_BYTES]; /* comma-separated scope names */
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at; /* 0 = never */
};

struct session_record {
    uint8_t token_hash[STORE_HASH_LEN];
    uint8_t csrf_hash[STORE_HASH_LEN];
    char username[STORE_NAME_MAX + 1];
    int64_t created_at;
    int64_t expires_at;
};

struct key_touch {
    uint8_t hash[STORE_HASH_LEN];
    int64_t last_used_at;
};

struct store;

/* Callbacks for streamed lists: return 0 to go on, nonzero to stop early. */
typedef int (*store_user_cb)(void *ctx, const struct user_record *u);
typedef int (*store_scope_cb)(void *ctx, const struct scope_record *sc);
typedef int (*store_key_cb)(void *ctx, const struct key_record *k);

struct store_ops {
    /* Closes the store and frees it. */
    void (*close)(struct store *s);

    /* Users. create: ERR_CONFLICT if the username exists. get: ERR_NOT_FOUND. */
    enum err (*user_create)(struct store *s, const struct user_record *u);
    enum err (*user_get)(struct store *s, const char *username, struct user_record *out);
    enum err (*user_count)(struct store *s, int64_t *out);
    enum err (*user_each)(struct store *s, store_user_cb cb, void *ctx);

    /* The scope catalogue in creation order. create: ERR_CONFLICT, ERR_LIMIT past max. */
    enum err (*scope_each)(struct store *s, store_scope_cb cb, void *ctx);
    enum err (*scope_create)(struct store *s, const struct scope_record *sc, int max);

    /* Keys. create: ERR_CONFLICT for a name the owner already uses, ERR_LIMIT when the owner
     * already has max_per_owner keys; durable when it returns ERR_OK. update changes name and
     * description of k->id. each: owner_type/owner_id NULL for all keys, newest first. */
    enum err (*key_create)(struct store *s, const struct key_record *k, int max_per_owner);
    enum err (*key_get)(struct store *s, const char *id, struct key_record *out);
    enum err (*key_update)(struct store *s, const struct key_record *k);
    enum err (*key_delete)(struct store *s, const char *id);
    enum err (*key_each)(struct store *s, const char *owner_type, const char *owner_id,
                         store_key_cb cb, void *ctx);
    /* Records last use times of n keys (by hash) in one transaction; unknown hashes are
     * skipped; a time never moves backwards. */
    enum err (*key_touch)(struct store *s, const struct key_touch *items, size_t n);

    /* Sessions by SHA-256 of the cookie token. create keeps at most max_per_user sessions per
     * user (oldest dropped). get: ERR_NOT_FOUND when absent or expired at `now`. */
    enum err (*session_create)(struct store *s, const struct session_record *r, int max_per_user);
    enum err (*session_get)(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t now,
                            struct session_record *out);
    enum err (*session_delete)(struct store *s, const uint8_t token_hash[STORE_HASH_LEN]);
};

struct store {
    const struct store_ops *ops;
};

/* Opens (creating if needed, and migrating) the SQLite store in directory dir, file
 * apikeyd.db. Sets *out on success; the caller closes it with (*out)->ops->close. */
enum err store_sqlite_open(const char *dir, struct store **out);

#endif

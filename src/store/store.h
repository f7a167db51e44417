/* store.h — the persistence interface, in domain words.
 * A backend (sqlite_*.c; a PostgreSQL one later) fills a struct store_ops table and embeds
 * struct store as the first member of its own private struct, as SQLite's VFS does. Core
 * calls s->ops->fn(s, ...). Every function is safe to call from several threads.
 * Records use fixed-size buffers sized by the API's limits, so nothing here allocates for the
 * caller; lists are streamed through callbacks. Return codes: ERR_OK, ERR_NOT_FOUND,
 * ERR_CONFLICT (a unique name taken), ERR_LIMIT (a count limit), ERR_STORAGE_FULL (no room
 * left: disk full, quota, file size limit), ERR_UNAVAILABLE (the database cannot be reached
 * or answer now: retry), ERR_STORE (anything else); failures are logged by the backend
 * without secrets. */
#ifndef APIKEYD_STORE_H
#define APIKEYD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/usedfrom.h"

#define STORE_ID_LEN 24            /* hex of 12 random bytes */
#define STORE_NAME_MAX 64          /* usernames, scope names, owner ids (bytes) */
#define STORE_KEY_NAME_BYTES 400   /* 100 code points of up to 4 bytes */
#define STORE_DESCRIPTION_BYTES 4000
#define STORE_SCOPES_BYTES (64 * (STORE_NAME_MAX + 1))
#define STORE_HASH_LEN 32
#define STORE_SSO_NONCES_MAX 100000 /* unexpired SSO nonces and SAML ids held at once */
#define STORE_ROLES_BYTES (16 * (STORE_NAME_MAX + 1)) /* at most 16 roles */
#define STORE_SECRET_BYTES 128                        /* an encrypted MFA secret */
#define STORE_AUTHORITIES_BYTES 512

struct user_record {
    char username[STORE_NAME_MAX + 1];
    char password_hash[128]; /* Argon2id encoded string (crypto_pwhash_STRBYTES); "" for SSO */
    char full_name[STORE_KEY_NAME_BYTES + 1];
    char email[256];
    char auth_source[16]; /* "local", "ldap", "saml", "oidc" */
    char roles[STORE_ROLES_BYTES]; /* the user's own roles, comma-separated */
    char environment[STORE_NAME_MAX + 1];
    int disabled;
    int64_t created_at;
    int mfa_enabled;
    uint8_t mfa_secret[STORE_SECRET_BYTES]; /* encrypted by core; opaque here */
    size_t mfa_secret_len;
    uint8_t mfa_pending[STORE_SECRET_BYTES]; /* enrolment not yet confirmed */
    size_t mfa_pending_len;
    int64_t mfa_last_step; /* last accepted TOTP time step */
};

/* The members of an administrator's change to a user (store_ops.user_admin_change); NULL
 * pointers and -1 leave a column as it is. */
struct user_change {
    const char *full_name, *email;
    const char *password_hash; /* a reset */
    const char *environment;
    const char *roles; /* the user's own roles, comma-separated, replacing them; NULL: kept */
    int disabled;      /* -1 kept, 0 enable, 1 disable */
    const char *keep_role; /* NULL, or a role that must keep an enabled holder */
};

struct role_record {
    char name[STORE_NAME_MAX + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
    char authorities[STORE_AUTHORITIES_BYTES]; /* comma-separated */
    int builtin;
};

struct group_record {
    char name[STORE_NAME_MAX + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
    char environment[STORE_NAME_MAX + 1];
    char roles[STORE_ROLES_BYTES]; /* comma-separated */
};

struct environment_record {
    char name[STORE_NAME_MAX + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
};

struct audit_record {
    int64_t id; /* set by the store */
    int64_t at;
    char actor[STORE_NAME_MAX + 1];
    char action[32];
    char target_type[24];
    char target[2 * STORE_NAME_MAX + 2];
    char client[64];
    char detail[256];
    /* An event about a key whose row this transaction has already deleted (a bulk delete:
     * its owner's deletion, a family revocation, retention): the key's name and owner for
     * its webhook messages; not stored in the audit row. "" otherwise. */
    char key_name[STORE_KEY_NAME_BYTES + 1];
    char key_owner_type[24];
    char key_owner_id[STORE_NAME_MAX + 1];
};

struct project_record {
    char id[STORE_ID_LEN + 1];
    char name[STORE_KEY_NAME_BYTES + 1];
    char parent[STORE_ID_LEN + 1]; /* "" for a top-level project */
    char created_by[STORE_NAME_MAX + 1];
    int64_t created_at;
};

struct account_record { /* an API account (service account) */
    char id[STORE_ID_LEN + 1];
    char name[STORE_KEY_NAME_BYTES + 1];
    char description[STORE_DESCRIPTION_BYTES + 1];
    char project[STORE_ID_LEN + 1]; /* "" for a site-wide account */
    char created_by[STORE_NAME_MAX + 1];
    int64_t created_at;
    int disabled;
};

#define STORE_PRINCIPAL_MAX (STORE_NAME_MAX + 24) /* "user:NAME" or "service-account:ID" */

/* Filters of an audit query; empty strings and zero times match everything. */
struct audit_filter {
    const char *actor, *target, *action;
    int64_t since, until; /* inclusive bounds on `at` */
    int64_t before_id;    /* only events with id < before_id (0 = newest) */
    int limit;
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
    /* rotation (core/rotate.c): the family is the id of the key the chain of rotations
     * started from (its own id for a key made by create); rotated_from names the key this one
     * replaced, superseded_by the key that replaced this one ("" when none), rotated_at when
     * that happened (0 while it is current) */
    char family_id[STORE_ID_LEN + 1];
    char rotated_from[STORE_ID_LEN + 1];
    char superseded_by[STORE_ID_LEN + 1];
    int64_t rotated_at;
    char last_used_from[USEDFROM_TEXT_MAX]; /* the latest distinct client addresses (usedfrom.h) */
};

struct session_record {
    uint8_t token_hash[STORE_HASH_LEN];
    uint8_t csrf_hash[STORE_HASH_LEN];
    char username[STORE_NAME_MAX + 1];
    int64_t created_at;
    int64_t expires_at;
    int64_t last_seen_at; /* last use (created_at at first), for the idle timeout */
    int64_t mfa_step;     /* create only: the TOTP step the login used (0: none), claimed as
                           * the user's mfa_last_step in the session's own transaction */
    int recovery_used;    /* create only: the login used the recovery code hashed below,
                           * spent in the session's own transaction */
    uint8_t recovery_hash[STORE_HASH_LEN];
};

/* A use of a key to record: its time and, when known, the client address it came from
 * (merged into the key's last_used_from as seen at last_used_at). */
struct key_touch {
    uint8_t hash[STORE_HASH_LEN];
    int64_t last_used_at;
    char from[NETADDR_TEXT_MAX]; /* "" when none */
};

/* One expiry notice (sql_notices.c): a key and a threshold in notice days (0: expired),
 * claimed by exactly one node. status: "pending" (to be mailed; next_try_at says when),
 * "done" (every recipient mailed or none to mail), "superseded" (a nearer threshold was
 * claimed before this one was mailed), "failed" (given up). */
struct notice_record {
    char key_id[STORE_ID_LEN + 1];
    int threshold;
    char status[16];
    int64_t claimed_at, next_try_at, sent_at;
    int attempts;
};

#define STORE_URL_BYTES 2048           /* a webhook endpoint's URL */
#define STORE_WEBHOOK_DESC_BYTES 1000
#define STORE_WEBHOOK_ACTIONS_BYTES 512
#define STORE_WEBHOOK_SECRET_BYTES 96 /* a sealed signing secret (32 bytes + 40) */

/* A webhook endpoint. The events it takes are kept as the audit actions they come from
 * (core/webhook_events.c maps one to the other), so the store matches an audit record to its
 * subscribers without knowing the event names. */
struct webhook_record {
    char id[STORE_ID_LEN + 1];
    char url[STORE_URL_BYTES + 1];
    char actions[STORE_WEBHOOK_ACTIONS_BYTES]; /* comma-separated audit actions */
    char description[STORE_WEBHOOK_DESC_BYTES + 1];
    int enabled;
    char created_by[STORE_NAME_MAX + 1];
    int64_t created_at;
    uint8_t secret[STORE_WEBHOOK_SECRET_BYTES]; /* sealed by core; opaque here */
    size_t secret_len;
};

/* One outbox message: an audit record for one endpoint, with what the store knew of the key
 * it names (name and owner, read in the same transaction; for a deleted key, from the row
 * just deleted). Delivered by one node at a time (claimed with a lease). */
struct webhook_message {
    int64_t id;
    char webhook_id[STORE_ID_LEN + 1];
    int64_t at; /* the audit record's time (seconds) */
    char actor[STORE_NAME_MAX + 1];
    char action[32];
    char target_type[24];
    char target[2 * STORE_NAME_MAX + 2];
    char detail[256];
    char subject_name[STORE_KEY_NAME_BYTES + 1]; /* the key's name, "" when unknown */
    char owner_type[24];                         /* the key's owner, "" when unknown */
    char owner_id[STORE_NAME_MAX + 1];
    int attempts;          /* attempts made before this one */
    char claim[33];        /* the claim token of the node delivering it */
};

/* One delivery attempt (GET /v1/webhooks/{id}/deliveries). */
struct webhook_attempt {
    int64_t id;
    int64_t message_id;
    char action[32];
    int64_t at_ms;
    int status;       /* the HTTP status, 0 when there was none */
    char error[128];  /* "" when an answer came */
    int64_t duration_ms;
    int64_t next_at_ms; /* the next attempt, 0 when none */
    char state[12];     /* the message's state after it: pending, delivered, failed */
};

/* One mail about a revoked leaked key to one person (sql_notices.c), queued when the key was
 * revoked and sent by the notice thread: status "pending" (next_try_at says when; a taken
 * row's next_try_at is its lease), "done" (sent_at), "failed" (given up, or not mailable).
 * It holds the finished message (no secret is in it); the address is looked up when sent. */
#define STORE_LEAK_MAIL_SUBJECT_BYTES 998
#define STORE_LEAK_MAIL_BODY_BYTES 8192
struct leak_mail_record {
    char key_id[STORE_ID_LEN + 1];
    char username[STORE_NAME_MAX + 1];
    char status[16];
    char subject[STORE_LEAK_MAIL_SUBJECT_BYTES + 1];
    char body[STORE_LEAK_MAIL_BODY_BYTES + 1];
    int64_t created_at, next_try_at, sent_at;
    int attempts;
};

struct store;
struct store_feed_handler;

/* Callbacks for streamed lists: return 0 to go on, nonzero to stop early. */
typedef int (*store_user_cb)(void *ctx, const struct user_record *u);
typedef int (*store_scope_cb)(void *ctx, const struct scope_record *sc);
typedef int (*store_key_cb)(void *ctx, const struct key_record *k);
typedef int (*store_role_cb)(void *ctx, const struct role_record *r);
typedef int (*store_group_cb)(void *ctx, const struct group_record *g);
typedef int (*store_name_cb)(void *ctx, const char *name);
typedef int (*store_environment_cb)(void *ctx, const struct environment_record *e);
typedef int (*store_audit_cb)(void *ctx, const struct audit_record *a);
typedef int (*store_project_cb)(void *ctx, const struct project_record *p);
typedef int (*store_account_cb)(void *ctx, const struct account_record *a);
typedef int (*store_member_cb)(void *ctx, const char *project_id, const char *principal,
                               const char *role);
/* A key whose expiry is near, with the smallest threshold already claimed for it (-1: none). */
typedef int (*store_notice_key_cb)(void *ctx, const struct key_record *k, int notified);
typedef int (*store_notice_cb)(void *ctx, const struct notice_record *n);
typedef int (*store_leak_mail_cb)(void *ctx, const struct leak_mail_record *m);

typedef int (*store_webhook_cb)(void *ctx, const struct webhook_record *w);
typedef int (*store_attempt_cb)(void *ctx, const struct webhook_attempt *a);

struct store_ops {
    /* Closes the store and frees it. */
    void (*close)(struct store *s);

    /* ERR_OK when the store takes writes now (a write that changes nothing, rolled back);
     * else the error a real write would meet (for /readyz). */
    enum err (*check_writable)(struct store *s);

    /* Users. create: ERR_CONFLICT if the username exists, ERR_LIMIT past max users, and
     * ERR_INVALID when a role or the environment does not exist. get: ERR_NOT_FOUND.
     * There is no whole-row update: each write below changes only the columns it names, so
     * two writes that overlap never undo each other (a user's own profile write cannot put
     * back the `disabled` flag, roles or password an admin changed a moment before). Each
     * answers ERR_NOT_FOUND for an unknown username. */
    enum err (*user_create)(struct store *s, const struct user_record *u, int max);
    enum err (*user_get)(struct store *s, const char *username, struct user_record *out);
    enum err (*user_count)(struct store *s, int64_t *out);
    enum err (*user_each)(struct store *s, store_user_cb cb, void *ctx);
    /* Self-service: full_name and email, NULL leaving one as it is; nothing else. */
    enum err (*user_set_profile)(struct store *s, const char *username, const char *full_name,
                                 const char *email);
    /* The password hash alone. With expect (the hash the caller checked a password against)
     * ERR_CONFLICT when the stored hash is no longer that one (changed meanwhile). */
    enum err (*user_set_password)(struct store *s, const char *username, const char *hash,
                                  const char *expect);
    /* An administrator's change: only the members ch sets, in one transaction. With
     * ch->keep_role ("admin"), ERR_CONFLICT when the change would leave no enabled holder of
     * that role where there was one, judged inside the same transaction (serialised against
     * every other such change, also on a shared PostgreSQL). ERR_INVALID for a role or
     * environment that does not exist. A user moved to another environment leaves the
     * groups of the old one. */
    enum err (*user_admin_change)(struct store *s, const char *username,
                                  const struct user_change *ch);
    /* Removes the user with their keys, sessions and group memberships in one transaction;
     * with keep_role (or NULL), ERR_CONFLICT as user_admin_change when it was the last
     * enabled holder of that role. cb (or NULL) is called with each key deleted (id, hash,
     * name, owner filled), so the caller can audit each one in the same transaction. */
    enum err (*user_delete)(struct store *s, const char *username, const char *keep_role,
                            store_key_cb cb, void *ctx);
    /* MFA enrolment, step 1: stores the sealed pending secret (len bytes) and nothing else;
     * ERR_CONFLICT when MFA is already enabled. */
    enum err (*user_mfa_set_pending)(struct store *s, const char *username,
                                     const uint8_t *pending, size_t len);
    /* MFA enrolment, step 2: turns the pending secret (it must still be `pending`, len bytes,
     * the one the code was checked against) into the secret, enabled, with step as the last
     * accepted step (kept if the stored one is later) so the confirming code never signs in.
     * ERR_CONFLICT when MFA is enabled or the pending secret is another one. */
    enum err (*user_mfa_enable)(struct store *s, const char *username, const uint8_t *pending,
                                size_t len, int64_t step);
    /* Turns MFA off and clears both secrets and the recovery codes, only while MFA is on with secret `secret` (len
     * bytes, the one the caller checked): ERR_CONFLICT otherwise. mfa_last_step stays. */
    enum err (*user_mfa_disable)(struct store *s, const char *username, const uint8_t *secret,
                                 size_t len);
    /* Replaces username's MFA recovery codes by the n hashes given, only while MFA is on
     * (ERR_CONFLICT otherwise), in one transaction. */
    enum err (*user_recovery_replace)(struct store *s, const char *username,
                                      const uint8_t (*hashes)[STORE_HASH_LEN], size_t n);
    /* ERR_OK when hash is one of username's unused recovery codes, else ERR_NOT_FOUND.
     * Writes nothing: a login spends it with its session (session_record.recovery_used). */
    enum err (*user_recovery_has)(struct store *s, const char *username,
                                  const uint8_t hash[STORE_HASH_LEN]);
    /* The number of username's unused recovery codes. */
    enum err (*user_recovery_count)(struct store *s, const char *username, int64_t *out);
    /* Records step as the last accepted TOTP step when it is later than the stored one:
     * ERR_OK, or ERR_CONFLICT when it is not (a replayed code). Atomic. */
    enum err (*user_mfa_advance)(struct store *s, const char *username, int64_t step);
    /* The roles that reach a user, directly or through groups (each once). */
    enum err (*user_roles_each)(struct store *s, const char *username, store_role_cb cb,
                                void *ctx);
    /* Names of the groups a user is in. */
    enum err (*user_groups_each)(struct store *s, const char *username, store_name_cb cb,
                                 void *ctx);
    /* Number of enabled users holding role directly or through a group. */
    enum err (*role_holders)(struct store *s, const char *role, int64_t *out);
    /* Usernames of every user (enabled or not) holding role directly or through a group,
     * each once, in order. */
    enum err (*role_holders_each)(struct store *s, const char *role, store_name_cb cb, void *ctx);

    /* Roles. create: ERR_CONFLICT, ERR_LIMIT. update: description and authorities.
     * delete: ERR_CONFLICT while a user or group holds it. */
    enum err (*role_each)(struct store *s, store_role_cb cb, void *ctx);
    enum err (*role_get)(struct store *s, const char *name, struct role_record *out);
    enum err (*role_create)(struct store *s, const struct role_record *r, int max);
    enum err (*role_update)(struct store *s, const struct role_record *r);
    enum err (*role_delete)(struct store *s, const char *name);

    /* Groups with their member lists (usernames). create/update replace the members;
     * ERR_INVALID when a role, the environment or a member does not exist or a member is of
     * another environment. */
    enum err (*group_each)(struct store *s, store_group_cb cb, void *ctx);
    enum err (*group_get)(struct store *s, const char *name, struct group_record *out);
    enum err (*group_members_each)(struct store *s, const char *name, store_name_cb cb,
                                   void *ctx);
    enum err (*group_create)(struct store *s, const struct group_record *g,
                             const char *const *members, size_t n, int max);
    enum err (*group_update)(struct store *s, const struct group_record *g,
                             const char *const *members, size_t n);
    enum err (*group_delete)(struct store *s, const char *name);

    /* Environments. delete: ERR_CONFLICT while users or groups are in it. */
    enum err (*environment_each)(struct store *s, store_environment_cb cb, void *ctx);
    enum err (*environment_get)(struct store *s, const char *name,
                                struct environment_record *out);
    enum err (*environment_create)(struct store *s, const struct environment_record *e,
                                   int max);
    enum err (*environment_delete)(struct store *s, const char *name);

    /* Projects. create: ERR_CONFLICT for a name taken among siblings, ERR_LIMIT when
     * p->created_by already created max projects (a count per creator, judged in the write
     * transaction under a lock on the creator's user row), ERR_INVALID for a parent that
     * does not exist. delete: ERR_CONFLICT while it has subprojects or
     * accounts; its memberships go with it. */
    enum err (*project_create)(struct store *s, const struct project_record *p, int max);
    enum err (*project_get)(struct store *s, const char *id, struct project_record *out);
    enum err (*project_each)(struct store *s, store_project_cb cb, void *ctx);
    enum err (*project_delete)(struct store *s, const char *id);
    /* Memberships: put adds or changes (ERR_LIMIT past max members); each with project_id
     * NULL walks every membership. */
    enum err (*member_put)(struct store *s, const char *project_id, const char *principal,
                           const char *role, int max);
    enum err (*member_delete)(struct store *s, const char *project_id, const char *principal);
    enum err (*member_each)(struct store *s, const char *project_id, store_member_cb cb,
                            void *ctx);

    /* API accounts. create: ERR_CONFLICT for a name taken in the same project (or site-wide),
     * and when project is set, also adds the account as member with role; ERR_LIMIT when
     * that project (or, site-wide, the set of site-wide accounts) already has max accounts
     * (judged in the write transaction, under a lock on the project's row). update: name,
     * description, disabled. delete removes its keys and memberships in one transaction. */
    enum err (*account_create)(struct store *s, const struct account_record *a,
                               const char *role, int max);
    enum err (*account_get)(struct store *s, const char *id, struct account_record *out);
    enum err (*account_each)(struct store *s, store_account_cb cb, void *ctx);
    enum err (*account_update)(struct store *s, const struct account_record *a);
    /* cb (or NULL): each key deleted with the account, as user_delete's. */
    enum err (*account_delete)(struct store *s, const char *id, store_key_cb cb, void *ctx);

    /* Change feed of a store shared by several nodes: starts delivering to h (from another
     * thread) until unwatch. NULL for a store only one node uses. */
    enum err (*watch)(struct store *s, const struct store_feed_handler *h);
    void (*unwatch)(struct store *s);

    /* Audit trail: append sets nothing visible; query streams newest first. */
    enum err (*audit_append)(struct store *s, const struct audit_record *a);
    enum err (*audit_query)(struct store *s, const struct audit_filter *f, store_audit_cb cb,
                            void *ctx);
    /* An audited section: every write this thread makes through s between audited_begin
     * and audited_end is one transaction with the audit record a, which audited_end appends
     * when e (the writes' result) is ERR_OK; it commits only when that append succeeds too,
     * else rolls everything back and returns the error (so a change whose audit record cannot
     * be stored is not made). Other threads' writes wait meanwhile: make only store calls
     * inside, and always call audited_end after a successful audited_begin. */
    enum err (*audited_begin)(struct store *s);
    enum err (*audited_end)(struct store *s, enum err e, const struct audit_record *a);

    /* The scope catalogue in creation order. create: ERR_CONFLICT, ERR_LIMIT past max. */
    enum err (*scope_each)(struct store *s, store_scope_cb cb, void *ctx);
    enum err (*scope_create)(struct store *s, const struct scope_record *sc, int max);

    /* Keys. create: ERR_CONFLICT for a name the owner already uses, ERR_LIMIT when the owner
     * already has max_per_owner keys, ERR_FORBIDDEN when the owning user is gone or disabled;
     * durable when it returns ERR_OK. update changes name and
     * description of k->id. each: owner_type/owner_id NULL for all keys, newest first. */
    enum err (*key_create)(struct store *s, const struct key_record *k, int max_per_owner);
    /* key_create that also appends audit record a in the same transaction (one commit). */
    enum err (*key_create_audited)(struct store *s, const struct key_record *k,
                                   int max_per_owner, const struct audit_record *a);
    enum err (*key_get)(struct store *s, const char *id, struct key_record *out);
    /* The key whose SHA-256 is hash (a reported leak names a key by its secret alone). */
    enum err (*key_get_by_hash)(struct store *s, const uint8_t hash[STORE_HASH_LEN],
                                struct key_record *out);
    enum err (*key_update)(struct store *s, const struct key_record *k);
    enum err (*key_delete)(struct store *s, const char *id);
    enum err (*key_each)(struct store *s, const char *owner_type, const char *owner_id,
                         store_key_cb cb, void *ctx);
    /* Every key with only what verification needs (id, hash, owner, created_by, scopes,
     * expires_at; name and description left empty): the fast path for loading the index. */
    enum err (*key_each_for_index)(struct store *s, store_key_cb cb, void *ctx);
    /* Records last use times of n keys (by hash) in one transaction; unknown hashes are
     * skipped; a time never moves backwards. */
    enum err (*key_touch)(struct store *s, const struct key_touch *items, size_t n);
    /* A rotation in one transaction (durable on return, like key_create): key old_id of k's
     * owner is rotated out (superseded_by k->id, rotated_at now, expires_at lowered to
     * old_expires_at unless it is earlier already), k is inserted as key_create does (the name
     * unique among the owner's keys that are not rotated out, max_per_owner counting every
     * key) and audit record a appended. ERR_NOT_FOUND when old_id is not the owner's key,
     * ERR_CONFLICT when it was rotated out already or has expired at now (the loser of two
     * concurrent rotations), and key_create's refusals; nothing is stored unless ERR_OK. */
    enum err (*key_rotate)(struct store *s, const char *old_id, int64_t now,
                           int64_t old_expires_at, const struct key_record *k,
                           int max_per_owner, const struct audit_record *a);
    /* Deletes every key of family family_id (owned by owner_type:owner_id) that has not
     * expired at now, in one transaction (nested in an audited section when one is open), and
     * calls cb with each deleted key (id, hash, name and owner filled). */
    enum err (*key_family_revoke)(struct store *s, const char *family_id, const char *owner_type,
                                  const char *owner_id, int64_t now, store_key_cb cb, void *ctx);
    /* Retention: deletes at most limit rotated-out keys (superseded_by set) that expired
     * before expired_before, oldest first, in one transaction (nested in an audited section
     * when one is open), calling cb with each (id, hash, name and owner filled). */
    enum err (*key_prune_rotated_out)(struct store *s, int64_t expired_before, int limit,
                                      store_key_cb cb, void *ctx);
    /* Retention: deletes the finished (not pending) expiry notices, with the people they
     * mailed, of keys that expired before notices_before, and the finished leaked-key mails
     * queued before leak_mail_before. */
    enum err (*retention_prune)(struct store *s, int64_t notices_before, int64_t leak_mail_before);

    /* Sessions by SHA-256 of the cookie token. create keeps at most max_per_user sessions per
     * user (oldest dropped). With checked (the user as a login read and checked it; NULL: no
     * check), ERR_CONFLICT unless the user is still enabled with the same password hash and
     * MFA on/off, judged under a lock on the user's row, so a password reset, disable or MFA
     * enabling that lands meanwhile also ends (or refuses) the session the login creates.
     * get: ERR_NOT_FOUND when absent or expired at `now`. */
    enum err (*session_create)(struct store *s, const struct session_record *r, int max_per_user,
                               const struct user_record *checked);
    enum err (*session_get)(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t now,
                            struct session_record *out);
    enum err (*session_delete)(struct store *s, const uint8_t token_hash[STORE_HASH_LEN]);
    /* Records that the session was used at now (its last_seen_at). */
    enum err (*session_touch)(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                              int64_t now);
    /* Ends every session of username except the one with hash keep (NULL: all). */
    enum err (*session_delete_user)(struct store *s, const char *username,
                                    const uint8_t *keep_hash);

    /* Single sign-on (sql_sso.c). nonce_claim records an ID token's nonce or a SAML id (its
     * SHA-256) until expires_at, dropping those past now: ERR_CONFLICT when it was recorded
     * before (a replay), ERR_LIMIT while STORE_SSO_NONCES_MAX unexpired ones are held. subject_get reads the provider subject (a hash, text) username is bound to and
     * the created_at of the user it was bound for; subject_set binds it (replacing). */
    enum err (*sso_nonce_claim)(struct store *s, const uint8_t hash[STORE_HASH_LEN],
                                int64_t expires_at, int64_t now);
    /* Takes back what nonce_claim recorded (a SAML AuthnRequest id that some node sent): ERR_OK
     * when it was there and not expired at now (it is gone after), ERR_NOT_FOUND otherwise. */
    enum err (*sso_nonce_take)(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now);
    enum err (*sso_subject_get)(struct store *s, const char *username, char subject[65],
                                int64_t *user_created_at);
    enum err (*sso_subject_set)(struct store *s, const char *username, const char *subject,
                                int64_t user_created_at);

    /* Expiry notices (sql_notices.c). notice_keys_each: every key with
     * expires_after < expires_at <= expires_until that has no expired notice (threshold 0)
     * yet, soonest first (name, hint, owner, created_by, created_at, expires_at filled). */
    enum err (*notice_keys_each)(struct store *s, int64_t expires_until, int64_t expires_after,
                                 store_notice_key_cb cb, void *ctx);
    /* Claims notice (key_id, threshold) as "pending" with next_try_at = lease_until: ERR_OK
     * for the one caller (on any node) that inserts it; ERR_CONFLICT when it or a nearer
     * threshold (<=) was claimed before, or the key is gone. Unsent notices of farther
     * thresholds of the key become "superseded". Meant inside an audited section, so the
     * claim and its audit record are one transaction. */
    enum err (*notice_claim)(struct store *s, const char *key_id, int threshold, int64_t now,
                             int64_t lease_until);
    /* The "pending" notices with next_try_at <= now whose key still exists. */
    enum err (*notice_pending_each)(struct store *s, int64_t now, store_notice_cb cb, void *ctx);
    /* Takes a pending notice for one attempt: sets next_try_at = lease_until only while it is
     * still pending with next_try_at == seen (ERR_OK); ERR_CONFLICT when another node took it. */
    enum err (*notice_take)(struct store *s, const char *key_id, int threshold, int64_t seen,
                            int64_t lease_until);
    /* Ends an attempt on a pending notice: status ("pending" again with next_try_at, "done",
     * "failed"), attempts, and sent_at = now for "done". ERR_NOT_FOUND when not pending. */
    enum err (*notice_update)(struct store *s, const char *key_id, int threshold,
                              const char *status, int64_t next_try_at, int attempts, int64_t now);
    /* Records that username got notice (key_id, threshold) at now; notice_mail_has: ERR_OK
     * when that was recorded, ERR_NOT_FOUND otherwise (so a retry mails no one twice). */
    enum err (*notice_mail_record)(struct store *s, const char *key_id, int threshold,
                                   const char *username, int64_t now);
    enum err (*notice_mail_has)(struct store *s, const char *key_id, int threshold,
                                const char *username);
    /* Reads one notice (ERR_NOT_FOUND). */
    enum err (*notice_get)(struct store *s, const char *key_id, int threshold,
                           struct notice_record *out);
    /* Webhooks (sql_webhooks.c). Every audit record appended (audit_append, audited_end,
     * key_create_audited) also writes, in its transaction, one outbox message per enabled
     * endpoint whose actions name the record's action. create: ERR_LIMIT past max endpoints.
     * update: url, actions, description, enabled (disabling fails its pending messages).
     * delete: with its messages and attempts. */
    enum err (*webhook_create)(struct store *s, const struct webhook_record *w, int max);
    enum err (*webhook_get)(struct store *s, const char *id, struct webhook_record *out);
    enum err (*webhook_each)(struct store *s, store_webhook_cb cb, void *ctx);
    enum err (*webhook_update)(struct store *s, const struct webhook_record *w);
    enum err (*webhook_delete)(struct store *s, const char *id);
    /* An outbox message of audit record a for endpoint id alone (a test-send), due now_ms. */
    enum err (*webhook_enqueue_one)(struct store *s, const char *id, const struct audit_record *a,
                                    int64_t now_ms);
    /* Claims the oldest message due at now_ms of an enabled endpoint that no node holds, for
     * lease_ms, under token claim (32 hex): ERR_NOT_FOUND when there is none. Several nodes
     * never claim one message at once (FOR UPDATE SKIP LOCKED on PostgreSQL). */
    enum err (*webhook_claim)(struct store *s, int64_t now_ms, int64_t lease_ms,
                              const char *claim, struct webhook_message *out);
    /* Records attempt a of claimed message m and moves it to a->state (due again at
     * a->next_at_ms when pending), releasing the claim, in one transaction. */
    enum err (*webhook_attempt_record)(struct store *s, const struct webhook_message *m,
                                       const struct webhook_attempt *a);
    /* Endpoint id's attempts, newest first, at most limit. */
    enum err (*webhook_attempts_each)(struct store *s, const char *id, int limit,
                                      store_attempt_cb cb, void *ctx);
    /* Drops delivered and failed messages, and attempts, older than before_ms. */
    enum err (*webhook_prune)(struct store *s, int64_t before_ms);

    /* Mails about revoked leaked keys (sql_notices.c). leak_mail_add queues one ("pending",
     * next_try_at = now); a second one for the same key and person is ignored (ERR_OK). */
    enum err (*leak_mail_add)(struct store *s, const char *key_id, const char *username,
                              const char *subject, const char *body, int64_t now);
    /* The "pending" ones with next_try_at <= now, oldest first. */
    enum err (*leak_mail_pending_each)(struct store *s, int64_t now, store_leak_mail_cb cb,
                                       void *ctx);
    /* Takes one for an attempt as notice_take does (ERR_CONFLICT: another node took it). */
    enum err (*leak_mail_take)(struct store *s, const char *key_id, const char *username,
                               int64_t seen, int64_t lease_until);
    /* Ends an attempt as notice_update does. ERR_NOT_FOUND when not pending. */
    enum err (*leak_mail_update)(struct store *s, const char *key_id, const char *username,
                                 const char *status, int64_t next_try_at, int attempts,
                                 int64_t now);
    /* Reads one (ERR_NOT_FOUND). */
    enum err (*leak_mail_get)(struct store *s, const char *key_id, const char *username,
                              struct leak_mail_record *out);
};

struct store {
    const struct store_ops *ops;
};

/* What a shared store tells a node about other nodes' writes (see store_ops.watch). */
struct store_feed_handler {
    /* A change: "key+:ID", "key-:HASHHEX", "owner:TYPE:ID:0|1", "owner-:TYPE:ID",
     * "member:PROJECT:PRINCIPAL:ROLE" (ROLE "" when removed), "project+:ID:PARENT",
     * "project-:ID", "scope+:NAME". Applying one twice is harmless. */
    void (*event)(void *ctx, const char *payload);
    /* The feed is (again) listening: everything before may have been missed; the node
     * reloads its view from the store, then returns 0 (or -1 when it could not: the feed then
     * reconnects and asks again). */
    int (*connected)(void *ctx);
    /* The feed is known to be working now (called every heartbeat_ms while it does). */
    void (*alive)(void *ctx);
    void *ctx;
    /* How often the feed proves its connection (a round trip), in ms; 0 means 1000. The node
     * sets it well under its stale_after_ms, or a busy database's slower round trip would
     * leave gaps in which the view counts as stale. */
    int heartbeat_ms;
};

/* Connects to PostgreSQL at url ("postgresql://..."), migrating the schema (safe when several
 * nodes start at once). Sets *out on success. */
enum err store_pg_open(const char *url, struct store **out);

/* Opens (creating if needed, and migrating) the SQLite store in directory dir, file
 * apikeyd.db. Sets *out on success; the caller closes it with (*out)->ops->close. */
enum err store_sqlite_open(const char *dir, struct store **out);

/* Writes a consistent copy of dir/apikeyd.db to file with SQLite's online backup API, while a
 * daemon may be serving from dir (its lock is not needed: see sqlite_backup.c). The copy is
 * written to file.tmp, fsynced and renamed; an existing file is replaced only when force.
 * On failure (ERR_STORE) msg (cap bytes) says what failed, naming the file. */
enum err store_sqlite_backup(const char *dir, const char *file, int force, char *msg, size_t cap);

#endif

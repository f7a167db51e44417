/* keys.h — the lifecycle of API keys: create (secret returned once), read, list, rename,
 * delete, with the rules of docs/API.md (name, description, scopes, expiry, ownership). */
#ifndef APIKEYD_KEYS_H
#define APIKEYD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/fielderr.h"
#include "core.h"

#define KEYS_NAME_MAX_CHARS 100
#define KEYS_DESCRIPTION_MAX_CHARS 1000
#define KEYS_DEFAULT_TTL_SECONDS (90 * 86400)

struct key_input {
    const char *name;        /* required */
    const char *description; /* NULL = none */
    const char *const *scopes;
    size_t scope_count;
    int has_expires_at;
    int64_t expires_at;
};

struct key_patch {
    const char *name;    /* NULL = unchanged */
    int set_description; /* 1 = replace with description (NULL clears it) */
    const char *description;
};

/* Validates a name and description into fe (field names "name", "description"). */
void keys_check_name(const char *name, struct field_errors *fe);
void keys_check_description(const char *description, struct field_errors *fe);

/* The expiry rules of create and rotate into *out: an explicit expires_at must be later than
 * now, at most one calendar year after now and, for a key caller, no later than the calling
 * key's own expiry (problems in fe, field "expires_at"); without one (has_expires_at 0) it is
 * now + default_ttl, shortened to one year and to the calling key's expiry. */
void keys_check_expiry(const struct caller *who, int has_expires_at, int64_t expires_at,
                       int64_t now, int64_t default_ttl, struct field_errors *fe, int64_t *out);

/* Creates a key owned by the caller's principal. fe may already hold problems found while
 * parsing: those fields are not checked again and the answer is then ERR_INVALID with every
 * problem listed. On ERR_OK fills *out and secret (the key, which the caller must wipe after
 * sending it once). ERR_INVALID with fe filled, ERR_FORBIDDEN
 * for scopes the calling key lacks, ERR_CONFLICT for a taken name, ERR_LIMIT. Nothing is
 * stored unless ERR_OK. */
enum err keys_create(struct core *c, const struct caller *who, const struct key_input *in,
                     struct field_errors *fe, struct key_record *out,
                     char secret[KEYFMT_MAX_LEN + 1]);

/* The same for a key owned by owner_type:owner_id (an API account the caller manages: the
 * caller has checked that); created_by is the caller's person. */
enum err keys_create_owned(struct core *c, const struct caller *who, const char *owner_type,
                           const char *owner_id, const struct key_input *in,
                           struct field_errors *fe, struct key_record *out,
                           char secret[KEYFMT_MAX_LEN + 1]);

/* Deletes key id when owned by owner_type:owner_id (ERR_NOT_FOUND otherwise): store first,
 * then the index (refused from here on), then the audit trail. */
enum err keys_delete_owned(struct core *c, const struct caller *who, const char *owner_type,
                           const char *owner_id, const char *id);

/* Reads key id when it belongs to owner_type:owner_id; ERR_NOT_FOUND for anyone else's. */
enum err keys_get_owned(struct core *c, const char *owner_type, const char *owner_id,
                        const char *id, struct key_record *out);

/* Reads one of the caller's own keys; ERR_NOT_FOUND for anyone else's. */
enum err keys_get(struct core *c, const struct caller *who, const char *id, struct key_record *out);

/* Streams the caller's keys, newest first. */
enum err keys_list(struct core *c, const struct caller *who, store_key_cb cb, void *ctx);

/* Renames or re-describes an own key; fills *out with the result. */
enum err keys_update(struct core *c, const struct caller *who, const char *id,
                     const struct key_patch *p, struct field_errors *fe, struct key_record *out);

/* Deletes an own key: removed from the store, then from the index, before returning. */
enum err keys_delete(struct core *c, const struct caller *who, const char *id);

/* Lists another user's keys (needs manage_user_api_keys); ERR_NOT_FOUND for no such user. */
enum err keys_list_of_user(struct core *c, const struct caller *who, const char *username,
                           store_key_cb cb, void *ctx);

/* Deletes another user's key (needs manage_user_api_keys); refused at once. */
enum err keys_delete_of_user(struct core *c, const struct caller *who, const char *username,
                             const char *id);

#endif

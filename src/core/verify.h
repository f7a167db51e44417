/* verify.h — the verification decision for a presented key: the hot path.
 * Shape and checksum first (no hashing for invented keys), then one SHA-256 and one index
 * lookup; never the store. */
#ifndef APIKEYD_VERIFY_H
#define APIKEYD_VERIFY_H

#include <stddef.h>

#include "core.h"
#include "keyindex.h"

enum verify_code {
    VERIFY_VALID = 0,
    VERIFY_NOT_FOUND,
    VERIFY_EXPIRED,
    VERIFY_DISABLED,
    VERIFY_INSUFFICIENT_SCOPE,
    VERIFY_INSUFFICIENT_ROLE,
    VERIFY_RATE_LIMITED,
    VERIFY_UNAVAILABLE,
};

/* "VALID", "NOT_FOUND", ... as sent in the `code` field. */
const char *verify_code_name(enum verify_code code);

struct verify_result {
    enum verify_code code;
    int found;                  /* view is filled: the key exists */
    struct keyindex_view view;  /* valid when found */
};

/* Decides whether key (len bytes) is valid now and, when scope is not NULL, holds scope.
 * A found key has its last use recorded and is answered by its own state, always. client
 * (the end client's address; NULL = not throttled) has its NOT_FOUND answers counted (per
 * IPv4 address or IPv6 /64), and while it is blocked for too many of them a key that is not
 * found is answered RATE_LIMITED, with *retry_after_s set when not NULL. Never fails: the
 * answer is in *out. */
void verify_key(struct core *c, const char *key, size_t len, const char *scope,
                const char *client, struct verify_result *out, int64_t *retry_after_s);

/* verify_key, and when project is not NULL also requires the key's owner to hold at least
 * role (a project role name; NULL = "reader") in project or a parent of it, else
 * INSUFFICIENT_ROLE. An unknown project or role name is INSUFFICIENT_ROLE. */
void verify_key_in_project(struct core *c, const char *key, size_t len, const char *scope,
                           const char *project, const char *role, const char *client,
                           struct verify_result *out, int64_t *retry_after_s);

/* Writes the names of the scopes in mask joined by sep into out. */
void verify_scopes_text(struct core *c, uint64_t mask, const char *sep, char *out, size_t cap);

#endif

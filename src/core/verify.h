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

/* verify_key, with the use recorded as coming from the address from (the client that
 * presented the key, as resolved through trusted_proxies; NULL: not recorded) while client
 * is the one whose failures count (verify_key uses client for both). A found key keeps its
 * last USEDFROM_MAX distinct addresses (keyindex_lookup, flushed by the usage writer). */
void verify_key_from(struct core *c, const char *key, size_t len, const char *scope,
                     const char *client, const char *from, struct verify_result *out,
                     int64_t *retry_after_s);

/* verify_key, and when project is not NULL also requires the key's owner to hold at least
 * role (a project role name; NULL = "reader") in project or a parent of it, else
 * INSUFFICIENT_ROLE; the use is recorded as from that address (verify_key_from). An unknown project or role name is INSUFFICIENT_ROLE. */
void verify_key_in_project(struct core *c, const char *key, size_t len, const char *scope,
                           const char *project, const char *role, const char *client,
                           const char *from, struct verify_result *out, int64_t *retry_after_s);

/* Writes the names of the scopes in mask joined by sep into out. */
void verify_scopes_text(struct core *c, uint64_t mask, const char *sep, char *out, size_t cap);

#endif

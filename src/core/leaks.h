/* leaks.h — revoking keys reported as leaked: by GitHub's secret scanning (a signed report,
 * h_leaks.c) and by anyone holding a key (POST /v1/keys/revoke, through revoker.h). A
 * revocation is the product's delete (store, then this node's index; other nodes drop the key
 * from their feed), audited as key.leaked in the same transaction. */
#ifndef APIKEYD_LEAKS_H
#define APIKEYD_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define LEAKS_REPORT_MAX 1000               /* tokens in one GitHub report */
#define LEAKS_TOKEN_MAX 1024                /* bytes of a reported token */
#define LEAKS_TYPE_MAX 128                  /* bytes of a token's type */
#define LEAKS_URL_MAX 2048                  /* bytes of the url where GitHub found it */
#define LEAKS_SOURCE_MAX 128                /* bytes of its source ("content", "commit", ...) */
#define LEAKS_REVOKE_KEYS_MAX 1000          /* keys in one POST /v1/keys/revoke */
#define LEAKS_REVOKE_KEY_MAX KEYFMT_MAX_LEN /* bytes of one of them: no key is longer */

/* What apikeyd says of a reported token (GitHub's labels). */
enum leak_label {
    LEAK_FALSE_POSITIVE = 0, /* not a key apikeyd holds (never made, or already gone) */
    LEAK_TRUE_POSITIVE = 1,  /* a key apikeyd holds: revoked now when it was live */
};

/* Who reported a leak, for the audit trail: actor "(github)" or "(revoke)", the client address,
 * and where the key was found (url and source, NULL when not said). */
struct leak_report {
    const char *actor;
    const char *client;
    const char *url;
    const char *source;
};

/* Revokes the key whose SHA-256 is hash when it is live (not expired): deletes it and records
 * key.leaked (target the key id; detail its name, owner and where it was found) in one
 * transaction, then drops it from this node's index. An expired key is left as it is (it
 * verifies no more). *label says whether apikeyd holds the key. ERR_OK, or a store error
 * (nothing changed: the caller may try again). */
enum err leaks_revoke(struct core *c, const uint8_t hash[STORE_HASH_LEN],
                      const struct leak_report *by, enum leak_label *label);

/* POST /v1/keys/revoke: counts the request against client (revoke_max_requests, then blocked
 * as logins are: login_backoff_seconds, doubling), hashes every one of the n strings keys[i]
 * (lens[i] bytes; whatever they are, so the cost does not depend on which are keys) and queues
 * the hashes for the revoker, which revokes the live keys among them after the answer.
 * ERR_OK; ERR_THROTTLED with *retry_after_s (this client, or too many revocations waiting). */
enum err leaks_revoke_later(struct core *c, const char *const *keys, const size_t *lens, size_t n,
                            const char *client, int64_t *retry_after_s);

/* Loads github_scanning_keys_file when it is set (core_open). */
enum err leaks_open(struct core *c);

/* 1 when POST /v1/leaks/github is on (github_scanning_keys_file is set). */
int leaks_github_enabled(struct core *c);

/* Authenticates a GitHub report from client: its Github-Public-Key-Identifier key_id and
 * Github-Public-Key-Signature signature_b64 (either NULL when absent) over the raw body
 * (scanning_keys_verify). Each report that fails counts against client (revoke_max_requests
 * failures, then blocked as logins are: login_backoff_seconds, doubling); a blocked client's
 * reports are refused before the signature is checked: ERR_THROTTLED with *retry_after_s. A
 * report that verifies neither counts nor clears. ERR_UNAUTHENTICATED (with *why) for a
 * missing, overlong, unknown or wrong identifier or signature; ERR_NOT_FOUND when the
 * endpoint is off. */
enum err leaks_github_verify(struct core *c, const char *client, const char *key_id,
                             const char *signature_b64, const char *body, size_t len,
                             const char **why, int64_t *retry_after_s);

#endif

/* password.h — Argon2id password hashing (libsodium crypto_pwhash_str). */
#ifndef APIKEYD_PASSWORD_H
#define APIKEYD_PASSWORD_H

#include <stddef.h>

#include "../base/err.h"

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

/* Hashes password (len bytes) into out[PASSWORD_HASH_MAX] as an encoded Argon2id string with
 * a fresh salt. Returns ERR_OK or ERR_NOMEM. */
enum err password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX]);

/* 1 when password matches the encoded hash; 0 on mismatch, on an empty or malformed hash.
 * With hash NULL it spends the same time as a real check and returns 0 (for unknown users). */
int password_verify(const char *hash, const char *password, size_t len);

/* Checks a new password against the policy: 12-128 characters, not a common password, not
 * the username. Adds a problem for `field` to fe when it fails. */
struct field_errors;
void password_check_policy(const char *username, const char *password, const char *field,
                           struct field_errors *fe);

#endif

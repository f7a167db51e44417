/* scanning_keys.h — GitHub's secret scanning public keys (github_scanning_keys_file: the JSON
 * GitHub publishes at /meta/public_keys/secret_scanning, saved by the operator; nothing is
 * fetched) and the check of a report's signature: ECDSA P-256 with SHA-256 over the raw body,
 * the signature base64 of its DER form, through OpenSSL. */
#ifndef APIKEYD_SCANNING_KEYS_H
#define APIKEYD_SCANNING_KEYS_H

#include <stddef.h>

#include "../base/err.h"

#define SCANNING_KEYS_FILE_MAX (256 * 1024) /* bytes of the keys file */
#define SCANNING_KEYS_MAX 64                /* keys kept from it */
#define SCANNING_KEY_ID_MAX 128             /* bytes of a key identifier (GitHub's: 64 hex) */
#define SCANNING_SIGNATURE_MAX 256          /* bytes of the base64 signature header */

struct scanning_keys;

/* Reads the keys file at path: {"public_keys":[{"key_identifier","key" (PEM),
 * "is_current"}]}. Keys that are not P-256 are skipped with a warning; a file that cannot be
 * read, is not that shape, or holds no P-256 key is ERR_INVALID (logged, naming the setting). */
enum err scanning_keys_load(const char *path, struct scanning_keys **out);

/* Frees ks (NULL is fine). */
void scanning_keys_free(struct scanning_keys *ks);

/* Checks that signature_b64 is the signature of body (len bytes) by the key key_id.
 * ERR_OK, or ERR_UNAUTHENTICATED with *why saying which part failed (unknown identifier,
 * signature not base64, signature does not match). */
enum err scanning_keys_verify(const struct scanning_keys *ks, const char *key_id,
                              const char *signature_b64, const char *body, size_t len,
                              const char **why);

#endif

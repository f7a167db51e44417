/* secretkey.h — the server key that encrypts secrets kept in the store (TOTP seeds), held in
 * a file outside the database and in locked memory while running. */
#ifndef APIKEYD_SECRETKEY_H
#define APIKEYD_SECRETKEY_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define SECRETKEY_OVERHEAD 40 /* nonce (24) + MAC (16) added to every sealed message */

struct secretkey;

/* Reads the 32-byte key from path, creating it (mode 0600) when the file does not exist.
 * ERR_STORE when it cannot be read or made, or has the wrong size. */
enum err secretkey_load(const char *path, struct secretkey **out);
void secretkey_free(struct secretkey *k);

/* Encrypts n bytes of plain into out (n + SECRETKEY_OVERHEAD bytes) with a fresh nonce. */
void secretkey_seal(const struct secretkey *k, const uint8_t *plain, size_t n, uint8_t *out);

/* Decrypts a sealed message of len bytes into plain (len - SECRETKEY_OVERHEAD bytes).
 * Returns 0, or -1 when it was not sealed by this key or was altered. */
int secretkey_open(const struct secretkey *k, const uint8_t *sealed, size_t len, uint8_t *plain);

#endif

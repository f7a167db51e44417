/* keyfmt.h — the API key format: "<prefix>_<body><check>".
 * body = 32 CSPRNG bytes as 43 base62 characters; check = CRC-32 of "<prefix>_<body>" as
 * 6 base62 characters. Keys are stored only as SHA-256 of the whole string. */
#ifndef APIKEYD_KEYFMT_H
#define APIKEYD_KEYFMT_H

#include <stddef.h>
#include <stdint.h>

#define KEYFMT_PREFIX_MAX 16
#define KEYFMT_BODY_BYTES 32
#define KEYFMT_BODY_LEN 43
#define KEYFMT_CHECK_LEN 6
#define KEYFMT_MAX_LEN (KEYFMT_PREFIX_MAX + 1 + KEYFMT_BODY_LEN + KEYFMT_CHECK_LEN)
#define KEYFMT_HASH_LEN 32
#define KEYFMT_HINT_LEN 16 /* 8 + "…" (3 bytes) + 4, plus NUL */

/* 1 when prefix is 1..16 characters of a-z and 0-9. */
int keyfmt_prefix_valid(const char *prefix);

/* Makes a new key with the given (valid) prefix into out[KEYFMT_MAX_LEN + 1].
 * The caller wipes out with sodium_memzero when done. Returns 0, or -1 on a bad prefix. */
int keyfmt_generate(const char *prefix, char out[KEYFMT_MAX_LEN + 1]);

/* 1 when key (len bytes, not necessarily NUL-terminated) has the right shape and checksum.
 * Cheap: no hashing and no lookup, so invented or mistyped keys are refused first. */
int keyfmt_check(const char *key, size_t len);

/* SHA-256 of the key's bytes. */
void keyfmt_hash(const char *key, size_t len, uint8_t out[KEYFMT_HASH_LEN]);

/* Display hint: first 8 characters, "…", last 4 characters, into out[KEYFMT_HINT_LEN]. */
void keyfmt_hint(const char *key, char out[KEYFMT_HINT_LEN]);

#endif

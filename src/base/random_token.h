/* random_token.h — random identifiers and bearer tokens from the OS CSPRNG. */
#ifndef APIKEYD_RANDOM_TOKEN_H
#define APIKEYD_RANDOM_TOKEN_H

#include <stddef.h>

#define RANDOM_ID_LEN 24    /* 12 bytes as lowercase hex */
#define RANDOM_TOKEN_LEN 43 /* 32 bytes as base62 */

/* Writes a new opaque id into out[RANDOM_ID_LEN + 1]. */
void random_id(char out[RANDOM_ID_LEN + 1]);

/* Writes a new 256-bit secret token into out[RANDOM_TOKEN_LEN + 1]; wipe it after use. */
void random_token(char out[RANDOM_TOKEN_LEN + 1]);

#endif

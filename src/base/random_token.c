/* random_token.c — see random_token.h. */
#include "random_token.h"

#include <sodium.h>
#include <stdint.h>

#include "base62.h"

void random_id(char out[RANDOM_ID_LEN + 1])
{
    uint8_t bytes[RANDOM_ID_LEN / 2];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(out, RANDOM_ID_LEN + 1, bytes, sizeof bytes);
}

void random_token(char out[RANDOM_TOKEN_LEN + 1])
{
    uint8_t bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    base62_encode(bytes, sizeof bytes, out, RANDOM_TOKEN_LEN);
    sodium_memzero(bytes, sizeof bytes);
}

/* keyfmt.c — generation and checking of API keys (see keyfmt.h for the format). */
#include "keyfmt.h"

#include <sodium.h>
#include <string.h>
#include <zlib.h>

#include "../base/base62.h"
#include "../base/sha256.h"

int keyfmt_prefix_valid(const char *prefix)
{
    size_t len = strlen(prefix);
    if (len == 0 || len > KEYFMT_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static void keyfmt_checksum(const char *key, size_t len, char out[KEYFMT_CHECK_LEN + 1])
{
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)key, (uInt)len);
    uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                     (uint8_t)crc};
    base62_encode(be, sizeof be, out, KEYFMT_CHECK_LEN);
}

int keyfmt_generate(const char *prefix, char out[KEYFMT_MAX_LEN + 1])
{
    if (!keyfmt_prefix_valid(prefix))
        return -1;
    uint8_t body[KEYFMT_BODY_BYTES];
    size_t plen = strlen(prefix);
    memcpy(out, prefix, plen);
    out[plen] = '_';
    randombytes_buf(body, sizeof body);
    base62_encode(body, sizeof body, out + plen + 1, KEYFMT_BODY_LEN);
    sodium_memzero(body, sizeof body);
    size_t head = plen + 1 + KEYFMT_BODY_LEN;
    keyfmt_checksum(out, head, out + head);
    return 0;
}

int keyfmt_check(const char *key, size_t len)
{
    if (len < 2 + KEYFMT_BODY_LEN + KEYFMT_CHECK_LEN || len > KEYFMT_MAX_LEN)
        return 0;
    size_t plen = len - 1 - KEYFMT_BODY_LEN - KEYFMT_CHECK_LEN;
    if (key[plen] != '_')
        return 0;
    for (size_t i = 0; i < plen; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    for (size_t i = plen + 1; i < len; i++)
        if (!base62_is_char(key[i]))
            return 0;
    char check[KEYFMT_CHECK_LEN + 1];
    size_t head = len - KEYFMT_CHECK_LEN;
    keyfmt_checksum(key, head, check);
    return memcmp(check, key + head, KEYFMT_CHECK_LEN) == 0;
}

void keyfmt_hash(const char *key, size_t len, uint8_t out[KEYFMT_HASH_LEN])
{
    sha256(key, len, out);
}

void keyfmt_hint(const char *key, char out[KEYFMT_HINT_LEN])
{
    size_t len = strlen(key);
    memcpy(out, key, 8);
    memcpy(out + 8, "\xe2\x80\xa6", 3);
    memcpy(out + 11, key + len - 4, 4);
    out[15] = '\0';
}

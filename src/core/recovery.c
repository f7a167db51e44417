/* recovery.c — see recovery.h. */
#include "recovery.h"

#include <ctype.h>
#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "keyfmt.h"

#define RECOVERY_CODE_BYTES 10 /* 80 bits: 16 base32 characters, no padding */

/* The stored form of a code: SHA-256 of its 16 lowercase base32 characters. */
static void hash_normalized(const char *chars, uint8_t out[STORE_HASH_LEN])
{
    keyfmt_hash(chars, RECOVERY_CODE_CHARS, out);
}

enum err recovery_generate(struct recovery_set *set)
{
    for (int i = 0; i < RECOVERY_CODES; i++) {
        uint8_t raw[RECOVERY_CODE_BYTES];
        randombytes_buf(raw, sizeof raw);
        char *b32 = NULL;
        size_t len = 0;
        int rc = oath_base32_encode((const char *)raw, sizeof raw, &b32, &len);
        sodium_memzero(raw, sizeof raw);
        if (rc != OATH_OK || len != RECOVERY_CODE_CHARS) {
            if (b32)
                sodium_memzero(b32, len);
            free(b32);
            sodium_memzero(set, sizeof *set);
            return ERR_INTERNAL;
        }
        char chars[RECOVERY_CODE_CHARS];
        for (int j = 0; j < RECOVERY_CODE_CHARS; j++)
            chars[j] = (char)tolower((unsigned char)b32[j]);
        sodium_memzero(b32, len);
        free(b32);
        hash_normalized(chars, set->hash[i]);
        char *t = set->text[i];
        for (int j = 0, k = 0; j < RECOVERY_CODE_CHARS; j++) {
            if (j && j % 4 == 0)
                t[k++] = '-';
            t[k++] = chars[j];
            t[k] = '\0';
        }
        sodium_memzero(chars, sizeof chars);
    }
    return ERR_OK;
}

int recovery_hash_input(const char *input, uint8_t hash_out[STORE_HASH_LEN])
{
    char chars[RECOVERY_CODE_CHARS];
    size_t n = 0;
    int ok = input != NULL;
    for (const char *p = input; ok && *p; p++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)*p);
        if (ch == '-' || ch == ' ')
            continue;
        if (n == RECOVERY_CODE_CHARS || !((ch >= 'a' && ch <= 'z') || (ch >= '2' && ch <= '7')))
            ok = 0;
        else
            chars[n++] = (char)ch;
    }
    ok = ok && n == RECOVERY_CODE_CHARS;
    if (ok)
        hash_normalized(chars, hash_out);
    sodium_memzero(chars, sizeof chars);
    return ok;
}

/* recovery.h — MFA recovery codes: ten single-use codes given at enrolment, each accepted
 * once in place of a TOTP code. A code is 80 random bits in base32, shown as
 * "abcd-efgh-ijkl-mnop"; only its SHA-256 is stored (80 bits need no slow hash). */
#ifndef APIKEYD_RECOVERY_H
#define APIKEYD_RECOVERY_H

#include <stdint.h>

#include "../base/err.h"
#include "../store/store.h"

#define RECOVERY_CODES 10
#define RECOVERY_CODE_CHARS 16 /* base32 characters, without the dashes */
#define RECOVERY_CODE_TEXT 20  /* "xxxx-xxxx-xxxx-xxxx" and its NUL */

/* A fresh set: the texts to show once, and the hashes to store. Wipe the texts after use. */
struct recovery_set {
    char text[RECOVERY_CODES][RECOVERY_CODE_TEXT];
    uint8_t hash[RECOVERY_CODES][STORE_HASH_LEN];
};

/* Fills set with RECOVERY_CODES new codes. ERR_OK or ERR_INTERNAL. */
enum err recovery_generate(struct recovery_set *set);

/* 1 when input reads as a recovery code (any case; dashes and spaces ignored), with the
 * hash stored for it in hash_out; 0 otherwise (a TOTP code, or junk). */
int recovery_hash_input(const char *input, uint8_t hash_out[STORE_HASH_LEN]);

#endif

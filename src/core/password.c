/* password.c — see password.h. The cost is libsodium's "interactive" Argon2id setting. */
#include "password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    if (crypto_pwhash_str(dummy_hash, "apikeyd-timing-equaliser", 24,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

enum err password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX])
{
    if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ERR_NOMEM;
    return ERR_OK;
}

int password_verify(const char *hash, const char *password, size_t len)
{
    if (!hash) {
        pthread_once(&dummy_once, make_dummy_hash);
        if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, password, len) == 0)
            return 0; /* cannot match a real account either way */
        return 0;
    }
    if (hash[0] == '\0' || memchr(hash, '\0', PASSWORD_HASH_MAX) == NULL)
        return 0;
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

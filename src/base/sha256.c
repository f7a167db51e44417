/* sha256.c — see sha256.h. The digest is fetched from OpenSSL's provider once (fetching it per
 * call costs more than the hash); each thread reuses one EVP context, which a thread-specific
 * key frees when the thread exits. OpenSSL wipes the hashed block at the final step. */
#include "sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static pthread_key_t context_key;
static int context_key_ok;

static void free_context(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void setup(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    context_key_ok = pthread_key_create(&context_key, free_context) == 0;
}

static EVP_MD_CTX *thread_context(void)
{
    pthread_once(&setup_once, setup);
    if (!sha256_md || !context_key_ok)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(context_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (ctx && pthread_setspecific(context_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
    EVP_MD_CTX *ctx = thread_context();
    unsigned int n = 0;
    if (ctx && EVP_DigestInit_ex2(ctx, sha256_md, NULL) == 1 &&
        EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
        n == SHA256_LEN)
        return;
    crypto_hash_sha256(out, data, len);
}

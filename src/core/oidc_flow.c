/* oidc_flow.c — see oidc_flow.h. The sealed form is XChaCha20-Poly1305 (secretkey.h) over
 * a version byte and the struct, then base64url, as device.c does for device cookies. */
#include "oidc_flow.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

#define FLOW_VERSION 1

struct flow_plain {
    uint8_t version;
    struct oidc_flow f;
};

#define FLOW_SEALED (sizeof(struct flow_plain) + SECRETKEY_OVERHEAD)
_Static_assert((FLOW_SEALED + 2) / 3 * 4 + 1 <= OIDC_FLOW_COOKIE_MAX, "flow cookie too small");

int oidc_return_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > OIDC_RETURN_MAX || p[0] != '/' || p[1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e || p[i] == '\\')
            return 0;
    return 1;
}

static void random_text(char out[OIDC_RANDOM_TEXT])
{
    uint8_t b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, OIDC_RANDOM_TEXT, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

void oidc_flow_new(struct oidc_flow *f, const char *return_to, int64_t now)
{
    memset(f, 0, sizeof *f);
    random_text(f->state);
    random_text(f->nonce);
    random_text(f->verifier);
    snprintf(f->return_to, sizeof f->return_to, "%s", return_to);
    f->expires_at = now + OIDC_FLOW_TTL_SECONDS;
}

void oidc_flow_challenge(const struct oidc_flow *f, char out[OIDC_RANDOM_TEXT])
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const uint8_t *)f->verifier, strlen(f->verifier));
    sodium_bin2base64(out, OIDC_RANDOM_TEXT, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

enum err oidc_flow_seal(struct core *c, const struct oidc_flow *f, char out[OIDC_FLOW_COOKIE_MAX])
{
    out[0] = '\0';
    if (!c->secret_key)
        return ERR_UNAVAILABLE;
    struct flow_plain p;
    memset(&p, 0, sizeof p);
    p.version = FLOW_VERSION;
    p.f = *f;
    uint8_t sealed[FLOW_SEALED];
    secretkey_seal(c->secret_key, (const uint8_t *)&p, sizeof p, sealed);
    sodium_bin2base64(out, OIDC_FLOW_COOKIE_MAX, sealed, sizeof sealed,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(&p, sizeof p);
    return ERR_OK;
}

int oidc_flow_open(struct core *c, const char *cookie, int64_t now, struct oidc_flow *f)
{
    memset(f, 0, sizeof *f);
    if (!c->secret_key || !cookie || strlen(cookie) >= OIDC_FLOW_COOKIE_MAX)
        return 0;
    uint8_t sealed[FLOW_SEALED];
    size_t len = 0;
    if (sodium_base642bin(sealed, sizeof sealed, cookie, strlen(cookie), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof sealed)
        return 0;
    struct flow_plain p;
    int ok = secretkey_open(c->secret_key, sealed, len, (uint8_t *)&p) == 0 &&
             p.version == FLOW_VERSION && p.f.expires_at > now &&
             memchr(p.f.state, '\0', sizeof p.f.state) && memchr(p.f.nonce, '\0', sizeof p.f.nonce) &&
             memchr(p.f.verifier, '\0', sizeof p.f.verifier) &&
             memchr(p.f.return_to, '\0', sizeof p.f.return_to);
    if (ok)
        *f = p.f;
    sodium_memzero(&p, sizeof p);
    return ok;
}

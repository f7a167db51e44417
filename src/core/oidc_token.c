/* oidc_token.c — see oidc_token.h. */
#include "oidc_token.h"

#include <cjose/cjose.h>
#include <sodium.h>
#include <string.h>

const char *oidc_token_verdict_text(enum oidc_token_verdict v)
{
    static const char *const text[] = {
        [OIDC_TOKEN_OK] = "valid",
        [OIDC_TOKEN_MALFORMED] = "malformed or of an unsupported algorithm",
        [OIDC_TOKEN_ALG] = "algorithm not allowed",
        [OIDC_TOKEN_NO_KEY] = "no key of the provider's JWKS fits",
        [OIDC_TOKEN_SIGNATURE] = "signature does not verify",
        [OIDC_TOKEN_ISSUER] = "wrong issuer",
        [OIDC_TOKEN_AUDIENCE] = "wrong audience",
        [OIDC_TOKEN_EXPIRED] = "expired",
        [OIDC_TOKEN_TIME] = "issued at a time out of range",
        [OIDC_TOKEN_NONCE] = "wrong nonce",
        [OIDC_TOKEN_SUBJECT] = "no subject",
    };
    return v <= OIDC_TOKEN_SUBJECT ? text[v] : "refused";
}

/* 1 when the JWK (as JSON) may verify a signature of alg with header kid (NULL = none). */
static int key_fits(json_t *k, const char *alg, const char *kid)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *kalg = json_string_value(json_object_get(k, "alg"));
    const char *kkid = json_string_value(json_object_get(k, "kid"));
    if (!kty || (use && strcmp(use, "sig") != 0) || (kalg && strcmp(kalg, alg) != 0))
        return 0;
    if (kid && (!kkid || strcmp(kid, kkid) != 0))
        return 0;
    if (strcmp(alg, "RS256") == 0)
        return strcmp(kty, "RSA") == 0;
    const char *crv = json_string_value(json_object_get(k, "crv"));
    return strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
}

/* Tries each fitting key of jwks on jws. */
static enum oidc_token_verdict verify_with_jwks(cjose_jws_t *jws, const json_t *jwks,
                                                const char *alg, const char *kid)
{
    json_t *keys = json_object_get(jwks, "keys");
    size_t i;
    json_t *k;
    int fitting = 0;
    json_array_foreach(keys, i, k) {
        if (!json_is_object(k) || !key_fits(k, alg, kid))
            continue;
        cjose_err err;
        cjose_jwk_t *jwk = cjose_jwk_import_json((cjose_header_t *)k, &err);
        if (!jwk)
            continue;
        /* the key's type must be the algorithm's: cjose picks the check by the header */
        cjose_jwk_kty_t kty = cjose_jwk_get_kty(jwk, &err);
        int ok = (strcmp(alg, "RS256") == 0 ? kty == CJOSE_JWK_KTY_RSA
                                            : kty == CJOSE_JWK_KTY_EC &&
                                                  cjose_jwk_EC_get_curve(jwk, &err) ==
                                                      CJOSE_JWK_EC_P_256);
        if (ok) {
            fitting = 1;
            ok = cjose_jws_verify(jws, jwk, &err);
        }
        cjose_jwk_release(jwk);
        if (ok)
            return OIDC_TOKEN_OK;
    }
    return fitting ? OIDC_TOKEN_SIGNATURE : OIDC_TOKEN_NO_KEY;
}

static int audience_ok(json_t *claims, const char *client_id)
{
    json_t *aud = json_object_get(claims, "aud");
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    if (json_object_get(claims, "azp") && (!azp || strcmp(azp, client_id) != 0))
        return 0;
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), client_id) == 0;
    if (!json_is_array(aud) || json_array_size(aud) == 0)
        return 0;
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), client_id) == 0)
            found = 1;
    }
    /* several audiences: azp must name this client (checked above when present) */
    return found && (json_array_size(aud) == 1 || azp);
}

/* The claim as whole seconds; 0 when absent or not a number. */
static int number(json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) > -1e15 && json_real_value(v) < 1e15)
        *out = (int64_t)json_real_value(v);
    else
        return 0;
    return 1;
}

static enum oidc_token_verdict check_claims(json_t *claims, const struct oidc_token_expect *x)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (!iss || strcmp(iss, x->issuer) != 0)
        return OIDC_TOKEN_ISSUER;
    if (!audience_ok(claims, x->client_id))
        return OIDC_TOKEN_AUDIENCE;
    int64_t exp, iat, nbf;
    if (!number(claims, "exp", &exp) || exp + OIDC_SKEW_SECONDS <= x->now)
        return OIDC_TOKEN_EXPIRED;
    if (!number(claims, "iat", &iat) || iat > x->now + OIDC_SKEW_SECONDS ||
        iat < x->now - OIDC_IAT_MAX_AGE - OIDC_SKEW_SECONDS)
        return OIDC_TOKEN_TIME;
    if (json_object_get(claims, "nbf") &&
        (!number(claims, "nbf", &nbf) || nbf > x->now + OIDC_SKEW_SECONDS))
        return OIDC_TOKEN_TIME;
    const char *nonce = json_string_value(json_object_get(claims, "nonce"));
    size_t n = nonce ? strlen(nonce) : 0;
    if (!nonce || n != strlen(x->nonce) || sodium_memcmp(nonce, x->nonce, n) != 0)
        return OIDC_TOKEN_NONCE;
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (!sub || !*sub || strlen(sub) > 255)
        return OIDC_TOKEN_SUBJECT;
    return OIDC_TOKEN_OK;
}

enum oidc_token_verdict oidc_token_check(const char *token, const json_t *jwks,
                                         const struct oidc_token_expect *x, json_t **claims)
{
    *claims = NULL;
    size_t len = strlen(token);
    if (len == 0 || len > OIDC_TOKEN_MAX)
        return OIDC_TOKEN_MALFORMED;
    cjose_err err;
    /* cjose refuses alg "none" and unknown algorithms at import */
    cjose_jws_t *jws = cjose_jws_import(token, len, &err);
    if (!jws)
        return OIDC_TOKEN_MALFORMED;
    enum oidc_token_verdict v = OIDC_TOKEN_ALG;
    cjose_header_t *hdr = cjose_jws_get_protected(jws);
    const char *alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &err) : NULL;
    const char *kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &err) : NULL;
    /* the allow-list, before any key is looked at: no none, no HMAC (which would take the
     * client secret, or a public key, as its key), nothing unexpected */
    if (!alg || (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) ||
        json_object_get((json_t *)hdr, "crit"))
        goto out;
    if ((v = verify_with_jwks(jws, jwks, alg, kid)) != OIDC_TOKEN_OK)
        goto out;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    v = OIDC_TOKEN_MALFORMED;
    if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &err))
        goto out;
    json_t *doc = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        goto out;
    }
    v = check_claims(doc, x);
    if (v == OIDC_TOKEN_OK)
        *claims = doc;
    else
        json_decref(doc);
out:
    cjose_jws_release(jws);
    return v;
}

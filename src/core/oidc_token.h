/* oidc_token.h — the ID token check of OpenID Connect Core 3.1.3.7, through Debian's libcjose
 * (the JWS and JWK parsing and the signature) and jansson (the claims): the header's alg on an
 * allow-list (RS256, ES256; none and the HMAC algorithms refused) before any verification, a
 * key of the provider's JWKS that fits (kty, crv, use, alg, kid), then iss, aud (and azp), exp,
 * iat, nbf and nonce with a small clock skew. */
#ifndef APIKEYD_OIDC_TOKEN_H
#define APIKEYD_OIDC_TOKEN_H

#include <jansson.h>
#include <stdint.h>

#define OIDC_TOKEN_MAX 16384 /* bytes of a compact ID token */
#define OIDC_SKEW_SECONDS 60
#define OIDC_IAT_MAX_AGE 600 /* an ID token issued longer ago than this is refused */

enum oidc_token_verdict {
    OIDC_TOKEN_OK = 0,
    OIDC_TOKEN_MALFORMED, /* not a compact JWS with a JSON object as payload */
    OIDC_TOKEN_ALG,       /* alg not RS256 or ES256, or a crit header */
    OIDC_TOKEN_NO_KEY,    /* no key of the JWKS fits the header (the keys may have rotated) */
    OIDC_TOKEN_SIGNATURE, /* a fitting key, but the signature does not verify */
    OIDC_TOKEN_ISSUER,
    OIDC_TOKEN_AUDIENCE, /* aud does not hold the client id, or azp names another client */
    OIDC_TOKEN_EXPIRED,  /* exp missing or past */
    OIDC_TOKEN_TIME,     /* iat missing, in the future or too old; nbf in the future */
    OIDC_TOKEN_NONCE,
    OIDC_TOKEN_SUBJECT, /* sub missing or longer than 255 bytes */
};

struct oidc_token_expect {
    const char *issuer;    /* exactly as iss */
    const char *client_id; /* in aud */
    const char *nonce;     /* the one sent with the authorization request */
    int64_t now;           /* Unix seconds */
};

/* Checks token against jwks (the provider's {"keys": [...]}). OIDC_TOKEN_OK with *claims set
 * (a new reference: json_decref it); otherwise *claims is NULL. */
enum oidc_token_verdict oidc_token_check(const char *token, const json_t *jwks,
                                         const struct oidc_token_expect *x, json_t **claims);

/* A few words naming the verdict, for the log. */
const char *oidc_token_verdict_text(enum oidc_token_verdict v);

#endif

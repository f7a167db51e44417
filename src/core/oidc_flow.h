/* oidc_flow.h — what an OpenID Connect sign-in carries from its start to its callback without
 * a shared cache: state, nonce, the PKCE code_verifier and the return path, sealed with the
 * server key (secretkey.h) into one short-lived cookie that any node can open. */
#ifndef APIKEYD_OIDC_FLOW_H
#define APIKEYD_OIDC_FLOW_H

#include <stdint.h>

#include "../base/err.h"

struct core;

#define OIDC_FLOW_TTL_SECONDS 600
#define OIDC_RANDOM_TEXT 44   /* 32 random bytes as base64url (43) and NUL */
#define OIDC_RETURN_MAX 256   /* the return path, bytes */
#define OIDC_FLOW_COOKIE_MAX 700

struct oidc_flow {
    char state[OIDC_RANDOM_TEXT];
    char nonce[OIDC_RANDOM_TEXT];
    char verifier[OIDC_RANDOM_TEXT]; /* PKCE code_verifier */
    char return_to[OIDC_RETURN_MAX + 1];
    int64_t expires_at;
};

/* 1 when path may be returned to after sign-in: "/" then printable ASCII without a backslash,
 * not "//" (another host), at most OIDC_RETURN_MAX bytes. */
int oidc_return_valid(const char *path);

/* A new flow with fresh random values, returning to return_to (valid), expiring after
 * OIDC_FLOW_TTL_SECONDS. */
void oidc_flow_new(struct oidc_flow *f, const char *return_to, int64_t now);

/* The PKCE S256 code_challenge of f's verifier: base64url(SHA-256(verifier)). */
void oidc_flow_challenge(const struct oidc_flow *f, char out[OIDC_RANDOM_TEXT]);

/* Seals f into cookie text. ERR_UNAVAILABLE without a server key. */
enum err oidc_flow_seal(struct core *c, const struct oidc_flow *f, char out[OIDC_FLOW_COOKIE_MAX]);

/* Opens cookie text sealed by this server's key and not expired at now into *f. 0 for anything
 * else (absent, altered, another key, expired). */
int oidc_flow_open(struct core *c, const char *cookie, int64_t now, struct oidc_flow *f);

#endif

/* oidc_provider.h — apikeyd's side of talking to the OpenID Connect provider over the back
 * channel (libcurl through base/fetch.h): the discovery document
 * (ISSUER/.well-known/openid-configuration) and the JWKS, both cached for an hour (the keys
 * fetched again early, at most every 30 s, when a token names a key the cache lacks), and the
 * authorization code exchange at the token endpoint (client_secret_basic, PKCE verifier).
 * Every URL the provider names must be https (http only to loopback, oidc_url_allowed). */
#ifndef APIKEYD_OIDC_PROVIDER_H
#define APIKEYD_OIDC_PROVIDER_H

#include <jansson.h>

#include "../base/err.h"
#include "oidc_config.h"

struct oidc_provider;

struct oidc_endpoints {
    char authorization[OIDC_URL_MAX + 1];
    char token[OIDC_URL_MAX + 1];
    char jwks[OIDC_URL_MAX + 1];
};

/* Reads the client secret from cfg->client_secret_file (one line, at most 1 KiB) and keeps a
 * copy of cfg. ERR_INVALID (logged) when the file cannot be read or is empty. */
enum err oidc_provider_open(const struct oidc_config *cfg, struct oidc_provider **out);
void oidc_provider_free(struct oidc_provider *p);

/* The provider's endpoints from its discovery document (cached). ERR_UNAVAILABLE when it
 * cannot be fetched or is not a valid document for the configured issuer (logged). */
enum err oidc_provider_endpoints(struct oidc_provider *p, struct oidc_endpoints *out);

/* The provider's JWKS (a new reference), cached; with refresh, fetched again unless that was
 * done in the last 30 s. ERR_UNAVAILABLE as above. */
enum err oidc_provider_jwks(struct oidc_provider *p, int refresh, json_t **out);

/* Exchanges code (with the PKCE verifier; redirect_uri as sent) for tokens and gives the ID
 * token (malloc'd: wipe and free it). ERR_LOGIN_FAILED when the provider refuses (an unknown,
 * used or expired code, a wrong verifier) or answers without an ID token; ERR_UNAVAILABLE
 * when it cannot be reached or fails on its side (5xx). */
enum err oidc_provider_exchange(struct oidc_provider *p, const char *code, const char *verifier,
                                const char *redirect_uri, char **id_token);

#endif

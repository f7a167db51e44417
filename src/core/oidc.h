/* oidc.h — OpenID Connect sign-in (authorization code flow with PKCE S256, state and nonce):
 * the start (the provider's authorization URL and the sealed flow cookie, oidc_flow.h) and the
 * callback (the code exchanged on the back channel, the ID token checked (oidc_token.h), its
 * nonce spent once in the store, the user found or created just in time (oidc_user.h), the
 * session opened). The callback's attempts count against the client's login throttle. */
#ifndef APIKEYD_OIDC_H
#define APIKEYD_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "oidc_config.h"
#include "oidc_flow.h"

#define OIDC_LOCATION_MAX 4096
#define OIDC_CODE_MAX 2048 /* bytes of an authorization code */

/* How a callback ended: the portal shows each in words (oidc_outcome_code names them). */
enum oidc_outcome {
    OIDC_SIGNED_IN = 0,
    OIDC_DENIED,      /* the provider answered with an error (the person cancelled, ...) */
    OIDC_EXPIRED,     /* no flow cookie, or one too old, altered or sealed by another key */
    OIDC_STATE,       /* state does not match the flow's */
    OIDC_UNAVAILABLE, /* the provider cannot be reached or fails on its side */
    OIDC_TOKEN,       /* no code, the code refused, or the ID token not valid (or replayed) */
    OIDC_ACCOUNT,     /* no usable username, or it belongs to another account */
    OIDC_DISABLED,    /* the account is disabled */
    OIDC_THROTTLED,   /* too many failed sign-ins from this client */
    OIDC_FAILED,      /* apikeyd could not finish (its store) */
};

/* The short code of an outcome, for the login page's sso_error (e.g. "state"). */
const char *oidc_outcome_code(enum oidc_outcome o);

/* The settings in use, or NULL when OpenID Connect is off. */
const struct oidc_config *oidc_settings(struct core *c);

/* The public_url setting (kept with the OpenID Connect settings, used by every SSO): where
 * browsers reach apikeyd, "" when not set. */
const char *sso_public_url(struct core *c);

/* Starts a sign-in that comes back to return_to (oidc_return_valid): the authorization URL
 * into location (cap bytes) and the sealed flow into cookie. ERR_NOT_FOUND when OpenID Connect
 * is off; ERR_UNAVAILABLE when the provider's discovery document cannot be had. */
enum err oidc_start(struct core *c, const char *return_to, char *location, size_t cap,
                    char cookie[OIDC_FLOW_COOKIE_MAX]);

/* What the provider's redirect brought back (each NULL when absent). */
struct oidc_callback {
    const char *cookie; /* the flow cookie */
    const char *state, *code, *error;
    const char *client; /* the client's address */
};

/* Finishes a sign-in: OIDC_SIGNED_IN with *out (secrets: wipe after sending) and the flow's
 * return path in return_to; otherwise why not (logged, and audited as login.failure when a
 * user was named). *retry_after_s is set with OIDC_THROTTLED. */
enum oidc_outcome oidc_finish(struct core *c, const struct oidc_callback *cb,
                              struct login_result *out, char return_to[OIDC_RETURN_MAX + 1],
                              int64_t *retry_after_s);

#endif

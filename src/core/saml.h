/* saml.h — SAML 2.0 sign-in (Web Browser SSO, SP-initiated): the start (a signed AuthnRequest
 * by HTTP-Redirect whose ID is recorded in the store, so the ACS of any node sharing it knows
 * the request was sent) and the ACS (the Response checked by saml_sp.h, its InResponseTo taken
 * back from the store once, its assertion ID recorded until the assertion expires so a replay
 * fails on every node, the user found or created just in time (sso_user.h, auth_source saml),
 * the session opened). The ACS's attempts count against the client's login throttle. */
#ifndef APIKEYD_SAML_H
#define APIKEYD_SAML_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "oidc_flow.h"
#include "saml_config.h"

/* How an ACS request ended: the portal shows each in words (saml_outcome_code names them). */
enum saml_outcome {
    SAML_SIGNED_IN = 0,
    SAML_DENIED,      /* the IdP answered with an error status */
    SAML_EXPIRED,     /* InResponseTo names no request this browser started (or one expired
                       * or answered) */
    SAML_UNSOLICITED, /* no InResponseTo (IdP-initiated) while that is off */
    SAML_RESPONSE,    /* the Response is not valid: signature, audience, time, replay, ... */
    SAML_ACCOUNT,     /* no usable username, or it belongs to another account */
    SAML_DISABLED,    /* the account is disabled */
    SAML_THROTTLED,   /* too many failed sign-ins from this client */
    SAML_FAILED,      /* apikeyd could not finish (its store) */
};

/* The short code of an outcome, for the login page's sso_error (e.g. "token"). */
const char *saml_outcome_code(enum saml_outcome o);

/* The settings in use, or NULL when SAML is off. */
const struct saml_config *saml_settings(struct core *c);

/* The SP metadata document, or NULL when SAML is off. */
const char *saml_metadata(struct core *c);

#define SAML_BROWSER_TEXT 44 /* the browser token: 32 random bytes, base64url, and a NUL */

/* Starts a sign-in that comes back to return_to (oidc_return_valid): the IdP URL carrying the
 * signed AuthnRequest into *location (free), and a random token for the browser's cookie into
 * browser. The request is recorded bound to that token: only the browser that started the
 * sign-in can finish it (no login CSRF with someone else's Response). ERR_NOT_FOUND when SAML
 * is off; ERR_INVALID when lasso fails; store errors as they come. */
enum err saml_start(struct core *c, const char *return_to, char **location,
                    char browser[SAML_BROWSER_TEXT]);

/* What the IdP's HTTP-POST brought (each NULL when absent). */
struct saml_post {
    const char *response;    /* SAMLResponse, base64 */
    const char *relay_state; /* RelayState: the return path */
    const char *browser;     /* the start's token from the browser's cookie */
    const char *client;      /* the client's address */
};

/* Finishes a sign-in: SAML_SIGNED_IN with *out (secrets: wipe after sending) and the return
 * path in return_to; otherwise why not (logged; audited as login.failure when a user was
 * named). *retry_after_s is set with SAML_THROTTLED. */
enum saml_outcome saml_finish(struct core *c, const struct saml_post *p, struct login_result *out,
                              char return_to[OIDC_RETURN_MAX + 1], int64_t *retry_after_s);

#endif

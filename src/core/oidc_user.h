/* oidc_user.h — the apikeyd user behind an OpenID Connect sign-in: the username from
 * oidc_username_claim (validated like any username), bound to the provider's subject on first
 * use so a later token with another subject cannot take the account over; created just in
 * time with auth_source "oidc", full name and email from the standard claims and roles from
 * oidc_roles_claim through oidc_role_map, all updated at each sign-in. An account that is not
 * an OpenID Connect one (local, ldap, saml) is never taken over. */
#ifndef APIKEYD_OIDC_USER_H
#define APIKEYD_OIDC_USER_H

#include <jansson.h>

#include "oidc.h"

/* Finds, creates or updates the user for the checked claims of an ID token issued by issuer;
 * OIDC_SIGNED_IN with the user in *u (secrets wiped), or OIDC_ACCOUNT, OIDC_DISABLED,
 * OIDC_FAILED (store) — refusals audited as login.failure by client. */
enum oidc_outcome oidc_user_sync(struct core *c, const struct oidc_config *cfg, json_t *claims,
                                 const char *client, struct user_record *u);

#endif

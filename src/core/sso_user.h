/* sso_user.h — the apikeyd user behind a single sign-on (OpenID Connect, SAML): the username
 * the provider asserts (validated like any username), bound to the provider's subject on first
 * use so a later sign-in with another subject cannot take the account over; created just in
 * time with the sign-in's auth_source, full name and email from the provider, roles from its
 * groups through a value -> role map, all updated at each sign-in. An account of another
 * auth_source (local, ldap, the other SSO) is never taken over. */
#ifndef APIKEYD_SSO_USER_H
#define APIKEYD_SSO_USER_H

#include <stddef.h>

#include "oidc_config.h"
#include "users.h"

struct core;

/* What a checked sign-in says about the person. */
struct sso_identity {
    const char *source;        /* auth_source and log/audit prefix: "oidc" or "saml" */
    const char *label;         /* for messages: "OpenID Connect", "SAML" */
    const char *username;      /* as the provider sent it (NULL when absent) */
    const char *username_from; /* the claim or attribute it came from, for the log */
    const char *issuer, *subject; /* the provider and its subject (the account is bound to) */
    const char *full_name;     /* NULL or raw: kept when a valid profile name */
    const char *email;         /* NULL or raw: kept when a valid address */
    const char *const *groups; /* the group values; roles come from them when roles_managed */
    size_t group_count;
    int roles_managed;         /* 1: the provider manages roles (a groups claim/attribute) */
    const struct oidc_role_pair *role_map; /* group value -> role */
    size_t role_map_count;
    const char *role_map_setting; /* its setting's name, for the log */
};

enum sso_user_result { SSO_USER_OK = 0, SSO_USER_ACCOUNT, SSO_USER_DISABLED, SSO_USER_FAILED };

/* Logs and audits (login.failure by client, detail "SOURCE: why") a sign-in refused before
 * sso_user_sync; username is recorded as "(invalid)" unless it is a valid username. */
void sso_user_refused(struct core *c, const char *source, const char *username,
                      const char *client, const char *why);

/* Finds, creates or updates the user of a checked sign-in; SSO_USER_OK with the user in *u,
 * or SSO_USER_ACCOUNT (no valid username, another account's name or subject),
 * SSO_USER_DISABLED, SSO_USER_FAILED (store) — refusals audited as login.failure by client. */
enum sso_user_result sso_user_sync(struct core *c, const struct sso_identity *id,
                                   const char *client, struct user_record *u);

#endif

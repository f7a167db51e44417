/* oidc_user.c — see oidc_user.h: the ID token's claims read into an sso_identity
 * (sso_user.h), which does the rest. */
#include "oidc_user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "sso_user.h"

#define ROLE_VALUES_MAX 1000 /* values of the roles claim looked at */

enum oidc_outcome oidc_user_sync(struct core *c, const struct oidc_config *cfg, json_t *claims,
                                 const char *client, struct user_record *u)
{
    const char *name = json_string_value(json_object_get(claims, "name"));
    const char *given = json_string_value(json_object_get(claims, "given_name"));
    const char *family = json_string_value(json_object_get(claims, "family_name"));
    char full[2 * STORE_KEY_NAME_BYTES + 2];
    if (name) /* "name", else "given_name family_name" */
        snprintf(full, sizeof full, "%.*s", STORE_KEY_NAME_BYTES, name);
    else
        snprintf(full, sizeof full, "%.*s%s%.*s", STORE_KEY_NAME_BYTES, given ? given : "",
                 given && family ? " " : "", STORE_KEY_NAME_BYTES, family ? family : "");
    const char *email = json_string_value(json_object_get(claims, "email"));
    json_t *verified = json_object_get(claims, "email_verified");
    const char *vtext = json_string_value(verified); /* some providers send "true"/"false" */
    int email_verified = json_is_true(verified) || (vtext && strcmp(vtext, "true") == 0);
    if (json_is_false(verified) || (vtext && strcmp(vtext, "true") != 0))
        email = NULL; /* an address marked unverified is not kept */

    const char **values = NULL, *one[1] = {NULL};
    size_t n = 0;
    if (cfg->roles_claim[0]) { /* a string or an array of strings */
        json_t *v = json_object_get(claims, cfg->roles_claim);
        if (json_is_array(v)) {
            size_t total = json_array_size(v) < ROLE_VALUES_MAX ? json_array_size(v) : ROLE_VALUES_MAX;
            if (total && !(values = calloc(total, sizeof *values)))
                return OIDC_FAILED;
            for (; n < total; n++)
                values[n] = json_string_value(json_array_get(v, n));
        } else if ((one[0] = json_string_value(v))) {
            n = 1;
        }
    }
    /* an email address as the username names the account only when the provider has
     * verified it: anyone can type someone else's address into an account at most providers */
    if (strcmp(cfg->username_claim, "email") == 0 && !email_verified) {
        free(values);
        sso_user_refused(c, "oidc", json_string_value(json_object_get(claims, "email")), client,
                         "the username is an email address the provider has not verified "
                         "(email_verified is not true)");
        return OIDC_ACCOUNT;
    }
    struct sso_identity id = {.source = "oidc",
                              .label = "OpenID Connect",
                              .username = json_string_value(
                                  json_object_get(claims, cfg->username_claim)),
                              .username_from = cfg->username_claim,
                              .issuer = json_string_value(json_object_get(claims, "iss")),
                              .subject = json_string_value(json_object_get(claims, "sub")),
                              .full_name = full,
                              .email = email,
                              .groups = values ? values : one,
                              .group_count = n,
                              .roles_managed = cfg->roles_claim[0] != '\0',
                              .role_map = cfg->role_map,
                              .role_map_count = cfg->role_map_count,
                              .role_map_setting = "oidc_role_map"};
    enum sso_user_result r = sso_user_sync(c, &id, client, u);
    free(values);
    return r == SSO_USER_OK        ? OIDC_SIGNED_IN
           : r == SSO_USER_ACCOUNT ? OIDC_ACCOUNT
           : r == SSO_USER_DISABLED ? OIDC_DISABLED
                                    : OIDC_FAILED;
}

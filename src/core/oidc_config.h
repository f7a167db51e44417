/* oidc_config.h — the OpenID Connect settings (oidc_* and public_url): their defaults, how a
 * "name = value" setting is applied, and the checks made before apikeyd starts. */
#ifndef APIKEYD_OIDC_CONFIG_H
#define APIKEYD_OIDC_CONFIG_H

#include <stddef.h>

#define OIDC_URL_MAX 512
#define OIDC_ROLE_MAP_MAX 32 /* claim value -> role pairs */
#define OIDC_CLAIM_NAME_MAX 64
#define OIDC_CLAIM_VALUE_MAX 256

struct oidc_role_pair {
    char value[OIDC_CLAIM_VALUE_MAX + 1]; /* a value of the roles claim */
    char role[65];                        /* the apikeyd role it gives */
};

struct oidc_config {
    char issuer[OIDC_URL_MAX + 1];     /* "" = OpenID Connect off */
    char client_id[256];
    char client_secret_file[1024];     /* the file holding the client secret (one line) */
    char scopes[256];                  /* default "openid profile email" */
    char username_claim[OIDC_CLAIM_NAME_MAX + 1]; /* default preferred_username */
    char roles_claim[OIDC_CLAIM_NAME_MAX + 1];    /* "" = roles are managed in apikeyd */
    struct oidc_role_pair role_map[OIDC_ROLE_MAP_MAX];
    size_t role_map_count;
    char public_url[OIDC_URL_MAX + 1]; /* where browsers reach apikeyd, no trailing slash */
    char button_label[101];            /* default "Sign in with SSO" */
};

/* Fills the defaults (OpenID Connect off). */
void oidc_config_defaults(struct oidc_config *o);

/* Applies setting name (one of oidc_issuer, oidc_client_id, oidc_client_secret_file,
 * oidc_scopes, oidc_username_claim, oidc_roles_claim, oidc_role_map, oidc_button_label,
 * public_url). Returns 1 when name is not one of them, 0 when applied, -1 after printing the
 * problem to stderr. */
int oidc_config_set(struct oidc_config *o, const char *name, const char *value);

/* The names of those settings (config.c reads each from APIKEYD_<NAME> too). */
const char *const *oidc_config_names(size_t *count);

/* The whole: when an issuer is set, client id, secret file and public URL are required and
 * the issuer uses https (http only for 127.0.0.1, ::1 and localhost). 0, or -1 as above. */
int oidc_config_check(const struct oidc_config *o);

/* Parses "value=role, value=role" (the last '=' of each part splits it) into map (at most
 * OIDC_ROLE_MAP_MAX pairs) and *count; the setting's name is for messages. 0, or -1 as above. */
int oidc_role_map_parse(const char *setting, const char *value, struct oidc_role_pair *map,
                        size_t *count);

/* 1 when url is https://..., or http:// to 127.0.0.1, [::1] or localhost (any port). */
int oidc_url_allowed(const char *url);

#endif

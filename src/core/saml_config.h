/* saml_config.h — the SAML 2.0 settings (saml_*): their defaults, how a "name = value"
 * setting is applied, and the checks made before apikeyd starts. public_url comes from the
 * OpenID Connect settings (oidc_config.h), where it is kept for both. */
#ifndef APIKEYD_SAML_CONFIG_H
#define APIKEYD_SAML_CONFIG_H

#include <stddef.h>

#include "oidc_config.h"

#define SAML_ATTRIBUTE_NAME_MAX 256 /* bytes of an attribute name (often a URI) */

struct saml_config {
    char idp_metadata_file[1024];      /* "" = SAML off */
    char sp_entity_id[OIDC_URL_MAX + 1]; /* "" = public_url + /v1/sso/saml/metadata */
    char sp_key_file[1024];            /* the SP's private key (PEM), signs AuthnRequests */
    char sp_cert_file[1024];           /* its certificate (PEM), published in the metadata */
    char username_attribute[SAML_ATTRIBUTE_NAME_MAX + 1]; /* "" = the NameID */
    char name_attribute[SAML_ATTRIBUTE_NAME_MAX + 1];     /* "" = none */
    char email_attribute[SAML_ATTRIBUTE_NAME_MAX + 1];    /* "" = none */
    char groups_attribute[SAML_ATTRIBUTE_NAME_MAX + 1];   /* "" = roles managed in apikeyd */
    struct oidc_role_pair role_map[OIDC_ROLE_MAP_MAX];    /* group value -> role */
    size_t role_map_count;
    char button_label[101];            /* default "Sign in with SAML" */
    int allow_idp_initiated;           /* 1: responses without InResponseTo are taken */
};

/* Fills the defaults (SAML off). */
void saml_config_defaults(struct saml_config *s);

/* Applies setting name (saml_idp_metadata_file, saml_sp_entity_id, saml_sp_key_file,
 * saml_sp_cert_file, saml_username_attribute, saml_name_attribute, saml_email_attribute,
 * saml_groups_attribute, saml_role_map, saml_button_label, saml_allow_idp_initiated). Returns
 * 1 when name is not one of them, 0 when applied, -1 after printing the problem to stderr. */
int saml_config_set(struct saml_config *s, const char *name, const char *value);

/* The names of those settings (config.c reads each from APIKEYD_<NAME> too). */
const char *const *saml_config_names(size_t *count);

/* The whole: when the IdP metadata file is set, the key, the certificate and public_url are
 * required; fills the default entity id from public_url. 0, or -1 as above. */
int saml_config_check(struct saml_config *s, const char *public_url);

#endif

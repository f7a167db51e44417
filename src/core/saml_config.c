/* saml_config.c — see saml_config.h. */
#include "saml_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"

void saml_config_defaults(struct saml_config *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->button_label, sizeof s->button_label, "Sign in with SAML");
}

static int copy(const char *name, const char *value, char *out, size_t cap)
{
    if (strlen(value) >= cap) {
        fprintf(stderr, "apikeyd: %s is too long\n", name);
        return -1;
    }
    snprintf(out, cap, "%s", value);
    return 0;
}

/* An attribute name: printable, no spaces (URIs and plain names), or "" when empty_ok. */
static int attribute(const char *name, const char *value, char *out, size_t cap)
{
    if (*value && (text_has_control(value, 0) || strchr(value, ' ') || !text_utf8_valid(value))) {
        fprintf(stderr, "apikeyd: %s must be an attribute name (printable, no spaces)\n", name);
        return -1;
    }
    return copy(name, value, out, cap);
}

int saml_config_set(struct saml_config *s, const char *name, const char *value)
{
    if (strcmp(name, "saml_idp_metadata_file") == 0)
        return copy(name, value, s->idp_metadata_file, sizeof s->idp_metadata_file);
    if (strcmp(name, "saml_sp_key_file") == 0)
        return copy(name, value, s->sp_key_file, sizeof s->sp_key_file);
    if (strcmp(name, "saml_sp_cert_file") == 0)
        return copy(name, value, s->sp_cert_file, sizeof s->sp_cert_file);
    if (strcmp(name, "saml_sp_entity_id") == 0) {
        if (text_has_control(value, 0) || strchr(value, ' ') || strchr(value, '"') ||
            strchr(value, '<') || strchr(value, '&') || !text_utf8_valid(value)) {
            fprintf(stderr, "apikeyd: saml_sp_entity_id must be a URI (no spaces, quotes, < or &)\n");
            return -1;
        }
        return copy(name, value, s->sp_entity_id, sizeof s->sp_entity_id);
    }
    if (strcmp(name, "saml_username_attribute") == 0)
        return attribute(name, value, s->username_attribute, sizeof s->username_attribute);
    if (strcmp(name, "saml_name_attribute") == 0)
        return attribute(name, value, s->name_attribute, sizeof s->name_attribute);
    if (strcmp(name, "saml_email_attribute") == 0)
        return attribute(name, value, s->email_attribute, sizeof s->email_attribute);
    if (strcmp(name, "saml_groups_attribute") == 0)
        return attribute(name, value, s->groups_attribute, sizeof s->groups_attribute);
    if (strcmp(name, "saml_role_map") == 0)
        return oidc_role_map_parse(name, value, s->role_map, &s->role_map_count);
    if (strcmp(name, "saml_allow_idp_initiated") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            fprintf(stderr, "apikeyd: saml_allow_idp_initiated must be true or false\n");
            return -1;
        }
        s->allow_idp_initiated = strcmp(value, "true") == 0;
        return 0;
    }
    if (strcmp(name, "saml_button_label") == 0) {
        if (!*value || text_codepoints(value) > 100 || text_has_control(value, 0) ||
            !text_utf8_valid(value)) {
            fprintf(stderr, "apikeyd: saml_button_label must be 1-100 characters\n");
            return -1;
        }
        return copy(name, value, s->button_label, sizeof s->button_label);
    }
    return 1;
}

static const char *const names[] = {
    "saml_idp_metadata_file", "saml_sp_entity_id",     "saml_sp_key_file",
    "saml_sp_cert_file",      "saml_username_attribute", "saml_name_attribute",
    "saml_email_attribute",   "saml_groups_attribute", "saml_role_map",
    "saml_button_label",      "saml_allow_idp_initiated"};


int saml_config_check(struct saml_config *s, const char *public_url)
{
    if (!s->idp_metadata_file[0])
        return 0;
    const char *missing = !s->sp_key_file[0]   ? "saml_sp_key_file"
                          : !s->sp_cert_file[0] ? "saml_sp_cert_file"
                          : !public_url[0]      ? "public_url"
                                                : NULL;
    if (missing) {
        fprintf(stderr, "apikeyd: saml_idp_metadata_file is set, so %s is required\n", missing);
        return -1;
    }
    if (!s->sp_entity_id[0] &&
        (size_t)snprintf(s->sp_entity_id, sizeof s->sp_entity_id, "%s/v1/sso/saml/metadata",
                         public_url) >= sizeof s->sp_entity_id) {
        fprintf(stderr, "apikeyd: public_url is too long for the SAML entity id\n");
        return -1;
    }
    return 0;
}

const char *const *saml_config_names(size_t *count)
{
    *count = sizeof names / sizeof names[0];
    return names;
}

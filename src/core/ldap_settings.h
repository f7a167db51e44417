/* ldap_settings.h — the LDAP / Active Directory settings (ldap_* in the config file,
 * APIKEYD_LDAP_* in the environment), their defaults and checks, and the parsed
 * ldap_group_roles map. No libldap here: config.c reads these, directory.c uses them. */
#ifndef APIKEYD_LDAP_SETTINGS_H
#define APIKEYD_LDAP_SETTINGS_H

#include <stddef.h>

#define DIR_DN_MAX 512          /* a DN in the settings or from the directory (bytes) */
#define DIR_ATTR_MAX 64         /* an attribute name */
#define DIR_FILTER_MAX 512      /* ldap_user_filter */
#define DIR_GROUP_ROLES_MAX 32  /* entries of ldap_group_roles */
#define DIR_GROUP_ROLES_BYTES 8192

/* One ldap_group_roles entry: members of the group `dn` get `roles` (comma-separated). */
struct ldap_group_role {
    char dn[DIR_DN_MAX + 1];
    char roles[16 * 65]; /* at most 16 role names */
};

struct ldap_settings {
    char url[512];             /* ldap://host[:port] (always StartTLS) or ldaps://; "" = off */
    char bind_dn[DIR_DN_MAX + 1];   /* the search account; "" = anonymous search */
    char bind_password_file[1024];   /* its password, read at start */
    char user_base[DIR_DN_MAX + 1];
    char user_filter[DIR_FILTER_MAX + 1]; /* default "(uid=%s)" */
    char name_attribute[DIR_ATTR_MAX + 1];  /* default "cn" */
    char email_attribute[DIR_ATTR_MAX + 1]; /* default "mail" */
    char group_member_attribute[DIR_ATTR_MAX + 1]; /* default "member" */
    char ca_file[1024];        /* CA certificates the server's certificate must chain to */
    int sync_seconds;          /* directory users re-checked this often (0 = never) */
    int timeout_seconds;       /* bound of every directory call */
    char group_roles_text[DIR_GROUP_ROLES_BYTES]; /* ldap_group_roles as written */
    struct ldap_group_role group_roles[DIR_GROUP_ROLES_MAX];
    size_t group_role_count;
};

/* Fills the defaults (directory sign-in off). */
void ldap_settings_defaults(struct ldap_settings *s);

/* Applies setting `name` (one of the ldap_* names) = value. Returns 0 when applied, -1 after
 * printing the problem to stderr, 1 when name is not an LDAP setting. */
int ldap_settings_set(struct ldap_settings *s, const char *name, const char *value);

/* The names of the ldap_* settings (config.c reads each from APIKEYD_<NAME> too). */
const char *const *ldap_settings_names(size_t *count);

/* Checks the settings hang together (a URL needs a user base, a bind DN its password file).
 * 0, or -1 after printing the problem. */
int ldap_settings_check(const struct ldap_settings *s);

/* Parses text ("DN => role, role; DN => role") into s->group_roles. 0, or -1 with a short
 * reason in why (cap bytes). */
int ldap_group_roles_parse(struct ldap_settings *s, const char *text, char *why, size_t cap);

#endif

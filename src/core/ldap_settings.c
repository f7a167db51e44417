/* ldap_settings.c — see ldap_settings.h. */
#include "ldap_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/setting.h"
#include "../base/text.h"

void ldap_settings_defaults(struct ldap_settings *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->user_filter, sizeof s->user_filter, "(uid=%%s)");
    snprintf(s->name_attribute, sizeof s->name_attribute, "cn");
    snprintf(s->email_attribute, sizeof s->email_attribute, "mail");
    snprintf(s->group_member_attribute, sizeof s->group_member_attribute, "member");
    s->sync_seconds = 300;
    s->timeout_seconds = 5;
}

/* An attribute description: a letter, then letters, digits, '-' (or a numeric OID). */
static int attribute_ok(const char *a)
{
    if (!*a || strlen(a) > DIR_ATTR_MAX)
        return 0;
    int oid = isdigit((unsigned char)a[0]);
    for (const char *p = a; *p; p++)
        if (oid ? !(isdigit((unsigned char)*p) || *p == '.')
                : !(isalnum((unsigned char)*p) || *p == '-'))
            return 0;
    return 1;
}

static int attribute(const char *name, const char *value, char *out, size_t cap)
{
    if (!attribute_ok(value))
        return setting_fail(name, "must be an attribute name (letters, digits, '-')");
    return setting_text(name, value, out, cap);
}

/* A filter template: "(...)" with balanced parentheses, at least one %s, no other '%'. */
static int filter_ok(const char *f)
{
    size_t n = strlen(f);
    if (n < 2 || f[0] != '(' || f[n - 1] != ')' || !strstr(f, "%s"))
        return 0;
    int depth = 0;
    for (const char *p = f; *p; p++) {
        if (*p == '%' && p[1] != 's')
            return 0;
        if (*p == '\\' && p[1]) { /* an escaped byte of the template itself */
            p++;
            continue;
        }
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (depth < 0 || (depth == 0 && p[1]))
            return 0;
    }
    return depth == 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

int ldap_group_roles_parse(struct ldap_settings *s, const char *text, char *why, size_t cap)
{
    char buf[DIR_GROUP_ROLES_BYTES];
    if (strlen(text) >= sizeof buf) {
        snprintf(why, cap, "is too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", text);
    s->group_role_count = 0;
    char *save = NULL;
    for (char *entry = strtok_r(buf, ";", &save); entry; entry = strtok_r(NULL, ";", &save)) {
        entry = trim(entry);
        if (!*entry)
            continue;
        char *arrow = strstr(entry, "=>");
        if (!arrow) {
            snprintf(why, cap, "entries are 'group DN => role, role', separated by ';'");
            return -1;
        }
        *arrow = '\0';
        char *dn = trim(entry), *roles = trim(arrow + 2);
        if (s->group_role_count == DIR_GROUP_ROLES_MAX) {
            snprintf(why, cap, "names at most %d groups", DIR_GROUP_ROLES_MAX);
            return -1;
        }
        struct ldap_group_role *g = &s->group_roles[s->group_role_count];
        if (!*dn || strlen(dn) > DIR_DN_MAX || !strchr(dn, '=')) {
            snprintf(why, cap, "'%.80s' is not a group DN", dn);
            return -1;
        }
        snprintf(g->dn, sizeof g->dn, "%s", dn);
        g->roles[0] = '\0';
        size_t used = 0, count = 0;
        char *rsave = NULL;
        for (char *r = strtok_r(roles, ",", &rsave); r; r = strtok_r(NULL, ",", &rsave)) {
            r = trim(r);
            if (!text_is_token(r, "._-", 64) || ++count > 16) {
                snprintf(why, cap, "group %.80s: roles are 1-16 role names", dn);
                return -1;
            }
            used += (size_t)snprintf(g->roles + used, sizeof g->roles - used, "%s%s",
                                     used ? "," : "", r);
        }
        if (count == 0) {
            snprintf(why, cap, "group %.80s names no role", dn);
            return -1;
        }
        s->group_role_count++;
    }
    return 0;
}

int ldap_settings_set(struct ldap_settings *s, const char *name, const char *value)
{
    if (strcmp(name, "ldap_url") == 0) {
        if (*value && strncmp(value, "ldap://", 7) != 0 && strncmp(value, "ldaps://", 8) != 0)
            return setting_fail(name, "must start with ldap:// (StartTLS) or ldaps://");
        if (strpbrk(value, " ,"))
            return setting_fail(name, "names one server");
        return setting_text(name, value, s->url, sizeof s->url);
    }
    if (strcmp(name, "ldap_bind_dn") == 0)
        return setting_text(name, value, s->bind_dn, sizeof s->bind_dn);
    if (strcmp(name, "ldap_bind_password_file") == 0)
        return setting_text(name, value, s->bind_password_file, sizeof s->bind_password_file);
    if (strcmp(name, "ldap_user_base") == 0)
        return setting_text(name, value, s->user_base, sizeof s->user_base);
    if (strcmp(name, "ldap_user_filter") == 0) {
        if (!filter_ok(value))
            return setting_fail(name, "must be one LDAP filter in parentheses with %s where the "
                              "username goes, e.g. (uid=%s) or (sAMAccountName=%s)");
        return setting_text(name, value, s->user_filter, sizeof s->user_filter);
    }
    if (strcmp(name, "ldap_name_attribute") == 0)
        return attribute(name, value, s->name_attribute, sizeof s->name_attribute);
    if (strcmp(name, "ldap_email_attribute") == 0)
        return attribute(name, value, s->email_attribute, sizeof s->email_attribute);
    if (strcmp(name, "ldap_group_member_attribute") == 0)
        return attribute(name, value, s->group_member_attribute,
                         sizeof s->group_member_attribute);
    if (strcmp(name, "ldap_ca_file") == 0)
        return setting_text(name, value, s->ca_file, sizeof s->ca_file);
    if (strcmp(name, "ldap_sync_seconds") == 0)
        return setting_int(name, value, 0, 86400, &s->sync_seconds);
    if (strcmp(name, "ldap_timeout_seconds") == 0)
        return setting_int(name, value, 1, 60, &s->timeout_seconds);
    if (strcmp(name, "ldap_group_roles") == 0) {
        char why[160];
        if (setting_text(name, value, s->group_roles_text, sizeof s->group_roles_text))
            return -1;
        if (ldap_group_roles_parse(s, value, why, sizeof why))
            return setting_fail(name, why);
        return 0;
    }
    return 1;
}

static const char *const env_names[] = {
    "ldap_url",          "ldap_bind_dn",         "ldap_bind_password_file",
    "ldap_user_base",    "ldap_user_filter",     "ldap_name_attribute",
    "ldap_email_attribute", "ldap_group_member_attribute", "ldap_ca_file",
    "ldap_sync_seconds", "ldap_timeout_seconds", "ldap_group_roles",
};


int ldap_settings_check(const struct ldap_settings *s)
{
    if (!s->url[0])
        return 0;
    if (!s->user_base[0])
        return setting_fail("ldap_url", "needs ldap_user_base (where the users are searched)");
    if (s->bind_dn[0] && !s->bind_password_file[0])
        return setting_fail("ldap_bind_dn", "needs ldap_bind_password_file");
    return 0;
}

const char *const *ldap_settings_names(size_t *count)
{
    *count = sizeof env_names / sizeof env_names[0];
    return env_names;
}

/* oidc_config.c — see oidc_config.h. */
#include "oidc_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/text.h"

void oidc_config_defaults(struct oidc_config *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->scopes, sizeof o->scopes, "openid profile email");
    snprintf(o->username_claim, sizeof o->username_claim, "preferred_username");
    snprintf(o->button_label, sizeof o->button_label, "Sign in with SSO");
}

static int too_long(const char *name)
{
    fprintf(stderr, "apikeyd: %s is too long\n", name);
    return -1;
}

static int copy(const char *name, const char *value, char *out, size_t cap)
{
    if (strlen(value) >= cap)
        return too_long(name);
    snprintf(out, cap, "%s", value);
    return 0;
}

/* A claim name: 1..64 of A-Z a-z 0-9 _ - . : / (namespaced claims of Okta and Auth0). */
static int claim_name(const char *name, const char *value, char *out, size_t cap, int empty_ok)
{
    if ((*value == '\0' && empty_ok) || text_is_token(value, "_-.:/", OIDC_CLAIM_NAME_MAX))
        return copy(name, value, out, cap);
    fprintf(stderr, "apikeyd: %s must be a claim name (1-64 of A-Z a-z 0-9 _ - . : /)\n", name);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int oidc_role_map_parse(const char *setting, const char *value, struct oidc_role_pair *map,
                        size_t *count)
{
    char buf[OIDC_ROLE_MAP_MAX * (OIDC_CLAIM_VALUE_MAX + 70)];
    if (strlen(value) >= sizeof buf)
        return too_long(setting);
    snprintf(buf, sizeof buf, "%s", value);
    *count = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(part, '=');
        if (!eq)
            goto bad;
        *eq = '\0';
        char *v = trim(part), *role = trim(eq + 1);
        if (*count == OIDC_ROLE_MAP_MAX) {
            fprintf(stderr, "apikeyd: %s holds at most %d pairs\n", setting, OIDC_ROLE_MAP_MAX);
            return -1;
        }
        if (!*v || strlen(v) > OIDC_CLAIM_VALUE_MAX || text_has_control(v, 0) ||
            !text_is_token(role, "._-", 64))
            goto bad;
        struct oidc_role_pair *p = &map[(*count)++];
        snprintf(p->value, sizeof p->value, "%s", v);
        snprintf(p->role, sizeof p->role, "%s", role);
    }
    return 0;
bad:
    fprintf(stderr, "apikeyd: %s must be 'value=role' pairs separated by commas"
                    " (a value of at most %d bytes, a role name)\n", setting, OIDC_CLAIM_VALUE_MAX);
    return -1;
}

/* A URL setting: no white space or control characters; with strip, no trailing slash is kept
 * (the issuer is kept as written: the ID token's iss must equal it exactly). */
static int url(const char *name, const char *value, char *out, size_t cap, int strip)
{
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '#' || *p == '?') {
            fprintf(stderr, "apikeyd: %s must be a URL without spaces, query or fragment\n", name);
            return -1;
        }
    if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) {
        fprintf(stderr, "apikeyd: %s must start with https:// (or http://)\n", name);
        return -1;
    }
    if (copy(name, value, out, cap))
        return -1;
    size_t n = strlen(out);
    while (strip && n > 8 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

int oidc_config_set(struct oidc_config *o, const char *name, const char *value)
{
    if (strcmp(name, "oidc_issuer") == 0)
        return *value ? url(name, value, o->issuer, sizeof o->issuer, 0) : (o->issuer[0] = '\0', 0);
    if (strcmp(name, "public_url") == 0)
        return url(name, value, o->public_url, sizeof o->public_url, 1);
    if (strcmp(name, "oidc_client_id") == 0) {
        if (text_has_control(value, 0) || strchr(value, ' '))
            goto printable;
        return copy(name, value, o->client_id, sizeof o->client_id);
    }
    if (strcmp(name, "oidc_client_secret_file") == 0)
        return copy(name, value, o->client_secret_file, sizeof o->client_secret_file);
    if (strcmp(name, "oidc_scopes") == 0) {
        if (!text_is_token(value, " _-.:/", sizeof o->scopes - 1))
            goto printable;
        return copy(name, value, o->scopes, sizeof o->scopes);
    }
    if (strcmp(name, "oidc_username_claim") == 0)
        return claim_name(name, value, o->username_claim, sizeof o->username_claim, 0);
    if (strcmp(name, "oidc_roles_claim") == 0)
        return claim_name(name, value, o->roles_claim, sizeof o->roles_claim, 1);
    if (strcmp(name, "oidc_role_map") == 0)
        return oidc_role_map_parse(name, value, o->role_map, &o->role_map_count);
    if (strcmp(name, "oidc_button_label") == 0) {
        if (!*value || text_codepoints(value) > 100 || text_has_control(value, 0) ||
            !text_utf8_valid(value)) {
            fprintf(stderr, "apikeyd: oidc_button_label must be 1-100 characters\n");
            return -1;
        }
        return copy(name, value, o->button_label, sizeof o->button_label);
    }
    return 1;
printable:
    fprintf(stderr, "apikeyd: %s holds characters it cannot have\n", name);
    return -1;
}

static const char *const names[] = {"oidc_issuer",      "oidc_client_id",
                                    "oidc_client_secret_file", "oidc_scopes",
                                    "oidc_username_claim", "oidc_roles_claim",
                                    "oidc_role_map",    "oidc_button_label",
                                    "public_url"};


int oidc_url_allowed(const char *u)
{
    if (strncmp(u, "https://", 8) == 0)
        return u[8] != '\0' && u[8] != '/';
    if (strncmp(u, "http://", 7) != 0)
        return 0;
    static const char *const local[] = {"127.0.0.1", "[::1]", "localhost"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(local[i]);
        if (strncasecmp(u + 7, local[i], n) == 0 &&
            (u[7 + n] == '\0' || u[7 + n] == ':' || u[7 + n] == '/'))
            return 1;
    }
    return 0;
}

int oidc_config_check(const struct oidc_config *o)
{
    if (!o->issuer[0])
        return 0;
    const char *missing = !o->client_id[0]            ? "oidc_client_id"
                          : !o->client_secret_file[0] ? "oidc_client_secret_file"
                          : !o->public_url[0]         ? "public_url"
                                                      : NULL;
    if (missing) {
        fprintf(stderr, "apikeyd: oidc_issuer is set, so %s is required\n", missing);
        return -1;
    }
    if (!oidc_url_allowed(o->issuer)) {
        fprintf(stderr, "apikeyd: oidc_issuer must use https:// (http:// only to 127.0.0.1, "
                        "[::1] or localhost)\n");
        return -1;
    }
    if (!strstr(o->scopes, "openid")) {
        fprintf(stderr, "apikeyd: oidc_scopes must include openid\n");
        return -1;
    }
    return 0;
}

const char *const *oidc_config_names(size_t *count)
{
    *count = sizeof names / sizeof names[0];
    return names;
}

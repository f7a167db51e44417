/* oidc_user.c — see oidc_user.h. */
#include "oidc_user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "users.h"

/* The subject as stored: hex SHA-256 of issuer, NUL, sub (fixed size, whatever their length). */
static void subject_of(const char *issuer, const char *sub, char out[65])
{
    crypto_hash_sha256_state st;
    uint8_t d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)issuer, strlen(issuer) + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)sub, strlen(sub));
    crypto_hash_sha256_final(&st, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

/* The full name: "name", else "given_name family_name"; "" when it is not a valid profile
 * name (at most 100 characters, no control characters). */
static void full_name_of(json_t *claims, char *out, size_t cap)
{
    const char *name = json_string_value(json_object_get(claims, "name"));
    const char *given = json_string_value(json_object_get(claims, "given_name"));
    const char *family = json_string_value(json_object_get(claims, "family_name"));
    char buf[2 * STORE_KEY_NAME_BYTES + 2];
    if (name)
        snprintf(buf, sizeof buf, "%.*s", STORE_KEY_NAME_BYTES, name);
    else
        snprintf(buf, sizeof buf, "%.*s%s%.*s", STORE_KEY_NAME_BYTES, given ? given : "",
                 given && family ? " " : "", STORE_KEY_NAME_BYTES, family ? family : "");
    out[0] = '\0';
    if (text_utf8_valid(buf) && text_codepoints(buf) <= 100 && strlen(buf) < cap &&
        !text_has_control(buf, 0))
        snprintf(out, cap, "%s", buf);
}

/* The email when it is a valid address and not marked unverified; else "". */
static void email_of(json_t *claims, char *out, size_t cap)
{
    const char *email = json_string_value(json_object_get(claims, "email"));
    out[0] = '\0';
    if (email && strlen(email) < cap && users_email_valid(email) &&
        !json_is_false(json_object_get(claims, "email_verified")))
        snprintf(out, cap, "%s", email);
}

static int role_listed(const char *csv, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = csv; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, role, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static void add_role(struct core *c, const char *role, char *csv, size_t cap)
{
    struct role_record r;
    if (role_listed(csv, role))
        return;
    if (c->store->ops->role_get(c->store, role, &r) != ERR_OK) {
        log_warn("oidc_role_map: the role %s does not exist; not given", role);
        return;
    }
    size_t used = strlen(csv);
    snprintf(csv + used, cap - used, "%s%s", used ? "," : "", role);
}

/* The roles oidc_role_map gives for the roles claim (a string or an array of strings), as
 * csv; "user" when none. */
static void roles_of(struct core *c, const struct oidc_config *cfg, json_t *claims, char *csv,
                     size_t cap)
{
    csv[0] = '\0';
    json_t *v = json_object_get(claims, cfg->roles_claim);
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n && i < 1000; i++) {
        const char *value = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
        for (size_t k = 0; value && k < cfg->role_map_count; k++)
            if (strcmp(value, cfg->role_map[k].value) == 0)
                add_role(c, cfg->role_map[k].role, csv, cap);
    }
    if (!csv[0])
        snprintf(csv, cap, "user");
}

/* 1 when the two role lists hold the same roles. */
static int same_roles(const char *a, const char *b)
{
    char one[STORE_NAME_MAX + 1];
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass ? b : a, *in = pass ? a : b;
        for (const char *p = from; *p;) {
            size_t len = strcspn(p, ",");
            snprintf(one, sizeof one, "%.*s", (int)len, p);
            if (!role_listed(in, one))
                return 0;
            p += len + (p[len] == ',');
        }
    }
    return 1;
}

static enum oidc_outcome refuse(struct core *c, const char *username, const char *client,
                                enum oidc_outcome o, const char *why)
{
    log_warn("oidc: sign-in as %s refused: %s", username, why);
    char detail[96];
    snprintf(detail, sizeof detail, "oidc: %s", why);
    audit_log_as(c, username, client, "login.failure", "user", username, detail);
    return o;
}

static enum oidc_outcome create(struct core *c, struct user_record *u, const char *subject,
                                const char *client)
{
    snprintf(u->auth_source, sizeof u->auth_source, "oidc");
    snprintf(u->environment, sizeof u->environment, "ROOT");
    u->created_at = time_now();
    enum err e = audit_begin(c); /* the user, its subject and the audit event: one transaction */
    if (!e) {
        e = c->store->ops->user_create(c->store, u, USERS_MAX);
        if (!e)
            e = c->store->ops->sso_subject_set(c->store, u->username, subject, u->created_at);
        e = audit_end_as(c, e, u->username, client, "user.create", "user", u->username,
                         "oidc sign-in");
    }
    if (e == ERR_CONFLICT) /* the name differs only in case from an existing account's */
        return refuse(c, u->username, client, OIDC_ACCOUNT, "the username is taken");
    if (e == ERR_LIMIT)
        return refuse(c, u->username, client, OIDC_FAILED, "the user limit is reached");
    if (e) {
        log_warn("oidc: could not create the user %s", u->username);
        return OIDC_FAILED;
    }
    return OIDC_SIGNED_IN;
}

/* Brings an existing OpenID Connect user's profile and (with a roles claim) roles up to date. */
static enum oidc_outcome update(struct core *c, const struct oidc_config *cfg,
                                struct user_record *u, const struct user_record *want,
                                const char *client)
{
    int roles = cfg->roles_claim[0] && !same_roles(u->roles, want->roles);
    int profile = strcmp(u->full_name, want->full_name) != 0 || strcmp(u->email, want->email) != 0;
    if (!roles && !profile)
        return OIDC_SIGNED_IN;
    struct user_change ch = {.full_name = want->full_name,
                             .email = want->email,
                             .roles = roles ? want->roles : NULL,
                             .disabled = -1,
                             .keep_role = roles ? "admin" : NULL};
    enum err e = audit_begin(c);
    if (!e)
        e = audit_end_as(c, c->store->ops->user_admin_change(c->store, u->username, &ch),
                         u->username, client, "user.update", "user", u->username,
                         roles ? "oidc sign-in: profile roles" : "oidc sign-in: profile");
    if (e == ERR_CONFLICT && roles) { /* it would leave no enabled admin: roles stay */
        log_warn("oidc: %s keeps the admin role: no other enabled admin", u->username);
        return update(c, &(struct oidc_config){0}, u, want, client);
    }
    if (e) {
        log_warn("oidc: could not update the user %s", u->username);
        return OIDC_FAILED;
    }
    return c->store->ops->user_get(c->store, u->username, u) ? OIDC_FAILED : OIDC_SIGNED_IN;
}

enum oidc_outcome oidc_user_sync(struct core *c, const struct oidc_config *cfg, json_t *claims,
                                 const char *client, struct user_record *u)
{
    const char *username = json_string_value(json_object_get(claims, cfg->username_claim));
    const char *issuer = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    memset(u, 0, sizeof *u);
    if (!username || !users_name_valid(username)) {
        log_warn("oidc: the ID token's %s is missing or not a valid username "
                 "(1-64 of A-Z a-z 0-9 . _ - @)", cfg->username_claim);
        audit_log_as(c, "(invalid)", client, "login.failure", "user", "(invalid)",
                     "oidc: no valid username claim");
        return OIDC_ACCOUNT;
    }
    static struct user_record want_zero;
    struct user_record want = want_zero;
    full_name_of(claims, want.full_name, sizeof want.full_name);
    email_of(claims, want.email, sizeof want.email);
    if (cfg->roles_claim[0])
        roles_of(c, cfg, claims, want.roles, sizeof want.roles);
    else
        snprintf(want.roles, sizeof want.roles, "user");
    char subject[65], bound[65];
    subject_of(issuer, sub, subject);

    enum err e = c->store->ops->user_get(c->store, username, u);
    if (e == ERR_NOT_FOUND) {
        *u = want;
        snprintf(u->username, sizeof u->username, "%s", username);
        enum oidc_outcome o = create(c, u, subject, client);
        if (o == OIDC_SIGNED_IN && (e = c->store->ops->user_get(c->store, username, u)))
            o = OIDC_FAILED;
        return o;
    }
    if (e) {
        log_warn("oidc: the store could not read the user %s", username);
        return OIDC_FAILED;
    }
    if (strcmp(u->auth_source, "oidc") != 0)
        return refuse(c, username, client, OIDC_ACCOUNT,
                      "the username belongs to an account that does not sign in with OpenID "
                      "Connect");
    int64_t bound_for = 0;
    e = c->store->ops->sso_subject_get(c->store, username, bound, &bound_for);
    if (e == ERR_OK && bound_for == u->created_at && sodium_memcmp(bound, subject, 64) != 0)
        return refuse(c, username, client, OIDC_ACCOUNT,
                      "the account is bound to another subject of the provider");
    if (e && e != ERR_NOT_FOUND)
        return OIDC_FAILED;
    if ((e == ERR_NOT_FOUND || bound_for != u->created_at) && /* first sign-in of this account */
        c->store->ops->sso_subject_set(c->store, username, subject, u->created_at))
        return OIDC_FAILED;
    if (u->disabled)
        return refuse(c, username, client, OIDC_DISABLED, "the account is disabled");
    return update(c, cfg, u, &want, client);
}

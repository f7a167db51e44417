/* sso_user.c — see sso_user.h. */
#include "sso_user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"

/* The subject as stored: hex SHA-256 of issuer, NUL, subject (fixed size, whatever their
 * length). */
static void subject_of(const char *issuer, const char *sub, char out[65])
{
    crypto_hash_sha256_state st;
    uint8_t d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)(issuer ? issuer : ""),
                              strlen(issuer ? issuer : "") + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)(sub ? sub : ""), strlen(sub ? sub : ""));
    crypto_hash_sha256_final(&st, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

/* name when it is a valid profile name (at most 100 characters, no control characters), else
 * "". */
static void full_name_of(const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (name && strlen(name) < cap && text_utf8_valid(name) && text_codepoints(name) <= 100 &&
        !text_has_control(name, 0))
        snprintf(out, cap, "%s", name);
}

/* email when it is a valid address, else "". */
static void email_of(const char *email, char *out, size_t cap)
{
    out[0] = '\0';
    if (email && strlen(email) < cap && users_email_valid(email))
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

static void add_role(struct core *c, const struct sso_identity *id, const char *role, char *csv,
                     size_t cap)
{
    struct role_record r;
    if (role_listed(csv, role))
        return;
    if (c->store->ops->role_get(c->store, role, &r) != ERR_OK) {
        log_warn("%s: the role %s does not exist; not given", id->role_map_setting, role);
        return;
    }
    size_t used = strlen(csv);
    snprintf(csv + used, cap - used, "%s%s", used ? "," : "", role);
}

/* The roles the role map gives for the groups, as csv; "user" when none. */
static void roles_of(struct core *c, const struct sso_identity *id, char *csv, size_t cap)
{
    csv[0] = '\0';
    for (size_t i = 0; i < id->group_count; i++)
        for (size_t k = 0; id->groups[i] && k < id->role_map_count; k++)
            if (strcmp(id->groups[i], id->role_map[k].value) == 0)
                add_role(c, id, id->role_map[k].role, csv, cap);
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

void sso_user_refused(struct core *c, const char *source, const char *username,
                      const char *client, const char *why)
{
    if (!username || !users_name_valid(username))
        username = "(invalid)";
    log_warn("%s: sign-in as %s refused: %s", source, username, why);
    char detail[128];
    snprintf(detail, sizeof detail, "%s: %s", source, why);
    audit_log_as(c, username, client, "login.failure", "user", username, detail);
}

static enum sso_user_result refuse(struct core *c, const struct sso_identity *id,
                                   const char *username, const char *client,
                                   enum sso_user_result o, const char *why)
{
    sso_user_refused(c, id->source, username, client, why);
    return o;
}

static enum sso_user_result create(struct core *c, const struct sso_identity *id,
                                   struct user_record *u, const char *subject, const char *client)
{
    snprintf(u->auth_source, sizeof u->auth_source, "%s", id->source);
    snprintf(u->environment, sizeof u->environment, "ROOT");
    u->created_at = time_now();
    char detail[32];
    snprintf(detail, sizeof detail, "%s sign-in", id->source);
    enum err e = audit_begin(c); /* the user, its subject and the audit event: one transaction */
    if (!e) {
        e = c->store->ops->user_create(c->store, u, USERS_MAX);
        if (!e)
            e = c->store->ops->sso_subject_set(c->store, u->username, subject, u->created_at);
        e = audit_end_as(c, e, u->username, client, "user.create", "user", u->username, detail);
    }
    if (e == ERR_CONFLICT) /* the name differs only in case from an existing account's */
        return refuse(c, id, u->username, client, SSO_USER_ACCOUNT, "the username is taken");
    if (e == ERR_LIMIT)
        return refuse(c, id, u->username, client, SSO_USER_FAILED, "the user limit is reached");
    if (e) {
        log_warn("%s: could not create the user %s", id->source, u->username);
        return SSO_USER_FAILED;
    }
    return SSO_USER_OK;
}

/* Brings an existing SSO user's profile and (when the provider manages them) roles up to
 * date. */
static enum sso_user_result update(struct core *c, const struct sso_identity *id, int managed,
                                   struct user_record *u, const struct user_record *want,
                                   const char *client)
{
    int roles = managed && !same_roles(u->roles, want->roles);
    int profile = strcmp(u->full_name, want->full_name) != 0 || strcmp(u->email, want->email) != 0;
    if (!roles && !profile)
        return SSO_USER_OK;
    struct user_change ch = {.full_name = want->full_name,
                             .email = want->email,
                             .roles = roles ? want->roles : NULL,
                             .disabled = -1,
                             .keep_role = roles ? "admin" : NULL};
    char detail[48];
    snprintf(detail, sizeof detail, "%s sign-in: profile%s", id->source, roles ? " roles" : "");
    enum err e = audit_begin(c);
    if (!e)
        e = audit_end_as(c, c->store->ops->user_admin_change(c->store, u->username, &ch),
                         u->username, client, "user.update", "user", u->username, detail);
    if (e == ERR_CONFLICT && roles) { /* it would leave no enabled admin: roles stay */
        log_warn("%s: %s keeps the admin role: no other enabled admin", id->source, u->username);
        return update(c, id, 0, u, want, client);
    }
    if (e) {
        log_warn("%s: could not update the user %s", id->source, u->username);
        return SSO_USER_FAILED;
    }
    return c->store->ops->user_get(c->store, u->username, u) ? SSO_USER_FAILED : SSO_USER_OK;
}

enum sso_user_result sso_user_sync(struct core *c, const struct sso_identity *id,
                                   const char *client, struct user_record *u)
{
    const char *username = id->username;
    memset(u, 0, sizeof *u);
    if (!username || !users_name_valid(username)) {
        log_warn("%s: the %s is missing or not a valid username (1-64 of A-Z a-z 0-9 . _ - @)",
                 id->source, id->username_from);
        char detail[64];
        snprintf(detail, sizeof detail, "%s: no valid username", id->source);
        audit_log_as(c, INVALID_ACTOR, client, "login.failure", "user", INVALID_ACTOR, detail);
        return SSO_USER_ACCOUNT;
    }
    static struct user_record want_zero;
    struct user_record want = want_zero;
    full_name_of(id->full_name, want.full_name, sizeof want.full_name);
    email_of(id->email, want.email, sizeof want.email);
    if (id->roles_managed)
        roles_of(c, id, want.roles, sizeof want.roles);
    else
        snprintf(want.roles, sizeof want.roles, "user");
    char subject[65], bound[65];
    subject_of(id->issuer, id->subject, subject);

    enum err e = c->store->ops->user_get(c->store, username, u);
    if (e == ERR_NOT_FOUND) {
        *u = want;
        snprintf(u->username, sizeof u->username, "%s", username);
        enum sso_user_result o = create(c, id, u, subject, client);
        if (o == SSO_USER_OK && (e = c->store->ops->user_get(c->store, username, u)))
            o = SSO_USER_FAILED;
        return o;
    }
    if (e) {
        log_warn("%s: the store could not read the user %s", id->source, username);
        return SSO_USER_FAILED;
    }
    if (strcmp(u->auth_source, id->source) != 0) {
        char why[96];
        snprintf(why, sizeof why, "the username belongs to an account that does not sign in "
                                  "with %s", id->label);
        return refuse(c, id, username, client, SSO_USER_ACCOUNT, why);
    }
    int64_t bound_for = 0;
    e = c->store->ops->sso_subject_get(c->store, username, bound, &bound_for);
    if (e == ERR_OK && bound_for == u->created_at && sodium_memcmp(bound, subject, 64) != 0)
        return refuse(c, id, username, client, SSO_USER_ACCOUNT,
                      "the account is bound to another subject of the provider");
    if (e && e != ERR_NOT_FOUND)
        return SSO_USER_FAILED;
    if ((e == ERR_NOT_FOUND || bound_for != u->created_at) && /* first sign-in of this account */
        c->store->ops->sso_subject_set(c->store, username, subject, u->created_at))
        return SSO_USER_FAILED;
    if (u->disabled)
        return refuse(c, id, username, client, SSO_USER_DISABLED, "the account is disabled");
    return update(c, id, id->roles_managed, u, &want, client);
}

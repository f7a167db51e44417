/* users.c — see users.h. */
#include "users.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "attempts.h"
#include "audit.h"
#include "keys_gone.h"
#include "authority.h"
#include "core_internal.h"
#include "telemetry.h"
#include "grants.h"
#include "projects.h"
#include "password.h"

int users_name_valid(const char *name)
{
    return text_is_token(name, "._-@", STORE_NAME_MAX); /* @: sign-in names like a UPN */
}

int users_email_valid(const char *email)
{
    if (*email == '\0')
        return 1;
    const char *at = strchr(email, '@');
    if (strlen(email) > 254 || !at || at == email || strchr(at + 1, '@') ||
        text_has_control(email, 0) || strchr(email, ' '))
        return 0;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

static void wipe_secrets(struct user_record *u)
{
    sodium_memzero(u->password_hash, sizeof u->password_hash);
    sodium_memzero(u->mfa_secret, sizeof u->mfa_secret);
    sodium_memzero(u->mfa_pending, sizeof u->mfa_pending);
    u->mfa_secret_len = u->mfa_pending_len = 0;
}

static int or_authorities(void *ctx, const struct role_record *r)
{
    *(uint32_t *)ctx |= authority_mask_from_csv(r->authorities, NULL);
    return 0;
}

enum err users_authorities(struct core *c, const char *username, uint32_t *out)
{
    uint32_t mask = 0;
    enum err e = c->store->ops->user_roles_each(c->store, username, or_authorities, &mask);
    if (!e)
        *out = mask;
    return e;
}

enum err users_groups_each(struct core *c, const char *username, store_name_cb cb, void *ctx)
{
    return c->store->ops->user_groups_each(c->store, username, cb, ctx);
}

/* Checks role names exist and joins them into csv. */
static void check_roles(struct core *c, const char *const *roles, size_t n, struct field_errors *fe,
                        char *csv, size_t cap)
{
    size_t used = 0;
    csv[0] = '\0';
    if (n > USERS_ROLES_MAX) {
        field_errors_add(fe, "roles", "must name at most 16 roles");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct role_record r;
        if (!text_is_token(roles[i], "._-", STORE_NAME_MAX) ||
            c->store->ops->role_get(c->store, roles[i], &r) != ERR_OK) {
            field_errors_add(fe, "roles", "names a role that does not exist");
            return;
        }
        int len = snprintf(csv + used, cap - used, "%s%s", used ? "," : "", roles[i]);
        if (len < 0 || (size_t)len >= cap - used)
            return;
        used += (size_t)len;
    }
}

static void check_environment(struct core *c, const char *env, struct field_errors *fe)
{
    struct environment_record r;
    if (!text_is_token(env, "._-", STORE_NAME_MAX) ||
        c->store->ops->environment_get(c->store, env, &r) != ERR_OK)
        field_errors_add(fe, "environment", "names an environment that does not exist");
}

static void check_profile(const char *full_name, const char *email, struct field_errors *fe)
{
    if (full_name && (text_codepoints(full_name) > 100 ||
                      strlen(full_name) > STORE_KEY_NAME_BYTES || text_has_control(full_name, 0)))
        field_errors_add(fe, "full_name", "must be at most 100 characters, no control characters");
    if (email && !users_email_valid(email))
        field_errors_add(fe, "email", "must be an email address");
}

/* Splits spec "user:password" into username (STORE_NAME_MAX + 1) and password (cap bytes),
 * and checks both: a valid username and a password the policy accepts. Logs the problem. */
static enum err bootstrap_parse(const char *spec, char *username, char *password, size_t cap)
{
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) > STORE_NAME_MAX ||
        strlen(colon + 1) >= cap) {
        log_error("APIKEYD_BOOTSTRAP_ADMIN must be user:password");
        return ERR_INVALID;
    }
    memcpy(username, spec, (size_t)(colon - spec));
    username[colon - spec] = '\0';
    snprintf(password, cap, "%s", colon + 1);
    if (!users_name_valid(username)) {
        log_error("APIKEYD_BOOTSTRAP_ADMIN: invalid user name");
        return ERR_INVALID;
    }
    struct field_errors fe = {0};
    password_check_policy(username, password, "password", &fe);
    if (fe.count) {
        log_error("APIKEYD_BOOTSTRAP_ADMIN: the password %s (12-128 characters, not a common "
                  "password, not the user name)", fe.items[0].detail);
        return ERR_INVALID;
    }
    return ERR_OK;
}

enum err users_bootstrap_check(const char *spec)
{
    if (!spec || !*spec)
        return ERR_OK;
    char username[STORE_NAME_MAX + 1], password[512];
    enum err e = bootstrap_parse(spec, username, password, sizeof password);
    sodium_memzero(password, sizeof password);
    return e;
}

enum err users_bootstrap(struct core *c, const char *spec, FILE *notice)
{
    int64_t count = 0;
    enum err e = c->store->ops->user_count(c->store, &count);
    if (e || count > 0)
        return e;
    struct user_record *u = calloc(1, sizeof *u);
    char password[512];
    int generated = 0;
    if (!u)
        return ERR_NOMEM;
    snprintf(u->username, sizeof u->username, "admin");
    if (spec && *spec) {
        if ((e = bootstrap_parse(spec, u->username, password, sizeof password)))
            goto out;
    } else {
        random_token(password);
        password[24] = '\0';
        generated = 1;
    }
    snprintf(u->auth_source, sizeof u->auth_source, "local");
    snprintf(u->environment, sizeof u->environment, "ROOT");
    snprintf(u->roles, sizeof u->roles, "admin");
    u->created_at = time_now();
    if (!(e = password_hash(password, strlen(password), u->password_hash)))
        e = c->store->ops->user_create(c->store, u, USERS_MAX);
    if (e == ERR_CONFLICT) { /* another node sharing the store bootstrapped first */
        e = ERR_OK;
        generated = 0;
    } else if (e == ERR_OK) {
        log_info("bootstrap: created admin user '%s'", u->username);
        if (generated) {
            fprintf(notice,
                    "  First start: created the admin user 'admin'.\n"
                    "  Password: %s\n"
                    "  It is shown this once: sign in and change it.\n",
                    password);
            fflush(notice);
        }
    }
out:
    sodium_memzero(password, sizeof password);
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

enum err users_create(struct core *c, const struct caller *who, const struct user_input *in,
                      struct field_errors *fe, struct user_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_USERS))
        return ERR_FORBIDDEN;
    struct user_record *u = out;
    memset(u, 0, sizeof *u);
    const char *source = in->auth_source ? in->auth_source : "local";
    int local = strcmp(source, "local") == 0;
    if (!in->username || !users_name_valid(in->username))
        field_errors_add(fe, "username", "must be 1-64 of A-Z a-z 0-9 . _ - @");
    if (!local && strcmp(source, "ldap") != 0 && strcmp(source, "saml") != 0 &&
        strcmp(source, "oidc") != 0)
        field_errors_add(fe, "auth_source", "must be local, ldap, saml or oidc");
    if (local && !in->password && !field_errors_has(fe, "password"))
        field_errors_add(fe, "password", "is required for local users");
    else if (!local && in->password)
        field_errors_add(fe, "password", "SSO users have no local password");
    else if (local && in->password)
        password_check_policy(in->username, in->password, "password", fe);
    check_profile(in->full_name, in->email, fe);
    static const char *const default_roles[] = {"user"};
    check_roles(c, in->roles ? in->roles : default_roles, in->roles ? in->role_count : 1, fe,
                u->roles, sizeof u->roles);
    const char *env = in->environment ? in->environment : "ROOT";
    check_environment(c, env, fe);
    if (fe->count)
        return ERR_INVALID;
    enum err e = grants_check_roles(c, who, u->roles); /* grants only what the caller holds */
    if (e)
        return e;
    snprintf(u->username, sizeof u->username, "%s", in->username);
    snprintf(u->full_name, sizeof u->full_name, "%s", in->full_name ? in->full_name : "");
    snprintf(u->email, sizeof u->email, "%s", in->email ? in->email : "");
    snprintf(u->auth_source, sizeof u->auth_source, "%s", source);
    snprintf(u->environment, sizeof u->environment, "%s", env);
    u->created_at = time_now();
    if (local)
        e = password_hash(in->password, strlen(in->password), u->password_hash);
    if (!e && !(e = audit_begin(c))) /* the user and its audit event: one transaction */
        e = audit_end(c, c->store->ops->user_create(c->store, u, USERS_MAX), who, "user.create",
                      "user", u->username, u->auth_source);
    wipe_secrets(u);
    return e;
}

enum err users_get(struct core *c, const char *username, struct user_record *out)
{
    if (!users_name_valid(username))
        return ERR_NOT_FOUND;
    enum err e = c->store->ops->user_get(c->store, username, out);
    if (e == ERR_OK)
        wipe_secrets(out);
    return e;
}

struct wiping_walk {
    store_user_cb cb;
    void *ctx;
    struct user_record copy;
};

static int wipe_then_call(void *ctx, const struct user_record *u)
{
    struct wiping_walk *w = ctx;
    w->copy = *u;
    wipe_secrets(&w->copy);
    return w->cb(w->ctx, &w->copy);
}

enum err users_each(struct core *c, store_user_cb cb, void *ctx)
{
    struct wiping_walk *w = malloc(sizeof *w);
    if (!w)
        return ERR_NOMEM;
    w->cb = cb;
    w->ctx = ctx;
    enum err e = c->store->ops->user_each(c->store, wipe_then_call, w);
    sodium_memzero(w, sizeof *w);
    free(w);
    return e;
}

/* The last-admin rule: a change that can take the admin role away from an enabled user
 * (disabling, new roles, leaving an environment's groups) keeps an enabled admin, judged by
 * the store inside the write (user_change.keep_role). */
static const char *keep_admin_for(const struct user_patch *p)
{
    return p->disabled == 1 || p->set_roles || p->environment ? "admin" : NULL;
}

enum err users_update(struct core *c, const struct caller *who, const char *username,
                      const struct user_patch *p, struct field_errors *fe, struct user_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_USERS))
        return ERR_FORBIDDEN;
    if (!users_name_valid(username))
        return ERR_NOT_FOUND;
    if (grants_is_self(who, username) && (p->set_roles || p->environment))
        return ERR_OWN_GRANTS; /* an environment move takes the user out of its groups */
    /* one's own password changes with the current one (POST /v1/me/password, throttled), so
     * a stolen session of a manage_users holder cannot take the account over through here */
    if (grants_is_self(who, username) && p->password)
        return ERR_OWN_GRANTS;
    struct user_record *u = out;
    enum err e = c->store->ops->user_get(c->store, username, u);
    if (!e) /* nobody changes, disables or resets someone holding more than they do */
        e = grants_check_user(c, who, username);
    if (e) {
        wipe_secrets(u);
        return e;
    }
    int local = strcmp(u->auth_source, "local") == 0;
    check_profile(p->full_name, p->email, fe);
    char roles[STORE_ROLES_BYTES];
    roles[0] = '\0';
    if (p->set_roles)
        check_roles(c, p->roles, p->role_count, fe, roles, sizeof roles);
    if (p->environment)
        check_environment(c, p->environment, fe);
    if (p->password && !local)
        field_errors_add(fe, "password", "SSO users have no local password");
    else if (p->password)
        password_check_policy(u->username, p->password, "password", fe);
    int was_disabled = u->disabled;
    wipe_secrets(u);
    if (fe->count)
        return ERR_INVALID;
    if (p->set_roles && (e = grants_check_roles(c, who, roles)) != ERR_OK)
        return e;
    /* only what p sets is written: a write of the user's own meanwhile stays */
    char hash[sizeof u->password_hash] = "";
    struct user_change ch = {.full_name = p->full_name,
                             .email = p->email,
                             .password_hash = p->password ? hash : NULL,
                             .environment = p->environment,
                             .roles = p->set_roles ? roles : NULL,
                             .disabled = p->disabled,
                             .keep_role = keep_admin_for(p)};
    int disabled_after = p->disabled >= 0 ? p->disabled : was_disabled;
    char detail[64];
    snprintf(detail, sizeof detail, "%s%s%s", p->password ? "password reset " : "",
             disabled_after != was_disabled ? (disabled_after ? "disabled " : "enabled ") : "",
             p->set_roles ? "roles " : "");
    if (p->password)
        e = password_hash(p->password, strlen(p->password), hash);
    if (!e && p->disabled == 1) /* refuse keys before the change is answered */
        e = keyindex_set_owner_disabled(c->index, "user", username, 1);
    if (!e && !(e = audit_begin(c))) { /* the change, the sessions it ends, its audit event */
        e = c->store->ops->user_admin_change(c->store, username, &ch);
        if (!e && (p->password || p->disabled == 1))
            e = c->store->ops->session_delete_user(c->store, username, NULL);
        /* a change that disables the user is audited as user.disable (the user.disabled
         * webhook event), the rest as user.update */
        e = audit_end(c, e, who, disabled_after && !was_disabled ? "user.disable" : "user.update",
                      "user", username, detail);
    }
    if (e && p->disabled == 1)
        keyindex_set_owner_disabled(c->index, "user", username, was_disabled);
    if (!e && p->disabled == 0)
        e = keyindex_set_owner_disabled(c->index, "user", username, 0);
    sodium_memzero(hash, sizeof hash);
    if (!e)
        e = users_get(c, username, u);
    return e;
}

enum err users_delete(struct core *c, const struct caller *who, const char *username,
                      struct project_record *sole_owner_of)
{
    if (!(who->authorities & AUTH_MANAGE_USERS))
        return ERR_FORBIDDEN;
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = users_get(c, username, u);
    if (!e)
        e = grants_check_user(c, who, username);
    if (!e) { /* no top-level project without an owner (the last admin: in user_delete) */
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "user:%s", username);
        memset(sole_owner_of, 0, sizeof *sole_owner_of);
        e = projects_sole_owner(c, principal, sole_owner_of);
    }
    /* refuse the keys first, so no verification succeeds once the store no longer has them */
    if (!e)
        e = keyindex_set_owner_disabled(c->index, "user", username, 1);
    if (!e) { /* the delete, a key.delete per key it removed and user.delete: one transaction */
        struct keys_gone gone = {0};
        if (!(e = audit_begin(c))) {
            e = c->store->ops->user_delete(c->store, username, "admin", keys_gone_add, &gone);
            if (!e)
                e = keys_gone_audit(c, &gone, 0, who, NULL, NULL, "deleted with its owner");
            e = audit_end(c, e, who, "user.delete", "user", username, "");
        }
        keys_gone_free(&gone);
        if (!e) {
            char principal[STORE_PRINCIPAL_MAX + 1];
            snprintf(principal, sizeof principal, "user:%s", username);
            keyindex_remove_owner(c->index, "user", username);
            access_forget_principal(c->access, principal);
        }
        keyindex_set_owner_disabled(c->index, "user", username, u->disabled && e);
        if (!e) /* the API-account keys they issued stay refused (their creator is gone) */
            keyindex_set_owner_disabled(c->index, "", username, 1);
    }
    free(u);
    return e;
}

enum err users_update_self(struct core *c, const struct caller *who, const char *full_name,
                           const char *email, struct field_errors *fe, struct user_record *out)
{
    check_profile(full_name, email, fe);
    if (fe->count)
        return ERR_INVALID;
    /* the profile columns alone: never disabled, roles, password or MFA state */
    enum err e = audit_begin(c);
    if (!e)
        e = audit_end(c, c->store->ops->user_set_profile(c->store, who->username, full_name, email),
                      who, "user.update", "user", who->username, "profile");
    if (!e)
        e = users_get(c, who->username, out);
    return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
}

enum err users_change_password(struct core *c, const struct caller *who, const char *current,
                               const char *next, struct field_errors *fe,
                               int64_t *retry_after_s)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = c->store->ops->user_get(c->store, who->username, u);
    if (e) {
        e = e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
        goto out;
    }
    if (strcmp(u->auth_source, "local") != 0) {
        e = ERR_FORBIDDEN;
        goto out;
    }
    /* the current password is a secret check like a login's, and shares its counts */
    struct attempt at;
    if ((e = attempt_begin(c, u->username, who->client, NULL, &at, retry_after_s))) {
        telemetry_throttled(THROTTLED_PASSWORD, who->client);
        goto out;
    }
    int right = password_verify(u->password_hash, current, strlen(current));
    attempt_end(c, &at, right ? ATTEMPT_SUCCEEDED : ATTEMPT_FAILED);
    if (!right)
        field_errors_add(fe, "current_password", "is not your current password");
    password_check_policy(u->username, next, "new_password", fe);
    if (fe->count) {
        e = ERR_INVALID;
        goto out;
    }
    /* the hash alone, and only while it is still the one `current` was checked against */
    char hash[sizeof u->password_hash];
    if (!(e = password_hash(next, strlen(next), hash)) && !(e = audit_begin(c))) {
        /* the new hash, the other sessions ended and the audit event: one transaction */
        e = c->store->ops->user_set_password(c->store, u->username, hash, u->password_hash);
        if (!e)
            e = c->store->ops->session_delete_user(
                c->store, u->username, who->kind == CALLER_SESSION ? who->session_hash : NULL);
        e = audit_end(c, e, who, "password.change", "user", u->username, "");
    }
    sodium_memzero(hash, sizeof hash);
    if (e == ERR_CONFLICT) { /* reset meanwhile: `current` is no longer the password */
        field_errors_add(fe, "current_password", "is not your current password");
        e = ERR_INVALID;
    }
out:
    wipe_secrets(u);
    free(u);
    return e;
}

/* ldap_login.c — see ldap_login.h. */
#include "ldap_login.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "directory.h"
#include "password.h"
#include "users.h"

int ldap_login_applies(struct core *c, enum err found, const struct user_record *u)
{
    if (!c->directory)
        return 0;
    return found == ERR_NOT_FOUND || (found == ERR_OK && strcmp(u->auth_source, "ldap") == 0);
}

/* 1 when the comma-separated role lists a and b hold the same names (in any order). */
static int same_roles(const char *a, const char *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass ? b : a, *in = pass ? a : b;
        for (const char *p = from; *p;) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            int found = 0;
            for (const char *q = in; *q && !found;) {
                const char *qe = strchr(q, ',');
                size_t m = qe ? (size_t)(qe - q) : strlen(q);
                found = m == n && strncmp(p, q, n) == 0;
                q += m + (qe ? 1 : 0);
            }
            if (!found)
                return 0;
            p += n + (end ? 1 : 0);
        }
    }
    return 1;
}

/* The roles of csv that exist here, into out (cap bytes); "user" when none does. A mapped
 * role that does not exist is skipped and logged. */
static enum err existing_roles(struct core *c, const char *csv, char *out, size_t cap)
{
    char list[STORE_ROLES_BYTES];
    snprintf(list, sizeof list, "%s", csv);
    size_t used = 0;
    out[0] = '\0';
    char *save = NULL;
    for (char *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        struct role_record *rec = malloc(sizeof *rec);
        if (!rec)
            return ERR_NOMEM;
        enum err e = c->store->ops->role_get(c->store, r, rec);
        free(rec);
        if (e == ERR_NOT_FOUND) {
            log_warn("ldap: ldap_group_roles names the role %s, which does not exist", r);
            continue;
        }
        if (e)
            return e;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", r);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(out, cap, "user");
    return ERR_OK;
}

/* Creates the directory user username from what the directory said. */
static enum err create_user(struct core *c, const char *username, const struct directory_user *du,
                            const char *roles, const char *client)
{
    struct user_record *u = calloc(1, sizeof *u);
    if (!u)
        return ERR_NOMEM;
    snprintf(u->username, sizeof u->username, "%s", username);
    snprintf(u->full_name, sizeof u->full_name, "%s", du->full_name);
    snprintf(u->email, sizeof u->email, "%s", users_email_valid(du->email) ? du->email : "");
    snprintf(u->auth_source, sizeof u->auth_source, "ldap"); /* no password_hash: never stored */
    snprintf(u->environment, sizeof u->environment, "ROOT");
    snprintf(u->roles, sizeof u->roles, "%s", roles);
    u->created_at = time_now();
    enum err e = audit_begin(c); /* the user, its entry and its audit event: one transaction */
    if (!e) {
        e = c->store->ops->user_create(c->store, u, USERS_MAX);
        if (!e && du->entry[0]) /* bound to this entry: a new one of the same name is another */
            e = c->store->ops->sso_subject_set(c->store, username, du->entry, u->created_at);
        e = audit_end_as(c, e, username, client, "user.create", "user", username,
                         "ldap sign-in");
    }
    free(u);
    return e;
}

/* Brings the stored directory user u up to date with du: full name, email, and roles when
 * the directory has the word on them (roles != NULL). Writes only what differs, audited as
 * actor. */
static enum err update_user(struct core *c, const struct user_record *u,
                            const struct directory_user *du, const char *roles,
                            const char *actor, const char *client)
{
    const char *email = users_email_valid(du->email) ? du->email : "";
    struct user_change ch = {.disabled = -1};
    if (strcmp(u->full_name, du->full_name) != 0)
        ch.full_name = du->full_name;
    if (strcmp(u->email, email) != 0)
        ch.email = email;
    if (roles && !same_roles(u->roles, roles)) {
        ch.roles = roles;
        ch.keep_role = "admin"; /* the last-admin rule holds for the directory too */
    }
    for (;;) {
        if (!ch.full_name && !ch.email && !ch.roles)
            return ERR_OK;
        char detail[64];
        snprintf(detail, sizeof detail, "ldap %s:%s%s", actor[0] == '(' ? "sync" : "sign-in",
                 ch.full_name || ch.email ? " profile" : "", ch.roles ? " roles" : "");
        enum err e = audit_begin(c);
        if (!e)
            e = audit_end_as(c, c->store->ops->user_admin_change(c->store, u->username, &ch),
                             actor, client, "user.update", "user", u->username, detail);
        if (e != ERR_CONFLICT || !ch.roles)
            return e;
        /* the directory took admin from the last enabled admin: the roles stay */
        log_warn("ldap: %s keeps the roles %s: the directory's %s would leave no enabled admin",
                 u->username, u->roles, roles);
        ch.roles = NULL;
        ch.keep_role = NULL;
    }
}

/* ERR_OK when du is the entry u is bound to (binding it now when u is not bound yet, or the
 * directory names no entry identity); ERR_LOGIN_FAILED (logged) when it is another entry. */
static enum err same_entry(struct core *c, const struct user_record *u,
                           const struct directory_user *du)
{
    if (!du->entry[0])
        return ERR_OK;
    char bound[65];
    int64_t bound_for = 0;
    enum err e = c->store->ops->sso_subject_get(c->store, u->username, bound, &bound_for);
    if (e == ERR_OK && bound_for == u->created_at) {
        if (sodium_memcmp(bound, du->entry, 64) == 0)
            return ERR_OK;
        log_warn("ldap: the directory entry named %s is not the one that account belongs to "
                 "(deleted and made again?): refused", u->username);
        return ERR_LOGIN_FAILED;
    }
    if (e && e != ERR_NOT_FOUND)
        return e;
    return c->store->ops->sso_subject_set(c->store, u->username, du->entry, u->created_at);
}

enum err ldap_user_refresh(struct core *c, const struct user_record *u,
                           const struct directory_user *du, const char *actor,
                           const char *client)
{
    enum err e = same_entry(c, u, du);
    char roles[STORE_ROLES_BYTES];
    if (!e && du->has_roles)
        e = existing_roles(c, du->roles, roles, sizeof roles);
    return e ? e : update_user(c, u, du, du->has_roles ? roles : NULL, actor, client);
}

enum err ldap_login(struct core *c, const char *username, const char *password, size_t len,
                    const char *client, struct user_record *u)
{
    /* the time of a local password check: nobody learns which names are local */
    password_verify(NULL, password, len);
    if (!users_name_valid(username))
        return ERR_LOGIN_FAILED; /* never sent to the directory */
    struct directory_user *du = calloc(1, sizeof *du);
    if (!du)
        return ERR_NOMEM;
    enum err e = directory_authenticate(c->directory, username, password, len, du);
    char roles[STORE_ROLES_BYTES];
    if (!e)
        e = existing_roles(c, du->roles, roles, sizeof roles);
    if (!e) {
        enum err found = c->store->ops->user_get(c->store, username, u);
        if (found == ERR_NOT_FOUND) {
            e = create_user(c, username, du, roles, client);
            if (e == ERR_CONFLICT) /* taken meanwhile (the read below decides), or in another case */
                e = ERR_OK;
        } else if (found) {
            e = found;
        } else if (strcmp(u->auth_source, "ldap") != 0 || u->disabled) {
            e = ERR_LOGIN_FAILED; /* another kind of account, or disabled here */
        } else {
            e = ldap_user_refresh(c, u, du, username, client);
        }
    }
    if (!e) /* the stored user as it is now: the session is opened against it */
        e = c->store->ops->user_get(c->store, username, u);
    if (!e && (strcmp(u->auth_source, "ldap") != 0 || u->disabled))
        e = ERR_LOGIN_FAILED;
    if (e == ERR_NOT_FOUND) /* the name exists in another case: no takeover */
        e = ERR_LOGIN_FAILED;
    sodium_memzero(du, sizeof *du);
    free(du);
    return e;
}

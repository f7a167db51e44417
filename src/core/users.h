/* users.h — people: the first admin, administration of users (create, change, disable,
 * delete), their effective authorities, and self-service (profile, password). */
#ifndef APIKEYD_USERS_H
#define APIKEYD_USERS_H

#include <stdio.h>

#include "../base/fielderr.h"
#include "core.h"

#define USERS_MAX 10000
#define USERS_ROLES_MAX 16

struct user_input {
    const char *username;
    const char *password;    /* local users only */
    const char *full_name;   /* NULL = "" */
    const char *email;       /* NULL = "" */
    const char *auth_source; /* NULL = "local"; or "ldap", "saml", "oidc" */
    const char *environment; /* NULL = "ROOT" */
    const char *const *roles; /* NULL = {"user"} */
    size_t role_count;
};

/* A change to a user; NULL / -1 fields stay as they are. */
struct user_patch {
    const char *full_name;
    const char *email;
    const char *password;
    const char *environment;
    const char *const *roles;
    size_t role_count;
    int set_roles;
    int disabled; /* -1 unchanged, 0 enable, 1 disable */
};

/* On an empty store creates the admin. spec is "user:password" (from
 * APIKEYD_BOOTSTRAP_ADMIN) or NULL, in which case the user is "admin" with a random password
 * written once to `notice` (a few indented lines; main.c frames them in a banner). Does nothing when any user exists. ERR_INVALID (logged) for a
 * malformed spec or a password the policy refuses. */
enum err users_bootstrap(struct core *c, const char *spec, FILE *notice);

/* The checks of users_bootstrap on spec alone (NULL or empty is fine), so that apikeyd can
 * refuse a bad APIKEYD_BOOTSTRAP_ADMIN before it creates anything (data folder, key, store). */
enum err users_bootstrap_check(const char *spec);

/* Creates a user (needs manage_users). ERR_INVALID with fe, ERR_CONFLICT, ERR_FORBIDDEN,
 * ERR_LIMIT. On ERR_OK fills *out (secrets wiped). */
enum err users_create(struct core *c, const struct caller *who, const struct user_input *in,
                      struct field_errors *fe, struct user_record *out);

/* Reads a user's record (password hash and MFA secrets wiped). */
enum err users_get(struct core *c, const char *username, struct user_record *out);

/* Streams every user (secrets wiped) in username order. */
enum err users_each(struct core *c, store_user_cb cb, void *ctx);

/* Changes a user (needs manage_users). Disabling ends their sessions and makes their keys
 * answer DISABLED at once; a password reset ends their sessions. ERR_CONFLICT when it would
 * leave no enabled admin. */
enum err users_update(struct core *c, const struct caller *who, const char *username,
                      const struct user_patch *p, struct field_errors *fe,
                      struct user_record *out);

/* Deletes a user with their keys (refused at once), sessions and memberships. ERR_CONFLICT
 * when it would leave no enabled admin, or (with the project in *sole_owner_of, id set) a
 * top-level project with no owner. */
enum err users_delete(struct core *c, const struct caller *who, const char *username,
                      struct project_record *sole_owner_of);

/* The caller changes their own full name and email. */
enum err users_update_self(struct core *c, const struct caller *who, const char *full_name,
                           const char *email, struct field_errors *fe, struct user_record *out);

/* The caller changes their own password; ends their other sessions. ERR_FORBIDDEN for SSO
 * users; ERR_INVALID (field current_password or new_password); ERR_THROTTLED with
 * *retry_after_s when the account or client has failed too often (attempts.h). */
enum err users_change_password(struct core *c, const struct caller *who, const char *current,
                               const char *next, struct field_errors *fe,
                               int64_t *retry_after_s);

/* The authorities a user has through their roles and groups. */
enum err users_authorities(struct core *c, const char *username, uint32_t *out);

/* Calls cb with the name of each group the user is in. */
enum err users_groups_each(struct core *c, const char *username, store_name_cb cb, void *ctx);

/* 1 when name is 1..64 of A-Z a-z 0-9 . _ - @ (an email-like sign-in name is a username).
 * Never a parenthesis: apikeyd's own audit actors (audit.h, "(system)") stay unambiguous. */
int users_name_valid(const char *name);

/* 1 when email is empty or looks like an address (one '@', a dot in the domain, <= 254). */
int users_email_valid(const char *email);

#endif

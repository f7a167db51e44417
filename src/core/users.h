/* users.h — people: the first admin on an empty store, creating users, reading profiles. */
#ifndef APIKEYD_USERS_H
#define APIKEYD_USERS_H

#include <stdio.h>

#include "../base/fielderr.h"
#include "core.h"

#define USERS_PASSWORD_MIN 12
#define USERS_PASSWORD_MAX 128

struct user_input {
    const char *username;
    const char *password;
    const char *full_name; /* NULL = "" */
    const char *email;     /* NULL = "" */
    int admin;             /* role "admin" instead of "user" */
};

/* On an empty store creates the admin. spec is "user:password" (from
 * APIKEYD_BOOTSTRAP_ADMIN) or NULL, in which case the user is "admin" with a random password
 * printed once to `notice`. Does nothing when any user exists. */
enum err users_bootstrap(struct core *c, const char *spec, FILE *notice);

/* Creates a local user (callers need the admin role). ERR_INVALID with fe, ERR_CONFLICT,
 * ERR_FORBIDDEN. On ERR_OK fills *out (its password_hash wiped). */
enum err users_create(struct core *c, const struct caller *who, const struct user_input *in,
                      struct field_errors *fe, struct user_record *out);

/* Reads a user's record (password_hash wiped). */
enum err users_get(struct core *c, const char *username, struct user_record *out);

/* Streams every user (password hashes wiped) in username order. */
enum err users_each(struct core *c, store_user_cb cb, void *ctx);

/* 1 when name is 1..64 of A-Z a-z 0-9 . _ - */
int users_name_valid(const char *name);

#endif

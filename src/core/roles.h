/* roles.h — roles as named sets of authorities: built-in admin and user, and custom ones. */
#ifndef APIKEYD_ROLES_H
#define APIKEYD_ROLES_H

#include "../base/fielderr.h"
#include "core.h"

#define ROLES_MAX 100

/* Streams every role (built-in first). */
enum err roles_each(struct core *c, store_role_cb cb, void *ctx);
enum err roles_get(struct core *c, const char *name, struct role_record *out);

/* Creates (needs manage_roles): ERR_INVALID (fe: name, description, authorities),
 * ERR_CONFLICT, ERR_LIMIT. authorities is a list of n names. */
enum err roles_create(struct core *c, const struct caller *who, const char *name,
                      const char *description, const char *const *authorities, size_t n,
                      struct field_errors *fe, struct role_record *out);

/* Replaces description (NULL keeps it) and authorities; ERR_FORBIDDEN for built-in roles. */
enum err roles_update(struct core *c, const struct caller *who, const char *name,
                      const char *description, const char *const *authorities, size_t n,
                      struct field_errors *fe, struct role_record *out);

/* Deletes; ERR_FORBIDDEN built-in, ERR_CONFLICT while held. */
enum err roles_delete(struct core *c, const struct caller *who, const char *name);

/* 1 when name is 1..64 of A-Z a-z 0-9 _ . - */
int roles_name_valid(const char *name);

#endif

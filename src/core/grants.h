/* grants.h — the delegation rule (the one Kubernetes RBAC enforces): a caller grants only
 * what it holds. What a role list, a group or a person carries is a `struct grant` (the
 * authorities, and whether the built-in admin role is among them); a change that would give
 * someone a grant, or take one from someone, passes only when the caller's own grant covers
 * it. Nobody changes their own roles or groups. users.c, groups.c and roles.c call these
 * before they write. */
#ifndef APIKEYD_GRANTS_H
#define APIKEYD_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define GRANTS_ADMIN_ROLE "admin"

struct grant {
    uint32_t authorities; /* enum authority bits */
    int admin;            /* carries the built-in admin role */
};

/* What username holds through their roles and their groups' roles. */
enum err grants_of_user(struct core *c, const char *username, struct grant *out);

/* What the comma-separated role names in csv give (unknown names give nothing). */
enum err grants_of_roles_csv(struct core *c, const char *csv, struct grant *out);

/* ERR_OK when who holds all of g: every authority, and the admin role when g carries it;
 * ERR_NOT_HELD otherwise. */
enum err grants_check(const struct caller *who, const struct grant *g);

/* ERR_OK when who may change, disable, reset or delete username: who holds all username
 * holds. ERR_NOT_HELD otherwise (an insider with manage_users does not lock out an admin). */
enum err grants_check_user(struct core *c, const struct caller *who, const char *username);

/* ERR_OK when who may change the role or group that carries csv (its present roles). */
enum err grants_check_roles(struct core *c, const struct caller *who, const char *csv);

/* 1 when the caller is the person username (their own roles and groups are not theirs to
 * change). */
int grants_is_self(const struct caller *who, const char *username);

#endif

/* groups.h — groups (users carrying roles together) and environments (namespaces of users and
 * groups; ROOT always exists). */
#ifndef APIKEYD_GROUPS_H
#define APIKEYD_GROUPS_H

#include "../base/fielderr.h"
#include "core.h"

#define GROUPS_MAX 1000
#define GROUP_MEMBERS_MAX 1000
#define ENVIRONMENTS_MAX 100

struct group_input {
    const char *name;
    const char *description; /* NULL = "" (create) or unchanged (update) */
    const char *environment; /* create only; NULL = ROOT */
    const char *const *roles;
    size_t role_count;
    int set_roles;
    const char *const *members;
    size_t member_count;
    int set_members;
};

enum err groups_each(struct core *c, store_group_cb cb, void *ctx);
enum err groups_get(struct core *c, const char *name, struct group_record *out);
enum err groups_members_each(struct core *c, const char *name, store_name_cb cb, void *ctx);

/* 1 when who may see a group's members and roles: holders of manage_groups or manage_users.
 * Everyone else sees names and descriptions only (and their own groups in /v1/me), so a
 * plain account cannot map who holds which power. */
int groups_may_see_members(const struct caller *who);

/* Creates (needs manage_groups): ERR_INVALID (fe), ERR_CONFLICT, ERR_LIMIT. */
enum err groups_create(struct core *c, const struct caller *who, const struct group_input *in,
                       struct field_errors *fe, struct group_record *out);

/* Replaces description, roles and members given in `in` (needs manage_groups). */
enum err groups_update(struct core *c, const struct caller *who, const struct group_input *in,
                       struct field_errors *fe, struct group_record *out);

enum err groups_delete(struct core *c, const struct caller *who, const char *name);

enum err environments_each(struct core *c, store_environment_cb cb, void *ctx);
enum err environments_get(struct core *c, const char *name, struct environment_record *out);

/* Creates (needs manage_environments): ERR_INVALID, ERR_CONFLICT, ERR_LIMIT. */
enum err environments_create(struct core *c, const struct caller *who, const char *name,
                             const char *description, struct field_errors *fe,
                             struct environment_record *out);

/* Deletes: ERR_FORBIDDEN for ROOT, ERR_CONFLICT while users or groups are in it. */
enum err environments_delete(struct core *c, const struct caller *who, const char *name);

#endif

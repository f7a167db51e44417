/* projects.h — projects and subprojects, and their members (users and API accounts) with
 * the roles owner > contributor > reader. Owners (also through a parent project) and holders
 * of manage_projects manage a project. */
#ifndef APIKEYD_PROJECTS_H
#define APIKEYD_PROJECTS_H

#include "../base/fielderr.h"
#include "access.h"
#include "core.h"

#define PROJECT_MEMBERS_MAX 1000
#define PROJECT_DEPTH_MAX 8

/* Callback for members: inherited_from is "" for a direct membership. */
typedef int (*project_member_cb)(void *ctx, const char *principal, enum project_role role,
                                 const char *inherited_from);

/* Creates a project; the creator of a top-level project becomes its owner. Top-level
 * projects need manage_projects, subprojects an owner of the parent (ERR_FORBIDDEN);
 * ERR_LIMIT when the caller already created max_projects_per_user projects. */
enum err projects_create(struct core *c, const struct caller *who, const char *name,
                         const char *parent, struct field_errors *fe, struct project_record *out);

/* Reads a project the caller reaches (ERR_NOT_FOUND otherwise). */
enum err projects_get(struct core *c, const struct caller *who, const char *id,
                      struct project_record *out);

/* Streams the projects the caller reaches (all with manage_projects). */
enum err projects_list(struct core *c, const struct caller *who, store_project_cb cb, void *ctx);

/* Deletes (owner or manage_projects): ERR_CONFLICT with subprojects or accounts. */
enum err projects_delete(struct core *c, const struct caller *who, const char *id);

/* Streams direct and inherited members of a project the caller reaches. */
enum err projects_members(struct core *c, const struct caller *who, const char *id,
                          project_member_cb cb, void *ctx);

/* Adds or changes a direct membership (owner or manage_projects). ERR_INVALID (fe: principal
 * or role) for a principal that does not exist or a bad role. */
enum err projects_member_put(struct core *c, const struct caller *who, const char *id,
                             const char *principal, const char *role, struct field_errors *fe);

/* Removes a direct membership; ERR_CONFLICT for the last owner of a top-level project. */
enum err projects_member_delete(struct core *c, const struct caller *who, const char *id,
                                const char *principal);

/* The direct role of principal in project id (ERR_NOT_FOUND when not a direct member). */
enum err projects_member_get(struct core *c, const struct caller *who, const char *id,
                             const char *principal, enum project_role *out);

/* The role of the caller's principal in project id (through parents too). */
enum project_role projects_caller_role(struct core *c, const struct caller *who, const char *id);

/* 1 when the caller may manage project id (owner there or above, or manage_projects). */
int projects_can_manage(struct core *c, const struct caller *who, const char *id);

/* ERR_CONFLICT, with the project in *out, when principal is the only direct owner of a
 * top-level project (which would be left with no one to manage it); ERR_OK otherwise. */
enum err projects_sole_owner(struct core *c, const char *principal, struct project_record *out);

#endif

/* h_groups.c — /v1/groups and /v1/environments. */
#include <stdlib.h>

#include "../core/groups.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

static int add_name(void *ctx, const char *name)
{
    return json_array_append_new((json_t *)ctx, json_string(name)) != 0;
}

/* A group as who may see it: members and roles only for groups_may_see_members. */
static json_t *group_json(struct core *c, const struct caller *who, const struct group_record *g)
{
    if (!groups_may_see_members(who))
        return json_pack("{s:s, s:s, s:s}", "name", g->name, "description", g->description,
                         "environment", g->environment);
    json_t *members = json_array();
    if (members)
        groups_members_each(c, g->name, add_name, members);
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", g->name, "description", g->description,
                     "environment", g->environment, "roles", render_csv_array(g->roles),
                     "members", members ? members : json_array());
}

struct group_list {
    struct core *core;
    const struct caller *who;
    json_t *list;
};

static int group_one(void *ctx, const struct group_record *g)
{
    struct group_list *l = ctx;
    return json_array_append_new(l->list, group_json(l->core, l->who, g)) != 0;
}

enum err h_groups_list(struct request *req, struct reply *rep)
{
    struct group_list l = {req->core, &req->caller, json_array()};
    if (!l.list)
        return ERR_NOMEM;
    enum err e = groups_each(req->core, group_one, &l);
    if (e) {
        json_decref(l.list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "groups", l.list));
}

enum err h_groups_get(struct request *req, struct reply *rep)
{
    struct group_record g;
    enum err e = groups_get(req->core, req->params[0], &g);
    return e ? e : reply_json(rep, 200, group_json(req->core, &req->caller, &g));
}

static enum err write_group(struct request *req, struct reply *rep, int create)
{
    static const char *const create_fields[] = {"name", "description", "environment", "roles",
                                                "members", NULL};
    static const char *const update_fields[] = {"description", "roles", "members", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    const char **members = malloc((GROUP_MEMBERS_MAX + 1) * sizeof *members);
    const char *roles[16];
    struct group_input in = {0};
    if (!members) {
        json_decref(doc);
        return ERR_NOMEM;
    }
    if (!create && body_has(doc, "environment"))
        field_errors_add(&fe, "environment", "cannot change; make a group in the other one");
    body_reject_unknown(doc, create ? create_fields : update_fields, &fe);
    in.name = create ? body_string(doc, "name", 1, &fe) : req->params[0];
    in.description = body_string(doc, "description", 0, &fe);
    in.environment = create ? body_string(doc, "environment", 0, &fe) : NULL;
    in.role_count = body_string_list(doc, "roles", roles, 16, &in.set_roles, &fe);
    in.roles = roles;
    in.member_count =
        body_string_list(doc, "members", members, GROUP_MEMBERS_MAX, &in.set_members, &fe);
    in.members = members;
    struct group_record *g = malloc(sizeof *g);
    if (!g)
        e = ERR_NOMEM;
    else if (fe.count)
        e = ERR_INVALID;
    else if (create)
        e = groups_create(req->core, &req->caller, &in, &fe, g);
    else
        e = groups_update(req->core, &req->caller, &in, &fe, g);
    if (e == ERR_OK)
        e = reply_json(rep, create ? 201 : 200, group_json(req->core, &req->caller, g));
    else if (e == ERR_FORBIDDEN)
        e = reply_error(rep, e, "this needs the authority manage_groups", NULL);
    else if (e == ERR_CONFLICT)
        e = reply_error(rep, e, "a group with this name exists", NULL);
    else if (e == ERR_LIMIT)
        e = reply_error(rep, e, "apikeyd holds at most 1000 groups", NULL);
    else if (e == ERR_INVALID)
        e = reply_error(rep, e, NULL, &fe);
    free(g);
    free(members);
    json_decref(doc);
    return e;
}

enum err h_groups_create(struct request *req, struct reply *rep)
{
    return write_group(req, rep, 1);
}

enum err h_groups_update(struct request *req, struct reply *rep)
{
    return write_group(req, rep, 0);
}

enum err h_groups_delete(struct request *req, struct reply *rep)
{
    enum err e = groups_delete(req->core, &req->caller, req->params[0]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "this needs the authority manage_groups", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

static json_t *environment_json(const struct environment_record *env)
{
    return json_pack("{s:s, s:s}", "name", env->name, "description", env->description);
}

static int environment_one(void *ctx, const struct environment_record *env)
{
    return json_array_append_new((json_t *)ctx, environment_json(env)) != 0;
}

enum err h_environments_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = environments_each(req->core, environment_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "environments", list));
}

enum err h_environments_get(struct request *req, struct reply *rep)
{
    struct environment_record env;
    enum err e = environments_get(req->core, req->params[0], &env);
    return e ? e : reply_json(rep, 200, environment_json(&env));
}

enum err h_environments_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"name", "description", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 1, &fe);
    const char *description = body_string(doc, "description", 0, &fe);
    struct environment_record env;
    e = fe.count ? ERR_INVALID
                 : environments_create(req->core, &req->caller, name, description, &fe, &env);
    if (e == ERR_OK)
        e = reply_json(rep, 201, environment_json(&env));
    else if (e == ERR_FORBIDDEN)
        e = reply_error(rep, e, "this needs the authority manage_environments", NULL);
    else if (e == ERR_CONFLICT)
        e = reply_error(rep, e, "an environment with this name exists", NULL);
    else if (e == ERR_LIMIT)
        e = reply_error(rep, e, "apikeyd holds at most 100 environments", NULL);
    else if (e == ERR_INVALID)
        e = reply_error(rep, e, NULL, &fe);
    json_decref(doc);
    return e;
}

enum err h_environments_delete(struct request *req, struct reply *rep)
{
    enum err e = environments_delete(req->core, &req->caller, req->params[0]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "needs manage_environments; ROOT cannot be deleted", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "users or groups are still in this environment", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

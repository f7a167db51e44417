/* h_projects.c — /v1/projects, their members and the candidates for membership. */
#include <stdlib.h>

#include "../core/candidates.h"
#include "../core/projects.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

static json_t *project_json(const struct project_record *p)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o}", "id", p->id, "name", p->name, "parent",
                     p->parent[0] ? json_string(p->parent) : json_null(), "created_by",
                     p->created_by, "created_at", render_time(p->created_at));
}

static int project_one(void *ctx, const struct project_record *p)
{
    return json_array_append_new((json_t *)ctx, project_json(p)) != 0;
}

enum err h_projects_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = projects_list(req->core, &req->caller, project_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "projects", list));
}

enum err h_projects_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"name", "parent", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 1, &fe);
    const char *parent = body_string(doc, "parent", 0, &fe);
    struct project_record p;
    e = fe.count ? ERR_INVALID : projects_create(req->core, &req->caller, name, parent, &fe, &p);
    int top_level = parent == NULL;
    json_decref(doc); /* parent pointed into it */
    if (e == ERR_OK)
        return reply_json(rep, 201, project_json(&p));
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e,
                           top_level ? "top-level projects need the authority manage_projects"
                                     : "subprojects are made by owners of the parent project",
                           NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "a project with this name exists at this level", NULL);
    if (e == ERR_LIMIT)
        return reply_error(rep, e,
                           "you have created as many projects as one person may"
                           " (max_projects_per_user); delete one first",
                           NULL);
    return reply_error(rep, e, NULL, &fe);
}

enum err h_projects_get(struct request *req, struct reply *rep)
{
    struct project_record p;
    enum err e = projects_get(req->core, &req->caller, req->params[0], &p);
    return e ? e : reply_json(rep, 200, project_json(&p));
}

enum err h_projects_delete(struct request *req, struct reply *rep)
{
    enum err e = projects_delete(req->core, &req->caller, req->params[0]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "only the project's owners can delete it", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "the project still has subprojects or API accounts", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

static int member_one(void *ctx, const char *principal, enum project_role role,
                      const char *inherited_from)
{
    return json_array_append_new(
               (json_t *)ctx,
               json_pack("{s:s, s:s, s:o}", "principal", principal, "role",
                         project_role_name(role), "inherited_from",
                         inherited_from[0] ? json_string(inherited_from) : json_null())) != 0;
}

enum err h_project_members_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = projects_members(req->core, &req->caller, req->params[0], member_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "members", list));
}

enum err h_project_member_get(struct request *req, struct reply *rep)
{
    enum project_role role;
    enum err e =
        projects_member_get(req->core, &req->caller, req->params[0], req->params[1], &role);
    return e ? e
             : reply_json(rep, 200, json_pack("{s:s, s:s}", "principal", req->params[1], "role",
                                              project_role_name(role)));
}

enum err h_project_member_put(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"role", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *role = body_string(doc, "role", 1, &fe);
    e = fe.count ? ERR_INVALID
                 : projects_member_put(req->core, &req->caller, req->params[0], req->params[1],
                                       role, &fe);
    if (e == ERR_OK)
        e = reply_json(rep, 200, json_pack("{s:s, s:s}", "principal", req->params[1], "role",
                                           role));
    else if (e == ERR_FORBIDDEN)
        e = reply_error(rep, e, "only the project's owners manage its members", NULL);
    else if (e == ERR_CONFLICT)
        e = reply_error(rep, e, "a top-level project keeps at least one owner", NULL);
    else if (e == ERR_LIMIT)
        e = reply_error(rep, e, "a project has at most 1000 members", NULL);
    else if (e == ERR_INVALID)
        e = reply_error(rep, e, NULL, &fe);
    json_decref(doc);
    return e;
}

enum err h_project_member_delete(struct request *req, struct reply *rep)
{
    enum err e =
        projects_member_delete(req->core, &req->caller, req->params[0], req->params[1]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "only the project's owners manage its members", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "a top-level project keeps at least one owner", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

static int candidate_one(void *ctx, const char *principal, const char *name, const char *kind)
{
    return json_array_append_new((json_t *)ctx,
                                 json_pack("{s:s, s:s, s:s}", "principal", principal, "name",
                                           name, "kind", kind)) != 0;
}

enum err h_project_candidates(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    const char *why = NULL;
    if (!list)
        return ERR_NOMEM;
    enum err e = candidates_find(req->core, &req->caller, req->params[0],
                                 request_query(req, "q"), &why, candidate_one, list);
    if (e == ERR_OK)
        return reply_json(rep, 200, json_pack("{s:o}", "candidates", list));
    json_decref(list);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "only the project's owners manage its members", NULL);
    if (e == ERR_BAD_REQUEST)
        return reply_error(rep, e, why, NULL);
    return e;
}

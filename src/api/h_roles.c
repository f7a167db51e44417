/* h_roles.c — /v1/authorities and /v1/roles. */
#include <stdlib.h>

#include "../core/authority.h"
#include "../core/roles.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

enum err h_authorities(struct request *req, struct reply *rep)
{
    (void)req;
    json_t *list = json_array();
    for (size_t i = 0; list && i < AUTHORITY_COUNT; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "name", authority_name(i),
                                              "description", authority_description(i)));
    return reply_json(rep, 200, json_pack("{s:o}", "authorities", list));
}

static json_t *role_json(const struct role_record *r)
{
    return json_pack("{s:s, s:s, s:o, s:b}", "name", r->name, "description", r->description,
                     "authorities", render_csv_array(r->authorities), "builtin", r->builtin);
}

static int role_one(void *ctx, const struct role_record *r)
{
    return json_array_append_new((json_t *)ctx, role_json(r)) != 0;
}

enum err h_roles_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = roles_each(req->core, role_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "roles", list));
}

enum err h_roles_get(struct request *req, struct reply *rep)
{
    struct role_record r;
    enum err e = roles_get(req->core, req->params[0], &r);
    return e ? e : reply_json(rep, 200, role_json(&r));
}

/* Shared by create (name from the body) and replace (name from the path). */
static enum err write_role(struct request *req, struct reply *rep, int create)
{
    static const char *const create_fields[] = {"name", "description", "authorities", NULL};
    static const char *const update_fields[] = {"description", "authorities", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, create ? create_fields : update_fields, &fe);
    const char *name = create ? body_string(doc, "name", 1, &fe) : req->params[0];
    const char *description = body_string(doc, "description", 0, &fe);
    const char *auths[AUTHORITY_COUNT * 2];
    int present = 0;
    size_t n = body_string_list(doc, "authorities", auths, AUTHORITY_COUNT * 2, &present, &fe);
    if (!present && !fe.count)
        field_errors_add(&fe, "authorities", "is required (a list, possibly empty)");
    struct role_record r;
    if (fe.count)
        e = ERR_INVALID;
    else if (create)
        e = roles_create(req->core, &req->caller, name, description, auths, n, &fe, &r);
    else
        e = roles_update(req->core, &req->caller, name, description, auths, n, &fe, &r);
    json_decref(doc);
    if (e == ERR_OK)
        return reply_json(rep, create ? 201 : 200, role_json(&r));
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "needs manage_roles; built-in roles cannot change", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "a role with this name exists", NULL);
    if (e == ERR_LIMIT)
        return reply_error(rep, e, "apikeyd holds at most 100 roles", NULL);
    if (e == ERR_INVALID)
        return reply_error(rep, e, NULL, &fe);
    return e;
}

enum err h_roles_create(struct request *req, struct reply *rep)
{
    return write_role(req, rep, 1);
}

enum err h_roles_update(struct request *req, struct reply *rep)
{
    return write_role(req, rep, 0);
}

enum err h_roles_delete(struct request *req, struct reply *rep)
{
    enum err e = roles_delete(req->core, &req->caller, req->params[0]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "needs manage_roles; built-in roles cannot be deleted", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "users or groups still hold this role", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

/* h_catalog.c — /v1/scopes and /v1/users: the scope catalogue and (for now) the minimal
 * user administration needed by the key lifecycle. */
#include <sodium.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/users.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

static int scope_one(void *ctx, const char *name, const char *desc)
{
    return json_array_append_new((json_t *)ctx,
                                 json_pack("{s:s, s:s}", "name", name, "description", desc)) != 0;
}

enum err h_scopes_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    catalog_each(req->core, scope_one, list);
    return reply_json(rep, 200, json_pack("{s:o}", "scopes", list));
}

enum err h_scopes_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"name", "description", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 1, &fe);
    const char *desc = body_string(doc, "description", 0, &fe);
    if (name && !catalog_name_valid(name))
        field_errors_add(&fe, "name", "must be 1-64 of A-Z a-z 0-9 _ . : -");
    if (desc && !catalog_description_valid(desc))
        field_errors_add(&fe, "description",
                         "must be at most 1000 characters, no control characters but newlines");
    if (!req->caller.is_admin)
        e = ERR_FORBIDDEN;
    else if (fe.count)
        e = ERR_INVALID;
    else
        e = catalog_add(req->core, &req->caller, name, desc ? desc : "");
    if (e == ERR_OK)
        e = reply_json(rep, 201, json_pack("{s:s, s:s}", "name", name, "description",
                                           desc ? desc : ""));
    else if (e == ERR_INVALID)
        reply_problem(rep, e, NULL, &fe), e = ERR_OK;
    else if (e == ERR_FORBIDDEN)
        reply_problem(rep, e, "only admins can add scopes", NULL), e = ERR_OK;
    else if (e == ERR_CONFLICT)
        reply_problem(rep, e, "a scope with this name exists", NULL), e = ERR_OK;
    else if (e == ERR_LIMIT)
        reply_problem(rep, e, "the catalogue holds at most 64 scopes", NULL), e = ERR_OK;
    json_decref(doc);
    return e;
}

static int user_one(void *ctx, const struct user_record *u)
{
    return json_array_append_new((json_t *)ctx, render_user(u)) != 0;
}

enum err h_users_list(struct request *req, struct reply *rep)
{
    if (!req->caller.is_admin)
        return ERR_FORBIDDEN;
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = users_each(req->core, user_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "users", list));
}

enum err h_users_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"username", "password", "full_name", "email",
                                          "roles", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    if (!req->caller.is_admin)
        return ERR_FORBIDDEN;
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    struct user_input in = {0};
    body_reject_unknown(doc, allowed, &fe);
    in.username = body_string(doc, "username", 1, &fe);
    in.password = body_string(doc, "password", 1, &fe);
    in.full_name = body_string(doc, "full_name", 0, &fe);
    in.email = body_string(doc, "email", 0, &fe);
    json_t *roles = json_object_get(doc, "roles");
    if (roles && !json_is_null(roles)) {
        size_t i;
        json_t *r;
        if (!json_is_array(roles) || json_array_size(roles) > 1)
            field_errors_add(&fe, "roles", "must be [\"admin\"] or [\"user\"]");
        json_array_foreach(roles, i, r)
        {
            if (json_is_string(r) && strcmp(json_string_value(r), "admin") == 0)
                in.admin = 1;
            else if (!json_is_string(r) || strcmp(json_string_value(r), "user") != 0)
                field_errors_add(&fe, "roles", "must be [\"admin\"] or [\"user\"]");
        }
    }
    struct user_record u;
    if (!fe.count)
        e = users_create(req->core, &req->caller, &in, &fe, &u);
    if (fe.count)
        reply_problem(rep, ERR_INVALID, NULL, &fe);
    else if (e == ERR_CONFLICT)
        reply_problem(rep, e, "a user with this username exists", NULL);
    else if (e == ERR_OK)
        e = reply_json(rep, 201, render_user(&u));
    else
        reply_problem(rep, e, NULL, NULL);
    json_t *pw = json_object_get(doc, "password");
    if (json_is_string(pw))
        sodium_memzero((void *)json_string_value(pw), json_string_length(pw));
    json_decref(doc);
    return e == ERR_NOMEM ? e : ERR_OK;
}

enum err h_users_get(struct request *req, struct reply *rep)
{
    if (!req->caller.is_admin && strcmp(req->caller.username, req->params[0]) != 0)
        return ERR_FORBIDDEN;
    struct user_record u;
    enum err e = users_get(req->core, req->params[0], &u);
    if (e)
        return e;
    return reply_json(rep, 200, render_user(&u));
}

/* h_accounts.c — /v1/service-accounts ("API accounts") and their keys. */
#include <sodium.h>
#include <stdlib.h>

#include "../core/accounts.h"
#include "body.h"
#include "handlers.h"
#include "keys_json.h"
#include "render.h"

static json_t *account_json(const struct account_record *a)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:b}", "id", a->id, "name", a->name,
                     "description", a->description, "project",
                     a->project[0] ? json_string(a->project) : json_null(), "created_by",
                     a->created_by, "created_at", render_time(a->created_at), "disabled",
                     a->disabled);
}

static int account_one(void *ctx, const struct account_record *a)
{
    return json_array_append_new((json_t *)ctx, account_json(a)) != 0;
}

enum err h_accounts_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = accounts_list(req->core, &req->caller, account_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "service_accounts", list));
}

static enum err account_problem(struct reply *rep, enum err e, const struct field_errors *fe)
{
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e,
                           "site-wide API accounts need manage_service_accounts;"
                           " project accounts need an owner of the project",
                           NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "an API account with this name exists there", NULL);
    if (e == ERR_LIMIT)
        return reply_error(rep, e,
                           "there are as many API accounts there as allowed"
                           " (max_accounts_per_project, or max_site_wide_accounts)",
                           NULL);
    return reply_error(rep, e, NULL, fe);
}

enum err h_accounts_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"name", "description", "project", "role", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 1, &fe);
    const char *description = body_string(doc, "description", 0, &fe);
    const char *project = body_string(doc, "project", 0, &fe);
    const char *role = body_string(doc, "role", 0, &fe);
    struct account_record *a = malloc(sizeof *a);
    if (!a)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else if ((e = accounts_create(req->core, &req->caller, name, description, project, role, &fe,
                                  a)) == ERR_OK)
        e = reply_json(rep, 201, account_json(a));
    else
        e = account_problem(rep, e, &fe);
    free(a);
    json_decref(doc);
    return e;
}

enum err h_accounts_get(struct request *req, struct reply *rep)
{
    struct account_record *a = malloc(sizeof *a);
    if (!a)
        return ERR_NOMEM;
    enum err e = accounts_get(req->core, &req->caller, req->params[0], a);
    if (!e)
        e = reply_json(rep, 200, account_json(a));
    free(a);
    return e;
}

enum err h_accounts_update(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"name", "description", "disabled", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    if (body_has(doc, "project"))
        field_errors_add(&fe, "project", "cannot change");
    else
        body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 0, &fe);
    const char *description = body_string(doc, "description", 0, &fe);
    int disabled = body_bool(doc, "disabled", &fe);
    struct account_record *a = malloc(sizeof *a);
    if (!a)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else if ((e = accounts_update(req->core, &req->caller, req->params[0], name, description,
                                  disabled, &fe, a)) == ERR_OK)
        e = reply_json(rep, 200, account_json(a));
    else if (e != ERR_NOT_FOUND)
        e = account_problem(rep, e, &fe);
    free(a);
    json_decref(doc);
    return e;
}

enum err h_accounts_delete(struct request *req, struct reply *rep)
{
    enum err e = accounts_delete(req->core, &req->caller, req->params[0]);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

static int key_one(void *ctx, const struct key_record *k)
{
    return json_array_append_new((json_t *)ctx, render_key(k)) != 0;
}

enum err h_account_keys_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = accounts_keys_list(req->core, &req->caller, req->params[0], key_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "keys", list));
}

enum err h_account_keys_create(struct request *req, struct reply *rep)
{
    return keys_json_create(req, rep, req->params[0]);
}

enum err h_account_keys_rotate(struct request *req, struct reply *rep)
{
    return keys_json_rotate(req, rep, req->params[0], req->params[1]);
}

enum err h_account_key_get(struct request *req, struct reply *rep)
{
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    enum err e = accounts_key_get(req->core, &req->caller, req->params[0], req->params[1], k);
    if (e == ERR_OK)
        e = reply_json(rep, 200, render_key(k));
    free(k);
    return e;
}

enum err h_account_keys_delete(struct request *req, struct reply *rep)
{
    enum err e = accounts_key_delete(req->core, &req->caller, req->params[0], req->params[1]);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

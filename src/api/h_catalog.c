/* h_catalog.c — /v1/scopes: the scope catalogue ("API sets"). */
#include <string.h>

#include "../core/catalog.h"
#include "body.h"
#include "handlers.h"

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
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *name = body_string(doc, "name", 1, &fe);
    const char *desc = body_string(doc, "description", 0, &fe);
    if (name && !catalog_name_valid(name))
        field_errors_add(&fe, "name", "must be 1-64 of A-Z a-z 0-9 _ . : -");
    if (desc && !catalog_description_valid(desc))
        field_errors_add(&fe, "description",
                         "must be at most 1000 characters, no control characters but newlines");
    e = fe.count ? ERR_INVALID : catalog_add(req->core, &req->caller, name, desc ? desc : "");
    if (e == ERR_OK)
        e = reply_json(rep, 201,
                       json_pack("{s:s, s:s}", "name", name, "description", desc ? desc : ""));
    else if (e == ERR_FORBIDDEN)
        e = reply_error(rep, e, "adding scopes needs the authority manage_scopes", NULL);
    else if (e == ERR_CONFLICT)
        e = reply_error(rep, e, "a scope with this name exists", NULL);
    else if (e == ERR_LIMIT)
        e = reply_error(rep, e, "the catalogue holds at most 64 scopes", NULL);
    else
        e = reply_error(rep, e, NULL, &fe);
    json_decref(doc);
    return e;
}

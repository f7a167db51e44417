/* h_users.c — /v1/users: user administration, and other people's keys
 * (/v1/users/{u}/keys). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/authority.h"
#include "../core/keys.h"
#include "../core/mfa.h"
#include "../core/users.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

struct user_list {
    struct core *core;
    json_t *list;
};

static int user_one(void *ctx, const struct user_record *u)
{
    struct user_list *l = ctx;
    return json_array_append_new(l->list, render_user(l->core, u)) != 0;
}

enum err h_users_list(struct request *req, struct reply *rep)
{
    if (!(req->caller.authorities & AUTH_MANAGE_USERS))
        return reply_error(rep, ERR_FORBIDDEN, "listing users needs manage_users", NULL);
    struct user_list l = {req->core, json_array()};
    if (!l.list)
        return ERR_NOMEM;
    enum err e = users_each(req->core, user_one, &l);
    if (e) {
        json_decref(l.list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "users", l.list));
}

/* Replies with the user (status) or the problem for e. */
static enum err reply_user(struct request *req, struct reply *rep, enum err e, int status,
                           const struct user_record *u, const struct field_errors *fe)
{
    if (e == ERR_OK)
        return reply_json(rep, status, render_user(req->core, u));
    if (e == ERR_CONFLICT)
        return reply_error(rep, e,
                           "a user with this username exists, or the change would"
                           " leave no enabled admin",
                           NULL);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "this needs the authority manage_users", NULL);
    if (e == ERR_LIMIT)
        return reply_error(rep, e, "apikeyd holds at most 10000 users", NULL);
    if (e == ERR_OWN_GRANTS)
        return reply_error(rep, e,
                           "nobody changes their own roles, environment or password here; change "
                           "your password with POST /v1/me/password (it needs the current one)",
                           NULL);
    return reply_error(rep, e, NULL, fe);
}

enum err h_users_create(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"username", "password",    "full_name",   "email",
                                          "roles",    "auth_source", "environment", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    if (!(req->caller.authorities & AUTH_MANAGE_USERS))
        return reply_error(rep, ERR_FORBIDDEN, "creating users needs manage_users", NULL);
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    const char *roles[USERS_ROLES_MAX];
    int has_roles = 0;
    struct user_input in = {0};
    body_reject_unknown(doc, allowed, &fe);
    in.username = body_string(doc, "username", 1, &fe);
    in.password = body_string(doc, "password", 0, &fe);
    in.full_name = body_string(doc, "full_name", 0, &fe);
    in.email = body_string(doc, "email", 0, &fe);
    in.auth_source = body_string(doc, "auth_source", 0, &fe);
    in.environment = body_string(doc, "environment", 0, &fe);
    in.role_count = body_string_list(doc, "roles", roles, USERS_ROLES_MAX, &has_roles, &fe);
    in.roles = has_roles ? roles : NULL;
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else
        e = reply_user(req, rep, users_create(req->core, &req->caller, &in, &fe, u), 201, u, &fe);
    body_wipe_string(doc, "password");
    json_decref(doc);
    free(u);
    return e;
}

enum err h_users_get(struct request *req, struct reply *rep)
{
    if (!(req->caller.authorities & AUTH_MANAGE_USERS) &&
        strcmp(req->caller.username, req->params[0]) != 0)
        return reply_error(rep, ERR_FORBIDDEN, "reading other users needs manage_users", NULL);
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = users_get(req->core, req->params[0], u);
    e = e ? e : reply_json(rep, 200, render_user(req->core, u));
    free(u);
    return e;
}

enum err h_users_update(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"full_name", "email",       "roles", "disabled",
                                          "password",  "environment", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    if (!(req->caller.authorities & AUTH_MANAGE_USERS))
        return reply_error(rep, ERR_FORBIDDEN, "changing users needs manage_users", NULL);
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    if (body_has(doc, "username"))
        field_errors_add(&fe, "username", "cannot change");
    if (body_has(doc, "auth_source"))
        field_errors_add(&fe, "auth_source", "cannot change");
    if (!fe.count)
        body_reject_unknown(doc, allowed, &fe);
    const char *roles[USERS_ROLES_MAX];
    struct user_patch p = {0};
    p.full_name = body_string(doc, "full_name", 0, &fe);
    p.email = body_string(doc, "email", 0, &fe);
    p.password = body_string(doc, "password", 0, &fe);
    p.environment = body_string(doc, "environment", 0, &fe);
    p.role_count = body_string_list(doc, "roles", roles, USERS_ROLES_MAX, &p.set_roles, &fe);
    p.roles = roles;
    p.disabled = body_bool(doc, "disabled", &fe);
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else
        e = reply_user(req, rep, users_update(req->core, &req->caller, req->params[0], &p, &fe, u),
                       200, u, &fe);
    body_wipe_string(doc, "password");
    json_decref(doc);
    free(u);
    return e;
}

enum err h_users_delete(struct request *req, struct reply *rep)
{
    struct project_record project = {0};
    enum err e = users_delete(req->core, &req->caller, req->params[0], &project);
    if (e == ERR_CONFLICT && project.id[0]) {
        char detail[sizeof project.name + sizeof project.id + 96];
        snprintf(detail, sizeof detail,
                 "the user is the only owner of project %s (%s); make someone else an owner "
                 "first",
                 project.name, project.id);
        return reply_error(rep, e, detail, NULL);
    }
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "deleting this user would leave no enabled admin", NULL);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "deleting users needs manage_users", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

static int key_one(void *ctx, const struct key_record *k)
{
    return json_array_append_new((json_t *)ctx, render_key(k)) != 0;
}

enum err h_user_keys_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = keys_list_of_user(req->core, &req->caller, req->params[0], key_one, list);
    if (e) {
        json_decref(list);
        if (e == ERR_FORBIDDEN)
            return reply_error(rep, e, "other people's keys need manage_user_api_keys", NULL);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "keys", list));
}

enum err h_user_keys_create(struct request *req, struct reply *rep)
{
    (void)req;
    return reply_error(rep, ERR_FORBIDDEN,
                       "keys can only be created by their owner, never for someone else", NULL);
}

enum err h_user_keys_delete(struct request *req, struct reply *rep)
{
    enum err e = keys_delete_of_user(req->core, &req->caller, req->params[0], req->params[1]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "other people's keys need manage_user_api_keys", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

enum err h_users_mfa_reset(struct request *req, struct reply *rep)
{
    enum err e = mfa_reset(req->core, &req->caller, req->params[0]);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "turning off another user's MFA needs manage_users", NULL);
    if (e == ERR_OWN_GRANTS)
        return reply_error(rep, e, "turn your own MFA off with DELETE /v1/me/mfa", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "MFA is not on for this user", NULL);
    if (e)
        return e;
    reply_empty(rep, 204);
    return ERR_OK;
}

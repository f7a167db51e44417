/* h_me.c — /v1/me: the caller's profile, password and TOTP multi-factor authentication. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mfa.h"
#include "../core/users.h"
#include "body.h"
#include "handlers.h"
#include "qr_svg.h"
#include "render.h"

/* The 429 detail when the account or this client has failed secret checks too often. */
#define TOO_MANY_FAILURES "too many failed password or code checks; try again later"

enum err h_me(struct request *req, struct reply *rep)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = users_get(req->core, req->caller.username, u);
    if (e == ERR_NOT_FOUND)
        e = ERR_UNAUTHENTICATED;
    json_t *doc = e ? NULL : render_user(req->core, u);
    int64_t left = 0;
    if (doc && u->mfa_enabled &&
        mfa_recovery_codes_left(req->core, u->username, &left) == ERR_OK)
        json_object_set_new(doc, "recovery_codes_left", json_integer(left));
    if (!e)
        e = reply_json(rep, 200, doc);
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

enum err h_me_update(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"full_name", "email", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    if (body_has(doc, "username"))
        field_errors_add(&fe, "username", "cannot change");
    else
        body_reject_unknown(doc, allowed, &fe);
    const char *full_name = body_string(doc, "full_name", 0, &fe);
    const char *email = body_string(doc, "email", 0, &fe);
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else if ((e = users_update_self(req->core, &req->caller, full_name, email, &fe, u)) == ERR_OK)
        e = reply_json(rep, 200, render_user(req->core, u));
    else if (e == ERR_INVALID)
        e = reply_error(rep, e, NULL, &fe);
    free(u);
    json_decref(doc);
    return e;
}

enum err h_me_password(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"current_password", "new_password", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    body_reject_unknown(doc, allowed, &fe);
    const char *current = body_string(doc, "current_password", 1, &fe);
    const char *next = body_string(doc, "new_password", 1, &fe);
    int64_t retry_after = 0;
    e = fe.count ? ERR_INVALID
                 : users_change_password(req->core, &req->caller, current, next, &fe, &retry_after);
    body_wipe_string(doc, "current_password");
    body_wipe_string(doc, "new_password");
    json_decref(doc);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "SSO users change their password with their identity provider",
                           NULL);
    if (e == ERR_THROTTLED)
        return reply_throttled(rep, retry_after, TOO_MANY_FAILURES);
    if (e)
        return reply_error(rep, e, NULL, &fe);
    reply_empty(rep, 204);
    return ERR_OK;
}

/* Reads a small body whose fields are all optional strings (a body is optional for DELETE). */
static enum err mfa_body(struct request *req, struct reply *rep, json_t **doc,
                         const char *const *allowed, struct field_errors *fe)
{
    const char *detail = NULL;
    enum err e = body_object(req, doc, &detail);
    if (e) {
        reply_error(rep, e, detail, NULL);
        return e;
    }
    body_reject_unknown(*doc, allowed, fe);
    return ERR_OK;
}

/* Answers 200 with a fresh set of recovery codes, and wipes them. */
static enum err reply_recovery_codes(struct reply *rep, struct recovery_set *codes)
{
    json_t *list = json_array();
    for (int i = 0; list && i < RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(codes->text[i]));
    sodium_memzero(codes, sizeof *codes);
    enum err e = reply_json(rep, 200, json_pack("{s:o*}", "recovery_codes", list));
    rep->wipe = 1; /* the body holds the codes */
    return e;
}

/* The problems a secret-checking MFA operation answers, or ERR_OK to go on. */
static enum err mfa_refusal(struct reply *rep, enum err e, const char *conflict,
                            int64_t retry_after, struct field_errors *fe)
{
    if (e == ERR_THROTTLED)
        return reply_throttled(rep, retry_after, TOO_MANY_FAILURES);
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e, "MFA is not available for SSO users", NULL);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, conflict, NULL);
    return reply_error(rep, e, NULL, fe);
}

enum err h_me_mfa_begin(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"current_password", NULL};
    json_t *doc = NULL;
    struct field_errors fe = {0};
    if (mfa_body(req, rep, &doc, allowed, &fe))
        return ERR_OK;
    const char *password = body_string(doc, "current_password", 1, &fe);
    struct mfa_enrolment en;
    int64_t retry_after = 0;
    enum err e = fe.count ? ERR_INVALID
                          : mfa_begin(req->core, &req->caller, password, &fe, &retry_after, &en);
    body_wipe_string(doc, "current_password");
    json_decref(doc);
    if (err_is_unavailable(e) || e == ERR_NOMEM || e == ERR_INTERNAL)
        return e;
    if (e)
        return mfa_refusal(rep, e, "MFA is already on; turn it off first", retry_after, &fe);
    char *svg = qr_svg(en.otpauth_uri);
    e = reply_json(rep, 200,
                   json_pack("{s:s, s:s, s:s}", "secret", en.secret, "otpauth_uri",
                             en.otpauth_uri, "qr_svg", svg ? svg : ""));
    rep->wipe = 1; /* the body holds the secret */
    if (svg) {
        sodium_memzero(svg, strlen(svg));
        free(svg);
    }
    sodium_memzero(&en, sizeof en);
    return e;
}

enum err h_me_mfa_confirm(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"code", "current_password", NULL};
    json_t *doc = NULL;
    struct field_errors fe = {0};
    if (mfa_body(req, rep, &doc, allowed, &fe))
        return ERR_OK;
    const char *code = body_string(doc, "code", 1, &fe);
    const char *password = body_string(doc, "current_password", 1, &fe);
    int64_t retry_after = 0;
    struct recovery_set codes;
    enum err e = fe.count ? ERR_INVALID
                          : mfa_confirm(req->core, &req->caller, code, password, &fe,
                                        &retry_after, &codes);
    body_wipe_string(doc, "current_password");
    json_decref(doc);
    if (e == ERR_NOMEM || e == ERR_INTERNAL)
        return e;
    if (e)
        return mfa_refusal(rep, e, "no MFA enrolment is waiting for confirmation", retry_after,
                           &fe);
    return reply_recovery_codes(rep, &codes);
}

enum err h_me_mfa_recovery_codes(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"current_password", NULL};
    json_t *doc = NULL;
    struct field_errors fe = {0};
    if (mfa_body(req, rep, &doc, allowed, &fe))
        return ERR_OK;
    const char *password = body_string(doc, "current_password", 1, &fe);
    int64_t retry_after = 0;
    struct recovery_set codes;
    enum err e = fe.count ? ERR_INVALID
                          : mfa_recovery_regenerate(req->core, &req->caller, password, &fe,
                                                    &retry_after, &codes);
    body_wipe_string(doc, "current_password");
    json_decref(doc);
    if (e == ERR_NOMEM || e == ERR_INTERNAL)
        return e;
    if (e)
        return mfa_refusal(rep, e, "MFA is not on", retry_after, &fe);
    return reply_recovery_codes(rep, &codes);
}

enum err h_me_mfa_disable(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"code", "password", NULL};
    json_t *doc = NULL;
    struct field_errors fe = {0};
    if (mfa_body(req, rep, &doc, allowed, &fe))
        return ERR_OK;
    const char *code = body_string(doc, "code", 0, &fe);
    const char *password = body_string(doc, "password", 0, &fe);
    if (!code && !password && !fe.count)
        field_errors_add(&fe, "code", "send a current code, a recovery code, or the password");
    int64_t retry_after = 0;
    enum err e = fe.count ? ERR_INVALID
                          : mfa_disable(req->core, &req->caller, code, password, &fe, &retry_after);
    body_wipe_string(doc, "password");
    body_wipe_string(doc, "code"); /* may be a recovery code */
    json_decref(doc);
    if (e == ERR_THROTTLED)
        return reply_throttled(rep, retry_after, TOO_MANY_FAILURES);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "MFA is not on", NULL);
    if (e)
        return reply_error(rep, e, NULL, &fe);
    reply_empty(rep, 204);
    return ERR_OK;
}

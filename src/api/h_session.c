/* h_session.c — health, login (with one-time code when MFA is on) and logout. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../core/auth.h"
#include "body.h"
#include "handlers.h"


enum err h_healthz(struct request *req, struct reply *rep)
{
    (void)req;
    return reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
}

enum err h_readyz(struct request *req, struct reply *rep)
{
    const char *why = NULL;
    if (core_ready(req->core, &why) != ERR_OK) {
        reply_problem(rep, ERR_UNAVAILABLE, why, NULL);
        reply_header(rep, "Retry-After", "1");
        return ERR_OK;
    }
    return reply_json(rep, 200, json_pack("{s:s}", "status", "ready"));
}

enum err h_login(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"username", "password", "otp", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    body_reject_unknown(doc, allowed, &fe);
    const char *username = body_string(doc, "username", 1, &fe);
    const char *password = body_string(doc, "password", 1, &fe);
    const char *otp = body_string(doc, "otp", 0, &fe);
    if (fe.count) {
        reply_problem(rep, ERR_INVALID, NULL, &fe);
        goto out;
    }
    struct login_result lr;
    int64_t retry_after = 0;
    size_t pw_len = json_string_length(json_object_get(doc, "password"));
    const char *device = request_cookie(req, DEVICE_COOKIE_HOST);
    if (!device)
        device = request_cookie(req, DEVICE_COOKIE);
    e = auth_login(req->core, username, password, pw_len, otp, req->client, device, &lr,
                   &retry_after);
    if (e == ERR_THROTTLED) {
        reply_throttled(rep, retry_after, "too many failed logins; try again later");
    } else if (e == ERR_LOGIN_FAILED) {
        reply_problem(rep, e, "wrong username, password or one-time code", NULL);
    } else if (e == ERR_DIRECTORY_UNAVAILABLE) { /* local accounts still sign in */
        reply_problem(rep, e, "the directory (LDAP) cannot be reached now; try again later",
                      NULL);
        reply_header(rep, "Retry-After", "5");
    } else if (e == ERR_OTP_REQUIRED) {
        reply_problem(rep, e, "send the one-time code from your authenticator as otp", NULL);
    } else if (e) {
        reply_problem(rep, e, NULL, NULL);
    } else {
        /* over HTTPS: Secure, and __Host- so no subdomain or plain-HTTP page can set it */
        char cookie[200];
        snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s",
                 req->secure_cookies ? SESSION_COOKIE_HOST : SESSION_COOKIE, lr.session_token,
                 lr.ttl_seconds, req->secure_cookies ? "; Secure" : "");
        e = reply_json(rep, 200,
                       json_pack("{s:s, s:s}", "username", lr.username, "csrf_token",
                                 lr.csrf_token));
        rep->wipe = 1;
        reply_header(rep, "Set-Cookie", cookie);
        sodium_memzero(cookie, sizeof cookie);
        if (lr.device_token[0]) { /* this browser is now a known device of the account */
            char dc[DEVICE_TOKEN_MAX + 160];
            snprintf(dc, sizeof dc, "%s=%s; HttpOnly; SameSite=Strict; Path=%s; Max-Age=%d%s",
                     req->secure_cookies ? DEVICE_COOKIE_HOST : DEVICE_COOKIE, lr.device_token,
                     req->secure_cookies ? "/" : "/v1/login", DEVICE_TTL_SECONDS,
                     req->secure_cookies ? "; Secure" : "");
            reply_header(rep, "Set-Cookie", dc);
            sodium_memzero(dc, sizeof dc);
        }
        sodium_memzero(&lr, sizeof lr);
        if (e)
            reply_problem(rep, e, NULL, NULL);
    }
    body_wipe_string(doc, "password"); /* before jansson frees it */
    body_wipe_string(doc, "otp");      /* may be a recovery code */
out:
    json_decref(doc);
    return ERR_OK;
}

enum err h_logout(struct request *req, struct reply *rep)
{
    if (req->caller.kind != CALLER_SESSION) {
        reply_problem(rep, ERR_BAD_REQUEST, "logout ends a portal session; API keys have none",
                      NULL);
        return ERR_OK;
    }
    enum err e = auth_logout(req->core, &req->caller);
    if (e)
        return e;
    reply_empty(rep, 204);
    reply_header(rep, "Set-Cookie", SESSION_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if (req->secure_cookies)
        reply_header(rep, "Set-Cookie",
                     SESSION_COOKIE_HOST "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure");
    return ERR_OK;
}

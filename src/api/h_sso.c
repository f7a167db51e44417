/* h_sso.c — single sign-on: what the login page offers (GET /v1/sso), the OpenID Connect
 * start and callback (GET /v1/sso/oidc/start, GET /v1/sso/oidc/callback) and SAML's metadata,
 * start and ACS (GET /v1/sso/saml/metadata, GET /v1/sso/saml/start, POST /v1/sso/saml/acs).
 * The start, callback and ACS are browser navigations, so their outcomes are redirects: to the
 * provider, back to the portal signed in, or to the portal's login page with a short sso_error
 * code (docs/API.md). Only a malformed request (a bad return path, a body that is not the
 * HTTP-POST binding's form) gets a problem document. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/oidc.h"
#include "../core/saml.h"
#include "../core/saml_sp.h"
#include "form.h"
#include "handlers.h"

#define FLOW_COOKIE "apikeyd_oidc"
#define FLOW_COOKIE_SECURE "__Secure-apikeyd_oidc" /* Path=/v1/sso/oidc/: no __Host- */
#define FLOW_PATH "/v1/sso/oidc/"
#define CSRF_COOKIE "apikeyd_csrf" /* the portal's CSRF token after SSO, read once by page-login.js */
#define CSRF_COOKIE_HOST "__Host-apikeyd_csrf"

enum err h_sso(struct request *req, struct reply *rep)
{
    const struct oidc_config *o = oidc_settings(req->core);
    json_t *oidc = o ? json_pack("{s:s, s:s}", "button_label", o->button_label, "start_url",
                                 "/v1/sso/oidc/start")
                     : json_null();
    const struct saml_config *s = saml_settings(req->core);
    json_t *saml = s ? json_pack("{s:s, s:s}", "button_label", s->button_label, "start_url",
                                 "/v1/sso/saml/start")
                     : json_null();
    return reply_json(rep, 200, json_pack("{s:o, s:o}", "oidc", oidc, "saml", saml));
}

/* Redirects to the portal's login page with sso_error=code. */
static enum err to_login(struct request *req, struct reply *rep, const char *code)
{
    char where[OIDC_URL_MAX + 64];
    snprintf(where, sizeof where, "%s/?sso_error=%s#/login", sso_public_url(req->core), code);
    reply_empty(rep, 302);
    reply_header(rep, "Location", where);
    return ERR_OK;
}

static const char *flow_cookie_name(const struct request *req)
{
    return req->secure_cookies ? FLOW_COOKIE_SECURE : FLOW_COOKIE;
}

enum err h_sso_oidc_start(struct request *req, struct reply *rep)
{
    if (!oidc_settings(req->core))
        return reply_error(rep, ERR_NOT_FOUND, "OpenID Connect sign-in is not configured", NULL);
    const char *ret = request_query(req, "return");
    if (ret && !oidc_return_valid(ret))
        return reply_error(rep, ERR_BAD_REQUEST,
                           "return must be a path of this site: '/' then at most 255 printable "
                           "characters, not '//'", NULL);
    char location[OIDC_LOCATION_MAX], sealed[OIDC_FLOW_COOKIE_MAX];
    enum err e = oidc_start(req->core, ret ? ret : "/", location, sizeof location, sealed);
    if (err_is_unavailable(e) || e == ERR_INVALID)
        return to_login(req, rep, oidc_outcome_code(OIDC_UNAVAILABLE));
    if (e)
        return e;
    char cookie[OIDC_FLOW_COOKIE_MAX + 160];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Lax; Path=%s; Max-Age=%d%s",
             flow_cookie_name(req), sealed, FLOW_PATH, OIDC_FLOW_TTL_SECONDS,
             req->secure_cookies ? "; Secure" : "");
    reply_empty(rep, 302);
    reply_header(rep, "Location", location);
    reply_header(rep, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
    sodium_memzero(sealed, sizeof sealed);
    return ERR_OK;
}

/* The session cookie as POST /v1/login sets it, and the CSRF token for the portal in a
 * short-lived cookie its script reads once (it cannot come in a body on a redirect). */
static void signed_in(struct request *req, struct reply *rep, struct login_result *lr,
                      const char *where)
{
    reply_empty(rep, 302);
    reply_header(rep, "Location", where);
    char cookie[200];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s",
             req->secure_cookies ? SESSION_COOKIE_HOST : SESSION_COOKIE, lr->session_token,
             lr->ttl_seconds, req->secure_cookies ? "; Secure" : "");
    reply_header(rep, "Set-Cookie", cookie);
    snprintf(cookie, sizeof cookie, "%s=%s; SameSite=Strict; Path=/; Max-Age=120%s",
             req->secure_cookies ? CSRF_COOKIE_HOST : CSRF_COOKIE, lr->csrf_token,
             req->secure_cookies ? "; Secure" : "");
    reply_header(rep, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
}

enum err h_sso_oidc_callback(struct request *req, struct reply *rep)
{
    const struct oidc_config *o = oidc_settings(req->core);
    if (!o)
        return reply_error(rep, ERR_NOT_FOUND, "OpenID Connect sign-in is not configured", NULL);
    struct oidc_callback cb = {.cookie = request_cookie(req, flow_cookie_name(req)),
                               .state = request_query(req, "state"),
                               .code = request_query(req, "code"),
                               .error = request_query(req, "error"),
                               .client = req->client};
    struct login_result lr;
    char return_to[OIDC_RETURN_MAX + 1];
    int64_t retry_after = 0;
    enum oidc_outcome out = oidc_finish(req->core, &cb, &lr, return_to, &retry_after);
    if (out != OIDC_SIGNED_IN)
        to_login(req, rep, oidc_outcome_code(out));
    else {
        char where[OIDC_URL_MAX + OIDC_RETURN_MAX + 2];
        snprintf(where, sizeof where, "%s%s", o->public_url, return_to);
        signed_in(req, rep, &lr, where);
        sodium_memzero(&lr, sizeof lr);
    }
    /* the flow is spent whatever happened: its cookie goes */
    char gone[160];
    snprintf(gone, sizeof gone, "%s=; HttpOnly; SameSite=Lax; Path=%s; Max-Age=0%s",
             flow_cookie_name(req), FLOW_PATH, req->secure_cookies ? "; Secure" : "");
    reply_header(rep, "Set-Cookie", gone);
    if (out == OIDC_THROTTLED) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
        reply_header(rep, "Retry-After", secs);
    }
    return ERR_OK;
}

/* ---- SAML 2.0 ---- */

#define SAML_COOKIE "apikeyd_saml"
#define SAML_COOKIE_SECURE "__Secure-apikeyd_saml" /* Path=/v1/sso/saml/: no __Host- */
#define SAML_PATH "/v1/sso/saml/"

static const char *saml_cookie_name(const struct request *req)
{
    return req->secure_cookies ? SAML_COOKIE_SECURE : SAML_COOKIE;
}

enum err h_sso_saml_metadata(struct request *req, struct reply *rep)
{
    const char *md = saml_metadata(req->core);
    if (!md)
        return reply_error(rep, ERR_NOT_FOUND, "SAML sign-in is not configured", NULL);
    return reply_set_body(rep, 200, "application/samlmetadata+xml", md, strlen(md));
}

enum err h_sso_saml_start(struct request *req, struct reply *rep)
{
    if (!saml_settings(req->core))
        return reply_error(rep, ERR_NOT_FOUND, "SAML sign-in is not configured", NULL);
    const char *ret = request_query(req, "return");
    if (ret && !oidc_return_valid(ret))
        return reply_error(rep, ERR_BAD_REQUEST,
                           "return must be a path of this site: '/' then at most 255 printable "
                           "characters, not '//'", NULL);
    char *location = NULL, browser[SAML_BROWSER_TEXT];
    enum err e = saml_start(req->core, ret ? ret : "/", &location, browser);
    if (!e && strlen(location) > OIDC_LOCATION_MAX) { /* it would not fit the headers */
        free(location);
        e = ERR_INVALID;
    }
    if (e == ERR_INVALID || e == ERR_LIMIT) /* lasso failed, or too many pending sign-ins */
        return to_login(req, rep, saml_outcome_code(SAML_FAILED));
    if (e)
        return e;
    reply_empty(rep, 302);
    reply_header(rep, "Location", location);
    free(location);
    /* the IdP's POST is a cross-site request: over HTTPS the cookie is SameSite=None so it
     * comes along; over plain HTTP (no Secure) the browser's default applies */
    char cookie[SAML_BROWSER_TEXT + 160];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; Path=%s; Max-Age=%d%s",
             saml_cookie_name(req), browser, SAML_PATH, OIDC_FLOW_TTL_SECONDS,
             req->secure_cookies ? "; Secure; SameSite=None" : "");
    reply_header(rep, "Set-Cookie", cookie);
    return ERR_OK;
}

enum err h_sso_saml_acs(struct request *req, struct reply *rep)
{
    if (!saml_settings(req->core))
        return reply_error(rep, ERR_NOT_FOUND, "SAML sign-in is not configured", NULL);
    if (!form_media_type_ok(request_header(req, "Content-Type")))
        return reply_error(rep, ERR_MEDIA_TYPE,
                           "send the SAML HTTP-POST binding: "
                           "Content-Type: application/x-www-form-urlencoded", NULL);
    char *response = NULL, *relay = NULL;
    if (form_value(req->body, req->body_len, "SAMLResponse", &response) ||
        form_value(req->body, req->body_len, "RelayState", &relay) || !response ||
        strlen(response) > SAML_RESPONSE_MAX || (relay && strlen(relay) > OIDC_RETURN_MAX)) {
        free(response);
        free(relay);
        return reply_error(rep, ERR_BAD_REQUEST,
                           "the form must hold SAMLResponse (base64, at most 61440 bytes) and "
                           "may hold RelayState (at most 256 bytes)", NULL);
    }
    struct saml_post p = {.response = response,
                          .relay_state = relay,
                          .browser = request_cookie(req, saml_cookie_name(req)),
                          .client = req->client};
    struct login_result lr;
    char return_to[OIDC_RETURN_MAX + 1];
    int64_t retry_after = 0;
    enum saml_outcome out = saml_finish(req->core, &p, &lr, return_to, &retry_after);
    free(response);
    free(relay);
    if (out != SAML_SIGNED_IN) {
        to_login(req, rep, saml_outcome_code(out));
    } else {
        char where[OIDC_URL_MAX + OIDC_RETURN_MAX + 2];
        snprintf(where, sizeof where, "%s%s", sso_public_url(req->core), return_to);
        signed_in(req, rep, &lr, where);
        sodium_memzero(&lr, sizeof lr);
    }
    if (out != SAML_THROTTLED) { /* the sign-in is spent: its cookie goes */
        char gone[160];
        snprintf(gone, sizeof gone, "%s=; HttpOnly; Path=%s; Max-Age=0%s", saml_cookie_name(req),
                 SAML_PATH, req->secure_cookies ? "; Secure; SameSite=None" : "");
        reply_header(rep, "Set-Cookie", gone);
    }
    if (out == SAML_THROTTLED) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
        reply_header(rep, "Retry-After", secs);
    }
    return ERR_OK;
}

/* router.c — the route table and the authentication step in front of handlers. */
#include "router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/auth.h"
#include "handlers.h"

enum route_auth { ROUTE_PUBLIC, ROUTE_AUTHENTICATED };

/* Which key callers a route admits, beyond its scope. The one place that says what an
 * API-account key may do on apikeyd's own endpoints. */
enum key_who {
    KEY_ANY = 0,     /* any key holding the scope */
    KEY_PERSON = 1,  /* a person's key only: API-account keys get 403 (their own person's
                        data, every write that makes or changes accounts, projects or
                        memberships, and the candidates lookup that serves those writes) */
    KEY_OWN_ACCOUNT = 2, /* /v1/service-accounts/{id}/keys*: an API-account key only when
                            {id} is its own account */
};

struct route {
    const char *method;
    const char *pattern; /* "{}" matches one non-empty path segment */
    enum err (*fn)(struct request *, struct reply *);
    enum route_auth auth;
    const char *key_scope; /* scope a key caller needs; NULL = any valid key */
    int on_event_thread;   /* 1: never blocks (memory only), so runs on the event thread */
    enum key_who who;      /* which keys may call it besides the scope (see key_who) */
};

static const struct route routes[] = {
    /* verification first: it is most of the traffic */
    {"POST", "/v1/verify", h_verify, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/v1/auth", h_auth, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/healthz", h_healthz, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/readyz", h_readyz, ROUTE_PUBLIC, NULL, 0, 0}, /* tries a write: on a worker */
    /* this API described (web/openapi.json, compiled in); a route added here goes there too
     * (tests/unit/test_openapi.c fails until it does) */
    {"GET", "/openapi.json", h_static, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/", h_static, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/index.html", h_static, ROUTE_PUBLIC, NULL, 1, 0},
    {"GET", "/assets/{}", h_static, ROUTE_PUBLIC, NULL, 1, 0},
    {"POST", "/v1/login", h_login, ROUTE_PUBLIC, NULL, 0, 0},
    {"POST", "/v1/logout", h_logout, ROUTE_AUTHENTICATED, NULL, 0, 0},
    /* single sign-on (h_sso.c): public; the callback authenticates by the provider's code */
    {"GET", "/v1/sso", h_sso, ROUTE_PUBLIC, NULL, 0, 0},
    {"GET", "/v1/sso/oidc/start", h_sso_oidc_start, ROUTE_PUBLIC, NULL, 0, 0},
    {"GET", "/v1/sso/oidc/callback", h_sso_oidc_callback, ROUTE_PUBLIC, NULL, 0, 0},
    {"GET", "/v1/sso/saml/metadata", h_sso_saml_metadata, ROUTE_PUBLIC, NULL, 0, 0},
    {"GET", "/v1/sso/saml/start", h_sso_saml_start, ROUTE_PUBLIC, NULL, 0, 0},
    /* the ACS authenticates by the IdP's signed Response, not by a session: no CSRF token */
    {"POST", "/v1/sso/saml/acs", h_sso_saml_acs, ROUTE_PUBLIC, NULL, 0, 0},
    /* leaked keys (h_leaks.c): public. GitHub's report is authenticated by its signature over
     * the raw body; a revocation needs only the keys it names (the same 202 whatever they are) */
    {"POST", "/v1/leaks/github", h_leaks_github, ROUTE_PUBLIC, NULL, 0, 0},
    {"POST", "/v1/keys/revoke", h_keys_revoke, ROUTE_PUBLIC, NULL, 0, 0},
    {"GET", "/v1/me", h_me, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"PATCH", "/v1/me", h_me_update, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"POST", "/v1/me/password", h_me_password, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"POST", "/v1/me/mfa", h_me_mfa_begin, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"DELETE", "/v1/me/mfa", h_me_mfa_disable, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"POST", "/v1/me/mfa/confirm", h_me_mfa_confirm, ROUTE_AUTHENTICATED, "User", 0, KEY_PERSON},
    {"POST", "/v1/me/mfa/recovery-codes", h_me_mfa_recovery_codes, ROUTE_AUTHENTICATED, "User", 0,
     KEY_PERSON},
    {"GET", "/v1/scopes", h_scopes_list, ROUTE_AUTHENTICATED, NULL, 0, 0},
    {"POST", "/v1/scopes", h_scopes_create, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"GET", "/v1/keys", h_keys_list, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    {"POST", "/v1/keys", h_keys_create, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    {"GET", "/v1/keys/{}", h_keys_get, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    {"PATCH", "/v1/keys/{}", h_keys_update, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    {"DELETE", "/v1/keys/{}", h_keys_delete, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    /* who may rotate = who may create and delete: the same scope and key rule */
    {"POST", "/v1/keys/{}/rotate", h_keys_rotate, ROUTE_AUTHENTICATED, "APIKey", 0, 0},
    {"GET", "/v1/users", h_users_list, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"POST", "/v1/users", h_users_create, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/users/{}", h_users_get, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"PATCH", "/v1/users/{}", h_users_update, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/users/{}", h_users_delete, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/users/{}/mfa", h_users_mfa_reset, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/users/{}/keys", h_user_keys_list, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"POST", "/v1/users/{}/keys", h_user_keys_create, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/users/{}/keys/{}", h_user_keys_delete, ROUTE_AUTHENTICATED, "Authentication",
     0, 0},
    {"GET", "/v1/authorities", h_authorities, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/roles", h_roles_list, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"POST", "/v1/roles", h_roles_create, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/roles/{}", h_roles_get, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"PUT", "/v1/roles/{}", h_roles_update, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/roles/{}", h_roles_delete, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/groups", h_groups_list, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"POST", "/v1/groups", h_groups_create, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/groups/{}", h_groups_get, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"PUT", "/v1/groups/{}", h_groups_update, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/groups/{}", h_groups_delete, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/environments", h_environments_list, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"POST", "/v1/environments", h_environments_create, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"GET", "/v1/environments/{}", h_environments_get, ROUTE_AUTHENTICATED, "Authentication", 0, 0},
    {"DELETE", "/v1/environments/{}", h_environments_delete, ROUTE_AUTHENTICATED, "Authentication",
     0, 0},
    {"GET", "/v1/audit", h_audit, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"GET", "/v1/webhooks", h_webhooks_list, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"POST", "/v1/webhooks", h_webhooks_create, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"GET", "/v1/webhooks/{}", h_webhooks_get, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"PATCH", "/v1/webhooks/{}", h_webhooks_update, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"DELETE", "/v1/webhooks/{}", h_webhooks_delete, ROUTE_AUTHENTICATED, "Account", 0,
     KEY_PERSON},
    {"POST", "/v1/webhooks/{}/test", h_webhooks_test, ROUTE_AUTHENTICATED, "Account", 0,
     KEY_PERSON},
    {"GET", "/v1/webhooks/{}/deliveries", h_webhooks_deliveries, ROUTE_AUTHENTICATED, "Account",
     0, KEY_PERSON},
    {"GET", "/v1/projects", h_projects_list, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"POST", "/v1/projects", h_projects_create, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"GET", "/v1/projects/{}", h_projects_get, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"DELETE", "/v1/projects/{}", h_projects_delete, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"GET", "/v1/projects/{}/members", h_project_members_list, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"GET", "/v1/projects/{}/candidates", h_project_candidates, ROUTE_AUTHENTICATED, "Account", 0,
     KEY_PERSON},
    {"GET", "/v1/projects/{}/members/{}", h_project_member_get, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"PUT", "/v1/projects/{}/members/{}", h_project_member_put, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"DELETE", "/v1/projects/{}/members/{}", h_project_member_delete, ROUTE_AUTHENTICATED,
     "Account", 0, KEY_PERSON},
    {"GET", "/v1/service-accounts", h_accounts_list, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"POST", "/v1/service-accounts", h_accounts_create, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"GET", "/v1/service-accounts/{}", h_accounts_get, ROUTE_AUTHENTICATED, "Account", 0, 0},
    {"PATCH", "/v1/service-accounts/{}", h_accounts_update, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"DELETE", "/v1/service-accounts/{}", h_accounts_delete, ROUTE_AUTHENTICATED, "Account", 0, KEY_PERSON},
    {"GET", "/v1/service-accounts/{}/keys", h_account_keys_list, ROUTE_AUTHENTICATED, "APIKey", 0, KEY_OWN_ACCOUNT},
    {"POST", "/v1/service-accounts/{}/keys", h_account_keys_create, ROUTE_AUTHENTICATED, "APIKey",
     0, KEY_OWN_ACCOUNT},
    {"GET", "/v1/service-accounts/{}/keys/{}", h_account_key_get, ROUTE_AUTHENTICATED, "APIKey",
     0, KEY_OWN_ACCOUNT},
    {"DELETE", "/v1/service-accounts/{}/keys/{}", h_account_keys_delete, ROUTE_AUTHENTICATED,
     "APIKey", 0, KEY_OWN_ACCOUNT},
    {"POST", "/v1/service-accounts/{}/keys/{}/rotate", h_account_keys_rotate,
     ROUTE_AUTHENTICATED, "APIKey", 0, KEY_OWN_ACCOUNT},
};

size_t router_route_count(void)
{
    return sizeof routes / sizeof routes[0];
}

int router_route_info(size_t i, struct route_info *out)
{
    if (i >= router_route_count())
        return -1;
    out->method = routes[i].method;
    out->pattern = routes[i].pattern;
    out->authenticated = routes[i].auth == ROUTE_AUTHENTICATED;
    out->key_scope = routes[i].key_scope;
    out->key_callers = routes[i].who == KEY_PERSON        ? "person"
                       : routes[i].who == KEY_OWN_ACCOUNT ? "own-account"
                                                          : "any";
    return 0;
}

/* Matches path against pattern, storing {} segments (NUL-terminated copies) in params. */
static int match(const char *pattern, const char *path, char params[][128])
{
    int n = 0;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t len = strcspn(path, "/");
            if (len == 0 || len >= 128 || n >= HTTP_PATH_PARAMS)
                return 0;
            memcpy(params[n], path, len);
            params[n][len] = '\0';
            n++;
            path += len;
            pattern += 2;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

int request_api_key(const struct request *req, const char **key, size_t *len)
{
    const char *auth = request_header(req, "Authorization");
    const char *xkey = request_header(req, "X-API-Key");
    *key = "";
    *len = 0;
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) == 0) {
            const char *k = auth + 7;
            while (*k == ' ')
                k++;
            size_t l = strlen(k);
            while (l > 0 && k[l - 1] == ' ')
                l--;
            *key = k;
            *len = l;
        }
        return 1;
    }
    if (xkey) {
        *key = xkey;
        *len = strlen(xkey);
        return 1;
    }
    return 0;
}

static int changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* 1 when the route's key_who admits the key caller in req (its scope is checked apart). */
static int key_admitted(const struct route *rt, const struct request *req)
{
    if (strcmp(req->caller.owner_type, "user") == 0 || rt->who == KEY_ANY)
        return 1;
    return rt->who == KEY_OWN_ACCOUNT && strcmp(req->params[0], req->caller.owner_id) == 0;
}

/* The detail of a 403 from key_admitted. */
static const char *key_refusal(const struct route *rt)
{
    if (rt->who == KEY_OWN_ACCOUNT)
        return "an API-account key manages only its own account's keys";
    if (strncmp(rt->pattern, "/v1/me", 6) == 0)
        return "an API-account key does not act as the person who made it: /v1/me is for people";
    if (rt->fn == h_project_candidates)
        return "an API-account key adds no members, so it looks up no candidates";
    return "an API-account key creates and changes no accounts, projects or memberships";
}

/* 1 for the routes where a rotated-out key presented after its overlap is reuse, which
 * revokes its family (core/rotate.h): the rotate endpoints, as GitLab's token families. */
static int reuse_guarded(const struct route *rt)
{
    return rt->fn == h_keys_rotate || rt->fn == h_account_keys_rotate;
}

static enum err authenticate(struct request *req, const struct route *rt, const char **detail,
                             int64_t *retry_after_s)
{
    const char *key;
    size_t len;
    if (request_api_key(req, &key, &len)) {
        int reused = 0;
        enum err e = auth_key(req->core, key, len, req->client, &req->caller, retry_after_s,
                              reuse_guarded(rt) ? &reused : NULL);
        if (reused) {
            *detail = "this API key was rotated out and its overlap has ended; presenting it "
                      "again revoked every key of its family";
            return ERR_UNAUTHENTICATED;
        }
        if (e == ERR_THROTTLED) {
            *detail = "too many invalid keys from this client; try again later";
            return e;
        }
        if (e == ERR_UNAVAILABLE) {
            *detail = "this node cannot be sure its view of the keys is current; retry";
            return e;
        }
        if (e == ERR_STORAGE_FULL || e == ERR_STORE || e == ERR_NOMEM) {
            *detail = NULL; /* the store failed (e.g. a reuse revocation): nothing changed */
            return e;
        }
        if (e) {
            *detail = "the API key is not valid (unknown, deleted, expired or malformed)";
            return ERR_UNAUTHENTICATED;
        }
        if (!key_admitted(rt, req)) {
            *detail = NULL; /* rendered below */
            return ERR_FORBIDDEN;
        }
        if (rt->key_scope && !auth_has_scope(req->core, &req->caller, rt->key_scope)) {
            *detail = rt->key_scope; /* rendered below */
            return ERR_FORBIDDEN;
        }
        return ERR_OK;
    }
    /* every cookie named like the session is tried (a browser may hold an old one besides
     * the current, or both names): the first that is a live session counts */
    const char *tokens[2 * SESSION_COOKIES_MAX];
    int secure = request_cookie_values(req, SESSION_COOKIE_HOST, tokens);
    int plain = secure < 0 ? -1 : request_cookie_values(req, SESSION_COOKIE, tokens + secure);
    if (plain < 0) {
        *detail = "the Cookie header holds more cookies than apikeyd reads (32)";
        return ERR_BAD_REQUEST;
    }
    if (secure + plain == 0) {
        *detail = "log in, or send an API key as Authorization: Bearer <key>";
        return ERR_UNAUTHENTICATED;
    }
    enum err e = ERR_UNAUTHENTICATED;
    for (int i = 0; i < secure + plain && e == ERR_UNAUTHENTICATED; i++)
        e = auth_session(req->core, tokens[i], &req->caller);
    if (err_is_unavailable(e)) {
        *detail = "the store cannot answer now (unreachable or full); retry";
        return e;
    }
    if (e) {
        *detail = "the session has ended; log in again";
        return e;
    }
    if (changes_state(req->method) &&
        !auth_csrf_ok(&req->caller, request_header(req, "X-CSRF-Token"))) {
        *detail = "send the csrf_token from login in the X-CSRF-Token header";
        return ERR_CSRF;
    }
    return ERR_OK;
}

/* How many {} segments pattern has: of the patterns a path matches, those with the fewest
 * are the path's (a literal segment beats a {}: /v1/keys/revoke is not key "revoke"). */
static int wildcards(const char *pattern)
{
    int n = 0;
    for (const char *p = strstr(pattern, "{}"); p; p = strstr(p + 2, "{}"))
        n++;
    return n;
}

void router_match(const char *method, const char *path, struct route_match *m)
{
    m->route = NULL;
    m->allow[0] = '\0';
    int fewest = -1;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && fewest != 0; i++) {
        int w = wildcards(routes[i].pattern);
        if ((fewest < 0 || w < fewest) && match(routes[i].pattern, path, m->params))
            fewest = w;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (wildcards(routes[i].pattern) != fewest || !match(routes[i].pattern, path, m->params))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            m->route = &routes[i];
            return;
        }
        size_t used = strlen(m->allow);
        snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "",
                 routes[i].method);
    }
}

const char *router_route_pattern(size_t i)
{
    return i < router_route_count() ? routes[i].pattern : NULL;
}

int router_route_index(const struct route_match *m)
{
    return m->route ? (int)(m->route - routes) : -1;
}

int router_may_block(const struct route_match *m)
{
    return m->route && !m->route->on_event_thread;
}

_Static_assert(sizeof((struct request *)0)->client == sizeof((struct caller *)0)->client,
               "the request's and the caller's client address buffers differ");

void router_run(struct request *req, struct route_match *m, struct reply *rep)
{
    const struct route *found = m->route;
    if (!found) {
        if (m->allow[0]) {
            reply_problem(rep, ERR_METHOD, "this path does not accept that method", NULL);
            reply_header(rep, "Allow", m->allow);
        } else {
            reply_problem(rep, ERR_NOT_FOUND, "no such endpoint", NULL);
        }
        return;
    }
    for (int i = 0; i < HTTP_PATH_PARAMS; i++)
        req->params[i] = m->params[i];
    if (request_query_too_many(req)) { /* refused, never cut: a dropped filter would widen */
        reply_problem(rep, ERR_BAD_REQUEST, "more than 32 query parameters", NULL);
        return;
    }
    if (request_query_malformed(req)) { /* likewise: an unreadable filter is no filter */
        reply_problem(rep, ERR_BAD_REQUEST,
                      "a query parameter has a malformed percent escape or an encoded NUL", NULL);
        return;
    }
    if (found->auth == ROUTE_AUTHENTICATED) {
        const char *detail = NULL;
        int64_t retry_after = 0;
        enum err e = authenticate(req, found, &detail, &retry_after);
        if (e == ERR_FORBIDDEN) {
            char msg[128];
            if (detail)
                snprintf(msg, sizeof msg, "the API key lacks the scope %s", detail);
            else
                snprintf(msg, sizeof msg, "%s", key_refusal(found));
            reply_problem(rep, e, msg, NULL);
            return;
        }
        if (e) {
            reply_problem(rep, e, detail, NULL);
            if (e == ERR_UNAUTHENTICATED)
                reply_header(rep, "WWW-Authenticate", "Bearer realm=\"apikeyd\"");
            if (e == ERR_THROTTLED) {
                char secs[24];
                snprintf(secs, sizeof secs, "%lld", (long long)retry_after);
                reply_header(rep, "Retry-After", secs);
            }
            return;
        }
    }
    memcpy(req->caller.client, req->client, sizeof req->caller.client); /* same size */
    enum err e = found->fn(req, rep);
    if (e != ERR_OK) {
        reply_release(rep);
        reply_problem(rep, e, e == ERR_STORAGE_FULL ? "the store has no room left; nothing was "
                                                       "changed; retry once there is room"
                                                     : NULL, NULL);
    }
}

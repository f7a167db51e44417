/* h_verify.c — POST /v1/verify (a JSON verdict) and GET /v1/auth (a status for nginx
 * auth_request). Both read only the in-memory index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/timeutil.h"
#include "../core/verify.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

#define VERIFY_KEY_MAX 512

static void owner_text(const struct keyindex_view *v, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%s", v->owner_type, v->owner_id);
}

/* The verdict as JSON, written directly: every value is an id, a validated name or token, a
 * scope name or a time, none of which needs escaping (so no JSON library on the hot path). */
static enum err reply_verdict(struct reply *rep, struct core *core, const struct verify_result *r)
{
    size_t cap = 512 + STORE_SCOPES_BYTES * 2;
    char *body = malloc(cap);
    if (!body)
        return ERR_NOMEM;
    int n = snprintf(body, cap, "{\"valid\":%s,\"code\":\"%s\"",
                     r->code == VERIFY_VALID ? "true" : "false", verify_code_name(r->code));
    if (r->found) {
        char scopes[STORE_SCOPES_BYTES], list[STORE_SCOPES_BYTES * 2];
        char expires[TIME_RFC3339_LEN];
        size_t used = 0;
        verify_scopes_text(core, r->view.scopes, ",", scopes, sizeof scopes);
        for (char *p = scopes, *end; *p; p = *end ? end + 1 : end) {
            end = p + strcspn(p, ",");
            used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%.*s\"",
                                     used ? "," : "", (int)(end - p), p);
        }
        list[used] = '\0';
        time_format_rfc3339(r->view.expires_at, expires);
        n += snprintf(body + n, cap - (size_t)n,
                      ",\"key_id\":\"%s\",\"owner\":{\"type\":\"%s\",\"name\":\"%s\"},"
                      "\"created_by\":\"%s\",\"scopes\":[%s],\"expires_at\":\"%s\"",
                      r->view.id, r->view.owner_type, r->view.owner_id, r->view.created_by, list,
                      expires);
    }
    n += snprintf(body + n, cap - (size_t)n, "}");
    rep->status = 200;
    rep->body = body;
    rep->body_len = (size_t)n;
    rep->content_type = "application/json";
    return ERR_OK;
}

enum err h_verify(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"key", "scope", "project", "role", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    body_reject_unknown(doc, allowed, &fe);
    const char *key = body_string(doc, "key", 1, &fe);
    const char *scope = body_string(doc, "scope", 0, &fe);
    const char *project = body_string(doc, "project", 0, &fe);
    const char *role = body_string(doc, "role", 0, &fe);
    if (role && !project)
        field_errors_add(&fe, "role", "needs a project");
    if (fe.count) {
        reply_problem(rep, ERR_INVALID, NULL, &fe);
        json_decref(doc);
        return ERR_OK;
    }
    struct verify_result r;
    size_t len = strlen(key);
    verify_key_in_project(req->core, key, len > VERIFY_KEY_MAX ? 0 : len, scope, project, role,
                          req->client, &r, NULL);
    json_decref(doc);

    return reply_verdict(rep, req->core, &r);
}

enum err h_auth(struct request *req, struct reply *rep)
{
    const char *key;
    size_t len;
    const char *scope = request_header(req, "X-Required-Scope");
    const char *project = request_header(req, "X-Required-Project");
    const char *role = request_header(req, "X-Required-Role");
    if (!request_api_key(req, &key, &len)) {
        reply_problem(rep, ERR_UNAUTHENTICATED, "send an API key as Authorization: Bearer <key>",
                      NULL);
        reply_header(rep, "WWW-Authenticate", "Bearer realm=\"apikeyd\"");
        return ERR_OK;
    }
    struct verify_result r;
    int64_t retry_after = 0;
    verify_key_in_project(req->core, key, len > VERIFY_KEY_MAX ? 0 : len,
                          scope && *scope ? scope : NULL, project && *project ? project : NULL,
                          role && *role ? role : NULL, req->client, &r, &retry_after);
    if (r.code == VERIFY_RATE_LIMITED) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)retry_after);
        reply_problem(rep, ERR_THROTTLED, "too many invalid keys from this client", NULL);
        reply_header(rep, "Retry-After", secs);
        return ERR_OK;
    }
    if (r.code == VERIFY_UNAVAILABLE) {
        reply_problem(rep, ERR_UNAVAILABLE,
                      "this node cannot be sure its view of the keys is current; retry", NULL);
        reply_header(rep, "Retry-After", "1");
        return ERR_OK;
    }
    if (r.code == VERIFY_INSUFFICIENT_SCOPE || r.code == VERIFY_INSUFFICIENT_ROLE) {
        reply_problem(rep, ERR_FORBIDDEN,
                      r.code == VERIFY_INSUFFICIENT_SCOPE
                          ? "the API key lacks the required scope"
                          : "the key's owner lacks the required role in the project",
                      NULL);
        return ERR_OK;
    }
    if (r.code != VERIFY_VALID) {
        reply_problem(rep, ERR_UNAUTHENTICATED,
                      "the API key is not valid (unknown, deleted, expired or malformed)", NULL);
        reply_header(rep, "WWW-Authenticate", "Bearer realm=\"apikeyd\", error=\"invalid_token\"");
        return ERR_OK;
    }
    char owner[128], scopes[STORE_SCOPES_BYTES];
    owner_text(&r.view, owner, sizeof owner);
    verify_scopes_text(req->core, r.view.scopes, ",", scopes, sizeof scopes);
    reply_empty(rep, 204);
    reply_header(rep, "X-Apikey-Id", r.view.id);
    reply_header(rep, "X-Apikey-Owner", owner);
    reply_header(rep, "X-Apikey-Created-By", r.view.created_by);
    reply_header(rep, "X-Apikey-Scopes", scopes);
    return ERR_OK;
}

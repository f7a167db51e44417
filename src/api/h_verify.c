/* h_verify.c — POST /v1/verify (a JSON verdict) and GET /v1/auth (a status for nginx
 * auth_request). Both read only the in-memory index. */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "../base/flatjson.h"
#include "../base/netaddr.h"
#include "../base/timeutil.h"
#include "../core/verify.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

#define VERIFY_KEY_MAX 512

/* Room for "type:id": both names and the colon (each name's size counts its NUL). */
#define OWNER_TEXT_LEN                                                                             \
    (sizeof((struct keyindex_view *)0)->owner_type + sizeof((struct keyindex_view *)0)->owner_id)

/* "type:id" of the key's owner into out, without printf: /v1/auth writes it for every valid
 * key. */
static void owner_text(const struct keyindex_view *v, char out[OWNER_TEXT_LEN])
{
    size_t t = strlen(v->owner_type), i = strlen(v->owner_id);
    memcpy(out, v->owner_type, t);
    out[t] = ':';
    memcpy(out + t + 1, v->owner_id, i + 1);
}

/* Appends n bytes of s at *used in buf (cap bytes), cutting at the end rather than overflowing
 * (never reached: the buffer is sized for the largest verdict). */
static void put(char *buf, size_t cap, size_t *used, const char *s, size_t n)
{
    if (n > cap - *used)
        n = cap - *used;
    memcpy(buf + *used, s, n);
    *used += n;
}

static void put_str(char *buf, size_t cap, size_t *used, const char *s)
{
    put(buf, cap, used, s, strlen(s));
}

#define PUT_LIT(buf, cap, used, lit) put(buf, cap, used, lit, sizeof lit - 1)

/* The verdict as JSON, written directly: every value is an id, a validated name or token, a
 * scope name or a time, none of which needs escaping (so no JSON library and no printf on the
 * hot path). */
static enum err reply_verdict(struct reply *rep, struct core *core, const struct verify_result *r)
{
    /* written on the stack, then copied into the reply's own buffer (a verdict is a few hundred
     * bytes; one with very many scopes goes to an allocation) */
    char body[512 + STORE_SCOPES_BYTES * 2];
    size_t cap = sizeof body;
    size_t n = 0;
    if (r->code == VERIFY_VALID)
        PUT_LIT(body, cap, &n, "{\"valid\":true,\"code\":\"");
    else
        PUT_LIT(body, cap, &n, "{\"valid\":false,\"code\":\"");
    put_str(body, cap, &n, verify_code_name(r->code));
    PUT_LIT(body, cap, &n, "\"");
    if (r->found) {
        char expires[TIME_RFC3339_LEN];
        PUT_LIT(body, cap, &n, ",\"key_id\":\"");
        put_str(body, cap, &n, r->view.id);
        PUT_LIT(body, cap, &n, "\",\"owner\":{\"type\":\"");
        put_str(body, cap, &n, r->view.owner_type);
        PUT_LIT(body, cap, &n, "\",\"name\":\"");
        put_str(body, cap, &n, r->view.owner_id);
        PUT_LIT(body, cap, &n, "\"},\"created_by\":\"");
        put_str(body, cap, &n, r->view.created_by);
        PUT_LIT(body, cap, &n, "\",\"scopes\":[");
        /* The names joined by "," with the quotes around each written by the separator. */
        if (cap - n > 2) {
            char *list = body + n + 1;
            verify_scopes_text(core, r->view.scopes, "\",\"", list, cap - n - 2);
            size_t len = strlen(list);
            if (len) {
                body[n] = '"';
                n += 1 + len;
                PUT_LIT(body, cap, &n, "\"");
            }
        }
        PUT_LIT(body, cap, &n, "],\"expires_at\":\"");
        time_format_rfc3339(r->view.expires_at, expires);
        put_str(body, cap, &n, expires);
        PUT_LIT(body, cap, &n, "\"");
    }
    PUT_LIT(body, cap, &n, "}");
    return reply_set_body(rep, 200, "application/json", body, n);
}

/* client_ip: the end client's address the calling backend saw (its failures are counted;
 * without it /v1/verify counts nobody's, as the caller is a backend, not the client). */
#define CLIENT_IP_PROBLEM "must be the client's IPv4 or IPv6 address"

static int client_ip_valid(const char *text)
{
    struct netaddr a;
    return netaddr_parse(text, &a);
}

/* Whose address a verification counts (the throttle: NULL is nobody) and records
 * (last_used_from), given the client_ip reported (or NULL). A reported address is honoured
 * only from a caller that is itself in trusted_proxies (req->client_trusted): anyone else
 * holding a key could otherwise push their own address out of its list with made-up ones, so
 * from them both are the caller's own address. Without client_ip nobody is counted (a
 * backend's other clients are never slowed by one of them) and the caller is recorded. */
static void verify_addresses(const struct request *req, const char *reported,
                             const char **counted, const char **from)
{
    if (reported && !req->client_trusted)
        reported = req->client;
    *counted = reported;
    *from = reported ? reported : req->client;
}

/* Longest scope, project or role value the fast path copies; longer ones take the jansson path
 * (which gives the same answer). */
#define VERIFY_NAME_COPY 256

/* Copies m's value NUL-terminated into out[cap]; 0 when it does not fit. */
static int copy_value(const struct flatjson_member *m, char *out, size_t cap)
{
    if (m->value_len >= cap)
        return 0;
    memcpy(out, m->value, m->value_len);
    out[m->value_len] = '\0';
    return 1;
}

/* POST /v1/verify for a body flatjson reads (flat object of plain strings) with the right media
 * type: the same answers as the jansson path. Returns 0 (nothing done) when a value is too long
 * for the stack copies, so the caller takes the jansson path. */
static int verify_flat(struct request *req, struct reply *rep, const struct flatjson_member *m,
                       int count, const char *const *allowed, enum err *result)
{
    const struct flatjson_member *km = flatjson_find(m, count, "key");
    const struct flatjson_member *sm = flatjson_find(m, count, "scope");
    const struct flatjson_member *pm = flatjson_find(m, count, "project");
    const struct flatjson_member *rm = flatjson_find(m, count, "role");
    const struct flatjson_member *cm = flatjson_find(m, count, "client_ip");
    char key[VERIFY_KEY_MAX + 1], scope[VERIFY_NAME_COPY], project[VERIFY_NAME_COPY],
        role[VERIFY_NAME_COPY], client[NETADDR_TEXT_MAX];
    if ((km && km->value_len > VERIFY_KEY_MAX) || (sm && sm->value_len >= sizeof scope) ||
        (pm && pm->value_len >= sizeof project) || (rm && rm->value_len >= sizeof role))
        return 0;
    struct field_errors fe = {0};
    for (int i = 0; i < count; i++) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strlen(*a) == m[i].name_len && memcmp(*a, m[i].name, m[i].name_len) == 0)
                known = 1;
        if (!known) {
            char name[sizeof fe.items[0].field];
            size_t len = m[i].name_len < sizeof name - 1 ? m[i].name_len : sizeof name - 1;
            memcpy(name, m[i].name, len);
            name[len] = '\0';
            field_errors_add(&fe, name, "is not a field this endpoint accepts");
        }
    }
    if (!km)
        field_errors_add(&fe, "key", "is required");
    if (rm && !pm)
        field_errors_add(&fe, "role", "needs a project");
    if (cm && !(copy_value(cm, client, sizeof client) && client_ip_valid(client)))
        field_errors_add(&fe, "client_ip", CLIENT_IP_PROBLEM);
    if (fe.count) {
        reply_problem(rep, ERR_INVALID, NULL, &fe);
        *result = ERR_OK;
        return 1;
    }
    copy_value(km, key, sizeof key);
    if (sm)
        copy_value(sm, scope, sizeof scope);
    if (pm)
        copy_value(pm, project, sizeof project);
    if (rm)
        copy_value(rm, role, sizeof role);
    struct verify_result r;
    const char *counted, *from;
    verify_addresses(req, cm ? client : NULL, &counted, &from);
    verify_key_in_project(req->core, key, km->value_len, sm ? scope : NULL, pm ? project : NULL,
                          rm ? role : NULL, counted, from, &r, NULL);
    sodium_memzero(key, sizeof key);
    *result = reply_verdict(rep, req->core, &r);
    return 1;
}

enum err h_verify(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"key", "scope", "project", "role", "client_ip", NULL};
    struct flatjson_member members[FLATJSON_MAX_MEMBERS];
    int count;
    enum err result;
    if (body_media_type_ok(req) &&
        (count = flatjson_parse(req->body, req->body_len, members)) >= 0 &&
        verify_flat(req, rep, members, count, allowed, &result))
        return result;

    /* Everything else (escapes, other types, bad syntax, wrong media type) the strict way. */
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
    const char *client = body_string(doc, "client_ip", 0, &fe);
    if (role && !project)
        field_errors_add(&fe, "role", "needs a project");
    if (client && !client_ip_valid(client))
        field_errors_add(&fe, "client_ip", CLIENT_IP_PROBLEM);
    if (fe.count) {
        reply_problem(rep, ERR_INVALID, NULL, &fe);
        body_wipe_string(doc, "key");
        json_decref(doc);
        return ERR_OK;
    }
    struct verify_result r;
    size_t len = strlen(key);
    const char *counted, *from;
    verify_addresses(req, client, &counted, &from);
    verify_key_in_project(req->core, key, len > VERIFY_KEY_MAX ? 0 : len, scope, project, role,
                          counted, from, &r, NULL);
    body_wipe_string(doc, "key"); /* jansson's copy of the secret */
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
    if (role && *role && !(project && *project)) { /* refuse rather than ignore the role */
        reply_problem(rep, ERR_BAD_REQUEST, "X-Required-Role needs X-Required-Project", NULL);
        return ERR_OK;
    }
    if (!scope || !*scope) { /* fail closed: a proxy that forgot the header lets nothing by */
        reply_problem(rep, ERR_BAD_REQUEST,
                      "send X-Required-Scope: the scope this API needs, or * for any valid key",
                      NULL);
        return ERR_OK;
    }
    if (strcmp(scope, "*") == 0)
        scope = NULL; /* asked for explicitly: any valid key */
    if (!request_api_key(req, &key, &len)) {
        reply_problem(rep, ERR_UNAUTHENTICATED, "send an API key as Authorization: Bearer <key>",
                      NULL);
        reply_header(rep, "WWW-Authenticate", "Bearer realm=\"apikeyd\"");
        return ERR_OK;
    }
    struct verify_result r;
    int64_t retry_after = 0;
    verify_key_in_project(req->core, key, len > VERIFY_KEY_MAX ? 0 : len,
                          scope, project && *project ? project : NULL,
                          role && *role ? role : NULL, req->client, req->client, &r,
                          &retry_after);
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
    char owner[OWNER_TEXT_LEN], scopes[STORE_SCOPES_BYTES];
    owner_text(&r.view, owner);
    verify_scopes_text(req->core, r.view.scopes, ",", scopes, sizeof scopes);
    reply_empty(rep, 204);
    reply_header(rep, "X-Apikey-Id", r.view.id);
    reply_header(rep, "X-Apikey-Owner", owner);
    reply_header(rep, "X-Apikey-Created-By", r.view.created_by);
    reply_header(rep, "X-Apikey-Scopes", scopes);
    return ERR_OK;
}

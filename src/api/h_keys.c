/* h_keys.c — /v1/keys: list, create and rotate (secret shown once), read, rename, delete. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/timeutil.h"
#include "../core/accounts.h"
#include "../core/keys.h"
#include "../core/rotate.h"
#include "body.h"
#include "handlers.h"
#include "keys_json.h"
#include "render.h"

static int list_one(void *ctx, const struct key_record *k)
{
    return json_array_append_new((json_t *)ctx, render_key(k)) != 0;
}

enum err h_keys_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = keys_list(req->core, &req->caller, list_one, list);
    if (e) {
        json_decref(list);
        return e;
    }
    return reply_json(rep, 200, json_pack("{s:o}", "keys", list));
}

/* Reads the scopes array into names (at most SCOPES_MAX + 1, so "too many" is detectable). */
static size_t read_scopes(json_t *doc, const char **names, size_t cap, struct field_errors *fe)
{
    json_t *scopes = json_object_get(doc, "scopes");
    if (!scopes || json_is_null(scopes)) {
        field_errors_add(fe, "scopes", "is required");
        return 0;
    }
    if (!json_is_array(scopes)) {
        field_errors_add(fe, "scopes", "must be a list of scope names");
        return 0;
    }
    size_t n = json_array_size(scopes);
    if (n > cap) {
        field_errors_add(fe, "scopes", "must name at most 64 scopes");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(scopes, i);
        if (!json_is_string(item)) {
            field_errors_add(fe, "scopes", "must be a list of scope names");
            return 0;
        }
        names[i] = json_string_value(item);
    }
    if (n == 0)
        field_errors_add(fe, "scopes", "must name at least one scope");
    return n;
}

/* Builds the create response: the key object with the secret spliced in as "key", so the
 * secret never sits in a jansson string. The body is wiped when the reply is released. */
static enum err reply_created(struct reply *rep, const struct key_record *k, const char *secret,
                              const char *account_id)
{
    char location[160];
    if (account_id)
        snprintf(location, sizeof location, "/v1/service-accounts/%s/keys/%s", account_id, k->id);
    else
        snprintf(location, sizeof location, "/v1/keys/%s", k->id);
    return reply_created_secret(rep, render_key(k), JSON_COMPACT, "key", secret, location);
}

enum err h_keys_create(struct request *req, struct reply *rep)
{
    return keys_json_create(req, rep, NULL);
}

enum err keys_json_create(struct request *req, struct reply *rep, const char *account_id)
{
    static const char *const allowed[] = {"name", "description", "scopes", "expires_at", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    const char *names[64 + 1];
    struct key_input in = {0};
    body_reject_unknown(doc, allowed, &fe);
    in.name = body_string(doc, "name", 1, &fe);
    in.description = body_string(doc, "description", 0, &fe);
    in.scopes = names;
    in.scope_count = read_scopes(doc, names, 64, &fe);
    const char *expires = body_string(doc, "expires_at", 0, &fe);
    if (expires) {
        in.has_expires_at = 1;
        if (time_parse_rfc3339(expires, &in.expires_at) != 0)
            field_errors_add(&fe, "expires_at", "must be an RFC 3339 date-time");
    }
    struct key_record *k = malloc(sizeof *k);
    char secret[KEYFMT_MAX_LEN + 1];
    if (!k) {
        json_decref(doc);
        return ERR_NOMEM;
    }
    e = account_id ? accounts_key_create(req->core, &req->caller, account_id, &in, &fe, k, secret)
                   : keys_create(req->core, &req->caller, &in, &fe, k, secret);
    json_decref(doc);
    if (e == ERR_OK) {
        e = reply_created(rep, k, secret, account_id);
        sodium_memzero(secret, sizeof secret);
    } else if (e == ERR_INVALID) {
        reply_problem(rep, e, NULL, &fe);
        e = ERR_OK;
    } else if (e == ERR_FORBIDDEN) {
        reply_problem(rep, e,
                      "a key can only grant scopes it holds itself, for an owner that"
                      " exists and is enabled",
                      NULL);
        e = ERR_OK;
    } else if (e == ERR_CONFLICT) {
        reply_problem(rep, e, "the owner already has a key with this name (or is disabled)", NULL);
        e = ERR_OK;
    } else if (e == ERR_LIMIT) {
        reply_problem(rep, e, "you have the maximum number of keys; delete one first", NULL);
        e = ERR_OK;
    }
    free(k);
    return e;
}

enum err h_keys_rotate(struct request *req, struct reply *rep)
{
    return keys_json_rotate(req, rep, NULL, req->params[0]);
}

/* Reads overlap_seconds (a whole number; the range is core's) and expires_at into in. */
static void read_rotate_input(json_t *doc, struct rotate_input *in, struct field_errors *fe)
{
    static const char *const allowed[] = {"overlap_seconds", "expires_at", NULL};
    body_reject_unknown(doc, allowed, fe);
    json_t *overlap = json_object_get(doc, "overlap_seconds");
    if (overlap && !json_is_null(overlap)) {
        if (json_is_integer(overlap)) {
            in->has_overlap = 1;
            in->overlap_seconds = (int64_t)json_integer_value(overlap);
        } else {
            field_errors_add(fe, "overlap_seconds",
                             "must be a whole number of seconds from 0 to 604800");
        }
    }
    const char *expires = body_string(doc, "expires_at", 0, fe);
    if (expires) {
        in->has_expires_at = 1;
        if (time_parse_rfc3339(expires, &in->expires_at) != 0)
            field_errors_add(fe, "expires_at", "must be an RFC 3339 date-time");
    }
}

enum err keys_json_rotate(struct request *req, struct reply *rep, const char *account_id,
                          const char *key_id)
{
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    struct rotate_input in = {0};
    read_rotate_input(doc, &in, &fe);
    json_decref(doc);
    struct key_record *k = malloc(sizeof *k);
    char secret[KEYFMT_MAX_LEN + 1];
    if (!k)
        return ERR_NOMEM;
    const char *why = NULL;
    e = account_id ? accounts_key_rotate(req->core, &req->caller, account_id, key_id, &in, &fe, k,
                                         secret, &why)
                   : rotate_key(req->core, &req->caller, key_id, &in, &fe, k, secret, &why);
    if (e == ERR_OK) {
        e = reply_created(rep, k, secret, account_id);
        sodium_memzero(secret, sizeof secret);
    } else if (e == ERR_INVALID) {
        reply_problem(rep, e, NULL, &fe);
        e = ERR_OK;
    } else if (e == ERR_FORBIDDEN) {
        reply_problem(rep, e,
                      "a key can only pass on scopes it holds itself, for an owner that exists"
                      " and is enabled",
                      NULL);
        e = ERR_OK;
    } else if (e == ERR_CONFLICT) {
        reply_problem(rep, e, why ? why : "the key cannot be rotated now", NULL);
        e = ERR_OK;
    } else if (e == ERR_LIMIT) {
        reply_problem(rep, e,
                      "the owner has the maximum number of keys (rotated-out keys count until "
                      "deleted); delete one first",
                      NULL);
        e = ERR_OK;
    }
    free(k);
    return e;
}

enum err h_keys_get(struct request *req, struct reply *rep)
{
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    enum err e = keys_get(req->core, &req->caller, req->params[0], k);
    if (e == ERR_OK)
        e = reply_json(rep, 200, render_key(k));
    free(k);
    return e;
}

enum err h_keys_update(struct request *req, struct reply *rep)
{
    /* scopes and expires_at are named so that they get their own explanation */
    static const char *const known[] = {"name", "description", "scopes", "expires_at", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    struct field_errors fe = {0};
    enum err e = body_object(req, &doc, &detail);
    if (e) {
        reply_problem(rep, e, detail, NULL);
        return ERR_OK;
    }
    if (body_has(doc, "scopes"))
        field_errors_add(&fe, "scopes", "cannot change after a key is made; make a new key");
    if (body_has(doc, "expires_at"))
        field_errors_add(&fe, "expires_at", "cannot change after a key is made; make a new key");
    body_reject_unknown(doc, known, &fe);
    struct key_patch p = {0};
    p.name = body_string(doc, "name", 0, &fe);
    if (body_has(doc, "name") && !p.name && !field_errors_has(&fe, "name"))
        field_errors_add(&fe, "name", "must not be null");
    p.set_description = body_has(doc, "description");
    p.description = body_string(doc, "description", 0, &fe);
    struct key_record *k = fe.count ? NULL : malloc(sizeof *k);
    if (fe.count) {
        reply_problem(rep, ERR_INVALID, NULL, &fe);
        e = ERR_OK;
    } else if (!k) {
        e = ERR_NOMEM;
    } else {
        e = keys_update(req->core, &req->caller, req->params[0], &p, &fe, k);
        if (e == ERR_OK)
            e = reply_json(rep, 200, render_key(k));
        else if (e == ERR_INVALID)
            reply_problem(rep, e, NULL, &fe), e = ERR_OK;
        else if (e == ERR_CONFLICT)
            reply_problem(rep, e, "you already have a key with this name", NULL), e = ERR_OK;
    }
    free(k);
    json_decref(doc);
    return e;
}

enum err h_keys_delete(struct request *req, struct reply *rep)
{
    enum err e = keys_delete(req->core, &req->caller, req->params[0]);
    if (e == ERR_OK)
        reply_empty(rep, 204);
    return e;
}

/* h_leaks.c — leaked keys: POST /v1/leaks/github (GitHub's secret scanning partner protocol:
 * a signed report in, a label per token out) and POST /v1/keys/revoke (anyone holding keys
 * revokes them; the same 202 whatever was sent). Both are public routes: the first is
 * authenticated by GitHub's signature over the raw body, the second needs none. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "../core/audit.h"
#include "../core/keyfmt.h"
#include "../core/leaks.h"
#include "../core/scanning_keys.h"
#include "body.h"
#include "handlers.h"

/* ---- POST /v1/leaks/github ---- */

/* Wipes the token strings of a report (they are keys, leaked or not) before it is freed. */
static void wipe_tokens(json_t *report)
{
    size_t i;
    json_t *entry;
    json_array_foreach(report, i, entry)
    {
        if (json_is_object(entry))
            body_wipe_string(entry, "token");
    }
}

/* A string member of a report entry within max bytes, without NULs or (text) control
 * characters: NULL (with a problem in fe unless optional and absent) otherwise. */
static const char *entry_string(json_t *entry, size_t index, const char *member, size_t max,
                                int required, int text, struct field_errors *fe)
{
    char field[64];
    snprintf(field, sizeof field, "[%zu].%s", index, member);
    json_t *v = json_object_get(entry, member);
    if (!v || (!required && json_is_null(v))) {
        if (required)
            field_errors_add(fe, field, "is required");
        return NULL;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || strlen(s) != json_string_length(v) || json_string_length(v) == 0)
        field_errors_add(fe, field, "must be a non-empty string without NUL characters");
    else if (json_string_length(v) > max)
        field_errors_add(fe, field, "is longer than apikeyd accepts");
    else if (text && text_has_control(s, 0))
        field_errors_add(fe, field, "must not contain control characters");
    else
        return s;
    return NULL;
}

/* Checks every entry of a report: {token, type, url?, source?} (other members are GitHub's to
 * add and are ignored). */
static void check_report(json_t *report, struct field_errors *fe)
{
    size_t i;
    json_t *entry;
    json_array_foreach(report, i, entry)
    {
        if (!json_is_object(entry)) {
            char field[32];
            snprintf(field, sizeof field, "[%zu]", i);
            field_errors_add(fe, field, "must be an object {token, type, url, source}");
            continue;
        }
        entry_string(entry, i, "token", LEAKS_TOKEN_MAX, 1, 0, fe);
        entry_string(entry, i, "type", LEAKS_TYPE_MAX, 1, 1, fe);
        entry_string(entry, i, "url", LEAKS_URL_MAX, 0, 1, fe);
        entry_string(entry, i, "source", LEAKS_SOURCE_MAX, 0, 1, fe);
    }
}

/* Revokes what the checked report names and builds GitHub's answer: per token its SHA-256 in
 * hex, its type and the label. A token named twice gets its first label. */
static enum err answer_report(struct request *req, json_t *report, json_t *out)
{
    size_t n = json_array_size(report);
    uint8_t(*hashes)[STORE_HASH_LEN] = malloc((n ? n : 1) * STORE_HASH_LEN);
    enum leak_label *labels = malloc((n ? n : 1) * sizeof *labels);
    enum err e = hashes && labels ? ERR_OK : ERR_NOMEM;
    for (size_t i = 0; !e && i < n; i++) {
        json_t *entry = json_array_get(report, i);
        json_t *token = json_object_get(entry, "token");
        json_t *url = json_object_get(entry, "url");
        json_t *source = json_object_get(entry, "source");
        keyfmt_hash(json_string_value(token), json_string_length(token), hashes[i]);
        size_t first = 0;
        while (first < i && memcmp(hashes[first], hashes[i], STORE_HASH_LEN) != 0)
            first++;
        struct leak_report by = {GITHUB_ACTOR, req->client,
                                 json_is_string(url) ? json_string_value(url) : NULL,
                                 json_is_string(source) ? json_string_value(source) : NULL};
        if (first < i)
            labels[i] = labels[first];
        else
            e = leaks_revoke(req->core, hashes[i], &by, &labels[i]);
        char hex[2 * STORE_HASH_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, hashes[i], STORE_HASH_LEN);
        if (!e && json_array_append_new(
                      out, json_pack("{s:s, s:O, s:s}", "token_hash", hex, "token_type",
                                     json_object_get(entry, "type"), "label",
                                     labels[i] == LEAK_TRUE_POSITIVE ? "true_positive"
                                                                     : "false_positive")) != 0)
            e = ERR_NOMEM;
    }
    if (hashes)
        sodium_memzero(hashes, (n ? n : 1) * STORE_HASH_LEN);
    free(hashes);
    free(labels);
    return e;
}

enum err h_leaks_github(struct request *req, struct reply *rep)
{
    if (!leaks_github_enabled(req->core)) /* off: as if the route did not exist */
        return reply_error(rep, ERR_NOT_FOUND, "no such endpoint", NULL);
    const char *why = NULL;
    int64_t retry_after = 0;
    enum err e = leaks_github_verify(req->core, req->client,
                                     request_header(req, "Github-Public-Key-Identifier"),
                                     request_header(req, "Github-Public-Key-Signature"),
                                     req->body ? req->body : "", req->body ? req->body_len : 0,
                                     &why, &retry_after);
    if (e == ERR_THROTTLED)
        return reply_throttled(rep, retry_after, why);
    if (e)
        return reply_error(rep, e, why, NULL);
    /* from here the report is GitHub's: read it strictly */
    if (!body_media_type_ok(req))
        return reply_error(rep, ERR_MEDIA_TYPE, "a report is sent as application/json", NULL);
    json_error_t jerr;
    json_t *report =
        req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_array(report)) {
        if (report)
            wipe_tokens(report);
        json_decref(report);
        return reply_error(rep, ERR_MALFORMED_JSON,
                           "a report is a JSON array of {token, type, url, source}", NULL);
    }
    struct field_errors fe = {0};
    if (json_array_size(report) > LEAKS_REPORT_MAX)
        field_errors_add(&fe, "report", "lists more than 1000 tokens");
    else
        check_report(report, &fe);
    json_t *out = fe.count ? NULL : json_array();
    if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else if (!out)
        e = ERR_NOMEM;
    else if (!(e = answer_report(req, report, out)))
        e = reply_json(rep, 200, json_incref(out));
    json_decref(out);
    wipe_tokens(report);
    json_decref(report);
    return e;
}

/* ---- POST /v1/keys/revoke ---- */

/* The answer to every accepted request, whatever keys it listed. */
static const char revoke_accepted[] =
    "{\"status\":\"accepted\",\"detail\":\"every key listed that is a live apikeyd key is"
    " revoked within moments; this answer is the same whatever was listed\"}";

/* Reads {keys: [...]} into keys and lens (at most LEAKS_REVOKE_KEYS_MAX); the count, with
 * problems in fe. */
static size_t read_keys(json_t *doc, const char **keys, size_t *lens, struct field_errors *fe)
{
    json_t *list = json_object_get(doc, "keys");
    if (!list || json_is_null(list)) {
        field_errors_add(fe, "keys", "is required");
        return 0;
    }
    if (!json_is_array(list)) {
        field_errors_add(fe, "keys", "must be a list of keys");
        return 0;
    }
    size_t n = json_array_size(list);
    if (n == 0 || n > LEAKS_REVOKE_KEYS_MAX) {
        field_errors_add(fe, "keys", "must list from 1 to 1000 keys");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        size_t len = json_is_string(item) ? json_string_length(item) : 0;
        if (!json_is_string(item) || len == 0 || len > LEAKS_REVOKE_KEY_MAX ||
            strlen(json_string_value(item)) != len) {
            field_errors_add(fe, "keys", "must hold strings of 1 to 66 bytes (no key is longer)");
            return 0;
        }
        keys[i] = json_string_value(item);
        lens[i] = len;
    }
    return n;
}

/* Wipes every string of doc's keys list before it is freed. */
static void wipe_keys(json_t *doc)
{
    json_t *list = json_object_get(doc, "keys");
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (json_is_string(item))
            sodium_memzero((void *)json_string_value(item), json_string_length(item));
    }
}

enum err h_keys_revoke(struct request *req, struct reply *rep)
{
    static const char *const allowed[] = {"keys", NULL};
    json_t *doc = NULL;
    const char *detail = NULL;
    enum err e = body_object(req, &doc, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    struct field_errors fe = {0};
    body_reject_unknown(doc, allowed, &fe);
    const char **keys = malloc(LEAKS_REVOKE_KEYS_MAX * sizeof *keys);
    size_t *lens = malloc(LEAKS_REVOKE_KEYS_MAX * sizeof *lens);
    size_t n = keys && lens ? read_keys(doc, keys, lens, &fe) : 0;
    int64_t retry_after = 0;
    if (!keys || !lens)
        e = ERR_NOMEM;
    else if (fe.count)
        e = reply_error(rep, ERR_INVALID, NULL, &fe);
    else if ((e = leaks_revoke_later(req->core, keys, lens, n, req->client, &retry_after)) ==
             ERR_THROTTLED)
        e = reply_throttled(
            rep, retry_after,
            "too many revocations asked for (from this client, or in all); try again later");
    else if (!e)
        e = reply_set_body(rep, 202, "application/json", revoke_accepted,
                           sizeof revoke_accepted - 1);
    free(keys);
    free(lens);
    wipe_keys(doc);
    json_decref(doc);
    return e;
}

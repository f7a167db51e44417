/* body.c — see body.h. */
#include "body.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

static int is_json_media_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t len = strcspn(ct, "; ");
    return len == strlen("application/json") && strncasecmp(ct, "application/json", len) == 0;
}

int body_media_type_ok(const struct request *req)
{
    return is_json_media_type(request_header(req, "Content-Type"));
}

enum err body_object(const struct request *req, json_t **out, const char **detail)
{
    if (!body_media_type_ok(req)) {
        *detail = "the body must be sent as Content-Type: application/json";
        return ERR_MEDIA_TYPE;
    }
    if (!req->body || req->body_len == 0) {
        *detail = "the request needs a JSON object body";
        return ERR_MALFORMED_JSON;
    }
    json_error_t error;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (!doc) {
        *detail = "the body is not valid JSON (or repeats a member)";
        return ERR_MALFORMED_JSON;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        *detail = "the body must be a JSON object";
        return ERR_MALFORMED_JSON;
    }
    *out = doc;
    return ERR_OK;
}

void body_reject_unknown(json_t *obj, const char *const *allowed, struct field_errors *fe)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        (void)value;
        int known = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                known = 1;
        if (!known) {
            field_errors_add(fe, key, "is not a field this endpoint accepts");
        }
    }
}

const char *body_string(json_t *obj, const char *field, int required, struct field_errors *fe)
{
    json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v)) {
        if (required)
            field_errors_add(fe, field, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        field_errors_add(fe, field, "must be a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        field_errors_add(fe, field, "must not contain NUL characters");
        return NULL;
    }
    return s;
}

int body_has(json_t *obj, const char *field)
{
    return json_object_get(obj, field) != NULL;
}

size_t body_string_list(json_t *obj, const char *field, const char **names, size_t cap,
                        int *present, struct field_errors *fe)
{
    json_t *list = json_object_get(obj, field);
    *present = list && !json_is_null(list);
    if (!*present)
        return 0;
    if (!json_is_array(list)) {
        field_errors_add(fe, field, "must be a list of names");
        return 0;
    }
    size_t n = json_array_size(list);
    if (n > cap) {
        field_errors_add(fe, field, "lists too many names");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
            field_errors_add(fe, field, "must be a list of names");
            return 0;
        }
        names[i] = json_string_value(item);
    }
    return n;
}

int body_bool(json_t *obj, const char *field, struct field_errors *fe)
{
    json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v))
        return -1;
    if (!json_is_boolean(v)) {
        field_errors_add(fe, field, "must be true or false");
        return -1;
    }
    return json_is_true(v);
}

void body_wipe_string(json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    if (json_is_string(v))
        sodium_memzero((void *)json_string_value(v), json_string_length(v));
}

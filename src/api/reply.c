/* reply.c — building replies: JSON bodies, empty bodies and problem documents. */
#include "http.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Empties r but for its request id. */
static void reply_clear(struct reply *r)
{
    r->status = 0;
    r->body = NULL;
    r->body_len = 0;
    r->body_borrowed = 0;
    r->wipe = 0;
    r->content_type = NULL;
    r->problem = ERR_OK;
    r->header_count = 0;
    r->header_used = 0;
}

void reply_init(struct reply *r)
{
    reply_clear(r);
    r->request_id[0] = '\0';
}

/* Frees the body unless it is borrowed; leaves r without one. */
static void drop_body(struct reply *r)
{
    if (!r->body_borrowed)
        free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->body_borrowed = 0;
}

enum err reply_set_body(struct reply *r, int status, const char *content_type, const char *text,
                        size_t len)
{
    drop_body(r);
    if (len <= sizeof r->inline_body) {
        memcpy(r->inline_body, text, len);
        r->body = r->inline_body;
        r->body_borrowed = 1;
    } else {
        r->body = malloc(len);
        if (!r->body)
            return ERR_NOMEM;
        memcpy(r->body, text, len);
    }
    r->body_len = len;
    r->status = status;
    r->content_type = content_type;
    return ERR_OK;
}

void reply_take_body(struct reply *r, int status, const char *content_type, char *text,
                     size_t len)
{
    drop_body(r);
    r->body = text;
    r->body_len = len;
    r->status = status;
    r->content_type = content_type;
}

void reply_set_static(struct reply *r, int status, const char *content_type, const void *data,
                      size_t len)
{
    drop_body(r);
    r->body = (char *)data; /* never written: static bodies are not wiped */
    r->body_len = len;
    r->body_borrowed = 1;
    r->status = status;
    r->content_type = content_type;
}

void reply_header(struct reply *r, const char *name, const char *value)
{
    size_t nlen = strlen(name) + 1, vlen = strlen(value) + 1;
    if (r->header_count >= REPLY_HEADERS_MAX || r->header_used + nlen + vlen > REPLY_HEADER_BYTES)
        return;
    char *n = r->header_text + r->header_used;
    memcpy(n, name, nlen);
    memcpy(n + nlen, value, vlen);
    r->header_used += nlen + vlen;
    r->headers[r->header_count].name = n;
    r->headers[r->header_count].value = n + nlen;
    r->header_count++;
}

enum err reply_json(struct reply *r, int status, json_t *obj)
{
    if (!obj)
        return ERR_NOMEM;
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return ERR_NOMEM;
    drop_body(r);
    r->status = status;
    r->body = text;
    r->body_len = strlen(text);
    r->content_type = "application/json";
    return ERR_OK;
}

void reply_empty(struct reply *r, int status)
{
    drop_body(r);
    r->status = status;
    r->content_type = NULL;
}

void reply_problem(struct reply *r, enum err e, const char *detail, const struct field_errors *fe)
{
    char type[96];
    snprintf(type, sizeof type, "urn:apikeyd:problem:%s", err_slug(e));
    int status = err_http_status(e);
    char joined[1024] = "";
    if (!detail && fe && fe->count) { /* "name: must not be empty; scopes: ..." */
        size_t used = 0;
        for (size_t i = 0; i < fe->count && used < sizeof joined; i++) {
            int n = snprintf(joined + used, sizeof joined - used, "%s%s: %s", i ? "; " : "",
                             fe->items[i].field, fe->items[i].detail);
            if (n < 0)
                break;
            used += (size_t)n;
        }
        detail = joined;
    }
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", err_title(e), "status",
                            status, "detail", detail ? detail : err_title(e));
    if (doc && fe && fe->count) {
        json_t *list = json_array();
        for (size_t i = 0; i < fe->count; i++)
            json_array_append_new(list, json_pack("{s:s, s:s}", "field", fe->items[i].field,
                                                  "detail", fe->items[i].detail));
        json_object_set_new(doc, "errors", list);
    }
    if (doc && r->request_id[0]) {
        char instance[REQUEST_ID_MAX + 32];
        snprintf(instance, sizeof instance, "urn:apikeyd:request:%s", r->request_id);
        json_object_set_new(doc, "instance", json_string(instance));
    }
    if (reply_json(r, status, doc) != ERR_OK) {
        static const char fallback[] = "{\"type\":\"urn:apikeyd:problem:internal\",\"title\":"
                                       "\"Internal server error\",\"status\":500,\"detail\":"
                                       "\"out of memory\"}";
        reply_set_static(r, 500, NULL, fallback, sizeof fallback - 1);
    }
    r->content_type = "application/problem+json";
    r->problem = e;
}

void reply_release(struct reply *r)
{
    if (r->body && r->wipe)
        sodium_memzero(r->body, r->body_len);
    drop_body(r);
    sodium_memzero(r->header_text, r->header_used); /* Set-Cookie holds a session token */
    reply_clear(r);
}

enum err reply_error(struct reply *r, enum err e, const char *detail,
                     const struct field_errors *fe)
{
    reply_release(r);
    reply_problem(r, e, detail, e == ERR_INVALID ? fe : NULL);
    return ERR_OK;
}

enum err reply_throttled(struct reply *r, int64_t retry_after_s, const char *detail)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)(retry_after_s > 0 ? retry_after_s : 1));
    reply_error(r, ERR_THROTTLED, detail, NULL);
    reply_header(r, "Retry-After", secs);
    return ERR_OK;
}

enum err reply_created_secret(struct reply *r, json_t *obj, size_t dump_flags, const char *field,
                              const char *secret, const char *location)
{
    char *rest = obj ? json_dumps(obj, dump_flags) : NULL;
    json_decref(obj);
    if (!rest)
        return ERR_NOMEM;
    size_t len = strlen("{\"\":\"\",") + strlen(field) + strlen(secret) + strlen(rest + 1);
    char *body = malloc(len + 1);
    if (!body) {
        free(rest);
        return ERR_NOMEM;
    }
    snprintf(body, len + 1, "{\"%s\":\"%s\",%s", field, secret, rest + 1);
    free(rest);
    r->status = 201;
    r->body = body;
    r->body_len = len;
    r->wipe = 1;
    r->content_type = "application/json";
    reply_header(r, "Location", location);
    return ERR_OK;
}

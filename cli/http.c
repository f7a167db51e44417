/* http.c — see http.h. JSON in and out with libcurl: no redirects followed, bounded times, the
 * answer capped at 8 MiB; the key travels only in the Authorization header. */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (8u << 20)

struct buf {
    char *data;
    size_t len;
    int too_big;
};

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    struct buf *b = ctx;
    size_t add = size * n;
    if (b->len + add > MAX_ANSWER) {
        b->too_big = 1;
        return 0;
    }
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, p, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

int api_open(struct api *a, const char *server)
{
    snprintf(a->server, sizeof a->server, "%s", server);
    size_t n = strlen(a->server);
    while (n > 0 && a->server[n - 1] == '/')
        a->server[--n] = '\0';
    a->curl = curl_easy_init();
    if (!a->curl)
        return -1;
    curl_easy_setopt(a->curl, CURLOPT_COOKIEFILE, ""); /* cookies in memory only */
    curl_easy_setopt(a->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(a->curl, CURLOPT_USERAGENT, "apikey-cli");
    return 0;
}

static void read_problem(struct reply *r)
{
    const char *type = json_string_value(json_object_get(r->body, "type"));
    const char *title = json_string_value(json_object_get(r->body, "title"));
    const char *detail = json_string_value(json_object_get(r->body, "detail"));
    const char *prefix = "urn:apikeyd:problem:";
    if (type && strncmp(type, prefix, strlen(prefix)) == 0)
        snprintf(r->problem, sizeof r->problem, "%s", type + strlen(prefix));
    json_t *errors = json_object_get(r->body, "errors");
    int listed = json_array_size(errors) > 0; /* then the fields say it, one per line */
    snprintf(r->message, sizeof r->message, "%s%s%s", title ? title : "refused",
             detail && *detail && !listed ? ": " : "", detail && !listed ? detail : "");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) { /* each field's problem, as a person reads them */
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *why = json_string_value(json_object_get(e, "detail"));
        size_t used = strlen(r->message);
        if (field && why && used + 8 < sizeof r->message)
            snprintf(r->message + used, sizeof r->message - used, "\n  %s: %s", field, why);
    }
}

long api_call(struct api *a, const char *method, const char *path, json_t *body,
              struct reply *r)
{
    memset(r, 0, sizeof *r);
    char url[2048];
    snprintf(url, sizeof url, "%s%s", a->server, path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *h = NULL;
    char line[512];
    h = curl_slist_append(h, "Accept: application/json");
    if (text)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (a->token[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", a->token);
        h = curl_slist_append(h, line);
    } else if (a->csrf[0]) {
        snprintf(line, sizeof line, "X-CSRF-Token: %s", a->csrf);
        h = curl_slist_append(h, line);
    }
    explicit_bzero(line, sizeof line);
    struct buf b = {0};
    CURL *c = a->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); /* resets the last call's body */
    if (text) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h); /* the bearer line is in a freed list node: curl holds no copy */
    if (text) {
        explicit_bzero(text, strlen(text)); /* may hold a password or a key */
        free(text);
    }
    if (rc != CURLE_OK) {
        snprintf(r->message, sizeof r->message, "cannot reach %s: %s", a->server,
                 b.too_big ? "the answer is too large" : curl_easy_strerror(rc));
        free(b.data);
        return r->status = 0;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (b.len) {
        json_error_t err;
        r->body = json_loadb(b.data, b.len, 0, &err);
        explicit_bzero(b.data, b.len); /* a create's answer holds the new key */
    }
    free(b.data);
    if (r->status >= 400)
        read_problem(r);
    return r->status;
}

void reply_free(struct reply *r)
{
    json_decref(r->body);
    r->body = NULL;
}

void api_close(struct api *a)
{
    explicit_bzero(a->token, sizeof a->token);
    explicit_bzero(a->csrf, sizeof a->csrf);
    if (a->curl)
        curl_easy_cleanup(a->curl);
    a->curl = NULL;
}

void url_segment(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

/* http.c — see http.h. JSON in and out with libcurl: no redirects followed, bounded times, the
 * answer capped at 8 MiB, every control character in it replaced before anything prints it;
 * the key travels only in the Authorization header, and plain http only to loopback. */
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (8u << 20)

struct buf {
    char *data;
    size_t len, cap;
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
    if (b->len + add + 1 > b->cap) { /* doubling: linear work however the answer is cut up */
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* Whether host (as libcurl's URL parser gives it: IPv6 in brackets) is this machine's loopback. */
static int loopback_host(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    char inner[64];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (n > 2 && n < sizeof inner && host[0] == '[' && host[n - 1] == ']') {
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        return inet_pton(AF_INET6, inner, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return 0;
}

int api_server_allowed(const char *server, char *why, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, server, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcmp(scheme, "https") == 0)
            ok = 1;
        else if (strcmp(scheme, "http") == 0 && loopback_host(host))
            ok = 1;
        else if (strcmp(scheme, "http") == 0)
            snprintf(why, cap, "%s is plain http to another machine: the key and password would "
                     "cross the network in clear; use https://", server);
        else
            snprintf(why, cap, "%s: the server must be an https:// (or loopback http://) URL",
                     server);
    } else {
        snprintf(why, cap, "%s is not a URL such as https://apikeyd.example.com", server);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* Replaces, in every string of j, each control character (C0, DEL, and C1 in UTF-8) with '?':
 * a server's key names and messages cannot drive the terminal they are printed on. */
static void scrub(json_t *j)
{
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        char *copy = malloc(n + 1);
        if (!copy)
            return;
        size_t o = 0;
        int changed = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)s[i];
            int c1 = ch == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                     (unsigned char)s[i + 1] <= 0x9F;
            if (c1 || ch < 0x20 || ch == 0x7F) {
                copy[o++] = '?';
                i += (size_t)c1; /* the two bytes of a C1 character become one '?' */
                changed = 1;
            } else {
                copy[o++] = (char)ch;
            }
        }
        if (changed)
            json_string_setn(j, copy, o);
        explicit_bzero(copy, o); /* may be a new key's secret */
        free(copy);
        return;
    }
    size_t i;
    const char *k;
    json_t *v;
    if (json_is_array(j))
        json_array_foreach(j, i, v) scrub(v);
    else if (json_is_object(j))
        json_object_foreach(j, k, v) scrub(v);
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
        scrub(r->body);
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

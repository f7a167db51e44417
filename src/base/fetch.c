/* fetch.c — see fetch.h. */
#include "fetch.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

void fetch_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    char *buf;
    size_t len, cap, max;
    int too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t add = size * n;
    if (add > s->max - s->len) {
        s->too_big = 1;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

enum err fetch_url(const char *url, const char *form, const char *authorization,
                   size_t max_bytes, long timeout_ms, struct fetch_result *out)
{
    memset(out, 0, sizeof *out);
    CURL *h = curl_easy_init();
    if (!h)
        return ERR_NOMEM;
    struct sink s = {.max = max_bytes};
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    char auth[1024] = "";
    if (authorization) {
        snprintf(auth, sizeof auth, "Authorization: %s", authorization);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 3000 ? timeout_ms : 3000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "apikeyd");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    if (form) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    CURLcode rc = curl_easy_perform(h);
    enum err e = ERR_OK;
    if (rc != CURLE_OK) {
        /* the URL only: it holds no secret (those travel in the body and the header) */
        log_warn("fetch %s: %s", url, s.too_big ? "answer too large" : curl_easy_strerror(rc));
        e = rc == CURLE_OUT_OF_MEMORY ? ERR_NOMEM : ERR_UNAVAILABLE;
        if (s.buf)
            sodium_memzero(s.buf, s.len);
        free(s.buf);
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        out->body = s.buf ? s.buf : calloc(1, 1);
        out->len = s.len;
        if (!out->body)
            e = ERR_NOMEM;
    }
    for (struct curl_slist *l = headers; l; l = l->next) /* the copy of the secret header */
        sodium_memzero(l->data, strlen(l->data));
    curl_slist_free_all(headers);
    sodium_memzero(auth, sizeof auth);
    curl_easy_cleanup(h);
    return e;
}

/* The answer of a POST: counted and dropped, at most 64 KiB. */
static size_t on_drop(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    size_t *seen = ctx;
    *seen += size * n;
    return *seen > 64 * 1024 ? 0 : size * n;
}

struct socket_check {
    const struct fetch_post *p;
    int refused;
};

static curl_socket_t on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct socket_check *c = ctx;
    if (purpose != CURLSOCKTYPE_IPCXN || !c->p->address_ok(&a->addr, c->p->ctx)) {
        c->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

enum err fetch_post(const struct fetch_post *p, long *status, char *error, size_t cap)
{
    *status = 0;
    error[0] = '\0';
    CURL *h = curl_easy_init();
    if (!h)
        return ERR_NOMEM;
    struct curl_slist *headers = NULL, *pins = NULL;
    for (const char *const *l = p->headers; l && *l; l++)
        headers = curl_slist_append(headers, *l);
    if (p->pin)
        pins = curl_slist_append(NULL, p->pin);
    size_t seen = 0;
    struct socket_check check = {p, 0};
    curl_easy_setopt(h, CURLOPT_URL, p->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms < 5000 ? p->timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "apikeyd-webhooks");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_drop);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    if (pins)
        curl_easy_setopt(h, CURLOPT_RESOLVE, pins);
    if (p->address_ok) {
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &check);
    }
    CURLcode rc = curl_easy_perform(h);
    enum err e = ERR_OK;
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && seen > 64 * 1024)) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    } else {
        snprintf(error, cap, "%s", check.refused ? "the address is not allowed"
                                                 : curl_easy_strerror(rc));
        e = rc == CURLE_OUT_OF_MEMORY ? ERR_NOMEM : ERR_UNAVAILABLE;
    }
    curl_slist_free_all(headers);
    curl_slist_free_all(pins);
    curl_easy_cleanup(h);
    return e;
}

void fetch_result_free(struct fetch_result *r)
{
    if (r->body) {
        sodium_memzero(r->body, r->len);
        free(r->body);
    }
    memset(r, 0, sizeof *r);
}

int fetch_escape(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (n + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (n >= cap)
        return -1;
    out[n] = '\0';
    return 0;
}

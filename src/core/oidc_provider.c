/* oidc_provider.c — see oidc_provider.h. */
#include "oidc_provider.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fetch.h"
#include "../base/log.h"
#include "../base/timeutil.h"

#define DISCOVERY_MAX (64 * 1024)
#define JWKS_MAX (256 * 1024)
#define TOKEN_ANSWER_MAX (64 * 1024)
#define FETCH_TIMEOUT_MS 5000
#define CACHE_SECONDS 3600
#define JWKS_REFRESH_MIN_SECONDS 30
#define SECRET_MAX 1024

struct oidc_provider {
    struct oidc_config cfg;
    char secret[SECRET_MAX + 1];
    pthread_mutex_t lock;
    struct oidc_endpoints ep;
    int64_t ep_at; /* when ep was fetched; 0 = never */
    json_t *jwks;
    int64_t jwks_at;
};

enum err oidc_provider_open(const struct oidc_config *cfg, struct oidc_provider **out)
{
    struct oidc_provider *p = calloc(1, sizeof *p);
    if (!p)
        return ERR_NOMEM;
    p->cfg = *cfg;
    FILE *f = fopen(cfg->client_secret_file, "re");
    size_t n = 0;
    if (f) {
        n = fread(p->secret, 1, SECRET_MAX + 1, f);
        fclose(f);
    }
    while (n > 0 && n <= SECRET_MAX && (p->secret[n - 1] == '\n' || p->secret[n - 1] == '\r'))
        n--;
    if (!f || n == 0 || n > SECRET_MAX || memchr(p->secret, '\n', n) || memchr(p->secret, '\0', n)) {
        log_error("oidc_client_secret_file %s: cannot be read, or is not one line of 1-%d bytes",
                  cfg->client_secret_file, SECRET_MAX);
        sodium_memzero(p->secret, sizeof p->secret);
        free(p);
        return ERR_INVALID;
    }
    p->secret[n] = '\0';
    pthread_mutex_init(&p->lock, NULL);
    *out = p;
    return ERR_OK;
}

void oidc_provider_free(struct oidc_provider *p)
{
    if (!p)
        return;
    json_decref(p->jwks);
    pthread_mutex_destroy(&p->lock);
    sodium_memzero(p->secret, sizeof p->secret);
    free(p);
}

/* GETs url and parses a JSON object of at most max bytes. */
static enum err get_json(const char *url, size_t max, json_t **out)
{
    struct fetch_result r;
    enum err e = fetch_url(url, NULL, NULL, max, FETCH_TIMEOUT_MS, &r);
    if (e)
        return e;
    json_t *doc = r.status == 200 ? json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(doc)) {
        log_warn("oidc: %s answered %ld without a JSON object", url, r.status);
        json_decref(doc);
        doc = NULL;
        e = ERR_UNAVAILABLE;
    }
    fetch_result_free(&r);
    *out = doc;
    return e;
}

/* Copies the allowed URL member name of doc into out. */
static int endpoint(json_t *doc, const char *name, char *out)
{
    const char *v = json_string_value(json_object_get(doc, name));
    if (!v || strlen(v) > OIDC_URL_MAX || !oidc_url_allowed(v)) {
        log_warn("oidc: the discovery document's %s is missing or not an https URL", name);
        return 0;
    }
    snprintf(out, OIDC_URL_MAX + 1, "%s", v);
    return 1;
}

static enum err discover(struct oidc_provider *p)
{
    char url[OIDC_URL_MAX + 64];
    size_t n = strlen(p->cfg.issuer);
    while (n > 0 && p->cfg.issuer[n - 1] == '/') /* Discovery 1.0 section 4 */
        n--;
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration", (int)n, p->cfg.issuer);
    json_t *doc;
    enum err e = get_json(url, DISCOVERY_MAX, &doc);
    if (e)
        return e;
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    struct oidc_endpoints ep;
    if (!iss || strcmp(iss, p->cfg.issuer) != 0) {
        log_warn("oidc: the discovery document names another issuer than oidc_issuer");
        e = ERR_UNAVAILABLE;
    } else if (!endpoint(doc, "authorization_endpoint", ep.authorization) ||
               !endpoint(doc, "token_endpoint", ep.token) || !endpoint(doc, "jwks_uri", ep.jwks)) {
        e = ERR_UNAVAILABLE;
    } else {
        p->ep = ep;
        p->ep_at = time_now();
    }
    json_decref(doc);
    return e;
}

enum err oidc_provider_endpoints(struct oidc_provider *p, struct oidc_endpoints *out)
{
    pthread_mutex_lock(&p->lock);
    enum err e = ERR_OK;
    if (!p->ep_at || time_now() - p->ep_at >= CACHE_SECONDS)
        e = discover(p);
    if (!e)
        *out = p->ep;
    pthread_mutex_unlock(&p->lock);
    return e;
}

enum err oidc_provider_jwks(struct oidc_provider *p, int refresh, json_t **out)
{
    struct oidc_endpoints ep;
    enum err e = oidc_provider_endpoints(p, &ep);
    if (e)
        return e;
    pthread_mutex_lock(&p->lock);
    int64_t now = time_now();
    if (!p->jwks || now - p->jwks_at >= CACHE_SECONDS ||
        (refresh && now - p->jwks_at >= JWKS_REFRESH_MIN_SECONDS)) {
        json_t *doc;
        if (!(e = get_json(ep.jwks, JWKS_MAX, &doc))) {
            if (json_is_array(json_object_get(doc, "keys"))) {
                json_decref(p->jwks);
                p->jwks = doc;
                p->jwks_at = now;
            } else {
                log_warn("oidc: the JWKS has no keys array");
                json_decref(doc);
                e = ERR_UNAVAILABLE;
            }
        }
    }
    if (!e)
        *out = json_incref(p->jwks);
    pthread_mutex_unlock(&p->lock);
    return e;
}

enum err oidc_provider_exchange(struct oidc_provider *p, const char *code, const char *verifier,
                                const char *redirect_uri, char **id_token)
{
    *id_token = NULL;
    struct oidc_endpoints ep;
    enum err e = oidc_provider_endpoints(p, &ep);
    if (e)
        return e;
    /* client_secret_basic: id and secret form-encoded, then base64 (RFC 6749 2.3.1) */
    char id[3 * 256], secret[3 * SECRET_MAX + 1], pair[sizeof id + sizeof secret];
    char basic[8 + sizeof pair / 3 * 4 + 8];
    char ecode[3 * 2048 + 1], everifier[3 * 64], eredirect[3 * (OIDC_URL_MAX + 64)];
    char form[sizeof ecode + sizeof everifier + sizeof eredirect + 128];
    e = ERR_LOGIN_FAILED;
    if (fetch_escape(p->cfg.client_id, id, sizeof id) || fetch_escape(p->secret, secret, sizeof secret) ||
        fetch_escape(code, ecode, sizeof ecode) || fetch_escape(verifier, everifier, sizeof everifier) ||
        fetch_escape(redirect_uri, eredirect, sizeof eredirect))
        goto out;
    int n = snprintf(pair, sizeof pair, "%s:%s", id, secret);
    memcpy(basic, "Basic ", 6);
    sodium_bin2base64(basic + 6, sizeof basic - 6, (const uint8_t *)pair, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(form, sizeof form,
             "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s", ecode,
             eredirect, everifier);
    struct fetch_result r;
    if ((e = fetch_url(ep.token, form, basic, TOKEN_ANSWER_MAX, FETCH_TIMEOUT_MS, &r)))
        goto out;
    json_t *doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
    const char *tok = json_string_value(json_object_get(doc, "id_token"));
    if (r.status >= 500) {
        log_warn("oidc: the token endpoint answered %ld", r.status);
        e = ERR_UNAVAILABLE;
    } else if (r.status != 200 || !tok) {
        const char *why = json_string_value(json_object_get(doc, "error"));
        log_warn("oidc: the token endpoint refused the code (%ld %.40s)", r.status,
                 why ? why : "no ID token");
        e = ERR_LOGIN_FAILED;
    } else if (!(*id_token = strdup(tok))) {
        e = ERR_NOMEM;
    } else {
        e = ERR_OK;
    }
    json_decref(doc); /* the access token in it is never used */
    fetch_result_free(&r);
out:
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(pair, sizeof pair);
    sodium_memzero(basic, sizeof basic);
    sodium_memzero(form, sizeof form);
    sodium_memzero(ecode, sizeof ecode);
    sodium_memzero(everifier, sizeof everifier);
    return e;
}

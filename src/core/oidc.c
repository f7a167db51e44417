/* oidc.c — see oidc.h. */
#include "oidc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fetch.h"
#include "../base/log.h"
#include "../base/timeutil.h"
#include "attempts.h"
#include "telemetry.h"
#include "core_internal.h"
#include "oidc_provider.h"
#include "oidc_token.h"
#include "oidc_user.h"

const char *oidc_outcome_code(enum oidc_outcome o)
{
    static const char *const codes[] = {
        [OIDC_SIGNED_IN] = "",          [OIDC_DENIED] = "denied",
        [OIDC_EXPIRED] = "expired",     [OIDC_STATE] = "state",
        [OIDC_UNAVAILABLE] = "unavailable", [OIDC_TOKEN] = "token",
        [OIDC_ACCOUNT] = "account",     [OIDC_DISABLED] = "disabled",
        [OIDC_THROTTLED] = "throttled", [OIDC_FAILED] = "failed",
    };
    return o <= OIDC_FAILED ? codes[o] : "failed";
}

const struct oidc_config *oidc_settings(struct core *c)
{
    return c->oidc ? &c->cfg.oidc : NULL;
}

const char *sso_public_url(struct core *c)
{
    return c->cfg.oidc.public_url;
}

/* PUBLIC_URL/v1/sso/oidc/callback */
static void redirect_uri(struct core *c, char out[OIDC_URL_MAX + 64])
{
    snprintf(out, OIDC_URL_MAX + 64, "%s/v1/sso/oidc/callback", c->cfg.oidc.public_url);
}

enum err oidc_start(struct core *c, const char *return_to, char *location, size_t cap,
                    char cookie[OIDC_FLOW_COOKIE_MAX])
{
    if (!c->oidc)
        return ERR_NOT_FOUND;
    struct oidc_endpoints ep;
    enum err e = oidc_provider_endpoints(c->oidc, &ep);
    if (e)
        return e;
    struct oidc_flow f;
    oidc_flow_new(&f, return_to, time_now());
    char challenge[OIDC_RANDOM_TEXT], redirect[OIDC_URL_MAX + 64];
    char eid[3 * 256], eredirect[3 * sizeof redirect], escope[3 * 256];
    oidc_flow_challenge(&f, challenge);
    redirect_uri(c, redirect);
    if (fetch_escape(c->cfg.oidc.client_id, eid, sizeof eid) ||
        fetch_escape(redirect, eredirect, sizeof eredirect) ||
        fetch_escape(c->cfg.oidc.scopes, escope, sizeof escope)) {
        e = ERR_INVALID;
    } else {
        /* state, nonce and the challenge are base64url: nothing to escape */
        int n = snprintf(location, cap,
                         "%s%cresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s"
                         "&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256",
                         ep.authorization, strchr(ep.authorization, '?') ? '&' : '?', eid,
                         eredirect, escope, f.state, f.nonce, challenge);
        e = n < 0 || (size_t)n >= cap ? ERR_INVALID : oidc_flow_seal(c, &f, cookie);
    }
    sodium_memzero(&f, sizeof f);
    return e;
}

/* Checks the ID token against the provider's keys, fetching them again once when no key
 * fits (the provider may have rotated its keys). */
static enum oidc_outcome check_token(struct core *c, const char *id_token, const char *nonce,
                                     json_t **claims)
{
    struct oidc_token_expect x = {.issuer = c->cfg.oidc.issuer,
                                  .client_id = c->cfg.oidc.client_id,
                                  .nonce = nonce,
                                  .now = time_now()};
    enum oidc_token_verdict v = OIDC_TOKEN_NO_KEY;
    for (int refresh = 0; refresh < 2 && v == OIDC_TOKEN_NO_KEY; refresh++) {
        json_t *jwks;
        if (oidc_provider_jwks(c->oidc, refresh, &jwks))
            return OIDC_UNAVAILABLE;
        v = oidc_token_check(id_token, jwks, &x, claims);
        json_decref(jwks);
    }
    if (v != OIDC_TOKEN_OK) {
        log_warn("oidc: ID token refused: %s", oidc_token_verdict_text(v));
        return OIDC_TOKEN;
    }
    /* each nonce once, on every node, until its token expires */
    json_t *exp = json_object_get(*claims, "exp");
    int64_t until = (json_is_integer(exp) ? json_integer_value(exp) : (int64_t)json_number_value(exp)) +
                    OIDC_SKEW_SECONDS;
    uint8_t hash[STORE_HASH_LEN];
    crypto_hash_sha256(hash, (const uint8_t *)nonce, strlen(nonce));
    enum err e = c->store->ops->sso_nonce_claim(c->store, hash, until, x.now);
    if (e) {
        json_decref(*claims);
        *claims = NULL;
        if (e == ERR_CONFLICT) {
            log_warn("oidc: ID token refused: its nonce was used before (a replay)");
            return OIDC_TOKEN;
        }
        return OIDC_FAILED;
    }
    return OIDC_SIGNED_IN;
}

/* The flow's checks and the code exchange; the user and the session come after. */
static enum oidc_outcome finish(struct core *c, const struct oidc_callback *cb,
                                struct oidc_flow *f, json_t **claims)
{
    if (cb->error) {
        log_info("oidc: the provider answered error=%.40s", cb->error);
        return OIDC_DENIED;
    }
    if (!oidc_flow_open(c, cb->cookie, time_now(), f)) {
        log_warn("oidc: callback without a valid flow cookie");
        return OIDC_EXPIRED;
    }
    size_t n = cb->state ? strlen(cb->state) : 0;
    if (n != strlen(f->state) || sodium_memcmp(cb->state, f->state, n) != 0) {
        log_warn("oidc: callback with a state that is not the flow's");
        return OIDC_STATE;
    }
    if (!cb->code || !*cb->code || strlen(cb->code) > OIDC_CODE_MAX) {
        log_warn("oidc: callback without a usable code");
        return OIDC_TOKEN;
    }
    char redirect[OIDC_URL_MAX + 64];
    redirect_uri(c, redirect);
    char *id_token = NULL;
    enum err e = oidc_provider_exchange(c->oidc, cb->code, f->verifier, redirect, &id_token);
    if (e)
        return e == ERR_LOGIN_FAILED ? OIDC_TOKEN : OIDC_UNAVAILABLE;
    enum oidc_outcome o = check_token(c, id_token, f->nonce, claims);
    sodium_memzero(id_token, strlen(id_token));
    free(id_token);
    return o;
}

enum oidc_outcome oidc_finish(struct core *c, const struct oidc_callback *cb,
                              struct login_result *out, char return_to[OIDC_RETURN_MAX + 1],
                              int64_t *retry_after_s)
{
    memset(out, 0, sizeof *out);
    snprintf(return_to, OIDC_RETURN_MAX + 1, "/");
    if (!c->oidc)
        return OIDC_FAILED;
    struct attempt at;
    if (attempt_begin_client(c, cb->client, &at, retry_after_s)) {
        telemetry_login(LOGIN_OIDC, LOGIN_THROTTLED, NULL, cb->client);
        return OIDC_THROTTLED;
    }
    struct oidc_flow f;
    json_t *claims = NULL;
    enum oidc_outcome o = finish(c, cb, &f, &claims);
    struct user_record *u = NULL;
    if (o == OIDC_SIGNED_IN && !(u = malloc(sizeof *u)))
        o = OIDC_FAILED;
    if (o == OIDC_SIGNED_IN)
        o = oidc_user_sync(c, &c->cfg.oidc, claims, cb->client, u);
    if (o == OIDC_SIGNED_IN) {
        enum err e = auth_session_open(c, u, cb->client, "oidc", out);
        o = e == ERR_LOGIN_FAILED ? OIDC_DISABLED : e ? OIDC_FAILED : OIDC_SIGNED_IN;
    }
    if (o != OIDC_SIGNED_IN)
        telemetry_login(LOGIN_OIDC, LOGIN_FAILURE, NULL, cb->client);
    if (o == OIDC_SIGNED_IN)
        snprintf(return_to, OIDC_RETURN_MAX + 1, "%s", f.return_to);
    /* a forged or broken callback counts as a failure of the client; the provider's or the
     * store's trouble, a refused account and a person who cancelled do not */
    int failed = o == OIDC_EXPIRED || o == OIDC_STATE || o == OIDC_TOKEN;
    attempt_end(c, &at, failed ? ATTEMPT_FAILED : o == OIDC_SIGNED_IN ? ATTEMPT_SUCCEEDED
                                                                     : ATTEMPT_NEUTRAL);
    if (u) {
        sodium_memzero(u, sizeof *u);
        free(u);
    }
    json_decref(claims);
    sodium_memzero(&f, sizeof f);
    return o;
}

/* saml.c — see saml.h. */
#include "saml.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "attempts.h"
#include "telemetry.h"
#include "core_internal.h"
#include "saml_sp.h"
#include "sso_user.h"

#define REQUEST_TTL_SECONDS OIDC_FLOW_TTL_SECONDS /* how long an AuthnRequest may be answered */
#define ASSERTION_KEEP_MAX (24 * 3600) /* an assertion ID is kept at most this long */
#define TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

const char *saml_outcome_code(enum saml_outcome o)
{
    static const char *const codes[] = {
        [SAML_SIGNED_IN] = "",           [SAML_DENIED] = "denied",
        [SAML_EXPIRED] = "expired",      [SAML_UNSOLICITED] = "unsolicited",
        [SAML_RESPONSE] = "token",       [SAML_ACCOUNT] = "account",
        [SAML_DISABLED] = "disabled",    [SAML_THROTTLED] = "throttled",
        [SAML_FAILED] = "failed",
    };
    return o <= SAML_FAILED ? codes[o] : "failed";
}

const struct saml_config *saml_settings(struct core *c)
{
    return c->saml ? &c->cfg.saml : NULL;
}

const char *saml_metadata(struct core *c)
{
    return c->saml ? saml_sp_metadata(c->saml) : NULL;
}

/* The store's key for an id of a kind ("request", "assertion"), issued by issuer, bound to a
 * browser token (requests; "" for assertions): SHA-256 of "saml-", kind, NUL, issuer, NUL,
 * id, NUL, browser — apart from OpenID Connect nonces and each other. */
static void id_hash(const char *kind, const char *issuer, const char *id, const char *browser,
                    uint8_t out[STORE_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"saml-", 5);
    crypto_hash_sha256_update(&st, (const uint8_t *)kind, strlen(kind) + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)issuer, strlen(issuer) + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)id, strlen(id));
    if (browser[0]) {
        crypto_hash_sha256_update(&st, (const uint8_t *)"", 1);
        crypto_hash_sha256_update(&st, (const uint8_t *)browser, strlen(browser));
    }
    crypto_hash_sha256_final(&st, out);
}

enum err saml_start(struct core *c, const char *return_to, char **location,
                    char browser[SAML_BROWSER_TEXT])
{
    *location = NULL;
    browser[0] = '\0';
    if (!c->saml)
        return ERR_NOT_FOUND;
    char id[SAML_ID_MAX + 1];
    enum err e = saml_sp_authn_request(c->saml, return_to, location, id);
    if (e)
        return e;
    uint8_t token[32];
    randombytes_buf(token, sizeof token);
    sodium_bin2base64(browser, SAML_BROWSER_TEXT, token, sizeof token,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    uint8_t hash[STORE_HASH_LEN];
    id_hash("request", c->cfg.saml.sp_entity_id, id, browser, hash);
    int64_t now = time_now();
    e = c->store->ops->sso_nonce_claim(c->store, hash, now + REQUEST_TTL_SECONDS, now);
    if (e) {
        free(*location);
        *location = NULL;
    }
    return e;
}

/* Every value of attribute name (Name or FriendlyName) into values; their count. */
static size_t values_of(const struct saml_result *r, const char *name, const char **values,
                        size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->attr_count && n < cap; i++)
        if ((r->attrs[i].name && strcmp(r->attrs[i].name, name) == 0) ||
            (r->attrs[i].friendly_name && strcmp(r->attrs[i].friendly_name, name) == 0))
            values[n++] = r->attrs[i].value;
    return n;
}

/* The Response's checks, its request and its assertion ID; the user comes after. */
static enum saml_outcome check(struct core *c, const struct saml_post *p, struct saml_result *r)
{
    int64_t now = time_now();
    enum saml_check v = saml_sp_check(c->saml, p->response, now, r);
    if (v == SAML_CHECK_DENIED)
        return SAML_DENIED;
    if (v != SAML_CHECK_OK)
        return SAML_RESPONSE;
    /* each assertion once, on every node, until it expires */
    uint8_t hash[STORE_HASH_LEN];
    int64_t until = r->expires_at + SAML_SKEW_SECONDS;
    if (until > now + ASSERTION_KEEP_MAX)
        until = now + ASSERTION_KEEP_MAX;
    id_hash("assertion", r->issuer, r->assertion_id, "", hash);
    enum err e = c->store->ops->sso_nonce_claim(c->store, hash, until, now);
    if (e == ERR_CONFLICT) {
        log_warn("saml: response refused: its assertion was used before (a replay)");
        return SAML_RESPONSE;
    }
    if (e)
        return SAML_FAILED;
    if (!r->in_response_to) {
        if (c->cfg.saml.allow_idp_initiated)
            return SAML_SIGNED_IN;
        log_warn("saml: response refused: IdP-initiated (no InResponseTo) and "
                 "saml_allow_idp_initiated is off");
        return SAML_UNSOLICITED;
    }
    /* the request was sent by a node sharing the store to this browser, and is answered
     * once: someone else's Response, posted by a page the victim visits, finds nothing */
    size_t blen = p->browser ? strlen(p->browser) : 0;
    if (blen == 0 || blen >= SAML_BROWSER_TEXT) {
        log_warn("saml: response refused: the browser that posted it has no sign-in cookie "
                 "(it did not start this sign-in, or it expired)");
        return SAML_EXPIRED;
    }
    id_hash("request", c->cfg.saml.sp_entity_id, r->in_response_to, p->browser, hash);
    e = c->store->ops->sso_nonce_take(c->store, hash, now);
    if (e == ERR_NOT_FOUND) {
        log_warn("saml: response refused: its InResponseTo names no request that is pending "
                 "for this browser (never sent, started by another browser, expired or "
                 "answered)");
        return SAML_EXPIRED;
    }
    return e ? SAML_FAILED : SAML_SIGNED_IN;
}

/* The user of a checked Response. */
static enum saml_outcome user_of(struct core *c, const struct saml_result *r, const char *client,
                                 struct user_record *u)
{
    const struct saml_config *cfg = &c->cfg.saml;
    const char *groups[SAML_ATTR_VALUES_MAX];
    size_t n = cfg->groups_attribute[0]
                   ? values_of(r, cfg->groups_attribute, groups, SAML_ATTR_VALUES_MAX)
                   : 0;
    const char *username =
        cfg->username_attribute[0] ? saml_result_attr(r, cfg->username_attribute) : r->name_id;
    /* bound to the NameID, unless it is transient (new at each sign-in) */
    int transient = r->name_id_format && strcmp(r->name_id_format, TRANSIENT) == 0;
    struct sso_identity id = {
        .source = "saml",
        .label = "SAML",
        .username = username,
        .username_from = cfg->username_attribute[0] ? cfg->username_attribute : "NameID",
        .issuer = r->issuer,
        .subject = transient && username ? username : r->name_id,
        .full_name = cfg->name_attribute[0] ? saml_result_attr(r, cfg->name_attribute) : NULL,
        .email = cfg->email_attribute[0] ? saml_result_attr(r, cfg->email_attribute) : NULL,
        .groups = groups,
        .group_count = n,
        .roles_managed = cfg->groups_attribute[0] != '\0',
        .role_map = cfg->role_map,
        .role_map_count = cfg->role_map_count,
        .role_map_setting = "saml_role_map",
    };
    enum sso_user_result res = sso_user_sync(c, &id, client, u);
    return res == SSO_USER_OK        ? SAML_SIGNED_IN
           : res == SSO_USER_ACCOUNT ? SAML_ACCOUNT
           : res == SSO_USER_DISABLED ? SAML_DISABLED
                                      : SAML_FAILED;
}

enum saml_outcome saml_finish(struct core *c, const struct saml_post *p, struct login_result *out,
                              char return_to[OIDC_RETURN_MAX + 1], int64_t *retry_after_s)
{
    memset(out, 0, sizeof *out);
    snprintf(return_to, OIDC_RETURN_MAX + 1, "/");
    if (!c->saml)
        return SAML_FAILED;
    struct attempt at;
    if (attempt_begin_client(c, p->client, &at, retry_after_s)) {
        telemetry_login(LOGIN_SAML, LOGIN_THROTTLED, NULL, p->client);
        return SAML_THROTTLED;
    }
    struct saml_result *r = calloc(1, sizeof *r);
    enum saml_outcome o = r ? check(c, p, r) : SAML_FAILED;
    struct user_record *u = NULL;
    if (o == SAML_SIGNED_IN && !(u = malloc(sizeof *u)))
        o = SAML_FAILED;
    if (o == SAML_SIGNED_IN)
        o = user_of(c, r, p->client, u);
    if (o == SAML_SIGNED_IN) {
        enum err e = auth_session_open(c, u, p->client, "saml", out);
        o = e == ERR_LOGIN_FAILED ? SAML_DISABLED : e ? SAML_FAILED : SAML_SIGNED_IN;
    }
    if (o != SAML_SIGNED_IN)
        telemetry_login(LOGIN_SAML, LOGIN_FAILURE, NULL, p->client);
    if (o == SAML_SIGNED_IN && p->relay_state && oidc_return_valid(p->relay_state))
        snprintf(return_to, OIDC_RETURN_MAX + 1, "%s", p->relay_state);
    /* a forged, replayed or unsolicited Response counts as a failure of the client; the
     * store's trouble, a refused account and an IdP's refusal do not */
    int failed = o == SAML_EXPIRED || o == SAML_UNSOLICITED || o == SAML_RESPONSE;
    attempt_end(c, &at, failed ? ATTEMPT_FAILED : o == SAML_SIGNED_IN ? ATTEMPT_SUCCEEDED
                                                                     : ATTEMPT_NEUTRAL);
    if (u) {
        sodium_memzero(u, sizeof *u);
        free(u);
    }
    if (r) {
        saml_result_free(r);
        free(r);
    }
    return o;
}

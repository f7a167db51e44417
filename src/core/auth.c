/* auth.c — see auth.h. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/timeutil.h"
#include "attempts.h"
#include "audit.h"
#include "core_internal.h"
#include "grants.h"
#include "ldap_login.h"
#include "mfa.h"
#include "password.h"
#include "rotate.h"
#include "telemetry.h"
#include "users.h"
#include "verify.h"

#define LOGIN_USERNAME_MAX STORE_NAME_MAX
#define LOGIN_PASSWORD_MAX 1024

/* Fills a caller for user u, with the authorities of u's roles and groups. */
static enum err caller_from_user(struct core *c, const struct user_record *u,
                                 enum caller_kind kind, struct caller *out)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    snprintf(out->username, sizeof out->username, "%s", u->username);
    snprintf(out->owner_type, sizeof out->owner_type, "user");
    snprintf(out->owner_id, sizeof out->owner_id, "%s", u->username);
    struct grant g;
    enum err e = grants_of_user(c, u->username, &g);
    if (!e) {
        out->authorities = g.authorities;
        out->holds_admin = g.admin;
    }
    return e;
}

enum err auth_login(struct core *c, const char *username, const char *password, size_t pw_len,
                    const char *otp, const char *client, const char *device,
                    struct login_result *out, int64_t *retry_after_s)
{
    /* reserved before any check runs, so concurrent guesses meet the limit one by one */
    struct attempt at;
    if (attempt_begin(c, username, client, device, &at, retry_after_s)) {
        telemetry_login(LOGIN_PASSWORD, LOGIN_THROTTLED, username, client);
        return ERR_THROTTLED;
    }

    struct user_record u;
    memset(&u, 0, sizeof u);
    enum err e = ERR_LOGIN_FAILED;
    int ok = 0;
    int64_t otp_step = 0; /* the TOTP step of a right code, claimed with the session */
    int recovery = 0;     /* a right recovery code instead, spent with the session */
    uint8_t recovery_hash[STORE_HASH_LEN];
    const char *method = ""; /* how the person proved who they are, for the audit */
    size_t ulen = strlen(username);
    if (ulen == 0 || ulen > LOGIN_USERNAME_MAX || pw_len == 0 || pw_len > LOGIN_PASSWORD_MAX) {
        password_verify(NULL, "", 0); /* same time as a real check */
    } else {
        e = c->store->ops->user_get(c->store, username, &u);
        if (ldap_login_applies(c, e, &u)) { /* no local account: the directory decides */
            e = ldap_login(c, username, password, pw_len, client, &u);
            method = "ldap";
        } else if (e == ERR_NOT_FOUND) {
            password_verify(NULL, password, pw_len);
            e = ERR_LOGIN_FAILED;
        } else if (e == ERR_OK) {
            /* SSO users have no local password: the same Argon2id time as anyone else, so
             * timing does not tell which accounts come from the directory */
            int local = strcmp(u.auth_source, "local") == 0;
            ok = password_verify(local ? u.password_hash : NULL, password, pw_len) && local &&
                 !u.disabled;
            e = ok ? ERR_OK : ERR_LOGIN_FAILED;
            if (ok && u.mfa_enabled && !otp) {
                e = ERR_OTP_REQUIRED;
            } else if (ok && u.mfa_enabled) { /* the code is spent with the session, below */
                recovery = mfa_login_recovery(c, &u, otp, recovery_hash);
                otp_step = recovery ? 0 : mfa_login_step(c, &u, otp);
                e = recovery || otp_step > 0 ? ERR_OK : ERR_LOGIN_FAILED;
            }
        }
    }
    /* the audit names the account only when it is a well-formed username */
    const char *who = users_name_valid(username) ? username : INVALID_ACTOR;
    enum login_method lm = *method ? LOGIN_LDAP : LOGIN_PASSWORD;
    if (e == ERR_LOGIN_FAILED) {
        telemetry_login(lm, LOGIN_FAILURE, username, client);
        attempt_end(c, &at, ATTEMPT_FAILED);
        audit_log_as(c, who, client, "login.failure", "user", who, method);
        goto out;
    }
    if (e) { /* the code is still missing, or the store failed: nothing learnt */
        attempt_end(c, &at, ATTEMPT_NEUTRAL);
        goto out;
    }
    attempt_end(c, &at, ATTEMPT_SUCCEEDED);

    struct session_record s;
    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);
    random_token(out->session_token);
    random_token(out->csrf_token);
    keyfmt_hash(out->session_token, RANDOM_TOKEN_LEN, s.token_hash);
    keyfmt_hash(out->csrf_token, RANDOM_TOKEN_LEN, s.csrf_hash);
    snprintf(s.username, sizeof s.username, "%s", u.username);
    s.created_at = time_now();
    s.expires_at = s.created_at + c->cfg.session_ttl_seconds;
    s.mfa_step = otp_step > 0 ? otp_step : 0;
    s.recovery_used = recovery;
    if (recovery)
        memcpy(s.recovery_hash, recovery_hash, sizeof recovery_hash);
    snprintf(out->username, sizeof out->username, "%s", u.username);
    out->ttl_seconds = c->cfg.session_ttl_seconds;
    /* only while the user is as checked (not reset, disabled or MFA turned on meanwhile) */
    if (!(e = audit_begin(c))) /* the session and its audit event: one transaction */
        e = audit_end_as(c, c->store->ops->session_create(c->store, &s, c->cfg.max_sessions_per_user, &u),
                         u.username, client, "login.success", "user", u.username,
                         recovery ? "with a recovery code" : method);
    if (e == ERR_CONFLICT)
        e = ERR_LOGIN_FAILED;
    if (!e && device_issue(c, u.username, out->device_token) != ERR_OK)
        out->device_token[0] = '\0'; /* no server key: no device cookie */
    if (!e)
        telemetry_login(lm, LOGIN_SUCCESS, u.username, client);
    if (e)
        sodium_memzero(out, sizeof *out);
out:
    sodium_memzero(&u, sizeof u);
    return e;
}

enum err auth_session(struct core *c, const char *token, struct caller *out)
{
    if (strlen(token) != RANDOM_TOKEN_LEN)
        return ERR_UNAUTHENTICATED;
    struct session_record s;
    uint8_t hash[STORE_HASH_LEN];
    keyfmt_hash(token, RANDOM_TOKEN_LEN, hash);
    int64_t now = time_now();
    enum err e = c->store->ops->session_get(c->store, hash, now, &s);
    if (e)
        return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
    /* idle too long: the session ends (on every node: last_seen_at lives in the store) */
    int idle = c->cfg.session_idle_seconds;
    if (now - s.last_seen_at >= idle) {
        c->store->ops->session_delete(c->store, hash);
        return ERR_UNAUTHENTICATED;
    }
    /* in use: written at most once a minute (a quarter of the idle time when shorter) */
    int64_t every = idle / 4 < 60 ? (idle / 4 > 0 ? idle / 4 : 1) : 60;
    if (now - s.last_seen_at >= every &&
        (e = c->store->ops->session_touch(c->store, hash, now)) != ERR_OK)
        return e;
    struct user_record u;
    e = c->store->ops->user_get(c->store, s.username, &u);
    if (e)
        return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
    if (u.disabled)
        return ERR_UNAUTHENTICATED;
    e = caller_from_user(c, &u, CALLER_SESSION, out);
    memcpy(out->session_hash, hash, STORE_HASH_LEN);
    memcpy(out->csrf_hash, s.csrf_hash, STORE_HASH_LEN);
    sodium_memzero(&u, sizeof u);
    return e;
}

enum err auth_key(struct core *c, const char *key, size_t len, const char *client,
                  struct caller *out, int64_t *retry_after_s, int *reused)
{
    struct verify_result r;
    verify_key(c, key, len, NULL, client, &r, retry_after_s);
    if (reused)
        *reused = 0;
    if (r.code == VERIFY_RATE_LIMITED)
        return ERR_THROTTLED;
    if (r.code == VERIFY_UNAVAILABLE)
        return ERR_UNAVAILABLE;
    if (r.code == VERIFY_EXPIRED && reused) { /* a rotated-out key again: GitLab's reuse rule */
        enum err e = rotate_check_reuse(c, &r.view, client, reused, retry_after_s);
        return e ? e : ERR_UNAUTHENTICATED;
    }
    if (r.code != VERIFY_VALID)
        return ERR_UNAUTHENTICATED;
    memset(out, 0, sizeof *out);
    if (strcmp(r.view.owner_type, "user") == 0) {
        struct user_record u;
        enum err e = c->store->ops->user_get(c->store, r.view.owner_id, &u);
        if (e)
            return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
        if (u.disabled)
            return ERR_UNAUTHENTICATED;
        e = caller_from_user(c, &u, CALLER_KEY, out);
        sodium_memzero(&u, sizeof u);
        if (e)
            return e;
    } else {
        out->kind = CALLER_KEY;
        snprintf(out->username, sizeof out->username, "%s", r.view.created_by);
        snprintf(out->owner_type, sizeof out->owner_type, "%s", r.view.owner_type);
        snprintf(out->owner_id, sizeof out->owner_id, "%s", r.view.owner_id);
    }
    out->scopes = r.view.scopes;
    out->expires_at = r.view.expires_at;
    memcpy(out->key_id, r.view.id, sizeof out->key_id);
    return ERR_OK;
}

int auth_csrf_ok(const struct caller *who, const char *token)
{
    if (who->kind != CALLER_SESSION || !token || strlen(token) != RANDOM_TOKEN_LEN)
        return 0;
    uint8_t hash[STORE_HASH_LEN];
    keyfmt_hash(token, RANDOM_TOKEN_LEN, hash);
    return sodium_memcmp(hash, who->csrf_hash, STORE_HASH_LEN) == 0;
}

enum err auth_logout(struct core *c, const struct caller *who)
{
    if (who->kind != CALLER_SESSION)
        return ERR_BAD_REQUEST;
    enum err e = audit_begin(c); /* the logout and its audit event: one transaction */
    if (!e)
        e = audit_end(c, c->store->ops->session_delete(c->store, who->session_hash), who, "logout",
                      "user", who->username, "");
    return e;
}

int auth_has_scope(struct core *c, const struct caller *who, const char *scope)
{
    if (who->kind == CALLER_SESSION)
        return 1;
    int bit = scopes_bit(c->scopes, scope);
    return bit >= 0 && (who->scopes & (UINT64_C(1) << bit));
}

enum err auth_session_open(struct core *c, const struct user_record *u, const char *client,
                           const char *method, struct login_result *out)
{
    struct session_record s;
    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);
    random_token(out->session_token);
    random_token(out->csrf_token);
    keyfmt_hash(out->session_token, RANDOM_TOKEN_LEN, s.token_hash);
    keyfmt_hash(out->csrf_token, RANDOM_TOKEN_LEN, s.csrf_hash);
    snprintf(s.username, sizeof s.username, "%s", u->username);
    s.created_at = time_now();
    s.expires_at = s.created_at + c->cfg.session_ttl_seconds;
    snprintf(out->username, sizeof out->username, "%s", u->username);
    out->ttl_seconds = c->cfg.session_ttl_seconds;
    enum err e = audit_begin(c); /* the session and its audit event: one transaction */
    if (!e)
        e = audit_end_as(c, c->store->ops->session_create(c->store, &s, c->cfg.max_sessions_per_user, u),
                         u->username, client, "login.success", "user", u->username, method);
    if (e == ERR_CONFLICT)
        e = ERR_LOGIN_FAILED;
    if (!e)
        telemetry_login(strcmp(method, "saml") == 0 ? LOGIN_SAML : LOGIN_OIDC, LOGIN_SUCCESS,
                        u->username, client);
    if (e) /* no device cookie: it serves password logins, which SSO users have none of */
        sodium_memzero(out, sizeof *out);
    return e;
}

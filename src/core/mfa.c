/* mfa.c — see mfa.h. Codes: 6 digits, 30-second steps, one step of drift either way; the
 * step of the last accepted code is stored, and a code of that step or earlier is refused. */
#include "mfa.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attempts.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "telemetry.h"
#include "grants.h"
#include "password.h"
#include "secretkey.h"

#define MFA_DIGITS 6
#define MFA_STEP 30
#define MFA_WINDOW 1

static int code_well_formed(const char *code)
{
    if (!code || strlen(code) != MFA_DIGITS)
        return 0;
    for (const char *p = code; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* The step of code under the sealed secret, or -1 when it does not match now. */
static int64_t code_step(struct core *c, const uint8_t *sealed, size_t len, const char *code)
{
    uint8_t secret[MFA_SECRET_BYTES];
    if (!c->secret_key || !code_well_formed(code) ||
        len != MFA_SECRET_BYTES + SECRETKEY_OVERHEAD ||
        secretkey_open(c->secret_key, sealed, len, secret) != 0)
        return -1;
    int pos = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3((const char *)secret, sizeof secret, time(NULL), MFA_STEP, 0,
                                 MFA_WINDOW, &pos, &counter, code);
    sodium_memzero(secret, sizeof secret);
    return rc >= 0 ? (int64_t)counter : -1;
}

static enum err load_user(struct core *c, const struct caller *who, struct user_record *u)
{
    enum err e = c->store->ops->user_get(c->store, who->username, u);
    return e == ERR_NOT_FOUND ? ERR_UNAUTHENTICATED : e;
}

/* Checks the current password of local user u under the attempts guard; when sealed is given,
 * code is checked against it in the same attempt (*step: its time step). ERR_OK, ERR_INVALID
 * with fe filled, or ERR_THROTTLED. */
static enum err check_secrets(struct core *c, const struct caller *who,
                              const struct user_record *u, const char *password,
                              const uint8_t *sealed, size_t sealed_len, const char *code,
                              int64_t *step, struct field_errors *fe, int64_t *retry_after_s)
{
    struct attempt at;
    enum err e = attempt_begin(c, u->username, who->client, NULL, &at, retry_after_s);
    if (e) {
        telemetry_throttled(THROTTLED_MFA, who->client);
        return e;
    }
    int right = password_verify(u->password_hash, password, strlen(password));
    int64_t s = sealed ? code_step(c, sealed, sealed_len, code) : 0;
    attempt_end(c, &at, right && s >= 0 ? ATTEMPT_SUCCEEDED : ATTEMPT_FAILED);
    if (!right)
        field_errors_add(fe, "current_password", "is not your current password");
    if (s < 0)
        field_errors_add(fe, "code", "does not match the authenticator's current code");
    if (step)
        *step = s;
    return fe->count ? ERR_INVALID : ERR_OK;
}

enum err mfa_begin(struct core *c, const struct caller *who, const char *current_password,
                   struct field_errors *fe, int64_t *retry_after_s, struct mfa_enrolment *out)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = load_user(c, who, u);
    if (e)
        goto out;
    if (strcmp(u->auth_source, "local") != 0) {
        e = ERR_FORBIDDEN;
        goto out;
    }
    if (u->mfa_enabled) {
        e = ERR_CONFLICT;
        goto out;
    }
    if (!c->secret_key) {
        e = ERR_UNAVAILABLE;
        goto out;
    }
    if ((e = check_secrets(c, who, u, current_password, NULL, 0, NULL, NULL, fe, retry_after_s)))
        goto out;
    uint8_t secret[MFA_SECRET_BYTES];
    randombytes_buf(secret, sizeof secret);
    char *b32 = NULL;
    size_t b32_len = 0;
    if (oath_base32_encode((const char *)secret, sizeof secret, &b32, &b32_len) != OATH_OK ||
        b32_len >= sizeof out->secret) {
        sodium_memzero(secret, sizeof secret);
        free(b32);
        e = ERR_INTERNAL;
        goto out;
    }
    snprintf(out->secret, sizeof out->secret, "%s", b32);
    sodium_memzero(b32, b32_len);
    free(b32);
    snprintf(out->otpauth_uri, sizeof out->otpauth_uri,
             "otpauth://totp/apikeyd:%s?secret=%s&issuer=apikeyd&algorithm=SHA1&digits=%d"
             "&period=%d",
             u->username, out->secret, MFA_DIGITS, MFA_STEP);
    secretkey_seal(c->secret_key, secret, sizeof secret, u->mfa_pending);
    u->mfa_pending_len = sizeof secret + SECRETKEY_OVERHEAD;
    sodium_memzero(secret, sizeof secret);
    e = c->store->ops->user_mfa_set_pending(c->store, u->username, u->mfa_pending,
                                            u->mfa_pending_len);
    if (e)
        sodium_memzero(out, sizeof *out);
out:
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

enum err mfa_confirm(struct core *c, const struct caller *who, const char *code,
                     const char *current_password, struct field_errors *fe,
                     int64_t *retry_after_s, struct recovery_set *codes)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = load_user(c, who, u);
    if (e)
        goto out;
    if (u->mfa_enabled || u->mfa_pending_len == 0) {
        e = ERR_CONFLICT;
        goto out;
    }
    int64_t step = -1;
    if ((e = check_secrets(c, who, u, current_password, u->mfa_pending, u->mfa_pending_len, code,
                           &step, fe, retry_after_s)) ||
        (e = recovery_generate(codes)))
        goto out;
    /* only while the pending secret is still the one checked; the confirming code's step
     * becomes the last accepted one, so that code cannot be used to log in. MFA on, its
     * recovery codes and the audit event: one transaction */
    if (!(e = audit_begin(c))) {
        e = c->store->ops->user_mfa_enable(c->store, u->username, u->mfa_pending,
                                           u->mfa_pending_len, step);
        if (!e)
            e = c->store->ops->user_recovery_replace(c->store, u->username,
                                                     (const uint8_t(*)[STORE_HASH_LEN])codes->hash,
                                                     RECOVERY_CODES);
        e = audit_end(c, e, who, "mfa.enable", "user", u->username, "");
    }
out:
    if (e)
        sodium_memzero(codes, sizeof *codes);
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

enum err mfa_recovery_regenerate(struct core *c, const struct caller *who,
                                 const char *current_password, struct field_errors *fe,
                                 int64_t *retry_after_s, struct recovery_set *codes)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = load_user(c, who, u);
    if (e)
        goto out;
    if (!u->mfa_enabled) {
        e = ERR_CONFLICT;
        goto out;
    }
    if ((e = check_secrets(c, who, u, current_password, NULL, 0, NULL, NULL, fe,
                           retry_after_s)) ||
        (e = recovery_generate(codes)))
        goto out;
    if (!(e = audit_begin(c))) /* the new codes and their audit event: one transaction */
        e = audit_end(c,
                      c->store->ops->user_recovery_replace(
                          c->store, u->username, (const uint8_t(*)[STORE_HASH_LEN])codes->hash,
                          RECOVERY_CODES),
                      who, "mfa.recovery_codes", "user", u->username, "new recovery codes");
out:
    if (e)
        sodium_memzero(codes, sizeof *codes);
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

int64_t mfa_login_step(struct core *c, const struct user_record *u, const char *code)
{
    int64_t step = code_step(c, u->mfa_secret, u->mfa_secret_len, code);
    return step < 0 || step <= u->mfa_last_step ? -1 : step;
}

enum err mfa_recovery_codes_left(struct core *c, const char *username, int64_t *out)
{
    return c->store->ops->user_recovery_count(c->store, username, out);
}

int mfa_login_recovery(struct core *c, const struct user_record *u, const char *code,
                       uint8_t hash_out[STORE_HASH_LEN])
{
    return recovery_hash_input(code, hash_out) &&
           c->store->ops->user_recovery_has(c->store, u->username, hash_out) == ERR_OK;
}

/* Checks a code that turns u's MFA off: a TOTP code (each time step accepted once) or one of
 * u's recovery codes (not spent here: turning MFA off removes them all). ERR_OK or
 * ERR_LOGIN_FAILED. */
static enum err check_code_for_disable(struct core *c, const struct user_record *u,
                                       const char *code)
{
    uint8_t hash[STORE_HASH_LEN];
    if (recovery_hash_input(code, hash))
        return mfa_login_recovery(c, u, code, hash) ? ERR_OK : ERR_LOGIN_FAILED;
    int64_t step = mfa_login_step(c, u, code);
    if (step < 0)
        return ERR_LOGIN_FAILED;
    enum err e = c->store->ops->user_mfa_advance(c->store, u->username, step);
    return e == ERR_CONFLICT ? ERR_LOGIN_FAILED : e;
}

enum err mfa_disable(struct core *c, const struct caller *who, const char *code,
                     const char *password, struct field_errors *fe, int64_t *retry_after_s)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = load_user(c, who, u);
    if (e)
        goto out;
    if (!u->mfa_enabled) {
        e = ERR_CONFLICT;
        goto out;
    }
    struct attempt at;
    if ((e = attempt_begin(c, u->username, who->client, NULL, &at, retry_after_s))) {
        telemetry_throttled(THROTTLED_MFA, who->client);
        goto out;
    }
    int ok = 0;
    if (code)
        ok = check_code_for_disable(c, u, code) == ERR_OK;
    else if (password)
        ok = password_verify(u->password_hash, password, strlen(password));
    attempt_end(c, &at, ok ? ATTEMPT_SUCCEEDED : ATTEMPT_FAILED);
    if (!ok) {
        field_errors_add(fe, code ? "code" : "password", "does not match");
        e = ERR_INVALID;
        goto out;
    }
    /* the MFA columns alone, and only while the secret is the one checked */
    if (!(e = audit_begin(c))) /* the change and its audit event: one transaction */
        e = audit_end(
            c, c->store->ops->user_mfa_disable(c->store, u->username, u->mfa_secret, u->mfa_secret_len),
            who, "mfa.disable", "user", u->username, "");
out:
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

enum err mfa_reset(struct core *c, const struct caller *who, const char *username)
{
    if (!(who->authorities & AUTH_MANAGE_USERS))
        return ERR_FORBIDDEN;
    if (grants_is_self(who, username))
        return ERR_OWN_GRANTS; /* one's own MFA goes off with a code or the password */
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = c->store->ops->user_get(c->store, username, u);
    if (!e)
        e = grants_check_user(c, who, username); /* never someone holding more */
    if (!e && !u->mfa_enabled)
        e = ERR_CONFLICT;
    /* the MFA columns alone, only while the secret is the one read, with its audit event in
     * one transaction */
    if (!e && !(e = audit_begin(c)))
        e = audit_end(c,
                      c->store->ops->user_mfa_disable(c->store, u->username, u->mfa_secret,
                                                      u->mfa_secret_len),
                      who, "mfa.reset", "user", u->username, "by an administrator");
    sodium_memzero(u, sizeof *u);
    free(u);
    return e;
}

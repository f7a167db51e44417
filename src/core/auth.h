/* auth.h — who is calling: password login with throttling, portal sessions with CSRF
 * tokens, and API keys presented to apikeyd's own endpoints. */
#ifndef APIKEYD_AUTH_H
#define APIKEYD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../base/random_token.h"
#include "core.h"
#include "device.h"

struct login_result {
    char username[STORE_NAME_MAX + 1];
    char session_token[RANDOM_TOKEN_LEN + 1]; /* secret: wipe after sending */
    char csrf_token[RANDOM_TOKEN_LEN + 1];    /* secret: wipe after sending */
    int ttl_seconds;
    char device_token[DEVICE_TOKEN_MAX]; /* the browser's device cookie (device.h); "" when none */
};

/* Checks username/password (and otp when the user has MFA on) for a login from client (an
 * address, for throttling and audit) and opens a session. ERR_LOGIN_FAILED for any mismatch
 * (unknown user, wrong password or code, disabled, SSO); ERR_OTP_REQUIRED when the password
 * was right but MFA is on and otp is NULL; ERR_THROTTLED with *retry_after_s set while the
 * account or client is blocked. device is the browser's device cookie (or NULL): a valid one
 * for username is throttled on its own (attempts.h); a successful login gets a fresh one in
 * out->device_token. Every outcome but the throttled one is audited. */
enum err auth_login(struct core *c, const char *username, const char *password, size_t pw_len,
                    const char *otp, const char *client, const char *device,
                    struct login_result *out, int64_t *retry_after_s);

/* Opens a session for u, a user a sign-in without a password has already checked (single
 * sign-on), audited as login.success by client with method (e.g. "oidc") as its detail; the
 * same session as auth_login (no device cookie: that serves password logins). ERR_LOGIN_FAILED when u changed meanwhile
 * (disabled, MFA turned on: store_ops.session_create's check). */
enum err auth_session_open(struct core *c, const struct user_record *u, const char *client,
                           const char *method, struct login_result *out);

/* Resolves a session cookie token into *out. ERR_UNAUTHENTICATED when unknown or expired. */
enum err auth_session(struct core *c, const char *token, struct caller *out);

/* Resolves an API key presented by client into *out (and records its use).
 * ERR_UNAUTHENTICATED when the key is not valid now (unknown, expired, owner disabled);
 * ERR_THROTTLED, with *retry_after_s, while client is blocked for too many bad keys.
 * reused NULL: nothing more. Not NULL (the rotate endpoints): an expired key that was rotated
 * out is reuse, which revokes its family (rotate_check_reuse) and sets *reused to 1 before
 * ERR_UNAUTHENTICATED; a store failure of that revocation is returned instead. */
enum err auth_key(struct core *c, const char *key, size_t len, const char *client,
                  struct caller *out, int64_t *retry_after_s, int *reused);

/* 1 when token matches the session's CSRF token (constant time). */
int auth_csrf_ok(const struct caller *who, const char *token);

/* Ends the caller's session. */
enum err auth_logout(struct core *c, const struct caller *who);

/* 1 when the caller may use an endpoint needing scope: sessions always, keys by their scopes. */
int auth_has_scope(struct core *c, const struct caller *who, const char *scope);

#endif

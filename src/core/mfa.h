/* mfa.h — TOTP multi-factor authentication (RFC 6238 via liboath): enrolment, confirmation,
 * the check at login, and turning it off. SSO users cannot use it. */
#ifndef APIKEYD_MFA_H
#define APIKEYD_MFA_H

#include "../base/fielderr.h"
#include "core.h"

#define MFA_SECRET_BYTES 20 /* 160 bits */

struct mfa_enrolment {
    char secret[64];       /* base32; a secret: wipe after sending */
    char otpauth_uri[320]; /* holds the secret too */
};

/* Starts enrolment for the caller: a new secret, kept encrypted and pending until confirmed.
 * ERR_FORBIDDEN for SSO users, ERR_CONFLICT when MFA is already on, ERR_UNAVAILABLE without a
 * server key. */
enum err mfa_begin(struct core *c, const struct caller *who, struct mfa_enrolment *out);

/* Turns MFA on when code matches the pending secret. ERR_CONFLICT with nothing pending,
 * ERR_INVALID (fe: "code") for a wrong code, ERR_THROTTLED (*retry_after_s) after too many
 * failed secret checks on the account or from the client (attempts.h). */
enum err mfa_confirm(struct core *c, const struct caller *who, const char *code,
                     struct field_errors *fe, int64_t *retry_after_s);

/* Turns MFA off given a current code or the password. ERR_INVALID when neither matches,
 * ERR_CONFLICT when MFA is off, ERR_THROTTLED as for mfa_confirm. */
enum err mfa_disable(struct core *c, const struct caller *who, const char *code,
                     const char *password, struct field_errors *fe, int64_t *retry_after_s);

/* An administrator turns off username's MFA (the owner lost their authenticator): needs
 * manage_users and everything username holds (grants_check_user), never one's own
 * (ERR_OWN_GRANTS); ERR_NOT_FOUND, ERR_CONFLICT when MFA is off. Audited as mfa.reset. */
enum err mfa_reset(struct core *c, const struct caller *who, const char *username);

/* The time step code matches for user u (MFA on) when it is later than the last one accepted,
 * else -1. Writes nothing: login claims the step with its session (session_record.mfa_step),
 * so a login refused after the check does not spend the code. */
int64_t mfa_login_step(struct core *c, const struct user_record *u, const char *code);

/* Checks a code for user u (MFA on), accepting each time step once. ERR_OK or
 * ERR_LOGIN_FAILED. */
enum err mfa_check(struct core *c, const struct user_record *u, const char *code);

#endif

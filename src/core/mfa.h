/* mfa.h — TOTP multi-factor authentication (RFC 6238 via liboath): enrolment, confirmation,
 * the check at login, and turning it off. SSO users cannot use it. */
#ifndef APIKEYD_MFA_H
#define APIKEYD_MFA_H

#include "../base/fielderr.h"
#include "core.h"
#include "recovery.h"

#define MFA_SECRET_BYTES 20 /* 160 bits */

struct mfa_enrolment {
    char secret[64];       /* base32; a secret: wipe after sending */
    char otpauth_uri[320]; /* holds the secret too */
};

/* Starts enrolment for the caller, who proves it with their current password (so a stolen
 * session cannot bind an attacker's authenticator): a new secret, kept encrypted and pending
 * until confirmed. ERR_FORBIDDEN for SSO users, ERR_CONFLICT when MFA is already on,
 * ERR_INVALID (fe: "current_password") for a wrong password, ERR_THROTTLED (*retry_after_s)
 * after too many failed secret checks on the account or from the client (attempts.h),
 * ERR_UNAVAILABLE without a server key. */
enum err mfa_begin(struct core *c, const struct caller *who, const char *current_password,
                   struct field_errors *fe, int64_t *retry_after_s, struct mfa_enrolment *out);

/* Turns MFA on when the current password is right and code matches the pending secret (one
 * attempt), with a fresh set of recovery codes in *codes (shown once; wipe it). ERR_CONFLICT
 * with nothing pending, ERR_INVALID (fe: "current_password", "code"), ERR_THROTTLED as for
 * mfa_begin. */
enum err mfa_confirm(struct core *c, const struct caller *who, const char *code,
                     const char *current_password, struct field_errors *fe,
                     int64_t *retry_after_s, struct recovery_set *codes);

/* Replaces the caller's recovery codes by a fresh set in *codes, given the current password;
 * the old ones stop working. ERR_CONFLICT when MFA is off; ERR_INVALID and ERR_THROTTLED as
 * for mfa_begin. Audited as mfa.recovery_codes. */
enum err mfa_recovery_regenerate(struct core *c, const struct caller *who,
                                 const char *current_password, struct field_errors *fe,
                                 int64_t *retry_after_s, struct recovery_set *codes);

/* The number of username's unused recovery codes in *out. */
enum err mfa_recovery_codes_left(struct core *c, const char *username, int64_t *out);

/* 1 when code is one of u's unused recovery codes (u has MFA on), its hash in hash_out.
 * Writes nothing: login spends it with its session (session_record.recovery_used). */
int mfa_login_recovery(struct core *c, const struct user_record *u, const char *code,
                       uint8_t hash_out[STORE_HASH_LEN]);

/* Turns MFA off given a current code, a recovery code or the password. ERR_INVALID when none
 * matches, ERR_CONFLICT when MFA is off, ERR_THROTTLED as for mfa_confirm. */
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

#endif

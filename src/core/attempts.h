/* attempts.h — the one guard around every check of a person's secret (a login's password and
 * one-time code, the current password on a password change, the code or password that
 * confirms or turns off MFA). Each attempt is reserved before the check runs, against the
 * account (login_max_failures) and the client (4x that), so concurrent guesses are judged one
 * by one, and released with what the check found. */
#ifndef APIKEYD_ATTEMPTS_H
#define APIKEYD_ATTEMPTS_H

#include <stdint.h>

#include "../base/err.h"
#include "../base/netaddr.h"
#include "../store/store.h"

struct core;

enum attempt_outcome {
    ATTEMPT_FAILED,    /* the secret was wrong */
    ATTEMPT_SUCCEEDED, /* it was right: the account's failures are forgotten */
    ATTEMPT_NEUTRAL,   /* refused for another reason, or a step still missing (the code) */
};

/* One reserved attempt; attempt_end releases it. */
struct attempt {
    char account[STORE_NAME_MAX + 8]; /* "u:" + the username as folded for uniqueness */
    char client[NETADDR_TEXT_MAX + 4]; /* "c:" + netaddr_throttle_name, or "" */
    char device[40];                   /* "d:" + a known browser's id (device.h), or "" */
};

/* Reserves an attempt for username (any text) from client (an address, or NULL when unknown).
 * device is the browser's device cookie (login only; NULL elsewhere): when it is valid for
 * username the attempt is counted for that device alone, not for the account or the client,
 * so the owner's known browser is not blocked by an attacker's failures elsewhere.
 * ERR_OK: go ahead, then call attempt_end once. ERR_THROTTLED: *retry_after_s says when to
 * try again (when retry_after_s is not NULL); nothing is reserved. */
enum err attempt_begin(struct core *c, const char *username, const char *client,
                       const char *device, struct attempt *a, int64_t *retry_after_s);

/* Reserves an attempt counted for client alone (against 4x login_max_failures), for a
 * sign-in whose account is known only after the check: the OpenID Connect callback. */
enum err attempt_begin_client(struct core *c, const char *client, struct attempt *a,
                              int64_t *retry_after_s);

/* Releases a's reservations with the check's outcome. The client's count only ever grows:
 * a success on one account does not clear a client that failed on others. A success from a
 * known device also clears the account's count. */
void attempt_end(struct core *c, const struct attempt *a, enum attempt_outcome outcome);

#endif

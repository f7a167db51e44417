/* telemetry.h — what the core counts and reports for operators: the verification, login and
 * throttling metrics (base/metrics.h, no lock on the hot path), the gauges read at scrape
 * time (keys indexed; on PostgreSQL the view's age and the change feed's state), and the
 * security events logged at warn. Labels and log fields never carry a key. */
#ifndef APIKEYD_TELEMETRY_H
#define APIKEYD_TELEMETRY_H

#include <stdint.h>

#include "verify.h"

struct core;

/* Registers the core's metric families and c's gauges (again after another core: tests). */
void telemetry_open(struct core *c);

/* Stops reading c's gauges (before c is freed). */
void telemetry_close(struct core *c);

/* One verification answered code after ns nanoseconds. */
void telemetry_verification(enum verify_code code, uint64_t ns);

/* How a person signed in, and how it ended. */
enum login_method { LOGIN_PASSWORD, LOGIN_LDAP, LOGIN_OIDC, LOGIN_SAML };
enum login_outcome { LOGIN_SUCCESS, LOGIN_FAILURE, LOGIN_THROTTLED };

/* Counts a sign-in; a failure or a throttled one is logged at warn with the username (when
 * given and well-formed) and the client. */
void telemetry_login(enum login_method method, enum login_outcome result, const char *username,
                     const char *client);

/* What was refused for going too fast. */
enum throttled_what {
    THROTTLED_LOGIN,       /* sign-ins (counted with the login, see telemetry_login) */
    THROTTLED_VERIFY,      /* a client over verify_max_failures unknown keys */
    THROTTLED_PASSWORD,    /* current-password checks (password change) */
    THROTTLED_MFA,         /* MFA confirm / turn-off checks */
    THROTTLED_CONNECTIONS, /* a client over max_connections_per_client */
};

/* Counts a throttled request and logs it at warn (client: the address, or NULL). */
void telemetry_throttled(enum throttled_what what, const char *client);

/* Logs a security event at warn: event (e.g. "escalation refused"), who asked (username or
 * principal; may be NULL), the client, and a short reason. */
void telemetry_security(const char *event, const char *who, const char *client,
                        const char *reason);

#endif

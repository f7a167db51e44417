/* audit.h — the audit trail: who did what to which key, user, role, group, environment,
 * account or project, when, and from where. Secrets are never passed here. */
#ifndef APIKEYD_AUDIT_H
#define APIKEYD_AUDIT_H

#include "core.h"

/* Records an event by who (a caller; actor and client taken from it). target_type is "key",
 * "user", "role", ...; detail is a short free text (may be ""). A store failure is logged, not
 * returned: the change it records has already happened. */
void audit_log(struct core *c, const struct caller *who, const char *action,
               const char *target_type, const char *target, const char *detail);

/* The same with an explicit actor and client (for logins, where there is no caller yet). */
void audit_log_as(struct core *c, const char *actor, const char *client, const char *action,
                  const char *target_type, const char *target, const char *detail);

/* Fills *out with the event audit_log would record (for writes that store it together with
 * the change itself). */
void audit_record_of(const struct caller *who, const char *action, const char *target_type,
                     const char *target, const char *detail, struct audit_record *out);

/* Streams events matching f, newest first (callers need view_audit: ERR_FORBIDDEN). */
enum err audit_query(struct core *c, const struct caller *who, const struct audit_filter *f,
                     store_audit_cb cb, void *ctx);

#endif

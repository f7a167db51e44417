/* audit.h — the audit trail: who did what to which key, user, role, group, environment,
 * account or project, when, and from where. Secrets are never passed here. */
#ifndef APIKEYD_AUDIT_H
#define APIKEYD_AUDIT_H

#include "core.h"

/* The actors of apikeyd's own events. Each is in parentheses, which no username may contain
 * (users_name_valid: A-Z a-z 0-9 . _ - @), so no person can pass for one in the audit trail,
 * whatever name they were given locally, by a directory or by a single sign-on provider. */
#define SYSTEM_ACTOR "(system)"       /* expiry notices, reuse revocations, retention, webhooks */
#define GITHUB_ACTOR "(github)"       /* a key revoked on GitHub's secret scanning report */
#define REVOKE_ACTOR "(revoke)"       /* a key revoked through POST /v1/keys/revoke */
#define LDAP_SYNC_ACTOR "(ldap-sync)" /* the directory sync's disabling */
#define INVALID_ACTOR "(invalid)"     /* a failed sign-in under a name that is no username */

/* Opens an audited change (store_ops.audited_begin): the store writes until audit_end are
 * one transaction with their audit event. Only store calls in between. */
enum err audit_begin(struct core *c);

/* Ends it: with e ERR_OK stores the event by who (as audit_log) and commits; otherwise, or
 * when the event cannot be stored, nothing of the change is kept. Returns the result. */
enum err audit_end(struct core *c, enum err e, const struct caller *who, const char *action,
                   const char *target_type, const char *target, const char *detail);

/* audit_end with an explicit actor and client (a login). */
enum err audit_end_as(struct core *c, enum err e, const char *actor, const char *client,
                      const char *action, const char *target_type, const char *target,
                      const char *detail);

/* Records an event by who (a caller; actor and client taken from it) on its own, for events
 * with no change to go with (a failed login). target_type is "key", "user", "role", ...;
 * detail is a short free text (may be ""), cut on a code-point boundary. A store failure is
 * logged, not returned. */
void audit_log(struct core *c, const struct caller *who, const char *action,
               const char *target_type, const char *target, const char *detail);

/* The same with an explicit actor and client (for logins, where there is no caller yet). */
void audit_log_as(struct core *c, const char *actor, const char *client, const char *action,
                  const char *target_type, const char *target, const char *detail);

/* audit_log_as that returns the store's answer: inside an audited section the event joins
 * its transaction (so a failure refuses the whole section), outside it commits on its own. */
enum err audit_append_as(struct core *c, const char *actor, const char *client,
                         const char *action, const char *target_type, const char *target,
                         const char *detail);

/* Fills *out with the event audit_log would record (for writes that store it together with
 * the change itself). */
void audit_record_of(const struct caller *who, const char *action, const char *target_type,
                     const char *target, const char *detail, struct audit_record *out);

/* The same with an explicit actor and client (events of apikeyd itself: "(system)"). */
void audit_record_as(const char *actor, const char *client, const char *action,
                     const char *target_type, const char *target, const char *detail,
                     struct audit_record *out);

/* Appends a filled record (audit_record_of / _as, with its key_* fields for a key already
 * deleted): inside an audited section it joins its transaction, as audit_append_as. */
enum err audit_append(struct core *c, const struct audit_record *a);

/* Streams events matching f, newest first (callers need view_audit: ERR_FORBIDDEN). */
enum err audit_query(struct core *c, const struct caller *who, const struct audit_filter *f,
                     store_audit_cb cb, void *ctx);

#endif

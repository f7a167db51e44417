/* audit.c — see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "authority.h"
#include "core_internal.h"

static void fill(struct audit_record *a, const char *actor, const char *client,
                 const char *action, const char *target_type, const char *target,
                 const char *detail)
{
    memset(a, 0, sizeof *a);
    a->at = time_now();
    snprintf(a->actor, sizeof a->actor, "%s", actor);
    snprintf(a->action, sizeof a->action, "%s", action);
    snprintf(a->target_type, sizeof a->target_type, "%s", target_type);
    snprintf(a->target, sizeof a->target, "%s", target);
    snprintf(a->client, sizeof a->client, "%s", client ? client : "");
    snprintf(a->detail, sizeof a->detail, "%s", detail ? detail : "");
}

void audit_log_as(struct core *c, const char *actor, const char *client, const char *action,
                  const char *target_type, const char *target, const char *detail)
{
    struct audit_record a;
    fill(&a, actor, client, action, target_type, target, detail);
    if (c->store->ops->audit_append(c->store, &a) != ERR_OK)
        log_warn("audit: could not record %s on %s", action, target_type);
}

void audit_record_of(const struct caller *who, const char *action, const char *target_type,
                     const char *target, const char *detail, struct audit_record *out)
{
    char full_detail[256]; /* the actor is always the person, also behind a key */
    if (who->kind == CALLER_KEY)
        snprintf(full_detail, sizeof full_detail, "%s%svia key %s", detail ? detail : "",
                 detail && *detail ? "; " : "", who->key_id);
    else
        snprintf(full_detail, sizeof full_detail, "%s", detail ? detail : "");
    fill(out, who->username, who->client, action, target_type, target, full_detail);
}

void audit_log(struct core *c, const struct caller *who, const char *action,
               const char *target_type, const char *target, const char *detail)
{
    struct audit_record a;
    audit_record_of(who, action, target_type, target, detail, &a);
    if (c->store->ops->audit_append(c->store, &a) != ERR_OK)
        log_warn("audit: could not record %s on %s", action, target_type);
}

enum err audit_query(struct core *c, const struct caller *who, const struct audit_filter *f,
                     store_audit_cb cb, void *ctx)
{
    if (!(who->authorities & AUTH_VIEW_AUDIT))
        return ERR_FORBIDDEN;
    return c->store->ops->audit_query(c->store, f, cb, ctx);
}

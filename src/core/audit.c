/* audit.c — see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "authority.h"
#include "core_internal.h"

static void fill(struct audit_record *a, const char *actor, const char *client,
                 const char *action, const char *target_type, const char *target,
                 const char *detail)
{
    memset(a, 0, sizeof *a);
    a->at = time_now();
    /* every field is cut on a code-point boundary: a cut inside one would store invalid
     * UTF-8 (refused by PostgreSQL, unrenderable in the listing) */
    text_cut(a->actor, sizeof a->actor, actor);
    text_cut(a->action, sizeof a->action, action);
    text_cut(a->target_type, sizeof a->target_type, target_type);
    text_cut(a->target, sizeof a->target, target);
    text_cut(a->client, sizeof a->client, client ? client : "");
    text_cut(a->detail, sizeof a->detail, detail ? detail : "");
}

void audit_log_as(struct core *c, const char *actor, const char *client, const char *action,
                  const char *target_type, const char *target, const char *detail)
{
    struct audit_record a;
    fill(&a, actor, client, action, target_type, target, detail);
    if (c->store->ops->audit_append(c->store, &a) != ERR_OK)
        log_warn("audit: could not record %s on %s", action, target_type);
}

enum err audit_append_as(struct core *c, const char *actor, const char *client,
                         const char *action, const char *target_type, const char *target,
                         const char *detail)
{
    struct audit_record a;
    fill(&a, actor, client, action, target_type, target, detail);
    return c->store->ops->audit_append(c->store, &a);
}

void audit_record_of(const struct caller *who, const char *action, const char *target_type,
                     const char *target, const char *detail, struct audit_record *out)
{
    /* the actor is always the person, also behind a key: the key is named after the
     * detail, which is cut (on a code-point boundary) to leave room for it */
    char full_detail[sizeof out->detail], via[STORE_ID_LEN + 16] = "";
    if (who->kind == CALLER_KEY)
        snprintf(via, sizeof via, "%svia key %s", detail && *detail ? "; " : "", who->key_id);
    size_t len = text_cut(full_detail, sizeof full_detail - strlen(via), detail ? detail : "");
    memcpy(full_detail + len, via, strlen(via) + 1);
    fill(out, who->username, who->client, action, target_type, target, full_detail);
}

void audit_record_as(const char *actor, const char *client, const char *action,
                     const char *target_type, const char *target, const char *detail,
                     struct audit_record *out)
{
    fill(out, actor, client, action, target_type, target, detail);
}

enum err audit_append(struct core *c, const struct audit_record *a)
{
    return c->store->ops->audit_append(c->store, a);
}

void audit_log(struct core *c, const struct caller *who, const char *action,
               const char *target_type, const char *target, const char *detail)
{
    struct audit_record a;
    audit_record_of(who, action, target_type, target, detail, &a);
    if (c->store->ops->audit_append(c->store, &a) != ERR_OK)
        log_warn("audit: could not record %s on %s", action, target_type);
}

enum err audit_begin(struct core *c)
{
    return c->store->ops->audited_begin(c->store);
}

enum err audit_end(struct core *c, enum err e, const struct caller *who, const char *action,
                   const char *target_type, const char *target, const char *detail)
{
    struct audit_record a;
    audit_record_of(who, action, target_type, target, detail, &a);
    e = c->store->ops->audited_end(c->store, e, &a);
    if (e == ERR_STORE || err_is_unavailable(e))
        log_warn("audit: %s on %s refused: the change or its record could not be stored", action,
                 target_type);
    return e;
}

enum err audit_end_as(struct core *c, enum err e, const char *actor, const char *client,
                      const char *action, const char *target_type, const char *target,
                      const char *detail)
{
    struct audit_record a;
    fill(&a, actor, client, action, target_type, target, detail);
    return c->store->ops->audited_end(c->store, e, &a);
}

enum err audit_query(struct core *c, const struct caller *who, const struct audit_filter *f,
                     store_audit_cb cb, void *ctx)
{
    if (!(who->authorities & AUTH_VIEW_AUDIT))
        return ERR_FORBIDDEN;
    return c->store->ops->audit_query(c->store, f, cb, ctx);
}

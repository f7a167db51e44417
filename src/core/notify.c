/* notify.c — see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "accounts.h"
#include "core_internal.h"
#include "grants.h"
#include "mailer.h"
#include "projects.h"

/* The people already told about one key (a key reaches few: owners of at most
 * PROJECT_DEPTH_MAX projects and its issuer), deduplicated by username. */
struct people {
    struct core *c;
    const struct key_record *k;
    char seen[64][STORE_NAME_MAX + 1];
    size_t count;
    notify_person_cb cb;
    void *ctx;
    int stop;
    char owners[64][STORE_NAME_MAX + 1]; /* project owners found, visited after the walk */
    size_t owner_count;
};

static void visit(struct people *pp, const char *username)
{
    if (pp->stop || !username[0])
        return;
    for (size_t i = 0; i < pp->count; i++)
        if (strcmp(pp->seen[i], username) == 0)
            return;
    if (pp->count == sizeof pp->seen / sizeof pp->seen[0])
        return;
    snprintf(pp->seen[pp->count++], sizeof pp->seen[0], "%s", username);
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return;
    enum err e = pp->c->store->ops->user_get(pp->c->store, username, u);
    if (e == ERR_OK && !u->disabled && u->email[0]) {
        struct notify_person p;
        snprintf(p.username, sizeof p.username, "%s", u->username);
        snprintf(p.full_name, sizeof p.full_name, "%s", u->full_name);
        snprintf(p.email, sizeof p.email, "%s", u->email);
        pp->stop = pp->cb(pp->ctx, &p);
    } else if (e == ERR_OK || e == ERR_NOT_FOUND) {
        log_info("notice: %s gets no mail about key %s (%s)", username, pp->k->id,
                 e ? "no such user" : u->disabled ? "disabled" : "no email address");
    }
    free(u);
}

static int owner_member(void *ctx, const char *project_id, const char *principal,
                        const char *role)
{
    (void)project_id;
    struct people *pp = ctx;
    if (strcmp(role, "owner") == 0 && strncmp(principal, "user:", 5) == 0 &&
        pp->owner_count < sizeof pp->owners / sizeof pp->owners[0])
        snprintf(pp->owners[pp->owner_count++], sizeof pp->owners[0], "%s", principal + 5);
    return 0;
}

/* 1 when the person who issued an API account's key still manages the account: one who was
 * taken off its project (or lost manage_service_accounts) hears no more of its keys. */
static int issuer_manages(struct core *c, const char *username, const struct account_record *a)
{
    struct caller who;
    memset(&who, 0, sizeof who);
    who.kind = CALLER_SESSION;
    snprintf(who.username, sizeof who.username, "%s", username);
    snprintf(who.owner_type, sizeof who.owner_type, "user");
    snprintf(who.owner_id, sizeof who.owner_id, "%s", username);
    struct grant g;
    if (!username[0] || grants_of_user(c, username, &g) != ERR_OK)
        return 0;
    who.authorities = g.authorities;
    who.holds_admin = g.admin;
    int manages = accounts_may_manage(c, &who, a);
    if (!manages)
        log_info("notice: %s gets no mail about a key of API account %s (no longer manages it)",
                 username, a->id);
    return manages;
}

enum err notify_key_people(struct core *c, const struct key_record *k, notify_person_cb cb,
                           void *ctx)
{
    struct people *pp = calloc(1, sizeof *pp);
    if (!pp)
        return ERR_NOMEM;
    pp->c = c;
    pp->k = k;
    pp->cb = cb;
    pp->ctx = ctx;
    enum err e = ERR_OK;
    if (strcmp(k->owner_type, "user") == 0) {
        visit(pp, k->owner_id);
    } else if (strcmp(k->owner_type, "service-account") == 0) {
        struct account_record *a = malloc(sizeof *a);
        struct project_record *p = malloc(sizeof *p);
        if (!a || !p)
            e = ERR_NOMEM;
        else if ((e = c->store->ops->account_get(c->store, k->owner_id, a)) == ERR_NOT_FOUND)
            e = ERR_OK; /* deleted meanwhile: its keys went with it */
        else if (!e) {
            if (issuer_manages(c, k->created_by, a))
                visit(pp, k->created_by);
            char project[STORE_ID_LEN + 1];
            snprintf(project, sizeof project, "%s", a->project);
            for (int depth = 0; !e && project[0] && depth <= PROJECT_DEPTH_MAX; depth++) {
                e = c->store->ops->member_each(c->store, project, owner_member, pp);
                if (!e && !(e = c->store->ops->project_get(c->store, project, p)))
                    snprintf(project, sizeof project, "%s", p->parent);
                else if (e == ERR_NOT_FOUND)
                    e = ERR_OK, project[0] = '\0';
            }
            for (size_t i = 0; !e && i < pp->owner_count; i++)
                visit(pp, pp->owners[i]);
        }
        free(a);
        free(p);
    }
    free(pp);
    return e;
}

enum err notify_send(struct core *c, const struct notify_person *p, const char *subject,
                     const char *body)
{
    if (!c->mailer)
        return ERR_UNAVAILABLE;
    return mailer_send(c->mailer, p->email, subject, body);
}

enum err notify_person(struct core *c, const char *username, const char *subject,
                       const char *body)
{
    struct user_record *u = malloc(sizeof *u);
    if (!u)
        return ERR_NOMEM;
    enum err e = c->store->ops->user_get(c->store, username, u);
    if (!e && (u->disabled || !u->email[0]))
        e = ERR_NOT_FOUND;
    struct notify_person p;
    if (!e) {
        snprintf(p.username, sizeof p.username, "%s", u->username);
        snprintf(p.full_name, sizeof p.full_name, "%s", u->full_name);
        snprintf(p.email, sizeof p.email, "%s", u->email);
    }
    free(u);
    return e ? e : notify_send(c, &p, subject, body);
}

/* groups.c — see groups.h. */
#include "groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "grants.h"
#include "users.h"

static int name_valid(const char *name)
{
    return name && text_is_token(name, "_.-", STORE_NAME_MAX);
}

static int description_valid(const char *d)
{
    return text_codepoints(d) <= 1000 && strlen(d) <= STORE_DESCRIPTION_BYTES &&
           !text_has_control(d, 1);
}

enum err groups_each(struct core *c, store_group_cb cb, void *ctx)
{
    return c->store->ops->group_each(c->store, cb, ctx);
}

enum err groups_get(struct core *c, const char *name, struct group_record *out)
{
    return name_valid(name) ? c->store->ops->group_get(c->store, name, out) : ERR_NOT_FOUND;
}

enum err groups_members_each(struct core *c, const char *name, store_name_cb cb, void *ctx)
{
    return c->store->ops->group_members_each(c->store, name, cb, ctx);
}

int groups_may_see_members(const struct caller *who)
{
    return (who->authorities & (AUTH_MANAGE_GROUPS | AUTH_MANAGE_USERS)) != 0;
}

/* Checks roles and members of in against the store, joining roles into g->roles. */
static void check_lists(struct core *c, const struct group_input *in, struct group_record *g,
                        struct field_errors *fe)
{
    if (in->set_roles) {
        size_t used = 0;
        g->roles[0] = '\0';
        if (in->role_count > 16)
            field_errors_add(fe, "roles", "must name at most 16 roles");
        for (size_t i = 0; i < in->role_count && !field_errors_has(fe, "roles"); i++) {
            struct role_record r;
            if (!name_valid(in->roles[i]) ||
                c->store->ops->role_get(c->store, in->roles[i], &r) != ERR_OK) {
                field_errors_add(fe, "roles", "names a role that does not exist");
                break;
            }
            int n = snprintf(g->roles + used, sizeof g->roles - used, "%s%s", used ? "," : "",
                             in->roles[i]);
            if (n > 0)
                used += (size_t)n;
        }
    }
    if (in->set_members) {
        if (in->member_count > GROUP_MEMBERS_MAX)
            field_errors_add(fe, "members", "must list at most 1000 users");
        for (size_t i = 0; i < in->member_count && !field_errors_has(fe, "members"); i++) {
            struct user_record u;
            if (!users_name_valid(in->members[i]) ||
                users_get(c, in->members[i], &u) != ERR_OK)
                field_errors_add(fe, "members", "names a user that does not exist");
            else if (strcmp(u.environment, g->environment) != 0)
                field_errors_add(fe, "members", "names a user of another environment");
        }
    }
}

struct member_list {
    const char *names[GROUP_MEMBERS_MAX];
    char buf[GROUP_MEMBERS_MAX][STORE_NAME_MAX + 1];
    size_t n;
};

static int collect_member(void *ctx, const char *name)
{
    struct member_list *m = ctx;
    if (m->n >= GROUP_MEMBERS_MAX)
        return 1;
    snprintf(m->buf[m->n], sizeof m->buf[0], "%s", name);
    m->names[m->n] = m->buf[m->n];
    m->n++;
    return 0;
}

/* 1 when who is among the n names. */
static int lists_caller(const struct caller *who, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (grants_is_self(who, names[i]))
            return 1;
    return 0;
}

struct caller_search {
    const struct caller *who;
    int found;
};

static int find_caller(void *ctx, const char *name)
{
    struct caller_search *f = ctx;
    if (grants_is_self(f->who, name))
        f->found = 1;
    return 0;
}

/* 1 when who is a member of the group called name now (on a store error: *e set). */
static int caller_is_member(struct core *c, const struct caller *who, const char *name,
                            enum err *e)
{
    struct caller_search f = {who, 0};
    *e = groups_members_each(c, name, find_caller, &f);
    return f.found;
}

/* 1 when name is among the n names. */
static int listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* The rule "manages only people who hold no more than it does" for the members a change takes
 * something from: each of the current members of cur not in keep (all of them when keep is
 * NULL) must hold no more than the caller, else ERR_NOT_HELD. */
static enum err check_losers(struct core *c, const struct caller *who,
                             const struct member_list *cur, const char *const *keep, size_t n_keep)
{
    for (size_t i = 0; i < cur->n; i++) {
        if (keep && listed(cur->names[i], keep, n_keep))
            continue;
        enum err e = grants_check_user(c, who, cur->names[i]);
        if (e == ERR_NOT_FOUND) /* deleted meanwhile: loses nothing */
            continue;
        if (e)
            return e;
    }
    return ERR_OK;
}

/* 1 when some role of the csv before is missing from the csv after. */
static int drops_a_role(const char *before, const char *after)
{
    char name[STORE_NAME_MAX + 1];
    while (*before) {
        size_t len = strcspn(before, ",");
        if (len > 0 && len < sizeof name) {
            memcpy(name, before, len);
            name[len] = '\0';
            const char *a = after;
            int found = 0;
            while (*a && !found) {
                size_t l = strcspn(a, ",");
                found = l == len && memcmp(a, name, len) == 0;
                a += l;
                if (*a == ',')
                    a++;
            }
            if (!found)
                return 1;
        }
        before += len;
        if (*before == ',')
            before++;
    }
    return 0;
}

enum err groups_create(struct core *c, const struct caller *who, const struct group_input *in,
                       struct field_errors *fe, struct group_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_GROUPS))
        return ERR_FORBIDDEN;
    memset(out, 0, sizeof *out);
    if (!name_valid(in->name))
        field_errors_add(fe, "name", "must be 1-64 of A-Z a-z 0-9 _ . -");
    else
        snprintf(out->name, sizeof out->name, "%s", in->name);
    if (in->description && !description_valid(in->description))
        field_errors_add(fe, "description", "must be at most 1000 characters");
    else if (in->description)
        snprintf(out->description, sizeof out->description, "%s", in->description);
    const char *env = in->environment ? in->environment : "ROOT";
    struct environment_record er;
    if (!name_valid(env) || c->store->ops->environment_get(c->store, env, &er) != ERR_OK)
        field_errors_add(fe, "environment", "names an environment that does not exist");
    snprintf(out->environment, sizeof out->environment, "%s", env);
    check_lists(c, in, out, fe);
    if (fe->count)
        return ERR_INVALID;
    if (in->set_members && lists_caller(who, in->members, in->member_count))
        return ERR_OWN_GRANTS;
    enum err e = grants_check_roles(c, who, out->roles); /* what the members get */
    if (e)
        return e;
    if (!(e = audit_begin(c))) /* the group and its audit event: one transaction */
        e = audit_end(c,
                      c->store->ops->group_create(c->store, out, in->members,
                                                  in->set_members ? in->member_count : 0,
                                                  GROUPS_MAX),
                      who, "group.create", "group", out->name, out->roles);
    if (e == ERR_INVALID) /* a user or role vanished meanwhile */
        field_errors_add(fe, "members", "names a user or role that does not exist");
    return e;
}

enum err groups_update(struct core *c, const struct caller *who, const struct group_input *in,
                       struct field_errors *fe, struct group_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_GROUPS))
        return ERR_FORBIDDEN;
    enum err e = groups_get(c, in->name, out);
    if (!e) /* what its members hold through it now: not the caller's to change unless held */
        e = grants_check_roles(c, who, out->roles);
    if (e)
        return e;
    char roles_before[sizeof out->roles];
    memcpy(roles_before, out->roles, sizeof roles_before);
    if (in->description && !description_valid(in->description))
        field_errors_add(fe, "description", "must be at most 1000 characters");
    else if (in->description)
        snprintf(out->description, sizeof out->description, "%s", in->description);
    check_lists(c, in, out, fe);
    if (fe->count)
        return ERR_INVALID;
    if (in->set_roles && (e = grants_check_roles(c, who, out->roles)) != ERR_OK)
        return e;
    if (in->set_members) { /* nobody joins or leaves a group by their own hand */
        int was = caller_is_member(c, who, out->name, &e);
        if (e)
            return e;
        if (was != lists_caller(who, in->members, in->member_count))
            return ERR_OWN_GRANTS;
    }
    const char *const *members = in->members;
    size_t n = in->member_count;
    struct member_list *current = calloc(1, sizeof *current);
    if (!current)
        return ERR_NOMEM;
    e = groups_members_each(c, out->name, collect_member, current);
    /* who loses something must hold no more than the caller: the members taken out, or all
     * of them when a role of the group goes */
    if (!e && in->set_roles && drops_a_role(roles_before, out->roles))
        e = check_losers(c, who, current, NULL, 0);
    else if (!e && in->set_members)
        e = check_losers(c, who, current, in->members, in->member_count);
    if (!e && !in->set_members) { /* keep the present members */
        members = current->names;
        n = current->n;
    }
    if (!e && !(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->group_update(c->store, out, members, n), who,
                      "group.update", "group", out->name, out->roles);
    free(current);
    if (e == ERR_INVALID)
        field_errors_add(fe, "members", "names a user or role that does not exist");
    return e;
}

enum err groups_delete(struct core *c, const struct caller *who, const char *name)
{
    if (!(who->authorities & AUTH_MANAGE_GROUPS))
        return ERR_FORBIDDEN;
    struct group_record g;
    enum err e = groups_get(c, name, &g);
    if (!e)
        e = grants_check_roles(c, who, g.roles);
    if (e)
        return e;
    if (caller_is_member(c, who, name, &e))
        return ERR_OWN_GRANTS;
    if (e)
        return e;
    struct member_list *current = calloc(1, sizeof *current);
    if (!current)
        return ERR_NOMEM;
    e = groups_members_each(c, name, collect_member, current);
    if (!e) /* every member loses what the group gave: none may hold more than the caller */
        e = check_losers(c, who, current, NULL, 0);
    free(current);
    if (e)
        return e;
    if (!(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->group_delete(c->store, name), who, "group.delete",
                      "group", name, "");
    return e;
}

enum err environments_each(struct core *c, store_environment_cb cb, void *ctx)
{
    return c->store->ops->environment_each(c->store, cb, ctx);
}

enum err environments_get(struct core *c, const char *name, struct environment_record *out)
{
    return name_valid(name) ? c->store->ops->environment_get(c->store, name, out)
                            : ERR_NOT_FOUND;
}

enum err environments_create(struct core *c, const struct caller *who, const char *name,
                             const char *description, struct field_errors *fe,
                             struct environment_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_ENVIRONMENTS))
        return ERR_FORBIDDEN;
    memset(out, 0, sizeof *out);
    if (!name_valid(name))
        field_errors_add(fe, "name", "must be 1-64 of A-Z a-z 0-9 _ . -");
    if (description && !description_valid(description))
        field_errors_add(fe, "description", "must be at most 1000 characters");
    if (fe->count)
        return ERR_INVALID;
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->description, sizeof out->description, "%s", description ? description : "");
    enum err e = audit_begin(c);
    if (!e)
        e = audit_end(c, c->store->ops->environment_create(c->store, out, ENVIRONMENTS_MAX), who,
                      "environment.create", "environment", name, "");
    return e;
}

enum err environments_delete(struct core *c, const struct caller *who, const char *name)
{
    if (!(who->authorities & AUTH_MANAGE_ENVIRONMENTS))
        return ERR_FORBIDDEN;
    if (!name_valid(name))
        return ERR_NOT_FOUND;
    if (strcmp(name, "ROOT") == 0)
        return ERR_FORBIDDEN;
    enum err e = audit_begin(c);
    if (!e)
        e = audit_end(c, c->store->ops->environment_delete(c->store, name), who,
                      "environment.delete", "environment", name, "");
    return e;
}

/* projects.c — see projects.h. The store is written first; the in-memory access map
 * (access.c) is then updated, so verification sees a change once it is durable. */
#include "projects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "users.h"

static void principal_of(const struct caller *who, char out[STORE_PRINCIPAL_MAX + 1])
{
    snprintf(out, STORE_PRINCIPAL_MAX + 1, "%s:%s", who->owner_type, who->owner_id);
}

enum project_role projects_caller_role(struct core *c, const struct caller *who, const char *id)
{
    char principal[STORE_PRINCIPAL_MAX + 1];
    principal_of(who, principal);
    return access_role(c->access, id, principal, NULL);
}

int projects_can_manage(struct core *c, const struct caller *who, const char *id)
{
    if (!access_project_exists(c->access, id, NULL))
        return 0;
    return (who->authorities & AUTH_MANAGE_PROJECTS) ||
           projects_caller_role(c, who, id) == ROLE_OWNER;
}

static int can_see(struct core *c, const struct caller *who, const char *id)
{
    return access_project_exists(c->access, id, NULL) &&
           ((who->authorities & AUTH_MANAGE_PROJECTS) ||
            projects_caller_role(c, who, id) != ROLE_NONE);
}

static int id_valid(const char *id)
{
    return id && strlen(id) == STORE_ID_LEN && text_is_token(id, "", STORE_ID_LEN);
}

enum err projects_create(struct core *c, const struct caller *who, const char *name,
                         const char *parent, struct field_errors *fe, struct project_record *out)
{
    memset(out, 0, sizeof *out);
    if (!name || text_is_blank(name) || text_codepoints(name) > 100 ||
        strlen(name) > STORE_KEY_NAME_BYTES || text_has_control(name, 0))
        field_errors_add(fe, "name", "must be 1-100 characters, no control characters");
    int depth = 0;
    if (parent && (!id_valid(parent) || !access_project_exists(c->access, parent, &depth)))
        field_errors_add(fe, "parent", "names a project that does not exist");
    else if (parent && depth >= PROJECT_DEPTH_MAX)
        field_errors_add(fe, "parent", "is already 8 levels deep");
    if (fe->count)
        return ERR_INVALID;
    if (parent ? !projects_can_manage(c, who, parent)
               : !(who->authorities & AUTH_MANAGE_PROJECTS))
        return ERR_FORBIDDEN; /* top level: manage_projects; below: the parent's owners */
    random_id(out->id);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->parent, sizeof out->parent, "%s", parent ? parent : "");
    snprintf(out->created_by, sizeof out->created_by, "%s", who->username);
    out->created_at = time_now();
    char principal[STORE_PRINCIPAL_MAX + 1];
    principal_of(who, principal);
    enum err e = audit_begin(c); /* the project, its owner and its audit event: one transaction */
    if (!e) {
        e = c->store->ops->project_create(c->store, out, c->cfg.max_projects_per_user);
        if (!e && !parent) /* the creator owns a new top-level project */
            e = c->store->ops->member_put(c->store, out->id, principal, "owner",
                                          PROJECT_MEMBERS_MAX);
        e = audit_end(c, e, who, "project.create", "project", out->id, out->name);
    }
    if (e == ERR_INVALID) /* the parent went away meanwhile */
        field_errors_add(fe, "parent", "names a project that does not exist");
    if (!e)
        e = access_add_project(c->access, out->id, out->parent);
    if (!e && !parent)
        e = access_set(c->access, out->id, principal, ROLE_OWNER);
    return e;
}

enum err projects_get(struct core *c, const struct caller *who, const char *id,
                      struct project_record *out)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    return c->store->ops->project_get(c->store, id, out);
}

struct visible_walk {
    struct core *c;
    const struct caller *who;
    store_project_cb cb;
    void *ctx;
};

static int visible_one(void *ctx, const struct project_record *p)
{
    struct visible_walk *w = ctx;
    return can_see(w->c, w->who, p->id) ? w->cb(w->ctx, p) : 0;
}

enum err projects_list(struct core *c, const struct caller *who, store_project_cb cb, void *ctx)
{
    struct visible_walk w = {c, who, cb, ctx};
    return c->store->ops->project_each(c->store, visible_one, &w);
}

enum err projects_delete(struct core *c, const struct caller *who, const char *id)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    if (!projects_can_manage(c, who, id))
        return ERR_FORBIDDEN;
    enum err e = audit_begin(c); /* the delete and its audit event: one transaction */
    if (!e)
        e = audit_end(c, c->store->ops->project_delete(c->store, id), who, "project.delete",
                      "project", id, "");
    if (!e)
        access_remove_project(c->access, id);
    return e;
}

struct member_walk {
    struct core *c;
    const char *project;
    project_member_cb cb;
    void *ctx;
    int stop;
};

static int member_one(void *ctx, const char *project_id, const char *principal, const char *role)
{
    struct member_walk *w = ctx;
    const char *from = strcmp(project_id, w->project) == 0 ? "" : project_id;
    w->stop = w->cb(w->ctx, principal, project_role_parse(role), from);
    return w->stop;
}

enum err projects_members(struct core *c, const struct caller *who, const char *id,
                          project_member_cb cb, void *ctx)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    struct member_walk w = {c, id, cb, ctx, 0};
    struct project_record p;
    char cur[STORE_ID_LEN + 1];
    snprintf(cur, sizeof cur, "%s", id);
    enum err e = ERR_OK;
    /* this project's members, then each parent's (inherited) */
    for (int depth = 0; !e && !w.stop && cur[0] && depth < PROJECT_DEPTH_MAX; depth++) {
        e = c->store->ops->member_each(c->store, cur, member_one, &w);
        if (!e)
            e = c->store->ops->project_get(c->store, cur, &p);
        if (!e)
            snprintf(cur, sizeof cur, "%s", p.parent);
    }
    return e;
}

/* 1 when principal names an existing user or API account. */
static int principal_exists(struct core *c, const char *principal)
{
    if (strncmp(principal, "user:", 5) == 0) {
        struct user_record u;
        int ok = users_name_valid(principal + 5) &&
                 c->store->ops->user_get(c->store, principal + 5, &u) == ERR_OK;
        memset(&u, 0, sizeof u);
        return ok;
    }
    if (strncmp(principal, "service-account:", 16) == 0) {
        struct account_record a;
        return id_valid(principal + 16) &&
               c->store->ops->account_get(c->store, principal + 16, &a) == ERR_OK;
    }
    return 0;
}

struct owner_count {
    int owners;
    const char *except;
};

static int count_owner(void *ctx, const char *project_id, const char *principal, const char *role)
{
    (void)project_id;
    struct owner_count *oc = ctx;
    if (strcmp(role, "owner") == 0 && strcmp(principal, oc->except) != 0)
        oc->owners++;
    return 0;
}

/* ERR_CONFLICT when principal is the last direct owner of top-level project p. */
static enum err keep_an_owner(struct core *c, const struct project_record *p, const char *principal)
{
    if (p->parent[0])
        return ERR_OK; /* owners of the parent still reach it */
    struct owner_count oc = {0, principal};
    enum err e = c->store->ops->member_each(c->store, p->id, count_owner, &oc);
    return e ? e : (oc.owners ? ERR_OK : ERR_CONFLICT);
}

struct owned_projects {
    const char *principal;
    char (*ids)[STORE_ID_LEN + 1];
    size_t count, cap;
    int out_of_memory;
};

static int collect_owned(void *ctx, const char *project_id, const char *principal, const char *role)
{
    struct owned_projects *o = ctx;
    if (strcmp(role, "owner") != 0 || strcmp(principal, o->principal) != 0)
        return 0;
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        void *grown = realloc(o->ids, cap * sizeof *o->ids);
        if (!grown) {
            o->out_of_memory = 1;
            return 1;
        }
        o->ids = grown;
        o->cap = cap;
    }
    snprintf(o->ids[o->count++], sizeof o->ids[0], "%s", project_id);
    return 0;
}

enum err projects_sole_owner(struct core *c, const char *principal, struct project_record *out)
{
    struct owned_projects o = {principal, NULL, 0, 0, 0};
    enum err e = c->store->ops->member_each(c->store, NULL, collect_owned, &o);
    if (!e && o.out_of_memory)
        e = ERR_NOMEM;
    for (size_t i = 0; !e && i < o.count; i++) {
        struct project_record p;
        e = c->store->ops->project_get(c->store, o.ids[i], &p);
        if (e == ERR_NOT_FOUND) { /* deleted meanwhile */
            e = ERR_OK;
            continue;
        }
        if (!e && (e = keep_an_owner(c, &p, principal)) == ERR_CONFLICT)
            *out = p;
    }
    free(o.ids);
    return e;
}

enum err projects_member_put(struct core *c, const struct caller *who, const char *id,
                             const char *principal, const char *role, struct field_errors *fe)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    if (!projects_can_manage(c, who, id))
        return ERR_FORBIDDEN;
    enum project_role r = project_role_parse(role);
    if (!r)
        field_errors_add(fe, "role", "must be owner, contributor or reader");
    if (strlen(principal) > STORE_PRINCIPAL_MAX || !principal_exists(c, principal))
        field_errors_add(fe, "principal", "names no user or API account");
    if (fe->count)
        return ERR_INVALID;
    struct project_record p;
    enum err e = c->store->ops->project_get(c->store, id, &p);
    char key[STORE_ID_LEN + STORE_PRINCIPAL_MAX + 4];
    snprintf(key, sizeof key, "%s|%s", id, principal);
    if (!e && r != ROLE_OWNER)
        e = keep_an_owner(c, &p, principal);
    if (!e && !(e = audit_begin(c))) /* the membership and its audit event: one transaction */
        e = audit_end(c,
                      c->store->ops->member_put(c->store, id, principal, role,
                                                PROJECT_MEMBERS_MAX),
                      who, "project.member.put", "project", id, key + STORE_ID_LEN + 1);
    if (!e)
        e = access_set(c->access, id, principal, r);
    return e;
}

struct member_find {
    const char *principal;
    enum project_role role;
};

static int find_member(void *ctx, const char *project_id, const char *principal, const char *role)
{
    (void)project_id;
    struct member_find *f = ctx;
    if (strcmp(principal, f->principal) == 0)
        f->role = project_role_parse(role);
    return f->role != ROLE_NONE;
}

enum err projects_member_delete(struct core *c, const struct caller *who, const char *id,
                                const char *principal)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    if (!projects_can_manage(c, who, id))
        return ERR_FORBIDDEN;
    struct member_find f = {principal, ROLE_NONE};
    struct project_record p;
    enum err e = c->store->ops->member_each(c->store, id, find_member, &f);
    if (!e && f.role == ROLE_NONE)
        e = ERR_NOT_FOUND; /* not a direct member */
    if (!e)
        e = c->store->ops->project_get(c->store, id, &p);
    if (!e && f.role == ROLE_OWNER)
        e = keep_an_owner(c, &p, principal);
    /* refuse first, so no verification sees the role once the store has dropped it */
    if (!e && !(e = access_set(c->access, id, principal, ROLE_NONE))) {
        if (!(e = audit_begin(c))) /* the removal and its audit event: one transaction */
            e = audit_end(c, c->store->ops->member_delete(c->store, id, principal), who,
                          "project.member.delete", "project", id, principal);
        if (e)
            access_set(c->access, id, principal, f.role); /* the store still has it */
    }
    return e;
}

enum err projects_member_get(struct core *c, const struct caller *who, const char *id,
                             const char *principal, enum project_role *out)
{
    if (!id_valid(id) || !can_see(c, who, id))
        return ERR_NOT_FOUND;
    struct member_find f = {principal, ROLE_NONE};
    enum err e = c->store->ops->member_each(c->store, id, find_member, &f);
    if (!e && f.role == ROLE_NONE)
        e = ERR_NOT_FOUND;
    if (!e)
        *out = f.role;
    return e;
}

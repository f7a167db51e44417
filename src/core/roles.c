/* roles.c — see roles.h. */
#include "roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "grants.h"

int roles_name_valid(const char *name)
{
    return text_is_token(name, "_.-", STORE_NAME_MAX);
}

enum err roles_each(struct core *c, store_role_cb cb, void *ctx)
{
    return c->store->ops->role_each(c->store, cb, ctx);
}

enum err roles_get(struct core *c, const char *name, struct role_record *out)
{
    if (!roles_name_valid(name))
        return ERR_NOT_FOUND;
    return c->store->ops->role_get(c->store, name, out);
}

/* ERR_OK when who holds every authority in the csv list (the rule of grants.h). */
static enum err check_held(const struct caller *who, const char *csv)
{
    struct grant g = {authority_mask_from_csv(csv, NULL), 0};
    return grants_check(who, &g);
}

struct holders {
    char (*names)[STORE_NAME_MAX + 1];
    size_t n, cap;
    int failed; /* out of memory */
};

static int collect_holder(void *ctx, const char *name)
{
    struct holders *h = ctx;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        void *more = realloc(h->names, cap * sizeof h->names[0]);
        if (!more) {
            h->failed = 1;
            return 1;
        }
        h->names = more;
        h->cap = cap;
    }
    snprintf(h->names[h->n++], sizeof h->names[0], "%s", name);
    return 0;
}

/* The rule "manages only people who hold no more than it does" for a change that takes
 * authorities away from everyone holding the role: each holder (directly or through a group)
 * must hold no more than the caller, else ERR_NOT_HELD. */
static enum err check_holders(struct core *c, const struct caller *who, const char *role)
{
    struct holders h = {0};
    enum err e = c->store->ops->role_holders_each(c->store, role, collect_holder, &h);
    if (!e && h.failed)
        e = ERR_NOMEM;
    for (size_t i = 0; !e && i < h.n; i++) {
        e = grants_check_user(c, who, h.names[i]);
        if (e == ERR_NOT_FOUND) /* deleted meanwhile: loses nothing */
            e = ERR_OK;
    }
    free(h.names);
    return e;
}

/* Validates description and authorities into r. */
static void fill_role(const char *description, const char *const *authorities, size_t n,
                      struct field_errors *fe, struct role_record *r)
{
    if (description) {
        if (text_codepoints(description) > 1000 || strlen(description) > STORE_DESCRIPTION_BYTES ||
            text_has_control(description, 1))
            field_errors_add(fe, "description", "must be at most 1000 characters");
        else
            snprintf(r->description, sizeof r->description, "%s", description);
    }
    uint32_t mask = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bit = authority_bit(authorities[i]);
        if (!bit) {
            field_errors_add(fe, "authorities", "names an authority that does not exist");
            return;
        }
        mask |= bit;
    }
    authority_mask_to_csv(mask, r->authorities, sizeof r->authorities);
}

enum err roles_create(struct core *c, const struct caller *who, const char *name,
                      const char *description, const char *const *authorities, size_t n,
                      struct field_errors *fe, struct role_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_ROLES))
        return ERR_FORBIDDEN;
    memset(out, 0, sizeof *out);
    if (!name || !roles_name_valid(name))
        field_errors_add(fe, "name", "must be 1-64 of A-Z a-z 0-9 _ . -");
    else
        snprintf(out->name, sizeof out->name, "%s", name);
    fill_role(description, authorities, n, fe, out);
    if (fe->count)
        return ERR_INVALID;
    enum err e = check_held(who, out->authorities);
    if (e)
        return e;
    if (!(e = audit_begin(c))) /* the role and its audit event: one transaction */
        e = audit_end(c, c->store->ops->role_create(c->store, out, ROLES_MAX), who, "role.create",
                      "role", name, out->authorities);
    return e;
}

enum err roles_update(struct core *c, const struct caller *who, const char *name,
                      const char *description, const char *const *authorities, size_t n,
                      struct field_errors *fe, struct role_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_ROLES))
        return ERR_FORBIDDEN;
    enum err e = roles_get(c, name, out);
    if (e)
        return e;
    if (out->builtin)
        return ERR_FORBIDDEN;
    if ((e = check_held(who, out->authorities)) != ERR_OK) /* what its holders have now */
        return e;
    uint32_t before = authority_mask_from_csv(out->authorities, NULL);
    fill_role(description, authorities, n, fe, out);
    if (fe->count)
        return ERR_INVALID;
    if ((e = check_held(who, out->authorities)) != ERR_OK) /* what they would have */
        return e;
    /* taking an authority away from its holders: none of them may hold more than the caller */
    if ((before & ~authority_mask_from_csv(out->authorities, NULL)) &&
        (e = check_holders(c, who, name)) != ERR_OK)
        return e;
    if (!(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->role_update(c->store, out), who, "role.update", "role",
                      name, out->authorities);
    return e;
}

enum err roles_delete(struct core *c, const struct caller *who, const char *name)
{
    if (!(who->authorities & AUTH_MANAGE_ROLES))
        return ERR_FORBIDDEN;
    struct role_record r;
    enum err e = roles_get(c, name, &r);
    if (e)
        return e;
    if (r.builtin)
        return ERR_FORBIDDEN;
    if ((e = check_held(who, r.authorities)) != ERR_OK)
        return e;
    if (!(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->role_delete(c->store, name), who, "role.delete", "role",
                      name, "");
    return e;
}

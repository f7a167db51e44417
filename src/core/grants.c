/* grants.c — see grants.h. */
#include "grants.h"

#include <string.h>

#include "authority.h"
#include "core_internal.h"

static int add_role(void *ctx, const struct role_record *r)
{
    struct grant *g = ctx;
    g->authorities |= authority_mask_from_csv(r->authorities, NULL);
    if (r->builtin && strcmp(r->name, GRANTS_ADMIN_ROLE) == 0)
        g->admin = 1;
    return 0;
}

enum err grants_of_user(struct core *c, const char *username, struct grant *out)
{
    struct grant g = {0};
    enum err e = c->store->ops->user_roles_each(c->store, username, add_role, &g);
    if (!e)
        *out = g;
    return e;
}

enum err grants_of_roles_csv(struct core *c, const char *csv, struct grant *out)
{
    struct grant g = {0};
    char name[STORE_NAME_MAX + 1];
    while (*csv) {
        size_t len = strcspn(csv, ",");
        if (len > 0 && len < sizeof name) {
            memcpy(name, csv, len);
            name[len] = '\0';
            struct role_record r;
            enum err e = c->store->ops->role_get(c->store, name, &r);
            if (e && e != ERR_NOT_FOUND)
                return e;
            if (!e)
                add_role(&g, &r);
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
    *out = g;
    return ERR_OK;
}

enum err grants_check(const struct caller *who, const struct grant *g)
{
    if (g->authorities & ~who->authorities)
        return ERR_NOT_HELD;
    if (g->admin && !who->holds_admin)
        return ERR_NOT_HELD;
    return ERR_OK;
}

enum err grants_check_user(struct core *c, const struct caller *who, const char *username)
{
    struct grant g;
    enum err e = grants_of_user(c, username, &g);
    return e ? e : grants_check(who, &g);
}

enum err grants_check_roles(struct core *c, const struct caller *who, const char *csv)
{
    struct grant g;
    enum err e = grants_of_roles_csv(c, csv, &g);
    return e ? e : grants_check(who, &g);
}

int grants_is_self(const struct caller *who, const char *username)
{
    return strcmp(who->username, username) == 0;
}

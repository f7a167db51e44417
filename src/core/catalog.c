/* catalog.c — see catalog.h. */
#include "catalog.h"

#include "audit.h"
#include "authority.h"
#include "core_internal.h"

void catalog_each(struct core *c, int (*cb)(void *ctx, const char *name, const char *desc),
                  void *ctx)
{
    scopes_each(c->scopes, cb, ctx);
}

enum err catalog_add(struct core *c, const struct caller *who, const char *name,
                     const char *description)
{
    if (!(who->authorities & AUTH_MANAGE_SCOPES))
        return ERR_FORBIDDEN;
    struct audit_record a; /* stored in the same transaction as the scope */
    audit_record_of(who, "scope.create", "scope", name, "", &a);
    return scopes_add_audited(c->scopes, c->store, name, description, &a);
}

int catalog_name_valid(const char *name)
{
    return scopes_name_valid(name);
}

int catalog_description_valid(const char *description)
{
    return scopes_description_valid(description);
}

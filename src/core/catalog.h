/* catalog.h — the scope catalogue as callers see it: list for anyone signed in, add for
 * admins. */
#ifndef APIKEYD_CATALOG_H
#define APIKEYD_CATALOG_H

#include "core.h"

/* Calls cb for each scope in catalogue order. */
void catalog_each(struct core *c, int (*cb)(void *ctx, const char *name, const char *desc),
                  void *ctx);

/* Adds a scope (needs manage_scopes): ERR_FORBIDDEN, ERR_INVALID, ERR_CONFLICT, ERR_LIMIT. */
enum err catalog_add(struct core *c, const struct caller *who, const char *name,
                     const char *description);

/* 1 when name is a valid scope name. */
int catalog_name_valid(const char *name);

/* 1 when description fits: at most 1000 characters, no control characters but newlines. */
int catalog_description_valid(const char *description);

#endif

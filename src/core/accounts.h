/* accounts.h — API accounts (service accounts): principals whose keys act in projects under
 * the license of the person who issued each key. Site-wide accounts are managed by holders of
 * manage_service_accounts; project accounts by the project's owners. */
#ifndef APIKEYD_ACCOUNTS_H
#define APIKEYD_ACCOUNTS_H

#include "../base/fielderr.h"
#include "core.h"
#include "keys.h"
#include "rotate.h"

/* Default of max_site_wide_accounts (config): API accounts without a project. Accounts of a
 * project are bounded per project (max_accounts_per_project), so no count is shared. */
#define ACCOUNTS_MAX 10000

/* Creates an account; with project set it becomes a member there with role (default
 * contributor). ERR_FORBIDDEN, ERR_INVALID (fe), ERR_CONFLICT (name taken), ERR_LIMIT (the
 * project already has max_accounts_per_project accounts, or there are max_site_wide_accounts
 * site-wide ones). */
enum err accounts_create(struct core *c, const struct caller *who, const char *name,
                         const char *description, const char *project, const char *role,
                         struct field_errors *fe, struct account_record *out);

/* 1 when who manages account a: manage_service_accounts, or an owner (or manage_projects) of
 * its project. */
int accounts_may_manage(struct core *c, const struct caller *who, const struct account_record *a);

/* Reads an account the caller manages (ERR_NOT_FOUND otherwise). */
enum err accounts_get(struct core *c, const struct caller *who, const char *id,
                      struct account_record *out);

/* Streams the accounts the caller manages. */
enum err accounts_list(struct core *c, const struct caller *who, store_account_cb cb, void *ctx);

/* Changes name/description (NULL keeps) and disabled (-1 keeps). Disabling makes every key of
 * the account answer DISABLED at once. */
enum err accounts_update(struct core *c, const struct caller *who, const char *id,
                         const char *name, const char *description, int disabled,
                         struct field_errors *fe, struct account_record *out);

/* Deletes the account, its keys (refused at once) and memberships. */
enum err accounts_delete(struct core *c, const struct caller *who, const char *id);

/* Keys of an account the caller manages; an API-account key manages only its own
 * account's keys (ERR_FORBIDDEN for another account). */
enum err accounts_keys_list(struct core *c, const struct caller *who, const char *id,
                            store_key_cb cb, void *ctx);
enum err accounts_key_create(struct core *c, const struct caller *who, const char *id,
                             const struct key_input *in, struct field_errors *fe,
                             struct key_record *out, char secret[KEYFMT_MAX_LEN + 1]);
/* Rotates key key_id of an account the caller manages (rotate.h): the same caller rule as
 * create and delete; a disabled account's keys are ERR_CONFLICT (*why says so). */
enum err accounts_key_rotate(struct core *c, const struct caller *who, const char *id,
                             const char *key_id, const struct rotate_input *in,
                             struct field_errors *fe, struct key_record *out,
                             char secret[KEYFMT_MAX_LEN + 1], const char **why);
/* One key of an account the caller manages; ERR_NOT_FOUND when it is not that account's. */
enum err accounts_key_get(struct core *c, const struct caller *who, const char *id,
                          const char *key_id, struct key_record *out);
enum err accounts_key_delete(struct core *c, const struct caller *who, const char *id,
                             const char *key_id);

#endif

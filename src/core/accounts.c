/* accounts.c — see accounts.h. */
#include "accounts.h"

#include <stdio.h>
#include <string.h>

#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "keys_gone.h"
#include "authority.h"
#include "core_internal.h"
#include "projects.h"

static int can_manage(struct core *c, const struct caller *who, const struct account_record *a)
{
    if (who->authorities & AUTH_MANAGE_SERVICE_ACCOUNTS)
        return 1;
    return a->project[0] && projects_can_manage(c, who, a->project);
}

int accounts_may_manage(struct core *c, const struct caller *who, const struct account_record *a)
{
    return can_manage(c, who, a);
}

static void check_name(const char *name, struct field_errors *fe)
{
    if (!name || text_is_blank(name) || text_codepoints(name) > 100 ||
        strlen(name) > STORE_KEY_NAME_BYTES || text_has_control(name, 0))
        field_errors_add(fe, "name", "must be 1-100 characters, no control characters");
}

static void check_description(const char *d, struct field_errors *fe)
{
    if (d && (text_codepoints(d) > 1000 || strlen(d) > STORE_DESCRIPTION_BYTES ||
              text_has_control(d, 1)))
        field_errors_add(fe, "description", "must be at most 1000 characters");
}

enum err accounts_create(struct core *c, const struct caller *who, const char *name,
                         const char *description, const char *project, const char *role,
                         struct field_errors *fe, struct account_record *out)
{
    memset(out, 0, sizeof *out);
    check_name(name, fe);
    check_description(description, fe);
    if (project &&
        (strlen(project) != STORE_ID_LEN || !access_project_exists(c->access, project, NULL)))
        field_errors_add(fe, "project", "names a project that does not exist");
    if (role && (!project || project_role_parse(role) == ROLE_NONE))
        field_errors_add(fe, "role", "must be owner, contributor or reader, with a project");
    if (fe->count)
        return ERR_INVALID;
    snprintf(out->project, sizeof out->project, "%s", project ? project : "");
    if (!can_manage(c, who, out))
        return ERR_FORBIDDEN;
    random_id(out->id);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->description, sizeof out->description, "%s", description ? description : "");
    snprintf(out->created_by, sizeof out->created_by, "%s", who->username);
    out->created_at = time_now();
    const char *member_role = role ? role : "contributor";
    int max = project ? c->cfg.max_accounts_per_project : c->cfg.max_site_wide_accounts;
    enum err e = audit_begin(c); /* the account and its audit event: one transaction */
    if (!e)
        e = audit_end(c, c->store->ops->account_create(c->store, out, member_role, max), who,
                      "account.create", "service-account", out->id, out->name);
    if (!e && project) {
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "service-account:%s", out->id);
        e = access_set(c->access, project, principal, project_role_parse(member_role));
    }
    return e;
}

enum err accounts_get(struct core *c, const struct caller *who, const char *id,
                      struct account_record *out)
{
    if (strlen(id) != STORE_ID_LEN)
        return ERR_NOT_FOUND;
    enum err e = c->store->ops->account_get(c->store, id, out);
    if (!e && !can_manage(c, who, out))
        e = ERR_NOT_FOUND;
    return e;
}

struct managed_walk {
    struct core *c;
    const struct caller *who;
    store_account_cb cb;
    void *ctx;
};

static int managed_one(void *ctx, const struct account_record *a)
{
    struct managed_walk *w = ctx;
    return can_manage(w->c, w->who, a) ? w->cb(w->ctx, a) : 0;
}

enum err accounts_list(struct core *c, const struct caller *who, store_account_cb cb, void *ctx)
{
    struct managed_walk w = {c, who, cb, ctx};
    return c->store->ops->account_each(c->store, managed_one, &w);
}

enum err accounts_update(struct core *c, const struct caller *who, const char *id, const char *name,
                         const char *description, int disabled, struct field_errors *fe,
                         struct account_record *out)
{
    if (name)
        check_name(name, fe);
    check_description(description, fe);
    if (fe->count)
        return ERR_INVALID;
    enum err e = accounts_get(c, who, id, out);
    if (e)
        return e;
    if (name)
        snprintf(out->name, sizeof out->name, "%s", name);
    if (description)
        snprintf(out->description, sizeof out->description, "%s", description);
    int was = out->disabled;
    if (disabled >= 0)
        out->disabled = disabled;
    if (out->disabled && !was) /* refused before the answer */
        e = keyindex_set_owner_disabled(c->index, "service-account", id, 1);
    if (!e && !(e = audit_begin(c))) /* the change and its audit event: one transaction */
        e = audit_end(c, c->store->ops->account_update(c->store, out), who, "account.update",
                      "service-account", id,
                      out->disabled != was ? (out->disabled ? "disabled" : "enabled") : "");
    if (e && out->disabled && !was)
        keyindex_set_owner_disabled(c->index, "service-account", id, 0);
    if (!e && !out->disabled && was)
        e = keyindex_set_owner_disabled(c->index, "service-account", id, 0);
    return e;
}

enum err accounts_delete(struct core *c, const struct caller *who, const char *id)
{
    struct account_record a;
    enum err e = accounts_get(c, who, id, &a);
    if (e)
        return e;
    /* refuse the keys first, so nothing verifies once the store no longer has them */
    if ((e = keyindex_set_owner_disabled(c->index, "service-account", id, 1)))
        return e;
    /* the delete, a key.delete per key it removed and account.delete: one transaction */
    struct keys_gone gone = {0};
    if (!(e = audit_begin(c))) {
        e = c->store->ops->account_delete(c->store, id, keys_gone_add, &gone);
        if (!e)
            e = keys_gone_audit(c, &gone, 0, who, NULL, NULL, "deleted with its API account");
        e = audit_end(c, e, who, "account.delete", "service-account", id, a.name);
    }
    keys_gone_free(&gone);
    if (!e) {
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "service-account:%s", id);
        keyindex_remove_owner(c->index, "service-account", id);
        access_forget_principal(c->access, principal);
    }
    keyindex_set_owner_disabled(c->index, "service-account", id, e ? a.disabled : 0);
    return e;
}

/* The account whose keys the caller manages: an API-account key only its own account's
 * (ERR_FORBIDDEN for any other; the route table refuses those first), a person the accounts
 * they manage. */
static enum err keys_account(struct core *c, const struct caller *who, const char *id,
                             struct account_record *out)
{
    if (strcmp(who->owner_type, "user") == 0)
        return accounts_get(c, who, id, out);
    if (strcmp(who->owner_type, "service-account") != 0 || strcmp(id, who->owner_id) != 0)
        return ERR_FORBIDDEN;
    return c->store->ops->account_get(c->store, id, out);
}

enum err accounts_keys_list(struct core *c, const struct caller *who, const char *id,
                            store_key_cb cb, void *ctx)
{
    struct account_record a;
    enum err e = keys_account(c, who, id, &a);
    return e ? e : c->store->ops->key_each(c->store, "service-account", id, cb, ctx);
}

enum err accounts_key_create(struct core *c, const struct caller *who, const char *id,
                             const struct key_input *in, struct field_errors *fe,
                             struct key_record *out, char secret[KEYFMT_MAX_LEN + 1])
{
    struct account_record a;
    enum err e = keys_account(c, who, id, &a);
    if (e)
        return e;
    if (a.disabled)
        return ERR_CONFLICT;
    return keys_create_owned(c, who, "service-account", id, in, fe, out, secret);
}

enum err accounts_key_rotate(struct core *c, const struct caller *who, const char *id,
                             const char *key_id, const struct rotate_input *in,
                             struct field_errors *fe, struct key_record *out,
                             char secret[KEYFMT_MAX_LEN + 1], const char **why)
{
    struct account_record a;
    *why = NULL;
    enum err e = keys_account(c, who, id, &a);
    if (e)
        return e;
    if (a.disabled) {
        *why = "the API account is disabled: enable it to rotate its keys";
        return ERR_CONFLICT;
    }
    return rotate_key_owned(c, who, "service-account", id, key_id, in, fe, out, secret, why);
}

enum err accounts_key_get(struct core *c, const struct caller *who, const char *id,
                          const char *key_id, struct key_record *out)
{
    struct account_record a;
    enum err e = keys_account(c, who, id, &a);
    return e ? e : keys_get_owned(c, "service-account", id, key_id, out);
}

enum err accounts_key_delete(struct core *c, const struct caller *who, const char *id,
                             const char *key_id)
{
    struct account_record a;
    enum err e = keys_account(c, who, id, &a);
    return e ? e : keys_delete_owned(c, who, "service-account", id, key_id);
}

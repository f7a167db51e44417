/* keys.c — see keys.h. */
#include "keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "grants.h"

void keys_check_name(const char *name, struct field_errors *fe)
{
    size_t chars = text_codepoints(name);
    if (chars == 0 || text_is_blank(name))
        field_errors_add(fe, "name", "must not be empty");
    else if (chars > KEYS_NAME_MAX_CHARS || strlen(name) > STORE_KEY_NAME_BYTES)
        field_errors_add(fe, "name", "must be at most 100 characters");
    else if (text_has_control(name, 0))
        field_errors_add(fe, "name", "must not contain control characters");
}

void keys_check_description(const char *description, struct field_errors *fe)
{
    if (text_codepoints(description) > KEYS_DESCRIPTION_MAX_CHARS ||
        strlen(description) > STORE_DESCRIPTION_BYTES)
        field_errors_add(fe, "description", "must be at most 1000 characters");
    else if (text_has_control(description, 1))
        field_errors_add(fe, "description", "must not contain control characters");
}

static void check_scopes(struct core *c, const struct key_input *in, struct field_errors *fe,
                         uint64_t *mask)
{
    *mask = 0;
    if (in->scope_count == 0) {
        field_errors_add(fe, "scopes", "must name at least one scope");
        return;
    }
    if (in->scope_count > SCOPES_MAX) {
        field_errors_add(fe, "scopes", "must name at most 64 scopes");
        return;
    }
    for (size_t i = 0; i < in->scope_count; i++) {
        int bit = scopes_bit(c->scopes, in->scopes[i]);
        if (bit < 0) {
            field_errors_add(fe, "scopes", "names a scope that is not in the catalogue");
            return;
        }
        uint64_t b = UINT64_C(1) << bit;
        if (*mask & b) {
            field_errors_add(fe, "scopes", "names a scope twice");
            return;
        }
        *mask |= b;
    }
}

void keys_check_expiry(const struct caller *who, int has_expires_at, int64_t expires_at,
                       int64_t now, int64_t default_ttl, struct field_errors *fe, int64_t *out)
{
    if (!has_expires_at) {
        int64_t latest = time_add_calendar_year(now);
        *out = now + default_ttl;
        if (*out > latest)
            *out = latest;
        if (who->kind == CALLER_KEY && *out > who->expires_at)
            *out = who->expires_at;
        return;
    }
    *out = expires_at;
    if (expires_at <= now)
        field_errors_add(fe, "expires_at", "must be in the future");
    else if (expires_at > time_add_calendar_year(now))
        field_errors_add(fe, "expires_at", "must be at most one year from now");
    else if (who->kind == CALLER_KEY && expires_at > who->expires_at)
        field_errors_add(fe, "expires_at", "must not be later than the expiry of the calling key");
}

enum err keys_create(struct core *c, const struct caller *who, const struct key_input *in,
                     struct field_errors *fe, struct key_record *out,
                     char secret[KEYFMT_MAX_LEN + 1])
{
    return keys_create_owned(c, who, who->owner_type, who->owner_id, in, fe, out, secret);
}

enum err keys_create_owned(struct core *c, const struct caller *who, const char *owner_type,
                           const char *owner_id, const struct key_input *in,
                           struct field_errors *fe, struct key_record *out,
                           char secret[KEYFMT_MAX_LEN + 1])
{
    int64_t now = time_now();
    uint64_t mask = 0;
    int64_t expires_at = 0;
    /* fields that already have a problem (from parsing) are not checked again */
    if (!in->name && !field_errors_has(fe, "name"))
        field_errors_add(fe, "name", "is required");
    else if (in->name && !field_errors_has(fe, "name"))
        keys_check_name(in->name, fe);
    if (in->description && !field_errors_has(fe, "description"))
        keys_check_description(in->description, fe);
    if (!field_errors_has(fe, "scopes"))
        check_scopes(c, in, fe, &mask);
    if (!field_errors_has(fe, "expires_at"))
        keys_check_expiry(who, in->has_expires_at, in->expires_at, now, KEYS_DEFAULT_TTL_SECONDS,
                          fe, &expires_at);
    if (fe->count)
        return ERR_INVALID;
    if (who->kind == CALLER_KEY && (mask & ~who->scopes))
        return ERR_FORBIDDEN;

    struct key_record *k = out;
    memset(k, 0, sizeof *k);
    random_id(k->id);
    if (keyfmt_generate(c->cfg.key_prefix, secret) != 0)
        return ERR_INTERNAL;
    keyfmt_hash(secret, strlen(secret), k->hash);
    keyfmt_hint(secret, k->hint);
    snprintf(k->owner_type, sizeof k->owner_type, "%s", owner_type);
    snprintf(k->owner_id, sizeof k->owner_id, "%s", owner_id);
    snprintf(k->created_by, sizeof k->created_by, "%s", who->username);
    snprintf(k->name, sizeof k->name, "%s", in->name);
    if (in->description) {
        k->has_description = 1;
        snprintf(k->description, sizeof k->description, "%s", in->description);
    }
    scopes_mask_to_text(c->scopes, mask, ",", k->scopes, sizeof k->scopes);
    k->created_at = now;
    k->expires_at = expires_at;

    struct audit_record audit; /* stored in the same transaction as the key */
    audit_record_of(who, "key.create", "key", k->id, k->name, &audit);
    enum err e = c->store->ops->key_create_audited(c->store, k, c->cfg.max_keys_per_owner, &audit);
    if (e == ERR_OK) {
        struct keyindex_view v;
        core_view_of_record(c, k, &v);
        e = keyindex_put(c->index, k->hash, &v);
        /* keep store and index in step: a key that cannot be verified is not made; its
         * key.delete follows the key.create already sent (a mirror keeps no phantom) */
        if (e && !audit_begin(c))
            audit_end_as(c, c->store->ops->key_delete(c->store, k->id), SYSTEM_ACTOR, who->client,
                         "key.delete", "key", k->id, "not made: it could not be indexed");
    }
    if (e)
        sodium_memzero(secret, KEYFMT_MAX_LEN + 1);
    return e;
}

enum err keys_get_owned(struct core *c, const char *owner_type, const char *owner_id,
                        const char *id, struct key_record *out)
{
    if (strlen(id) != STORE_ID_LEN)
        return ERR_NOT_FOUND;
    enum err e = c->store->ops->key_get(c->store, id, out);
    if (e == ERR_OK &&
        (strcmp(out->owner_type, owner_type) != 0 || strcmp(out->owner_id, owner_id) != 0))
        e = ERR_NOT_FOUND; /* another owner's key is not found here */
    return e;
}

enum err keys_get(struct core *c, const struct caller *who, const char *id, struct key_record *out)
{
    return keys_get_owned(c, who->owner_type, who->owner_id, id, out);
}

enum err keys_list(struct core *c, const struct caller *who, store_key_cb cb, void *ctx)
{
    return c->store->ops->key_each(c->store, who->owner_type, who->owner_id, cb, ctx);
}

enum err keys_update(struct core *c, const struct caller *who, const char *id,
                     const struct key_patch *p, struct field_errors *fe, struct key_record *out)
{
    if (p->name)
        keys_check_name(p->name, fe);
    if (p->set_description && p->description)
        keys_check_description(p->description, fe);
    if (fe->count)
        return ERR_INVALID;
    enum err e = keys_get(c, who, id, out);
    if (e)
        return e;
    if (p->name)
        snprintf(out->name, sizeof out->name, "%s", p->name);
    if (p->set_description) {
        out->has_description = p->description != NULL;
        snprintf(out->description, sizeof out->description, "%s",
                 p->description ? p->description : "");
    }
    if (!(e = audit_begin(c))) /* the change and its audit event: one transaction */
        e = audit_end(c, c->store->ops->key_update(c->store, out), who, "key.update", "key",
                      out->id, out->name);
    return e;
}

enum err keys_delete_owned(struct core *c, const struct caller *who, const char *owner_type,
                           const char *owner_id, const char *id)
{
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    enum err e = keys_get_owned(c, owner_type, owner_id, id, k);
    char detail[STORE_KEY_NAME_BYTES + STORE_NAME_MAX + 32] = "";
    if (!e)
        snprintf(detail, sizeof detail, "%s (owner %s:%s)", k->name, owner_type, owner_id);
    if (!e && !(e = audit_begin(c))) /* the delete and its audit event: one transaction */
        e = audit_end(c, c->store->ops->key_delete(c->store, id), who, "key.delete", "key", id,
                      detail);
    if (!e) {
        keyindex_remove(c->index, k->hash);
        struct log_field f[] = {{"event", "key_revoked", 0}, {"key_id", id, 0},
                                {"owner", owner_type, 0}, {"actor", who->username, 0},
                                {"client", who->client[0] ? who->client : "-", 0}};
        log_event(LOG_WARN, "API key revoked", f, sizeof f / sizeof f[0]);
    }
    free(k);
    return e;
}

enum err keys_delete(struct core *c, const struct caller *who, const char *id)
{
    return keys_delete_owned(c, who, who->owner_type, who->owner_id, id);
}

enum err keys_list_of_user(struct core *c, const struct caller *who, const char *username,
                           store_key_cb cb, void *ctx)
{
    if (!(who->authorities & AUTH_MANAGE_USER_API_KEYS))
        return ERR_FORBIDDEN;
    struct user_record u;
    enum err e = c->store->ops->user_get(c->store, username, &u);
    sodium_memzero(&u, sizeof u);
    if (e)
        return e;
    return c->store->ops->key_each(c->store, "user", username, cb, ctx);
}

enum err keys_delete_of_user(struct core *c, const struct caller *who, const char *username,
                             const char *id)
{
    if (!(who->authorities & AUTH_MANAGE_USER_API_KEYS))
        return ERR_FORBIDDEN;
    enum err e = grants_check_user(c, who, username); /* no cutting off someone above you */
    return e ? e : keys_delete_owned(c, who, "user", username, id);
}

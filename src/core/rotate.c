/* rotate.c — see rotate.h. */
#include "rotate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/netaddr.h"
#include "../base/random_token.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "keys_gone.h"
#include "core_internal.h"
#include "keys.h"

/* Checks the request's own fields (fe: "overlap_seconds", "expires_at"). */
static void check_input(const struct caller *who, const struct rotate_input *in, int64_t now,
                        struct field_errors *fe)
{
    if (in->has_overlap && !field_errors_has(fe, "overlap_seconds") &&
        (in->overlap_seconds < 0 || in->overlap_seconds > ROTATE_OVERLAP_MAX_SECONDS))
        field_errors_add(fe, "overlap_seconds", "must be a whole number of seconds from 0 to 604800");
    if (in->has_expires_at && !field_errors_has(fe, "expires_at")) {
        int64_t ignored;
        keys_check_expiry(who, 1, in->expires_at, now, 0, fe, &ignored);
    }
}

/* Fills the new key k from the old key old: same owner, name, description and scopes. */
static enum err make_successor(struct core *c, const struct caller *who,
                               const struct key_record *old, int64_t now, int64_t expires_at,
                               struct key_record *k, char secret[KEYFMT_MAX_LEN + 1])
{
    memset(k, 0, sizeof *k);
    random_id(k->id);
    if (keyfmt_generate(c->cfg.key_prefix, secret) != 0)
        return ERR_INTERNAL;
    keyfmt_hash(secret, strlen(secret), k->hash);
    keyfmt_hint(secret, k->hint);
    memcpy(k->owner_type, old->owner_type, sizeof k->owner_type);
    memcpy(k->owner_id, old->owner_id, sizeof k->owner_id);
    snprintf(k->created_by, sizeof k->created_by, "%s", who->username);
    memcpy(k->name, old->name, sizeof k->name);
    k->has_description = old->has_description;
    memcpy(k->description, old->description, sizeof k->description);
    memcpy(k->scopes, old->scopes, sizeof k->scopes);
    k->created_at = now;
    k->expires_at = expires_at;
    memcpy(k->family_id, old->family_id[0] ? old->family_id : old->id, sizeof k->family_id);
    memcpy(k->rotated_from, old->id, sizeof k->rotated_from);
    return ERR_OK;
}

enum err rotate_key_owned(struct core *c, const struct caller *who, const char *owner_type,
                          const char *owner_id, const char *id, const struct rotate_input *in,
                          struct field_errors *fe, struct key_record *out,
                          char secret[KEYFMT_MAX_LEN + 1], const char **why)
{
    int64_t now = time_now();
    *why = NULL;
    check_input(who, in, now, fe);
    if (fe->count)
        return ERR_INVALID;
    struct key_record *old = malloc(sizeof *old);
    if (!old)
        return ERR_NOMEM;
    enum err e = keys_get_owned(c, owner_type, owner_id, id, old);
    if (!e && old->superseded_by[0]) {
        *why = "this key has been rotated already: rotate the key that replaced it";
        e = ERR_CONFLICT;
    } else if (!e && old->expires_at <= now) {
        *why = "this key has expired: create a new key instead";
        e = ERR_CONFLICT;
    }
    int64_t expires_at = 0;
    if (!e) { /* without expires_at: the old key's lifetime, from now, within create's rules */
        int64_t lifetime = old->expires_at - old->created_at;
        keys_check_expiry(who, in->has_expires_at, in->expires_at, now,
                          lifetime > 0 ? lifetime : KEYS_DEFAULT_TTL_SECONDS, fe, &expires_at);
        if (fe->count)
            e = ERR_INVALID;
    }
    /* a calling key passes on only scopes it holds itself, as at create */
    if (!e && who->kind == CALLER_KEY &&
        (scopes_mask_from_csv(c->scopes, old->scopes) & ~who->scopes))
        e = ERR_FORBIDDEN;
    if (!e)
        e = make_successor(c, who, old, now, expires_at, out, secret);
    int64_t old_expires_at = now + (in->has_overlap ? in->overlap_seconds : 0);
    if (!e && old->expires_at < old_expires_at)
        old_expires_at = old->expires_at; /* a rotation never lengthens the old key's life */
    /* the new key goes into the index first: nobody holds its secret before the answer, and
     * this way nothing can fail once the store has committed */
    struct keyindex_view v;
    if (!e) {
        core_view_of_record(c, out, &v);
        e = keyindex_put(c->index, out->hash, &v);
    }
    if (!e) {
        char detail[STORE_KEY_NAME_BYTES + STORE_ID_LEN + 64];
        snprintf(detail, sizeof detail, "rotated from %s, overlap %lld s; %s", old->id,
                 (long long)(old_expires_at - now), old->name);
        struct audit_record audit; /* stored in the same transaction as the rotation */
        audit_record_of(who, "key.rotate", "key", out->id, detail, &audit);
        e = c->store->ops->key_rotate(c->store, old->id, now, old_expires_at, out,
                                      c->cfg.max_keys_per_owner, &audit);
        if (e == ERR_CONFLICT)
            *why = "this key has been rotated (or has expired) meanwhile; nothing was stored";
        if (e)
            keyindex_remove(c->index, out->hash);
        else
            keyindex_set_expiry(c->index, old->hash, old_expires_at);
    }
    if (e)
        sodium_memzero(secret, KEYFMT_MAX_LEN + 1);
    free(old);
    return e;
}

enum err rotate_key(struct core *c, const struct caller *who, const char *id,
                    const struct rotate_input *in, struct field_errors *fe,
                    struct key_record *out, char secret[KEYFMT_MAX_LEN + 1], const char **why)
{
    return rotate_key_owned(c, who, who->owner_type, who->owner_id, id, in, fe, out, secret, why);
}

/* The deletes of a reuse revocation and their events, inside the open audited section. */
static enum err revoke_family(struct core *c, const struct key_record *k, const char *client,
                              struct keys_gone *g)
{
    enum err e = c->store->ops->key_family_revoke(c->store, k->family_id, k->owner_type,
                                                  k->owner_id, time_now(), keys_gone_add, g);
    return e ? e
             : keys_gone_audit(c, g, 0, NULL, SYSTEM_ACTOR, client,
                               "revoked: a rotated-out key of its family was reused");
}

/* Finds whether a key of a family other than the presented one is still live. */
struct family_live {
    const struct key_record *presented;
    int64_t now;
    int live;
};

static int family_live_one(void *ctx, const struct key_record *k)
{
    struct family_live *f = ctx;
    if (strcmp(k->family_id, f->presented->family_id) == 0 &&
        strcmp(k->id, f->presented->id) != 0 && k->expires_at > f->now)
        f->live = 1;
    return 0;
}

enum err rotate_check_reuse(struct core *c, const struct keyindex_view *view, const char *client,
                            int *reused, int64_t *retry_after_s)
{
    *reused = 0;
    /* the presenter's share: each reuse recorded counts as a failed verification from its
     * client, and a blocked client's reuse that has nothing left to revoke is refused before
     * anything is written, so a thief replaying a dead key cannot fill the audit trail */
    char name[NETADDR_TEXT_MAX] = "";
    struct netaddr addr;
    if (client && netaddr_parse(client, &addr))
        netaddr_throttle_name(&addr, name);
    int64_t wait_ms = name[0] ? throttle_blocked_ms(c->verify_throttle, name,
                                                    time_monotonic_ms())
                              : 0;
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    enum err e = c->store->ops->key_get(c->store, view->id, k);
    if (!e && wait_ms > 0 && k->superseded_by[0]) {
        struct family_live f = {k, time_now(), 0};
        e = c->store->ops->key_each(c->store, k->owner_type, k->owner_id, family_live_one, &f);
        if (!e && !f.live) { /* a revocation still to make is made, blocked or not */
            if (retry_after_s)
                *retry_after_s = (wait_ms + 999) / 1000;
            free(k);
            return ERR_THROTTLED;
        }
    }
    if (e == ERR_NOT_FOUND) /* deleted meanwhile: nothing to protect */
        e = ERR_OK;
    else if (!e && k->superseded_by[0] && k->expires_at <= time_now()) {
        struct keys_gone r = {0};
        if (!(e = audit_begin(c))) { /* the deletes and their audit events: one transaction */
            e = revoke_family(c, k, client, &r);
            char detail[128];
            snprintf(detail, sizeof detail,
                     "rotated-out key presented after its overlap; family %s: live keys"
                     " revoked: %zu",
                     k->family_id, r.n);
            e = audit_end_as(c, e, SYSTEM_ACTOR, client, "key.reuse_revoke", "key", k->id, detail);
        }
        if (!e) {
            keys_gone_unindex(c, &r);
            *reused = 1;
            if (name[0])
                throttle_fail(c->verify_throttle, name, c->cfg.verify_max_failures,
                              time_monotonic_ms());
        }
        keys_gone_free(&r);
    }
    free(k);
    return e;
}

/* leaks.c — see leaks.h. */
#include "leaks.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/netaddr.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "leak_mail.h"
#include "revoker.h"
#include "scanning_keys.h"

enum err leaks_open(struct core *c)
{
    if (!c->cfg.github_scanning_keys_file[0])
        return ERR_OK;
    return scanning_keys_load(c->cfg.github_scanning_keys_file, &c->scanning_keys);
}

int leaks_github_enabled(struct core *c)
{
    return c->scanning_keys != NULL;
}

/* The name client is throttled under: its address (IPv6 by /64), or "unknown". */
static void throttle_name(const char *client, char out[NETADDR_TEXT_MAX])
{
    struct netaddr addr;
    if (client && netaddr_parse(client, &addr))
        netaddr_throttle_name(&addr, out);
    else
        snprintf(out, NETADDR_TEXT_MAX, "unknown");
}

enum err leaks_github_verify(struct core *c, const char *client, const char *key_id,
                             const char *signature_b64, const char *body, size_t len,
                             const char **why, int64_t *retry_after_s)
{
    if (!c->scanning_keys)
        return ERR_NOT_FOUND;
    char name[NETADDR_TEXT_MAX];
    throttle_name(client, name);
    /* a blocked client is refused before anything is checked: it costs no signature check.
     * Counted after the fact (as key verification is), so GitHub's reports in flight at once
     * are never refused for their number */
    int64_t wait_ms = throttle_blocked_ms(c->github_throttle, name, time_monotonic_ms());
    if (wait_ms > 0) {
        *why = "too many reports from this client failed the signature check; try again later";
        *retry_after_s = (wait_ms + 999) / 1000;
        return ERR_THROTTLED;
    }
    enum err e = ERR_UNAUTHENTICATED;
    if (!key_id || !*key_id || !signature_b64 || !*signature_b64)
        *why = "a report carries Github-Public-Key-Identifier and Github-Public-Key-Signature"
               " headers";
    else if (strlen(key_id) > SCANNING_KEY_ID_MAX || strlen(signature_b64) > SCANNING_SIGNATURE_MAX)
        *why = "Github-Public-Key-Identifier or Github-Public-Key-Signature is longer than any"
               " GitHub sends";
    else
        e = scanning_keys_verify(c->scanning_keys, key_id, signature_b64, body, len, why);
    if (e) /* a report that verifies neither counts nor clears */
        throttle_fail(c->github_throttle, name, c->cfg.revoke_max_requests, time_monotonic_ms());
    return e;
}

/* The audit detail: the key's name (so a key.leaked event can name a key that is gone), its
 * owner, and where it was found; cut on a code-point boundary by the audit trail. */
static void leak_detail(const struct key_record *k, const struct leak_report *by, char *out,
                        size_t cap)
{
    char name[101];
    text_cut(name, sizeof name, k->name);
    if (by->url || by->source)
        snprintf(out, cap, "name %s; owner %s:%s; source %s; url %s", name, k->owner_type,
                 k->owner_id, by->source ? by->source : "unknown", by->url ? by->url : "");
    else
        snprintf(out, cap, "name %s; owner %s:%s; reported through POST /v1/keys/revoke", name,
                 k->owner_type, k->owner_id);
}

/* After a key was revoked as leaked (the delete and its event committed): its people are
 * told by email. Runs on a worker (GitHub's report, before its answer) or on the revoker
 * thread, so the mail is only queued in the store here; the notice thread sends it. */
static void revoked(struct core *c, const struct key_record *k, const struct leak_report *by)
{
    log_info("leak: key %s of %s:%s revoked (reported by %s)", k->id, k->owner_type, k->owner_id,
             by->actor);
    leak_mail_queue(c, k, by);
}

enum err leaks_revoke(struct core *c, const uint8_t hash[STORE_HASH_LEN],
                      const struct leak_report *by, enum leak_label *label)
{
    struct key_record *k = malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    enum err e = c->store->ops->key_get_by_hash(c->store, hash, k);
    if (e == ERR_NOT_FOUND) {
        *label = LEAK_FALSE_POSITIVE;
        free(k);
        return ERR_OK;
    }
    if (e) {
        free(k);
        return e;
    }
    *label = LEAK_TRUE_POSITIVE;
    if (k->expires_at <= time_now()) { /* refused by every node already: nothing to revoke */
        free(k);
        return ERR_OK;
    }
    char *detail = malloc(STORE_DESCRIPTION_BYTES);
    if (!detail) {
        free(k);
        return ERR_NOMEM;
    }
    leak_detail(k, by, detail, STORE_DESCRIPTION_BYTES);
    if (!(e = audit_begin(c))) /* the delete and its key.leaked event: one transaction */
        e = audit_end_as(c, c->store->ops->key_delete(c->store, k->id), by->actor, by->client,
                         "key.leaked", "key", k->id, detail);
    if (e == ERR_OK) {
        keyindex_remove(c->index, k->hash);
        revoked(c, k, by);
    } else if (e == ERR_NOT_FOUND) { /* deleted meanwhile (another report, another node) */
        keyindex_remove(c->index, k->hash);
        e = ERR_OK;
    }
    free(detail);
    free(k);
    return e;
}

enum err leaks_revoke_later(struct core *c, const char *const *keys, const size_t *lens, size_t n,
                            const char *client, int64_t *retry_after_s)
{
    char name[NETADDR_TEXT_MAX];
    throttle_name(client, name);
    int64_t now_ms = time_monotonic_ms();
    int64_t wait_ms =
        throttle_reserve(c->revoke_throttle, name, c->cfg.revoke_max_requests, now_ms);
    if (wait_ms > 0) {
        *retry_after_s = (wait_ms + 999) / 1000;
        return ERR_THROTTLED;
    }
    uint8_t(*hashes)[STORE_HASH_LEN] = malloc((n ? n : 1) * STORE_HASH_LEN);
    enum err e = hashes ? ERR_OK : ERR_NOMEM;
    for (size_t i = 0; !e && i < n; i++)
        keyfmt_hash(keys[i], lens[i], hashes[i]); /* every string: no shortcut for non-keys */
    if (!e && (e = revoker_submit(c->revoker, (const uint8_t(*)[STORE_HASH_LEN])hashes, n,
                                  client)) == ERR_THROTTLED)
        *retry_after_s = 1; /* the queue is full: every client waits for it */
    if (hashes)
        sodium_memzero(hashes, (n ? n : 1) * STORE_HASH_LEN);
    free(hashes);
    /* every request counts, whatever it held */
    throttle_release(c->revoke_throttle, name, THROTTLE_FAILED, c->cfg.revoke_max_requests,
                     time_monotonic_ms());
    return e;
}

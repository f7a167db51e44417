/* retention.c — see retention.h. */
#include "retention.h"

#include <stdio.h>
#include <stdlib.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "keys_gone.h"

int64_t retention_every_ms(const struct core_config *cfg)
{
    int64_t unit = cfg->retention_unit_seconds;
    return (unit < 3600 ? unit : 3600) * 1000;
}

/* One transaction: up to RETENTION_BATCH rotated-out keys expired before `before`, each with
 * its key.delete event (the last one closes the audited section). The number deleted, or -1. */
static int prune_keys(struct core *c, int64_t before, const char *why)
{
    struct keys_gone g = {0};
    struct audit_record *last = malloc(sizeof *last);
    if (!last)
        return -1;
    enum err e = audit_begin(c);
    if (e) {
        free(last);
        return -1;
    }
    e = c->store->ops->key_prune_rotated_out(c->store, before, RETENTION_BATCH, keys_gone_add, &g);
    if (!e && g.nomem)
        e = ERR_NOMEM;
    if (!e && g.n == 0)
        e = ERR_NOT_FOUND; /* nothing to do: the empty section is rolled back */
    if (!e)
        e = keys_gone_audit(c, &g, 1, NULL, SYSTEM_ACTOR, "", why);
    if (g.n)
        keys_gone_record(&g, 0, NULL, SYSTEM_ACTOR, "", why, last);
    else
        audit_record_as(SYSTEM_ACTOR, "", "key.delete", "key", "", why, last);
    e = c->store->ops->audited_end(c->store, e, last);
    free(last);
    int n = (int)g.n;
    if (!e)
        keys_gone_unindex(c, &g);
    else if (e != ERR_NOT_FOUND)
        log_warn("retention: could not delete rotated-out keys: %s", err_title(e));
    keys_gone_free(&g);
    return e == ERR_NOT_FOUND ? 0 : e ? -1 : n;
}

int retention_round(struct core *c)
{
    const struct core_config *cfg = &c->cfg;
    int64_t now = time_now(), keep = (int64_t)cfg->retention_days * cfg->retention_unit_seconds;
    char why[96];
    snprintf(why, sizeof why, "rotated out and expired %d days ago: no longer kept for reuse"
             " detection", cfg->retention_days);
    int total = 0;
    for (int i = 0; i < RETENTION_BATCHES; i++) {
        int n = prune_keys(c, now - keep, why);
        if (n <= 0)
            break;
        total += n;
        if (n < RETENTION_BATCH)
            break;
    }
    /* a notice's key must also be past the last notice window (7 notice days after expiry) */
    int64_t notice_window = 8 * (int64_t)cfg->mail.notice_unit_seconds;
    int64_t notices_before = now - (keep > notice_window ? keep : notice_window);
    enum err e = c->store->ops->retention_prune(c->store, notices_before, now - keep);
    if (e)
        log_warn("retention: could not delete old notices and leak mail: %s", err_title(e));
    if (total)
        log_info("retention: deleted %d rotated-out keys", total);
    return total;
}

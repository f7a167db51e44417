/* keys_gone.c — see keys_gone.h. */
#include "keys_gone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "core_internal.h"
#include "keyindex.h"

int keys_gone_add(void *ctx, const struct key_record *k)
{
    struct keys_gone *g = ctx;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        void *grown = realloc(g->keys, cap * sizeof *g->keys);
        if (!grown) {
            g->nomem = 1;
            return 0;
        }
        g->keys = grown;
        g->cap = cap;
    }
    memcpy(&g->keys[g->n++], k, sizeof *k);
    return 0;
}

void keys_gone_record(const struct keys_gone *g, size_t i, const struct caller *who,
                      const char *actor, const char *client, const char *why,
                      struct audit_record *out)
{
    const struct key_record *k = &g->keys[i];
    /* whole here: the audit trail cuts it on a code-point boundary */
    char detail[STORE_KEY_NAME_BYTES + STORE_NAME_MAX + 200];
    snprintf(detail, sizeof detail, "%s (owner %s:%s); %s", k->name, k->owner_type, k->owner_id,
             why);
    if (who)
        audit_record_of(who, "key.delete", "key", k->id, detail, out);
    else
        audit_record_as(actor, client, "key.delete", "key", k->id, detail, out);
    snprintf(out->key_name, sizeof out->key_name, "%s", k->name);
    snprintf(out->key_owner_type, sizeof out->key_owner_type, "%s", k->owner_type);
    snprintf(out->key_owner_id, sizeof out->key_owner_id, "%s", k->owner_id);
}

enum err keys_gone_audit(struct core *c, const struct keys_gone *g, size_t from,
                         const struct caller *who, const char *actor, const char *client,
                         const char *why)
{
    if (g->nomem)
        return ERR_NOMEM;
    struct audit_record *a = malloc(sizeof *a);
    if (!a)
        return ERR_NOMEM;
    enum err e = ERR_OK;
    for (size_t i = from; !e && i < g->n; i++) {
        keys_gone_record(g, i, who, actor, client, why, a);
        e = audit_append(c, a);
    }
    free(a);
    return e;
}

void keys_gone_unindex(struct core *c, const struct keys_gone *g)
{
    for (size_t i = 0; i < g->n; i++)
        keyindex_remove(c->index, g->keys[i].hash);
}

void keys_gone_free(struct keys_gone *g)
{
    free(g->keys);
    memset(g, 0, sizeof *g);
}

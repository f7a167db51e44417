/* webhooks.c — see webhooks.h. */
#include "webhooks.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "authority.h"
#include "core_internal.h"
#include "webhook_target.h"

void webhooks_wipe(struct webhook_record *w)
{
    sodium_memzero(w->secret, sizeof w->secret);
    w->secret_len = 0;
}

void webhooks_each_event(const struct webhook_record *w, void (*fn)(void *ctx, const char *event),
                         void *ctx)
{
    char list[STORE_WEBHOOK_ACTIONS_BYTES + 2];
    snprintf(list, sizeof list, ",%s,", w->actions);
    for (size_t i = 0; webhook_event_name(i); i++) {
        char item[64];
        snprintf(item, sizeof item, ",%s,", webhook_action_of_event(webhook_event_name(i)));
        if (strstr(list, item))
            fn(ctx, webhook_event_name(i));
    }
}

static void check_url(struct core *c, const char *url, struct field_errors *fe)
{
    const char *why = "";
    struct webhook_target t;
    enum err e = webhook_target_resolve(url, c->cfg.webhook_allow_private, &t, &why);
    /* a name that cannot be resolved now is kept: each delivery resolves and checks again */
    if (e == ERR_INVALID || e == ERR_FORBIDDEN)
        field_errors_add(fe, "url", why);
}

/* The events as the comma-separated audit actions the store keeps. */
static void check_events(const struct webhook_input *in, struct field_errors *fe, char *actions,
                         size_t cap)
{
    actions[0] = '\0';
    if (in->event_count == 0) {
        field_errors_add(fe, "events", "names at least one event");
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < in->event_count; i++) {
        const char *action = webhook_action_of_event(in->events[i]);
        if (!action) {
            field_errors_add(fe, "events", "names an event apikeyd does not send");
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->events[i], in->events[j]) == 0) {
                field_errors_add(fe, "events", "names an event twice");
                return;
            }
        used += (size_t)snprintf(actions + used, cap - used, "%s%s", used ? "," : "", action);
    }
}

static void check_description(const char *d, struct field_errors *fe)
{
    if (text_codepoints(d) > WEBHOOK_DESCRIPTION_MAX || strlen(d) > STORE_WEBHOOK_DESC_BYTES)
        field_errors_add(fe, "description", "must be at most 200 characters");
    else if (text_has_control(d, 0))
        field_errors_add(fe, "description", "must not hold control characters");
}

/* 1 when who may choose where events go and which: an endpoint receives audit records (every
 * key's name and owner, who did what), so choosing its URL or events takes view_audit as well
 * as manage_webhooks — a webhook is no way round the audit trail's authority. */
static int may_direct(const struct caller *who)
{
    return (who->authorities & AUTH_MANAGE_WEBHOOKS) && (who->authorities & AUTH_VIEW_AUDIT);
}

/* The checks create and update share; fills the record's changed members. */
static void apply(struct core *c, const struct webhook_input *in, int create,
                  struct field_errors *fe, struct webhook_record *w)
{
    if (in->url)
        check_url(c, in->url, fe);
    else if (create)
        field_errors_add(fe, "url", "is required");
    char actions[STORE_WEBHOOK_ACTIONS_BYTES];
    if (in->events_present)
        check_events(in, fe, actions, sizeof actions);
    else if (create)
        field_errors_add(fe, "events", "is required");
    if (in->description)
        check_description(in->description, fe);
    if (fe->count)
        return;
    if (in->url)
        snprintf(w->url, sizeof w->url, "%s", in->url);
    if (in->events_present)
        snprintf(w->actions, sizeof w->actions, "%s", actions);
    if (in->description)
        snprintf(w->description, sizeof w->description, "%s", in->description);
    if (in->enabled >= 0)
        w->enabled = in->enabled;
}

enum err webhooks_create(struct core *c, const struct caller *who, const struct webhook_input *in,
                         struct field_errors *fe, struct webhook_record *out,
                         char secret[WEBHOOK_SECRET_TEXT_MAX])
{
    if (!may_direct(who))
        return ERR_FORBIDDEN;
    memset(out, 0, sizeof *out);
    out->enabled = 1;
    apply(c, in, 1, fe, out);
    if (fe->count)
        return ERR_INVALID;
    if (!c->secret_key)
        return ERR_UNAVAILABLE; /* no server key to seal the signing secret with */
    random_id(out->id);
    snprintf(out->created_by, sizeof out->created_by, "%s", who->username);
    out->created_at = time_now();
    uint8_t raw[WEBHOOK_SECRET_RAW];
    randombytes_buf(raw, sizeof raw);
    memcpy(secret, "whsec_", 6);
    sodium_bin2base64(secret + 6, WEBHOOK_SECRET_TEXT_MAX - 6, raw, sizeof raw,
                      sodium_base64_VARIANT_ORIGINAL);
    secretkey_seal(c->secret_key, raw, sizeof raw, out->secret);
    out->secret_len = sizeof raw + SECRETKEY_OVERHEAD;
    sodium_memzero(raw, sizeof raw);
    enum err e = audit_begin(c); /* the endpoint and its audit event: one transaction */
    if (!e)
        e = audit_end(c, c->store->ops->webhook_create(c->store, out, WEBHOOKS_MAX), who,
                      "webhook.create", "webhook", out->id, out->actions);
    webhooks_wipe(out);
    if (e)
        sodium_memzero(secret, WEBHOOK_SECRET_TEXT_MAX);
    return e;
}

enum err webhooks_get(struct core *c, const struct caller *who, const char *id,
                      struct webhook_record *out)
{
    if (!(who->authorities & AUTH_MANAGE_WEBHOOKS))
        return ERR_FORBIDDEN;
    if (strlen(id) != STORE_ID_LEN)
        return ERR_NOT_FOUND;
    enum err e = c->store->ops->webhook_get(c->store, id, out);
    webhooks_wipe(out);
    return e;
}

struct list_ctx {
    store_webhook_cb cb;
    void *ctx;
};

static int list_one(void *ctx, const struct webhook_record *w)
{
    struct list_ctx *l = ctx;
    struct webhook_record copy = *w; /* the callback never sees the sealed secret */
    webhooks_wipe(&copy);
    return l->cb(l->ctx, &copy);
}

enum err webhooks_list(struct core *c, const struct caller *who, store_webhook_cb cb, void *ctx)
{
    if (!(who->authorities & AUTH_MANAGE_WEBHOOKS))
        return ERR_FORBIDDEN;
    struct list_ctx l = {cb, ctx};
    return c->store->ops->webhook_each(c->store, list_one, &l);
}

enum err webhooks_update(struct core *c, const struct caller *who, const char *id,
                         const struct webhook_input *in, struct field_errors *fe,
                         struct webhook_record *out)
{
    enum err e = webhooks_get(c, who, id, out);
    if (e)
        return e;
    if ((in->url || in->events_present) && !may_direct(who))
        return ERR_FORBIDDEN;
    apply(c, in, 0, fe, out);
    if (fe->count)
        return ERR_INVALID;
    char detail[64];
    snprintf(detail, sizeof detail, "%s%s%s%s", in->url ? "url " : "",
             in->events_present ? "events " : "", in->description ? "description " : "",
             in->enabled == 1 ? "enabled" : in->enabled == 0 ? "disabled" : "");
    if (!(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->webhook_update(c->store, out), who, "webhook.update",
                      "webhook", out->id, detail);
    return e;
}

enum err webhooks_delete(struct core *c, const struct caller *who, const char *id)
{
    struct webhook_record w;
    enum err e = webhooks_get(c, who, id, &w);
    if (!e && !(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->webhook_delete(c->store, id), who, "webhook.delete",
                      "webhook", id, "");
    return e;
}

enum err webhooks_test(struct core *c, const struct caller *who, const char *id)
{
    struct webhook_record w;
    enum err e = webhooks_get(c, who, id, &w);
    if (e)
        return e;
    if (!w.enabled)
        return ERR_CONFLICT;
    struct audit_record a;
    audit_record_of(who, WEBHOOK_TEST_ACTION, "webhook", id, "test-send", &a);
    if (!(e = audit_begin(c)))
        e = audit_end(c, c->store->ops->webhook_enqueue_one(c->store, id, &a, a.at * 1000), who,
                      WEBHOOK_TEST_ACTION, "webhook", id, "test-send");
    return e;
}

enum err webhooks_attempts(struct core *c, const struct caller *who, const char *id,
                           store_attempt_cb cb, void *ctx)
{
    struct webhook_record w;
    enum err e = webhooks_get(c, who, id, &w);
    return e ? e : c->store->ops->webhook_attempts_each(c->store, id, WEBHOOK_ATTEMPTS_LISTED, cb,
                                                       ctx);
}

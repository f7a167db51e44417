/* webhooks.h — webhook endpoints for holders of manage_webhooks: register (the signing secret
 * made here, sealed with the server key, shown once), read, change, delete, test-send, and the
 * delivery attempts. Events reach them through the audit trail (webhook_events.h); the
 * delivery thread is webhook_delivery.h. */
#ifndef APIKEYD_WEBHOOKS_H
#define APIKEYD_WEBHOOKS_H

#include <stddef.h>

#include "../base/fielderr.h"
#include "core.h"
#include "webhook_events.h"

#define WEBHOOKS_MAX 50                /* endpoints apikeyd holds */
#define WEBHOOK_SECRET_RAW 32          /* signing key bytes */
#define WEBHOOK_SECRET_TEXT_MAX 64     /* "whsec_" + base64 of 32 bytes (44) + NUL fits */
#define WEBHOOK_DESCRIPTION_MAX 200    /* code points */
#define WEBHOOK_ATTEMPTS_LISTED 100

/* A create or change: NULL members (and enabled -1) leave what is there. */
struct webhook_input {
    const char *url;
    const char *const *events;
    size_t event_count;
    int events_present;
    const char *description;
    int enabled;
};

/* Registers an endpoint: url (webhook_target.h: refused ranges answer 422 on "url"), events
 * (1 to WEBHOOK_EVENT_COUNT known names, no repeats), description. ERR_INVALID with fe,
 * ERR_LIMIT past WEBHOOKS_MAX, ERR_FORBIDDEN without both manage_webhooks and view_audit (an
 * endpoint receives audit records). The signing secret is
 * written to secret (wipe it once sent); only its sealed form is stored. */
enum err webhooks_create(struct core *c, const struct caller *who, const struct webhook_input *in,
                         struct field_errors *fe, struct webhook_record *out,
                         char secret[WEBHOOK_SECRET_TEXT_MAX]);

enum err webhooks_get(struct core *c, const struct caller *who, const char *id,
                      struct webhook_record *out);
enum err webhooks_list(struct core *c, const struct caller *who, store_webhook_cb cb, void *ctx);
/* Changes url, events, description, enabled (checked as at create); audited. Changing url or
 * events needs view_audit as well as manage_webhooks (ERR_FORBIDDEN), as at create. */
enum err webhooks_update(struct core *c, const struct caller *who, const char *id,
                         const struct webhook_input *in, struct field_errors *fe,
                         struct webhook_record *out);
enum err webhooks_delete(struct core *c, const struct caller *who, const char *id);
/* Queues a webhook.test message for this endpoint alone (ERR_CONFLICT when it is disabled). */
enum err webhooks_test(struct core *c, const struct caller *who, const char *id);
/* The endpoint's last WEBHOOK_ATTEMPTS_LISTED attempts, newest first. */
enum err webhooks_attempts(struct core *c, const struct caller *who, const char *id,
                           store_attempt_cb cb, void *ctx);

/* Calls fn with the event name of each action in w->actions, in table order. */
void webhooks_each_event(const struct webhook_record *w, void (*fn)(void *ctx, const char *event),
                         void *ctx);

/* Wipes the sealed secret out of a record. */
void webhooks_wipe(struct webhook_record *w);

#endif

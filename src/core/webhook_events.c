/* webhook_events.c — see webhook_events.h. */
#include "webhook_events.h"

#include <string.h>

/* The one table: event name, the audit action it comes from, what its data names. Other
 * parts of apikeyd emit an event only by auditing their change with this action. */
static const struct {
    const char *event, *action;
    enum webhook_subject subject;
} events[WEBHOOK_EVENT_COUNT] = {
    {"key.created", "key.create", WEBHOOK_SUBJECT_KEY},
    {"key.deleted", "key.delete", WEBHOOK_SUBJECT_KEY},
    {"key.rotated", "key.rotate", WEBHOOK_SUBJECT_KEY},
    {"key.expiring", "key.expiring", WEBHOOK_SUBJECT_KEY},
    {"key.expired", "key.expired", WEBHOOK_SUBJECT_KEY},
    {"key.leaked", "key.leaked", WEBHOOK_SUBJECT_KEY},
    {"user.disabled", "user.disable", WEBHOOK_SUBJECT_USER},
    {"service_account.deleted", "account.delete", WEBHOOK_SUBJECT_ACCOUNT},
};

const char *webhook_event_name(size_t i)
{
    return i < WEBHOOK_EVENT_COUNT ? events[i].event : NULL;
}

const char *webhook_action_of_event(const char *event)
{
    for (size_t i = 0; i < WEBHOOK_EVENT_COUNT; i++)
        if (strcmp(events[i].event, event) == 0)
            return events[i].action;
    return NULL;
}

const char *webhook_event_of_action(const char *action, enum webhook_subject *subject)
{
    if (strcmp(action, WEBHOOK_TEST_ACTION) == 0) {
        *subject = WEBHOOK_SUBJECT_WEBHOOK;
        return WEBHOOK_TEST_EVENT;
    }
    for (size_t i = 0; i < WEBHOOK_EVENT_COUNT; i++)
        if (strcmp(events[i].action, action) == 0) {
            *subject = events[i].subject;
            return events[i].event;
        }
    return NULL;
}

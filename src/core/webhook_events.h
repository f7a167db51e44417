/* webhook_events.h — the webhook events and the audit actions they come from: one table
 * (webhook_events.c). Events are audit actions: every change apikeyd makes is audited, and an
 * audit record whose action is in the table becomes the event for every endpoint that takes it. */
#ifndef APIKEYD_WEBHOOK_EVENTS_H
#define APIKEYD_WEBHOOK_EVENTS_H

#include <stddef.h>

#define WEBHOOK_EVENT_COUNT 8
#define WEBHOOK_TEST_EVENT "webhook.test" /* a test-send's type; no endpoint subscribes to it */
#define WEBHOOK_TEST_ACTION "webhook.test"

/* What the event's data names (the audit record's target). */
enum webhook_subject { WEBHOOK_SUBJECT_KEY, WEBHOOK_SUBJECT_USER, WEBHOOK_SUBJECT_ACCOUNT,
                       WEBHOOK_SUBJECT_WEBHOOK };

/* The i-th event's name ("key.created"), or NULL past the end. */
const char *webhook_event_name(size_t i);

/* The audit action of event name, or NULL when it is no event. */
const char *webhook_action_of_event(const char *event);

/* The event of audit action (the test-send's action included), or NULL; *subject set. */
const char *webhook_event_of_action(const char *action, enum webhook_subject *subject);

#endif

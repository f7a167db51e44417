/* leak_mail.h — the email to the people of a key revoked as leaked (leaks.c): its owner, or
 * for an API account's key the issuing person and the project's owners (notify.h). The
 * messages are queued durably in the store when the key is revoked (one row per person,
 * store.h leak_mail_*) and sent by the notice thread (notices.h), off the request path, with
 * the expiry notices' retry schedule; a restart or a mail server that is down delays them,
 * it does not lose them. */
#ifndef APIKEYD_LEAK_MAIL_H
#define APIKEYD_LEAK_MAIL_H

#include "core.h"
#include "leaks.h"

/* Queues the mail about key k, revoked as leaked (by: who reported it, and where GitHub found
 * it), to each of its people, and wakes the notice thread. Nothing is queued when mail is off
 * (no smtp_url). Failures are logged (key id and username only); the revocation stands. */
void leak_mail_queue(struct core *c, const struct key_record *k, const struct leak_report *by);

/* Sends the queued mails whose time has come (on the notice thread): each is taken (so one
 * node sends it), mailed to the person's current address, and marked done, or tried again
 * later (notices_retry_at), or failed (given up; no such enabled person or address; a
 * message the mailer refuses). Returns the number sent. */
int leak_mail_round(struct core *c);

#endif

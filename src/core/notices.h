/* notices.h — expiry notices: the owner of a key (for an API account's key, the issuing
 * person and the project's owners: notify.h) is mailed expiry_notice_days notice days before
 * the key expires (30, 7 and 1 by default) and once it has expired.
 *
 * Each notice is claimed once per key and threshold in the store (a row whose primary key
 * only one node can insert), in one transaction with its audit record (`key.expiring`,
 * detail "7 days", or `key.expired`; actor "(system)"), then mailed; a failed send is retried
 * with a doubling wait (expiry_notice_retry_seconds, at most an hour) for a day, and each
 * person mailed is recorded, so a retry mails no one twice.
 *
 * Which notice is due: the nearest threshold the key's time left has reached (expired when
 * none is left). Farther thresholds that were missed (the daemon was down, or a scan was
 * late) are not sent afterwards, so a key is never mailed a burst; and a threshold whose
 * window the key was created in is skipped (a key made to last 5 days gets the 1-day and the
 * expired notice, not "expires in 7 days" at once). Expired notices go only for keys that
 * expired within the last 7 notice days (no flood about keys that expired long ago). */
#ifndef APIKEYD_NOTICES_H
#define APIKEYD_NOTICES_H

#include "core.h"
#include "mail_settings.h"

/* The threshold (notice days; 0 = expired) due now for a key created at created_at that
 * expires at expires_at, the nearest threshold already claimed for it being notified (-1:
 * none); -1 when no notice is due. */
int notices_due(const struct mail_settings *s, int64_t now, int64_t created_at,
                int64_t expires_at, int notified);

/* Starts the notice thread (a round every expiry_notice_scan_ms, the first one after that
 * wait, or at once after notices_wake): expiry notices, then the queued mails about revoked
 * leaked keys (leak_mail.h). Not started when expiry_notice_days is off and mail is off. */
enum err notices_start(struct core *c);

/* Stops and joins it (a send in progress is cancelled). */
void notices_stop(struct core *c);

/* One round on the calling thread: claims and mails the notices due, then retries the
 * unsent ones whose time has come. Returns the number of notices claimed. */
int notices_round(struct core *c);

/* Asks the notice thread for a round now (no-op when it does not run). */
void notices_wake(struct core *c);

/* 1 once notices_stop began: a round in progress ends early. */
int notices_stopping(const struct core *c);

/* The retry schedule shared by every mail the thread sends: after `attempts` failed attempts
 * of a mail first tried at first_at, the time of the next try (expiry_notice_retry_seconds,
 * doubling, at most an hour apart), or -1 once a day has passed (give up). */
int64_t notices_retry_at(const struct core *c, int attempts, int64_t first_at, int64_t now);

/* Until when an attempt taken now holds its row (other nodes leave it alone meanwhile). */
int64_t notices_lease_until(const struct core *c, int64_t now);

#endif

/* retention.h — what apikeyd stops keeping, and when. Run by the last-used writer thread
 * (core.c) once every retention "day" (retention_unit_seconds, at most an hour apart):
 *  - a rotated-out key retention_days (default 90) after its expiry: until then a copy of it
 *    presented to a rotate endpoint revokes its family (rotate.h), afterwards it is a plain
 *    401. Each is deleted with a `key.delete` event by "(system)" (its webhook names it), up
 *    to RETENTION_BATCH per transaction;
 *  - the finished expiry notices (and the people they mailed) of keys that expired that long
 *    ago (and at least 8 notice days ago: past every notice window, notices.h), so none is
 *    sent again;
 *  - the finished (sent or given up) leaked-key mails queued that long ago.
 * Every node runs it; each row goes once (the deletes are conditional). */
#ifndef APIKEYD_RETENTION_H
#define APIKEYD_RETENTION_H

#include "core.h"

#define RETENTION_BATCH 200   /* keys deleted per transaction */
#define RETENTION_BATCHES 10  /* transactions per round; the rest next round */

/* One round on the calling thread; returns the number of rotated-out keys deleted. */
int retention_round(struct core *c);

/* How often a round runs: retention_unit_seconds, at most an hour (in milliseconds). */
int64_t retention_every_ms(const struct core_config *cfg);

#endif

/* webhook_delivery.h — the delivery thread: claims one due outbox message at a time (one node
 * per message, a lease of the request's time limit + 30 s), signs it (webhook_payload.h),
 * POSTs it to the address it checked (webhook_target.h), and records the attempt. 2xx is
 * delivered; 410 Gone fails it and disables the endpoint (audited, actor "(system)"); anything
 * else is tried again after webhook_retry_base_ms x 4^(n-1) (at most 360 x the base) until
 * WEBHOOK_MAX_ATTEMPTS attempts: with the 60 s default 1 m, 4 m, 16 m, 64 m, 4 h 16 m, then
 * 6 h four times, about 29.7 hours in all. */
#ifndef APIKEYD_WEBHOOK_DELIVERY_H
#define APIKEYD_WEBHOOK_DELIVERY_H

#include <stdint.h>

#include "core.h"

#define WEBHOOK_MAX_ATTEMPTS 10

/* The delay before attempt n + 1 after n failed ones (n >= 1), in ms. */
int64_t webhook_retry_delay_ms(int64_t base_ms, int n);

/* Starts the thread (every node runs one). */
enum err webhook_delivery_start(struct core *c);

/* Stops and joins it (a delivery in progress ends first, within webhook_timeout_ms). */
void webhook_delivery_stop(struct core *c);

/* Delivers one due message now on the calling thread: 1 when there was one, 0 when none. */
int webhook_delivery_round(struct core *c);

#endif

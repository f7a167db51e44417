/* throttle.h — counts failures per name (an account or a client address) and blocks a name
 * for a while once it has failed too often. The block lasts `backoff_ms`, doubling with each
 * further block up to 15 minutes; a success clears the name. Bounded memory: a fixed table
 * whose least recently touched entries are reused. Thread-safe. */
#ifndef APIKEYD_THROTTLE_H
#define APIKEYD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct throttle;

/* A table of `capacity` names (rounded up to a power of two). NULL when out of memory. */
struct throttle *throttle_new(size_t capacity, int64_t backoff_ms);
void throttle_free(struct throttle *t);

/* Milliseconds name stays blocked (0 when it may try now). */
int64_t throttle_blocked_ms(struct throttle *t, const char *name, int64_t now_ms);

/* Counts a failure of name; the `max_failures`-th starts a block. */
void throttle_fail(struct throttle *t, const char *name, int max_failures, int64_t now_ms);

/* Forgets name's failures and blocks. */
void throttle_clear(struct throttle *t, const char *name);

#endif

/* throttle.h — counts failures per name (an account or a client address) and blocks a name
 * for a while once it has failed too often. The block lasts `backoff_ms`, doubling with each
 * further block up to 15 minutes; a success clears the name.
 *
 * Two ways to count. Secret checks (passwords, one-time codes) reserve an attempt before the
 * check runs and release it with the outcome, so concurrent guesses are judged against the
 * limit as if they came one by one (throttle_reserve / throttle_release). Key verification,
 * which costs nothing to repeat, counts after the fact (throttle_blocked_ms / throttle_fail).
 *
 * Bounded memory: a fixed table. Names are placed by a keyed hash (a random key per table),
 * so nobody can aim names at one slot; a blocked entry or one with attempts in flight is never
 * reused for another name, and when no slot is free a reservation is refused (fail closed).
 * Thread-safe. */
#ifndef APIKEYD_THROTTLE_H
#define APIKEYD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct throttle;

enum throttle_outcome {
    THROTTLE_FAILED,    /* the secret was wrong: counts towards a block */
    THROTTLE_SUCCEEDED, /* it was right: forgets the name's failures and blocks */
    THROTTLE_NEUTRAL,   /* nothing was learnt (a refusal for another reason) */
};

/* A table of `capacity` names (rounded up to a power of two). NULL when out of memory. */
struct throttle *throttle_new(size_t capacity, int64_t backoff_ms);
void throttle_free(struct throttle *t);

/* Milliseconds name stays blocked (0 when it may try now). */
int64_t throttle_blocked_ms(struct throttle *t, const char *name, int64_t now_ms);

/* Counts a failure of name; the `max_failures`-th starts a block. Not counted when the table
 * has no slot for name. */
void throttle_fail(struct throttle *t, const char *name, int max_failures, int64_t now_ms);

/* Forgets name's failures and blocks. */
void throttle_clear(struct throttle *t, const char *name);

/* Reserves one attempt for name: 0 when it may go ahead (release it exactly once), else the
 * milliseconds to wait — while name is blocked, while its failures plus the attempts in flight
 * already reach max_failures, or when the table has no slot for it. */
int64_t throttle_reserve(struct throttle *t, const char *name, int max_failures, int64_t now_ms);

/* Ends an attempt reserved by throttle_reserve with its outcome. */
void throttle_release(struct throttle *t, const char *name, enum throttle_outcome outcome,
                      int max_failures, int64_t now_ms);

#endif

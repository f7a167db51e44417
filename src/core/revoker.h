/* revoker.h — the revocations asked for by POST /v1/keys/revoke, done after the answer: the
 * handler queues the SHA-256 of every string it was sent (valid, invalid or gone alike, so the
 * request costs the same whatever it holds) and one thread looks each up and revokes the live
 * ones (leaks_revoke, actor "(revoke)"). The queue is bounded; core_close drains it. */
#ifndef APIKEYD_REVOKER_H
#define APIKEYD_REVOKER_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../store/store.h"

#define REVOKER_PENDING_MAX 100000 /* hashes waiting at once, from every client */

struct core;
struct revoker;

/* Starts the thread. */
enum err revoker_start(struct core *c, struct revoker **out);

/* Queues n hashes reported from client (an address, for the audit trail). ERR_OK, or
 * ERR_THROTTLED when more than REVOKER_PENDING_MAX would wait (nothing is queued then). */
enum err revoker_submit(struct revoker *r, const uint8_t (*hashes)[STORE_HASH_LEN], size_t n,
                        const char *client);

/* Revokes what is queued, then stops the thread and frees r (NULL is fine). */
void revoker_stop(struct revoker *r);

#endif

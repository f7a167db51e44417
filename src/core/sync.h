/* sync.h — keeping a node's in-memory view (key index, access map, scope catalogue) in step
 * with a store that other nodes write too: applying their changes from the store's feed,
 * reloading everything after the feed was interrupted, and knowing when the view may be
 * stale (verification then answers UNAVAILABLE rather than trust it). */
#ifndef APIKEYD_SYNC_H
#define APIKEYD_SYNC_H

#include "core.h"

/* Loads the whole view from the store (index, owner flags, access map, catalogue). */
enum err sync_load_all(struct core *c);

/* Starts following the store's feed when it has one (several nodes). Waits up to wait_ms for
 * the first full load. Without a feed it loads once and returns. */
enum err sync_start(struct core *c, int wait_ms);

/* Stops following the feed. */
void sync_stop(struct core *c);

/* 1 when the node cannot be sure its view is current (feed down longer than the bound, or
 * never loaded). Cheap: two atomic reads. */
int sync_view_stale(struct core *c);

#endif

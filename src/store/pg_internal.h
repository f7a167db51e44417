/* pg_internal.h — what pg_driver.c and pg_feed.c share. */
#ifndef APIKEYD_PG_INTERNAL_H
#define APIKEYD_PG_INTERNAL_H

#include "sql_internal.h"

/* Keeps the connection string for the feed's own connection (st->extra). */
enum err pg_feed_init(struct sql_store *st, const char *url);
/* store_ops.watch / unwatch: a thread that LISTENs on its own connection. */
enum err pg_feed_watch(struct store *s, const struct store_feed_handler *h);
void pg_feed_unwatch(struct store *s);
/* Stops the feed and frees its state (at close). */
void pg_feed_stop(struct sql_store *st);

#endif

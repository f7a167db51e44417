/* peercount.h — open connections per client address, so that one client's idle sockets
 * cannot take every connection slot (max_connections_per_client). IPv6 clients are counted
 * per /64, like the throttles. Bounded: a table of 2 x max_connections entries, one mutex. */
#ifndef APIKEYD_PEERCOUNT_H
#define APIKEYD_PEERCOUNT_H

#include "../base/netaddr.h"

struct peercount;

/* A table for at most max_conns connections in all. NULL when out of memory. */
struct peercount *peercount_new(unsigned max_conns);
void peercount_free(struct peercount *pc);

/* Counts one more connection from a: 1 when that keeps a at or under max, else 0 (and
 * nothing is counted). */
int peercount_acquire(struct peercount *pc, const struct netaddr *a, unsigned max);

/* Forgets one connection of a counted by peercount_acquire. */
void peercount_release(struct peercount *pc, const struct netaddr *a);

#endif

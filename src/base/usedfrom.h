/* usedfrom.h — the last few distinct client addresses a key was used from, each with when it
 * was last seen, newest first, as one short text ("203.0.113.7 1796623074,2001:db8::1 ...",
 * stored in api_keys.last_used_from): parsing, merging one sighting in (the same address
 * keeps its latest time, so lists written by several nodes merge by time) and formatting. */
#ifndef APIKEYD_USEDFROM_H
#define APIKEYD_USEDFROM_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define USEDFROM_MAX 5        /* addresses kept per key */
#define USEDFROM_TEXT_MAX 384 /* the text of USEDFROM_MAX entries fits (5 x (46 + 1 + 20 + 1)) */

struct usedfrom_entry {
    char address[NETADDR_TEXT_MAX];
    int64_t at; /* seconds since the epoch */
};

struct usedfrom {
    struct usedfrom_entry e[USEDFROM_MAX];
    int count; /* newest first */
};

/* Reads text (as usedfrom_format writes it; "" is empty) in its stored order. Malformed
 * entries and repeated addresses are skipped. */
void usedfrom_parse(const char *text, struct usedfrom *out);

/* Merges one sighting of address at time at into l: the address keeps the later of its two
 * times; the list is kept newest first (of equal times, the sighting merged last first: the
 * writer merges in the order they were seen) and cut to USEDFROM_MAX. A sighting older than
 * every one of a full list is dropped. */
void usedfrom_add(struct usedfrom *l, const char *address, int64_t at);

/* Writes l into out (USEDFROM_TEXT_MAX bytes). */
void usedfrom_format(const struct usedfrom *l, char out[USEDFROM_TEXT_MAX]);

#endif

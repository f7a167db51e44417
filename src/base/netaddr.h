/* netaddr.h — IP addresses as the throttles and the trusted-proxy rule see them: parsing
 * IPv4/IPv6 text, matching against a CIDR list (`trusted_proxies`), and the name a client is
 * counted under (an IPv4 address, or the /64 an IPv6 address belongs to). */
#ifndef APIKEYD_NETADDR_H
#define APIKEYD_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#define NETADDR_LIST_MAX 32   /* CIDR ranges in one list */
#define NETADDR_TEXT_MAX 64   /* room for any address or throttle name as text */

/* An address: IPv4 (v6 = 0, bytes[0..3]) or IPv6. IPv4-mapped IPv6 (::ffff:a.b.c.d) is
 * IPv4, so a dual-stack socket and a plain one name a client alike. */
struct netaddr {
    uint8_t bytes[16];
    int v6;
};

struct netaddr_range {
    struct netaddr addr; /* the network's bits; the rest are zero */
    int prefix;          /* bits that must match */
};

struct netaddr_list {
    struct netaddr_range ranges[NETADDR_LIST_MAX];
    int count;
};

/* Parses a whole string as an IPv4 or IPv6 address (no port, no zone, no brackets).
 * 1 when it is one, else 0. */
int netaddr_parse(const char *text, struct netaddr *out);

/* Parses "a/len, b, ..." (commas or spaces between; a range without /len is one address).
 * 0 on success; -1 for a malformed item, a prefix too long or more than NETADDR_LIST_MAX. */
int netaddr_list_parse(const char *text, struct netaddr_list *out);

/* 1 when a is inside one of list's ranges. */
int netaddr_list_contains(const struct netaddr_list *list, const struct netaddr *a);

/* a as text in its usual form ("192.0.2.7", "2001:db8::1"); out has NETADDR_TEXT_MAX bytes. */
void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);

/* The name a client is throttled under: "1.2.3.4", or "2001:db8:1:2::/64" for every IPv6
 * address of that /64 (one subscriber's allocation). out has NETADDR_TEXT_MAX bytes. */
void netaddr_throttle_name(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);

#endif

/* webhook_target.h — where a webhook may be sent (no SSRF through webhooks): http or https
 * URLs without user info, whose host resolves only to public addresses. Loopback, link-local,
 * private (RFC 1918, ULA, CGNAT 100.64/10), unspecified, multicast and reserved ranges are
 * refused unless webhook_allow_private_targets is on. The address checked is the one
 * connected to: the delivery pins it (CURLOPT_RESOLVE) and checks every socket it opens. */
#ifndef APIKEYD_WEBHOOK_TARGET_H
#define APIKEYD_WEBHOOK_TARGET_H

#include <stddef.h>
#include <sys/socket.h>

#include "../base/err.h"

#define WEBHOOK_URL_MAX 2000

struct webhook_target {
    char host[256]; /* as in the URL (IPv6 literals with their brackets) */
    long port;
    int literal;       /* the host is an IP address */
    char pin[320];     /* CURLOPT_RESOLVE entry "host:port:address" ("" for a literal) */
};

/* Checks the URL's form: at most WEBHOOK_URL_MAX bytes, printable ASCII, http or https, a
 * host, no user name or password. 0, or -1 with *why (a static sentence for the field
 * "url") saying what is wrong. */
int webhook_url_check(const char *url, const char **why);

/* 1 when sa is an address webhooks never go to unless private targets are allowed. */
int webhook_addr_refused(const struct sockaddr *sa);

/* Resolves url's host and checks every address: ERR_OK with *out (the first address
 * pinned), ERR_FORBIDDEN when an address is refused, ERR_UNAVAILABLE when the name cannot be
 * resolved now, ERR_INVALID for a malformed URL; *why (static) says which. */
enum err webhook_target_resolve(const char *url, int allow_private, struct webhook_target *out,
                                const char **why);

#endif

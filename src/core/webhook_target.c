/* webhook_target.c — see webhook_target.h. The URL is read by libcurl's own parser (the one
 * that will send to it), the name resolved with getaddrinfo. */
#include "webhook_target.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An IPv4 address (host order) in a refused range. */
static int v4_refused(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } ranges[] = {
        {0x00000000, 0xff000000}, /* 0.0.0.0/8 "this network", unspecified */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 CGNAT */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local (cloud metadata) */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24 documentation */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24 documentation */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24 documentation */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xe0000000, 0xf0000000}, /* 224/4 multicast */
        {0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if ((a & ranges[i].mask) == ranges[i].net)
            return 1;
    return 0;
}

static int v6_refused(const uint8_t *b)
{
    static const uint8_t zero[16] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) /* an IPv4 address inside */
        return v4_refused((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
                          (uint32_t)b[14] << 8 | b[15]);
    if (memcmp(b, zero, 12) == 0) /* ::, ::1 and the old IPv4-compatible ::/96 */
        return 1;
    static const uint8_t nat64_local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
    if (memcmp(b, nat64_local, 6) == 0) /* 64:ff9b:1::/48, RFC 8215: a local translator's */
        return 1;
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4: sent to the IPv4 address inside */
        return v4_refused((uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 |
                          b[5]);
    if (b[0] == 0xff)                      /* ff00::/8 multicast */
        return 1;
    if ((b[0] & 0xfe) == 0xfc)             /* fc00::/7 unique local */
        return 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 old site-local */
        return 1;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 */
        return 1;
    return 0;
}

int webhook_addr_refused(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_refused(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_refused(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return 1; /* nothing but IP */
}

/* The parts of url apikeyd needs, by libcurl's parser. 0, or -1 with why. */
static int parse(const char *url, char *host, size_t hcap, long *port, const char **why)
{
    size_t len = strlen(url);
    if (len == 0 || len > WEBHOOK_URL_MAX) {
        *why = "must be 1 to 2000 characters";
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) {
            *why = "must be printable ASCII without spaces";
            return -1;
        }
    CURLU *u = curl_url();
    if (!u) {
        *why = "could not be read";
        return -1;
    }
    char *scheme = NULL, *h = NULL, *p = NULL, *user = NULL, *pass = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        *why = "is not a valid absolute http or https URL";
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        *why = "must be an http or https URL";
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK)
        *why = "must not hold a user name or password";
    else if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h || strlen(h) >= hcap)
        *why = "must name a host";
    else if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
        *why = "has no port";
    else {
        snprintf(host, hcap, "%s", h);
        *port = strtol(p, NULL, 10);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return rc;
}

int webhook_url_check(const char *url, const char **why)
{
    char host[256];
    long port;
    return parse(url, host, sizeof host, &port, why);
}

enum err webhook_target_resolve(const char *url, int allow_private, struct webhook_target *out,
                                const char **why)
{
    memset(out, 0, sizeof *out);
    if (parse(url, out->host, sizeof out->host, &out->port, why))
        return ERR_INVALID;
    char name[256]; /* an IPv6 literal without its brackets */
    size_t hl = strlen(out->host);
    if (out->host[0] == '[' && hl > 2 && out->host[hl - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)(hl - 2), out->host + 1);
    else
        snprintf(name, sizeof name, "%s", out->host);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%ld", out->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(name, portstr, &hints, &res);
    if (rc != 0 || !res) {
        *why = "its host cannot be resolved now";
        return ERR_UNAVAILABLE;
    }
    struct in6_addr probe;
    struct in_addr probe4;
    out->literal = inet_pton(AF_INET, name, &probe4) == 1 || inet_pton(AF_INET6, name, &probe) == 1;
    enum err e = ERR_OK;
    char addr[INET6_ADDRSTRLEN] = "";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (!allow_private && webhook_addr_refused(ai->ai_addr)) {
            *why = "resolves to a loopback, private, link-local or other non-public address";
            e = ERR_FORBIDDEN;
            break;
        }
        if (!addr[0]) {
            const void *a = ai->ai_family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
            inet_ntop(ai->ai_family, a, addr, sizeof addr);
            if (!out->literal)
                snprintf(out->pin, sizeof out->pin, ai->ai_family == AF_INET6 ? "%s:%ld:[%s]"
                                                                                : "%s:%ld:%s",
                         out->host, out->port, addr);
        }
    }
    freeaddrinfo(res);
    if (!e && !addr[0]) {
        *why = "its host has no IP address";
        e = ERR_UNAVAILABLE;
    }
    return e;
}

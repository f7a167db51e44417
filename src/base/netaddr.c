/* netaddr.c — see netaddr.h. inet_pton does the parsing; this file adds the ranges. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int netaddr_parse(const char *text, struct netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (!text || strlen(text) >= NETADDR_TEXT_MAX)
        return 0;
    if (inet_pton(AF_INET, text, out->bytes) == 1)
        return 1;
    if (inet_pton(AF_INET6, text, out->bytes) != 1)
        return 0;
    if (memcmp(out->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
        memmove(out->bytes, out->bytes + 12, 4);
        memset(out->bytes + 4, 0, 12);
        return 1;
    }
    out->v6 = 1;
    return 1;
}

/* Zeroes every bit of a past the first prefix bits. */
static void keep_prefix(struct netaddr *a, int prefix)
{
    int total = a->v6 ? 128 : 32;
    for (int bit = prefix; bit < total; bit++)
        a->bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

/* One item "addr" or "addr/len" of n bytes. */
static int parse_range(const char *item, size_t n, struct netaddr_range *out)
{
    char text[NETADDR_TEXT_MAX + 8];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy(text, item, n);
    text[n] = '\0';
    char *slash = strchr(text, '/');
    int prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end || len < 0 || len > 128)
            return -1;
        prefix = (int)len;
    }
    if (!netaddr_parse(text, &out->addr))
        return -1;
    int total = out->addr.v6 ? 128 : 32;
    if (prefix > total)
        return -1;
    out->prefix = prefix < 0 ? total : prefix;
    keep_prefix(&out->addr, out->prefix);
    return 0;
}

int netaddr_list_parse(const char *text, struct netaddr_list *out)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 0;
        size_t n = strcspn(p, ", \t");
        if (out->count == NETADDR_LIST_MAX || parse_range(p, n, &out->ranges[out->count]))
            return -1;
        out->count++;
        p += n;
    }
}

int netaddr_list_contains(const struct netaddr_list *list, const struct netaddr *a)
{
    for (int i = 0; i < list->count; i++) {
        const struct netaddr_range *r = &list->ranges[i];
        if (r->addr.v6 != a->v6)
            continue;
        struct netaddr masked = *a;
        keep_prefix(&masked, r->prefix);
        if (memcmp(masked.bytes, r->addr.bytes, sizeof masked.bytes) == 0)
            return 1;
    }
    return 0;
}

void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
    if (!inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->bytes, out, NETADDR_TEXT_MAX))
        out[0] = '\0';
}

void netaddr_throttle_name(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
    if (!a->v6) {
        inet_ntop(AF_INET, a->bytes, out, NETADDR_TEXT_MAX);
        return;
    }
    struct netaddr net = *a;
    keep_prefix(&net, 64);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, net.bytes, text, sizeof text);
    snprintf(out, NETADDR_TEXT_MAX, "%s/64", text);
}

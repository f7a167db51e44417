/* usedfrom.c — see usedfrom.h. */
#include "usedfrom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void usedfrom_parse(const char *text, struct usedfrom *out)
{
    memset(out, 0, sizeof *out);
    while (text && *text && out->count < USEDFROM_MAX) {
        size_t len = strcspn(text, ",");
        char item[NETADDR_TEXT_MAX + 24];
        if (len < sizeof item) {
            memcpy(item, text, len);
            item[len] = '\0';
            char *space = strchr(item, ' ');
            struct netaddr a;
            if (space) {
                *space = '\0';
                char *end;
                long long at = strtoll(space + 1, &end, 10);
                if (*end == '\0' && end != space + 1 && at > 0 && netaddr_parse(item, &a)) {
                    /* as stored (newest first; ties keep their order), each address once */
                    int seen = 0;
                    for (int i = 0; i < out->count && !seen; i++)
                        seen = strcmp(out->e[i].address, item) == 0;
                    if (!seen) {
                        /* netaddr_parse took it: shorter than NETADDR_TEXT_MAX */
                        memcpy(out->e[out->count].address, item, strlen(item) + 1);
                        out->e[out->count++].at = at;
                    }
                }
            }
        }
        text += len;
        if (*text == ',')
            text++;
    }
}

void usedfrom_add(struct usedfrom *l, const char *address, int64_t at)
{
    if (strlen(address) >= NETADDR_TEXT_MAX)
        return;
    int i = 0;
    while (i < l->count && strcmp(l->e[i].address, address) != 0)
        i++;
    if (i < l->count) { /* known: keep the later time, take it out and place it again */
        if (l->e[i].at > at)
            return;
        memmove(&l->e[i], &l->e[i + 1], (size_t)(l->count - i - 1) * sizeof l->e[0]);
        l->count--;
    }
    int pos = 0; /* before every entry not newer: of equal times the one merged last leads */
    while (pos < l->count && l->e[pos].at > at)
        pos++;
    if (pos >= USEDFROM_MAX)
        return;
    int keep = l->count < USEDFROM_MAX ? l->count : USEDFROM_MAX - 1;
    memmove(&l->e[pos + 1], &l->e[pos], (size_t)(keep - pos) * sizeof l->e[0]);
    snprintf(l->e[pos].address, sizeof l->e[pos].address, "%s", address);
    l->e[pos].at = at;
    l->count = keep + 1;
}

void usedfrom_format(const struct usedfrom *l, char out[USEDFROM_TEXT_MAX])
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < l->count; i++) {
        int w = snprintf(out + n, USEDFROM_TEXT_MAX - n, "%s%s %lld", i ? "," : "",
                         l->e[i].address, (long long)l->e[i].at);
        if (w < 0 || (size_t)w >= USEDFROM_TEXT_MAX - n) {
            out[n] = '\0'; /* cannot happen with USEDFROM_MAX entries; never cut one */
            return;
        }
        n += (size_t)w;
    }
}

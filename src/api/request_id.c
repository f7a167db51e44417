/* request_id.c — see request_id.h. */
#include "request_id.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int request_id_acceptable(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (n >= REQUEST_ID_MAX)
            return 0;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              strchr("-_.:@", ch)))
            return 0;
    }
    return n > 0;
}

void request_id_make(char out[REQUEST_ID_MAX + 1])
{
    static __thread uint64_t prefix, counter;
    if (prefix == 0)
        while (prefix == 0)
            randombytes_buf(&prefix, sizeof prefix);
    counter++;
    snprintf(out, REQUEST_ID_MAX + 1, "%016llx-%llx", (unsigned long long)prefix,
             (unsigned long long)counter);
}

void request_id_choose(const char *incoming, int trusted, char out[REQUEST_ID_MAX + 1])
{
    if (trusted && incoming && request_id_acceptable(incoming)) {
        memcpy(out, incoming, strlen(incoming) + 1);
        return;
    }
    request_id_make(out);
}

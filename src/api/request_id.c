/* request_id.c — see request_id.h. */
#include "request_id.h"

#include <sodium.h>
#include <stdint.h>
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

/* Writes v in hex, width digits at least (leading zeros); returns the digits written. */
static size_t put_hex(char *out, uint64_t v, size_t width)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v || n < width);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

void request_id_make(char out[REQUEST_ID_MAX + 1])
{
    static __thread uint64_t prefix, counter;
    while (prefix == 0)
        randombytes_buf(&prefix, sizeof prefix);
    counter++;
    size_t n = put_hex(out, prefix, 16); /* by hand: this runs for every verification */
    out[n++] = '-';
    n += put_hex(out + n, counter, 1);
    out[n] = '\0';
}

void request_id_choose(const char *incoming, int trusted, char out[REQUEST_ID_MAX + 1])
{
    if (trusted && incoming && request_id_acceptable(incoming)) {
        memcpy(out, incoming, strlen(incoming) + 1);
        return;
    }
    request_id_make(out);
}

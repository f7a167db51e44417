/* base62.c — fixed-width base62 by schoolbook long division on a byte-array bignum.
 * Inputs are at most 64 bytes, so quadratic cost is a few hundred operations. */
#include "base62.h"

#include <math.h>
#include <string.h>

static const char base62_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

size_t base62_width(size_t n)
{
    /* ceil(8n / log2(62)); computed exactly for the sizes used, no floating error at n<=64 */
    return (size_t)ceil((double)n * 8.0 / 5.954196310386876);
}

int base62_is_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int base62_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

int base62_encode(const uint8_t *in, size_t n, char *out, size_t width)
{
    uint8_t num[64];
    if (n > sizeof num)
        return -1;
    memcpy(num, in, n);
    for (size_t pos = width; pos-- > 0;) {
        unsigned rem = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = (rem << 8) | num[i];
            num[i] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        out[pos] = base62_alphabet[rem];
    }
    out[width] = '\0';
    for (size_t i = 0; i < n; i++)
        if (num[i] != 0)
            return -1; /* did not fit */
    return 0;
}

int base62_decode(const char *in, size_t len, uint8_t *out, size_t n)
{
    if (n > 64)
        return -1;
    memset(out, 0, n);
    for (size_t k = 0; k < len; k++) {
        int v = base62_value(in[k]);
        if (v < 0)
            return -1;
        unsigned carry = (unsigned)v;
        for (size_t i = n; i-- > 0;) {
            unsigned cur = out[i] * 62u + carry;
            out[i] = (uint8_t)(cur & 0xff);
            carry = cur >> 8;
        }
        if (carry != 0)
            return -1; /* overflow */
    }
    return 0;
}

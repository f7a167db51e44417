/* percent.c — see percent.h. */
#include "percent.h"

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int percent_decode(char *dst, const char *src, size_t len, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hex_value(src[i + 1]), l = hex_value(src[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            dst[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dst[o++] = plus_space && ch == '+' ? ' ' : ch;
        }
    }
    dst[o] = '\0';
    return 0;
}

/* form.c — see form.h. */
#include "form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int form_media_type_ok(const char *ct)
{
    static const char type[] = "application/x-www-form-urlencoded";
    size_t n = sizeof type - 1;
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes src (n bytes) into a new string; NULL when malformed or out of memory. */
static char *decode(const char *src, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '+') {
            *o++ = ' ';
        } else if (src[i] == '%') {
            /* two hex digits must follow */
            int h = i + 2 < n ? hex(src[i + 1]) : -1, l = i + 2 < n ? hex(src[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else if (src[i] == '\0') {
            free(out);
            return NULL;
        } else {
            *o++ = src[i];
        }
    }
    *o = '\0';
    return out;
}

int form_value(const char *body, size_t len, const char *name, char **out)
{
    *out = NULL;
    size_t nlen = strlen(name);
    for (size_t i = 0; body && i < len;) {
        const char *part = body + i;
        const char *amp = memchr(part, '&', len - i);
        size_t plen = amp ? (size_t)(amp - part) : len - i;
        const char *eq = memchr(part, '=', plen);
        if (eq && (size_t)(eq - part) == nlen && memcmp(part, name, nlen) == 0) {
            *out = decode(eq + 1, plen - nlen - 1);
            return *out ? 0 : -1;
        }
        i += plen + 1;
    }
    return 0;
}

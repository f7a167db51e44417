/* form.c — see form.h. */
#include "form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/percent.h"

int form_media_type_ok(const char *ct)
{
    static const char type[] = "application/x-www-form-urlencoded";
    size_t n = sizeof type - 1;
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Decodes src (n bytes) into a new string; NULL when malformed (a bad escape, an encoded or
 * raw NUL) or out of memory. */
static char *decode(const char *src, size_t n)
{
    char *out = memchr(src, '\0', n) ? NULL : malloc(n + 1);
    if (out && percent_decode(out, src, n, 1) != 0) {
        free(out);
        out = NULL;
    }
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

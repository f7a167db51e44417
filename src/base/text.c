/* text.c — code-point counting and character-class checks for request fields. */
#include "text.h"

#include <ctype.h>
#include <string.h>

size_t text_codepoints(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

int text_has_control(const char *s, int allow_newlines)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\t' || *p == '\n')
            if (allow_newlines)
                continue;
        if (*p < 0x20 || *p == 0x7f)
            return 1;
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F */
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return 1;
    }
    return 0;
}

int text_is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

int text_is_token(const char *s, const char *allowed_extra, size_t maxlen)
{
    size_t len = strlen(s);
    if (len == 0 || len > maxlen)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(allowed_extra, *s))
            return 0;
    return 1;
}

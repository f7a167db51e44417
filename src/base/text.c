/* text.c — code-point counting, cutting on code-point boundaries, UTF-8 checks and
 * character-class checks for request fields. */
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

/* 1 when p starts a bidirectional embedding, override or isolate control (U+202A..U+202E,
 * U+2066..U+2069): text that reads differently from how it is stored (Trojan Source). */
static int is_bidi_control(const unsigned char *p)
{
    return p[0] == 0xE2 && ((p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
                            (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9));
}

/* Bytes of the invisible character (white space or zero-width) that p starts, else 0. */
static size_t invisible_len(const unsigned char *p)
{
    if (isspace(p[0]))
        return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0) /* no-break space */
        return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8D) || p[2] == 0xAF))
        return 3; /* U+2000..U+200D: spaces, zero-width space and joiners; U+202F */
    if (p[0] == 0xE2 && p[1] == 0x81 && (p[2] == 0x9F || p[2] == 0xA0))
        return 3; /* U+205F, U+2060 word joiner */
    if ((p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) || /* ideographic space */
        (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF))   /* zero-width no-break space */
        return 3;
    return 0;
}

int text_has_control(const char *s, int allow_newlines)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_bidi_control(p))
            return 1;
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
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = invisible_len(p);
        if (!n)
            return 0;
        p += n;
    }
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

size_t text_cutn(char *dst, size_t cap, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (len > cap - 1) {
        len = cap - 1;
        /* s[len] is the first byte left out: while it continues a code point, that code
         * point's first bytes go too */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return len;
}

size_t text_cut(char *dst, size_t cap, const char *s)
{
    return text_cutn(dst, cap, s, (size_t)-1);
}

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t sequence_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        unsigned lo = p[0] == 0xE0 ? 0xA0 : 0x80, hi = p[0] == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        unsigned lo = p[0] == 0xF0 ? 0x90 : 0x80, hi = p[0] == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4
                                                                                        : 0;
    }
    return 0;
}

int text_utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = sequence_len(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

void text_utf8_repair(char *dst, size_t cap, const char *s)
{
    size_t out = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = sequence_len(p);
        const char *piece = n ? (const char *)p : "\xEF\xBF\xBD"; /* U+FFFD */
        size_t len = n ? n : 3;
        if (out + len > cap - 1)
            break;
        memcpy(dst + out, piece, len);
        out += len;
        p += n ? n : 1;
    }
    dst[out] = '\0';
}

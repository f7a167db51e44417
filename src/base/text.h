/* text.h — small checks on UTF-8 text that comes from requests (jansson already guarantees
 * valid UTF-8): length in code points and control characters. */
#ifndef APIKEYD_TEXT_H
#define APIKEYD_TEXT_H

#include <stddef.h>

/* Number of Unicode code points in valid UTF-8 s. */
size_t text_codepoints(const char *s);

/* 1 when s holds a C0/C1 control character, DEL, or a bidirectional embedding, override or
 * isolate control (U+202A..U+202E, U+2066..U+2069); tab and newline are allowed only when
 * allow_newlines is set. */
int text_has_control(const char *s, int allow_newlines);

/* Copies s into dst (cap bytes, NUL-terminated; cap > 0) like snprintf("%s"), but when s does
 * not fit, cuts it before the last whole UTF-8 code point that fits, never inside one.
 * Returns the number of bytes copied. */
size_t text_cut(char *dst, size_t cap, const char *s);

/* The same for the first n bytes of s (s need not be NUL-terminated). */
size_t text_cutn(char *dst, size_t cap, const char *s, size_t n);

/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
int text_utf8_valid(const char *s);

/* Copies s into dst (cap bytes, NUL-terminated), each byte that is not part of a well-formed
 * UTF-8 sequence replaced by U+FFFD, cut on a code-point boundary when dst is full. For
 * rendering stored text that may not be valid; dst of 3 * strlen(s) + 1 bytes always fits. */
void text_utf8_repair(char *dst, size_t cap, const char *s);

/* 1 when s is empty or shows nothing: only white space (ASCII or Unicode spaces) and
 * zero-width characters (U+200B..U+200D, U+2060, U+FEFF). */
int text_is_blank(const char *s);

/* 1 when every byte of s is in the given set of ASCII characters and s is 1..maxlen long. */
int text_is_token(const char *s, const char *allowed_extra, size_t maxlen);

#endif

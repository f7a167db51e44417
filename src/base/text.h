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

/* 1 when s is empty or shows nothing: only white space (ASCII or Unicode spaces) and
 * zero-width characters (U+200B..U+200D, U+2060, U+FEFF). */
int text_is_blank(const char *s);

/* 1 when every byte of s is in the given set of ASCII characters and s is 1..maxlen long. */
int text_is_token(const char *s, const char *allowed_extra, size_t maxlen);

#endif

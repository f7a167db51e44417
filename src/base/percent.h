/* percent.h — percent-decoding (RFC 3986) of paths, query strings and form bodies. */
#ifndef APIKEYD_BASE_PERCENT_H
#define APIKEYD_BASE_PERCENT_H

#include <stddef.h>

/* Decodes src[0..len) into dst (room for len + 1; dst may be src), '+' as a space when
 * plus_space. -1 for a bad escape (not two hex digits) or an encoded NUL; 0 otherwise. */
int percent_decode(char *dst, const char *src, size_t len, int plus_space);

#endif

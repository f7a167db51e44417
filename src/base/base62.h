/* base62.h — fixed-width big-endian base62 of byte strings (alphabet 0-9A-Za-z).
 * Used for the body and checksum of API keys and for random tokens. */
#ifndef APIKEYD_BASE62_H
#define APIKEYD_BASE62_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to write n bytes in fixed-width base62 (32 bytes -> 43, 4 -> 6). */
size_t base62_width(size_t n);

/* Writes the n bytes of in as a big-endian base62 number of exactly `width` characters into
 * out (which must hold width + 1 bytes; it is NUL-terminated). Returns 0, or -1 when the number
 * does not fit in width characters or n > 64. */
int base62_encode(const uint8_t *in, size_t n, char *out, size_t width);

/* Reads `len` base62 characters into n big-endian bytes. Returns 0, or -1 on a character
 * outside the alphabet, a value that does not fit in n bytes, or n > 64. */
int base62_decode(const char *in, size_t len, uint8_t *out, size_t n);

/* 1 when c is one of the 62 characters. */
int base62_is_char(char c);

#endif

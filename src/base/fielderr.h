/* fielderr.h — a fixed list of field-level validation problems, rendered as the `errors`
 * member of a 422 problem document. Field names are copied (cut to at most 63 bytes, on a
 * UTF-8 code-point boundary, so the problem stays valid JSON); details must be static strings. */
#ifndef APIKEYD_FIELDERR_H
#define APIKEYD_FIELDERR_H

#include <stddef.h>

#define FIELD_ERRORS_MAX 16

struct field_errors {
    size_t count;
    struct field_error {
        char field[64];
        const char *detail;
    } items[FIELD_ERRORS_MAX];
};

/* Appends a problem (kept only while fewer than FIELD_ERRORS_MAX are listed). */
void field_errors_add(struct field_errors *fe, const char *field, const char *detail);

/* 1 when field already has a problem listed. */
int field_errors_has(const struct field_errors *fe, const char *field);

#endif

/* fielderr.c — see fielderr.h. */
#include "fielderr.h"

#include <stdio.h>
#include <string.h>

void field_errors_add(struct field_errors *fe, const char *field, const char *detail)
{
    if (fe->count < FIELD_ERRORS_MAX) {
        char *out = fe->items[fe->count].field;
        size_t n = strlen(field), cap = sizeof fe->items[0].field;
        if (n >= cap) { /* cut before the code point that does not fit whole */
            n = cap - 1;
            while (n > 0 && ((unsigned char)field[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(out, field, n);
        out[n] = '\0';
        fe->items[fe->count].detail = detail;
        fe->count++;
    }
}

int field_errors_has(const struct field_errors *fe, const char *field)
{
    for (size_t i = 0; i < fe->count; i++)
        if (strcmp(fe->items[i].field, field) == 0)
            return 1;
    return 0;
}

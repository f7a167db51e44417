/* fielderr.c — see fielderr.h. */
#include "fielderr.h"

#include <stdio.h>
#include <string.h>

void field_errors_add(struct field_errors *fe, const char *field, const char *detail)
{
    if (fe->count < FIELD_ERRORS_MAX) {
        snprintf(fe->items[fe->count].field, sizeof fe->items[0].field, "%s", field);
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

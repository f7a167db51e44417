/* setting.c — see setting.h. */
#include "setting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int setting_fail(const char *name, const char *what)
{
    fprintf(stderr, "apikeyd: %s %s\n", name, what);
    return -1;
}

int setting_text(const char *name, const char *value, char *out, size_t cap)
{
    if (strlen(value) >= cap)
        return setting_fail(name, "is too long");
    if (text_has_control(value, 0))
        return setting_fail(name, "must not contain control characters");
    snprintf(out, cap, "%s", value);
    return 0;
}

int setting_int(const char *name, const char *value, int min, int max, int *out)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end || v < min || v > max) {
        fprintf(stderr, "apikeyd: %s must be a whole number from %d to %d\n", name, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

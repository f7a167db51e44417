/* setting.h — reading one setting's value, for the modules that name their own settings
 * (LDAP, mail): the checks and the words of the complaint are the same everywhere. */
#ifndef APIKEYD_SETTING_H
#define APIKEYD_SETTING_H

#include <stddef.h>

/* Prints "apikeyd: NAME WHAT" to stderr; returns -1. */
int setting_fail(const char *name, const char *what);

/* Copies value into out (cap bytes): -1 (said) when too long or holding control characters. */
int setting_text(const char *name, const char *value, char *out, size_t cap);

/* Reads a whole number from min to max into *out: -1 (said) otherwise. */
int setting_int(const char *name, const char *value, int min, int max, int *out);

#endif

/* params.h — name=value lists of a request: the query string (split at '&', percent- and
 * plus-decoded) and the Cookie header (split at ';', not decoded), each read into a buffer of
 * its own that is wiped when freed. */
#ifndef APIKEYD_PARAMS_H
#define APIKEYD_PARAMS_H

#include <stddef.h>

#define PARAMS_MAX 32 /* pairs read from one list; more sets overflow */

/* Decoded name=value pairs, in one buffer of their own. */
struct params {
    char *text; /* split in place by NULs: text_len says how much to wipe */
    size_t text_len;
    unsigned count;
    int overflow;  /* more pairs were sent than PARAMS_MAX */
    int malformed; /* a pair was not read (a bad percent escape, an encoded NUL, no memory) */
    const char *names[PARAMS_MAX];
    const char *values[PARAMS_MAX];
};

/* Splits a copy of text at sep into name=value pairs (spaces before a name skipped; a pair
 * without '=' has the value ""; an empty name is skipped), percent- and plus-decoding both
 * when decode. Never fails: no memory is recorded as malformed. */
void params_parse(struct params *ps, const char *text, char sep, int decode);

/* The value of the first pair called name, or NULL. */
const char *params_find(const struct params *ps, const char *name);

/* Wipes and frees what params_parse read; ps is empty afterwards. */
void params_free(struct params *ps);

#endif

/* params.c — name=value lists of a request (query string, Cookie header): see params.h. */
#include "params.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../base/percent.h"

void params_parse(struct params *ps, const char *text, char sep, int decode)
{
    memset(ps, 0, sizeof *ps);
    size_t len = strlen(text);
    ps->text = malloc(len + 1);
    if (!ps->text) {
        ps->malformed = 1; /* nothing read: never served as if nothing was sent */
        return;
    }
    ps->text_len = len + 1;
    memcpy(ps->text, text, len + 1);
    char *s = ps->text;
    while (*s) {
        if (ps->count == PARAMS_MAX) {
            ps->overflow = 1;
            break;
        }
        while (*s == ' ')
            s++;
        char *end = strchr(s, sep);
        if (end)
            *end = '\0';
        char *eq = strchr(s, '=');
        char *value = eq ? eq + 1 : s + strlen(s);
        if (eq)
            *eq = '\0';
        if (*s && (!decode || (percent_decode(s, s, strlen(s), 1) == 0 &&
                               percent_decode(value, value, strlen(value), 1) == 0))) {
            ps->names[ps->count] = s;
            ps->values[ps->count] = value;
            ps->count++;
        } else if (*s) {
            ps->malformed = 1; /* a pair that was sent but cannot be read */
        }
        if (!end)
            break;
        s = end + 1;
    }
}

const char *params_find(const struct params *ps, const char *name)
{
    for (unsigned i = 0; i < ps->count; i++)
        if (strcmp(ps->names[i], name) == 0)
            return ps->values[i];
    return NULL;
}

void params_free(struct params *ps)
{
    if (ps->text) {
        sodium_memzero(ps->text, ps->text_len);
        free(ps->text);
    }
    memset(ps, 0, sizeof *ps);
}

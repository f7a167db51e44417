/* fuzz_params.c — libFuzzer harness for query-string and Cookie-header decoding (api/params.c,
 * base/percent.c). The first byte picks the list (even: a query, '&' and percent/plus
 * decoding; odd: cookies, ';' as sent); the rest is the text. A finding: a pair count past
 * PARAMS_MAX, an empty name, a lookup that does not give the first pair of that name, or a
 * list that does not read back as the same pairs once written out again (each byte
 * percent-encoded for a query, name=value joined by ';' for cookies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/api/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends s to out at *n: every byte as %XX when encode, else as it is. */
static void put(char *out, size_t *n, const char *s, int encode)
{
    for (; *s; s++) {
        if (encode)
            *n += (size_t)sprintf(out + *n, "%%%02X", (unsigned char)*s);
        else
            out[(*n)++] = *s;
    }
    out[*n] = '\0';
}

/* The pairs of ps written out again as a list of the same kind. */
static char *write_back(const struct params *ps, char sep, int encode, size_t cap)
{
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < ps->count; i++) {
        if (i)
            out[n++] = sep;
        put(out, &n, ps->names[i], encode);
        out[n++] = '=';
        put(out, &n, ps->values[i], encode);
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    int decode = !(data[0] & 1);
    char sep = decode ? '&' : ';';
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* a request's query and headers are C strings: the first NUL ends it */
    struct params ps;
    params_parse(&ps, text, sep, decode);
    if (ps.count > PARAMS_MAX || (ps.overflow && ps.count != PARAMS_MAX))
        abort();
    for (unsigned i = 0; i < ps.count; i++) {
        if (!ps.names[i][0] || (!decode && strchr(ps.names[i], sep)))
            abort();
        unsigned first = 0;
        while (strcmp(ps.names[first], ps.names[i]) != 0)
            first++;
        if (params_find(&ps, ps.names[i]) != ps.values[first])
            abort();
    }
    if (!ps.overflow && !ps.malformed) {
        /* at most 3 bytes written per byte read, plus '=' and a separator per pair */
        char *again = write_back(&ps, sep, decode, 3 * size + 2 * PARAMS_MAX + 1);
        if (again) {
            struct params back;
            params_parse(&back, again, sep, decode);
            if (back.count != ps.count || back.malformed || back.overflow)
                abort();
            for (unsigned i = 0; i < ps.count; i++)
                if (strcmp(back.names[i], ps.names[i]) || strcmp(back.values[i], ps.values[i]))
                    abort();
            params_free(&back);
            free(again);
        }
    }
    params_free(&ps);
    if (ps.text || ps.count)
        abort();
    free(text);
    return 0;
}

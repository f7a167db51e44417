/* flatjson.c — the flat string-object reader (see flatjson.h): one pass, no allocation. */
#include "flatjson.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A string at *pp (which must start with `"`) of plain printable ASCII; advances past the
 * closing quote. -1 for anything else, escapes included. */
static int read_string(const char **pp, const char *end, const char **s, size_t *n)
{
    const char *p = *pp;
    if (p >= end || *p != '"')
        return -1;
    const char *start = ++p;
    for (;; p++) {
        if (p >= end)
            return -1;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20 || c > 0x7E || c == '\\')
            return -1;
    }
    *s = start;
    *n = (size_t)(p - start);
    *pp = p + 1;
    return 0;
}

int flatjson_parse(const char *buf, size_t len, struct flatjson_member out[FLATJSON_MAX_MEMBERS])
{
    if (!buf)
        return -1;
    const char *p = buf, *end = buf + len;
    int n = 0;
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (n == FLATJSON_MAX_MEMBERS)
                return -1;
            struct flatjson_member *m = &out[n];
            if (read_string(&p, end, &m->name, &m->name_len) != 0)
                return -1;
            p = skip_ws(p, end);
            if (p >= end || *p != ':')
                return -1;
            p = skip_ws(p + 1, end);
            if (read_string(&p, end, &m->value, &m->value_len) != 0)
                return -1;
            for (int i = 0; i < n; i++)
                if (out[i].name_len == m->name_len &&
                    memcmp(out[i].name, m->name, m->name_len) == 0)
                    return -1;
            n++;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return -1;
        }
    }
    p = skip_ws(p, end);
    return p == end ? n : -1;
}

const struct flatjson_member *flatjson_find(const struct flatjson_member *m, int n,
                                            const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < n; i++)
        if (m[i].name_len == len && memcmp(m[i].name, name, len) == 0)
            return &m[i];
    return NULL;
}

/* flatjson.h — a fast, allocation-free reader for the one JSON shape hot endpoints get: a flat
 * object whose values are all plain strings ({"key":"apk_…","scope":"Tasks"}). It accepts only
 * what it can answer exactly as jansson would; anything else is "not handled" and the caller
 * falls back to the strict jansson path (api/body.c), which gives the usual error answers. */
#ifndef APIKEYD_FLATJSON_H
#define APIKEYD_FLATJSON_H

#include <stddef.h>

#define FLATJSON_MAX_MEMBERS 8

/* One member: pointers into the parsed buffer (not NUL-terminated) and lengths. */
struct flatjson_member {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Reads buf[0..len) as optional JSON white space, `{`, zero or more `"name":"value"` members
 * separated by `,`, `}`, optional white space, end. Names and values may hold only printable
 * ASCII (0x20..0x7E) other than `"` and `\`, so no escapes. Returns the number of members
 * (0..FLATJSON_MAX_MEMBERS) with out[] filled in document order, or -1 ("not handled") for
 * anything else: other syntax or value types, more members, or a repeated name. */
int flatjson_parse(const char *buf, size_t len, struct flatjson_member out[FLATJSON_MAX_MEMBERS]);

/* The member of m[0..n) called name (NUL-terminated), or NULL. */
const struct flatjson_member *flatjson_find(const struct flatjson_member *m, int n,
                                            const char *name);

#endif

/* fuzz_json.c — libFuzzer harness for the verify body's fast reader (flatjson) against
 * jansson, which gives every other body its meaning: flatjson must never read past the
 * buffer, and whatever it accepts jansson must read as the same flat object. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/flatjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1); /* flatjson reads NUL-terminated bodies, as the server has */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    int n = flatjson_parse(buf, size, m);
    json_error_t err;
    json_t *doc = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &err);
    if (n >= 0) {
        /* accepted: jansson reads an object with the same members and values */
        if (!json_is_object(doc) || json_object_size(doc) != (size_t)n)
            abort();
        for (int i = 0; i < n; i++) {
            json_t *v = json_object_getn(doc, m[i].name, m[i].name_len);
            if (!json_is_string(v) || json_string_length(v) != m[i].value_len ||
                memcmp(json_string_value(v), m[i].value, m[i].value_len) != 0)
                abort();
        }
    }
    json_decref(doc);
    free(buf);
    return 0;
}

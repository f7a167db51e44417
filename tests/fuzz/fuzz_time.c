/* fuzz_time.c — libFuzzer harness for RFC 3339 parsing (expires_at, audit since/until):
 * never reads past the text, and whatever it accepts formats back to a time that parses to
 * the same instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t t;
    if (time_parse_rfc3339(text, &t) == 0) {
        char again[TIME_RFC3339_LEN];
        time_format_rfc3339(t, again);
        int64_t t2;
        if (time_parse_rfc3339(again, &t2) != 0 || t2 != t)
            abort();
        (void)time_add_calendar_year(t);
    }
    return 0;
}

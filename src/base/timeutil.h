/* timeutil.h — wall-clock time as Unix seconds, RFC 3339 text, and the calendar-year rule. */
#ifndef APIKEYD_TIMEUTIL_H
#define APIKEYD_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIME_RFC3339_LEN 21 /* "2026-11-22T22:14:49Z" plus NUL */

/* Current Unix time in seconds. */
int64_t time_now(void);

/* Monotonic clock in milliseconds (for throttles and timers). */
int64_t time_monotonic_ms(void);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out[TIME_RFC3339_LEN]. */
void time_format_rfc3339(int64_t t, char out[TIME_RFC3339_LEN]);

/* Parses an RFC 3339 date-time ("2026-11-22T22:14:49Z", "…T22:14:49.123+02:00"; 't' and 'z'
 * allowed, fractions dropped). Returns 0 and sets *out, or -1 for anything else, including
 * impossible dates such as 2026-02-30 and years outside 1970..9999. */
int time_parse_rfc3339(const char *s, int64_t *out);

/* t plus one calendar year: same month, day and time; 29 February becomes 28 February. */
int64_t time_add_calendar_year(int64_t t);

#endif

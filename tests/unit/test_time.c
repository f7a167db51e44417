/* test_time.c — RFC 3339 text and the calendar-year rule (src/base/timeutil.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "../../src/base/timeutil.h"
#include "unit.h"

#define T_2026_11_22_221449 INT64_C(1795385689)

static int64_t parse_ok(const char *s)
{
    int64_t t = -12345;
    if (time_parse_rfc3339(s, &t) != 0)
        fail_msg("expected \"%s\" to parse", s);
    return t;
}

static void assert_parse_fails(const char *s)
{
    int64_t t = 0;
    if (time_parse_rfc3339(s, &t) != -1)
        fail_msg("expected \"%s\" to be refused, got %lld", s, (long long)t);
}

static void test_format_epoch(void **state)
{
    (void)state;
    char out[TIME_RFC3339_LEN];
    time_format_rfc3339(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
}

static void test_format_example_from_docs(void **state)
{
    (void)state;
    char out[TIME_RFC3339_LEN];
    time_format_rfc3339(T_2026_11_22_221449, out);
    assert_string_equal(out, "2026-11-22T22:14:49Z");
    assert_int_equal(strlen(out), TIME_RFC3339_LEN - 1);
}

static void test_format_last_second_of_9999(void **state)
{
    (void)state;
    char out[TIME_RFC3339_LEN];
    time_format_rfc3339(INT64_C(253402300799), out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

static void assert_formats(int64_t t, const char *want)
{
    char out[TIME_RFC3339_LEN];
    memset(out, 'x', sizeof out);
    time_format_rfc3339(t, out);
    if (strcmp(out, want) != 0)
        fail_msg("%lld formatted as \"%s\", expected \"%s\"", (long long)t, out, want);
}

static void test_format_calendar_edges(void **state)
{
    (void)state;
    assert_formats(0, "1970-01-01T00:00:00Z");
    assert_formats(INT64_C(1709164800), "2024-02-29T00:00:00Z");
    assert_formats(INT64_C(1709251199), "2024-02-29T23:59:59Z");
    assert_formats(INT64_C(1709251200), "2024-03-01T00:00:00Z");
    assert_formats(INT64_C(4102444799), "2099-12-31T23:59:59Z");
    assert_formats(INT64_C(4102444800), "2100-01-01T00:00:00Z");
    assert_formats(INT64_C(4107542400), "2100-03-01T00:00:00Z"); /* 2100 has no 29 February */
    assert_formats(INT64_C(946684799), "1999-12-31T23:59:59Z");
    assert_formats(INT64_C(946684800), "2000-01-01T00:00:00Z");
    assert_formats(INT64_C(2147483647), "2038-01-19T03:14:07Z");
    assert_formats(INT64_C(2147483648), "2038-01-19T03:14:08Z");
    assert_formats(INT64_C(4294967296), "2106-02-07T06:28:16Z");
}

static void test_format_before_1970(void **state)
{
    (void)state;
    assert_formats(-1, "1969-12-31T23:59:59Z");
    assert_formats(-86400, "1969-12-31T00:00:00Z");
    assert_formats(-86401, "1969-12-30T23:59:59Z");
    assert_formats(INT64_C(-2203891201), "1900-02-28T23:59:59Z");
    assert_formats(INT64_C(-11670953104), "1600-02-29T12:34:56Z");
    assert_formats(INT64_C(-30610224000), "1000-01-01T00:00:00Z");
}

static void test_format_clamps_outside_years_0_to_9999(void **state)
{
    (void)state;
    assert_formats(INT64_C(253402300800), "9999-12-31T23:59:59Z");
    assert_formats(INT64_MAX, "9999-12-31T23:59:59Z");
    assert_formats(INT64_C(-62167219200), "0000-01-01T00:00:00Z");
    assert_formats(INT64_MIN, "0000-01-01T00:00:00Z");
}

/* The same text as gmtime_r + strftime (what it replaced) wherever those give four-digit years:
 * every four hours or so from 1969 to 2110, and a spread of times over years 1000..9999. */
static void check_against_libc(int64_t t)
{
    char want[64];
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    assert_int_equal(strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
    assert_formats(t, want);
}

static void test_format_matches_gmtime_and_strftime(void **state)
{
    (void)state;
    for (int64_t t = INT64_C(-31536000); t < INT64_C(4418064000); t += 4 * 3600 + 7)
        check_against_libc(t);
    uint64_t x = 88172645463325252u; /* xorshift64: a fixed, reproducible spread */
    const int64_t lo = INT64_C(-30610224000), span = INT64_C(253402300799) - lo + 1;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_against_libc(lo + (int64_t)(x % (uint64_t)span));
    }
}

static void test_parse_utc_z(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-22T22:14:49Z"), T_2026_11_22_221449);
}

static void test_parse_epoch(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
}

static void test_parse_accepts_lowercase_t_and_z(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-22t22:14:49z"), T_2026_11_22_221449);
    assert_int_equal(parse_ok("2026-11-22t22:14:49Z"), T_2026_11_22_221449);
    assert_int_equal(parse_ok("2026-11-22T22:14:49z"), T_2026_11_22_221449);
}

static void test_parse_positive_offset_is_east_of_utc(void **state)
{
    (void)state;
    /* 2026-11-23T00:14:49+02:00 is 2026-11-22T22:14:49Z */
    assert_int_equal(parse_ok("2026-11-23T00:14:49+02:00"), T_2026_11_22_221449);
}

static void test_parse_negative_offset_is_west_of_utc(void **state)
{
    (void)state;
    /* 2026-11-22T16:44:49-05:30 is 22:14:49Z */
    assert_int_equal(parse_ok("2026-11-22T16:44:49-05:30"), T_2026_11_22_221449);
}

static void test_parse_zero_offset_equals_z(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-22T22:14:49+00:00"), T_2026_11_22_221449);
    assert_int_equal(parse_ok("2026-11-22T22:14:49-00:00"), T_2026_11_22_221449);
}

static void test_parse_drops_fraction(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-22T22:14:49.123Z"), T_2026_11_22_221449);
    assert_int_equal(parse_ok("2026-11-22T22:14:49.999999999Z"), T_2026_11_22_221449);
    assert_int_equal(parse_ok("2026-11-22T22:14:49.5Z"), T_2026_11_22_221449);
}

static void test_parse_fraction_with_offset(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-23T00:14:49.123+02:00"), T_2026_11_22_221449);
}

static void test_parse_refuses_fraction_without_digits(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T22:14:49.Z");
    assert_parse_fails("2026-11-22T22:14:49.+02:00");
}

static void test_parse_accepts_leap_day_of_leap_year(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T12:00:00Z"), INT64_C(1709208000));
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), INT64_C(951782400));
}

static void test_parse_refuses_february_30(void **state)
{
    (void)state;
    assert_parse_fails("2026-02-30T00:00:00Z");
}

static void test_parse_refuses_leap_day_of_common_year(void **state)
{
    (void)state;
    assert_parse_fails("2026-02-29T00:00:00Z");
    assert_parse_fails("2100-02-29T00:00:00Z"); /* divisible by 100, not by 400 */
}

static void test_parse_refuses_day_past_month_end(void **state)
{
    (void)state;
    assert_parse_fails("2026-04-31T00:00:00Z");
    assert_parse_fails("2026-06-31T00:00:00Z");
    assert_parse_fails("2026-01-32T00:00:00Z");
}

static void test_parse_refuses_month_or_day_zero_or_13(void **state)
{
    (void)state;
    assert_parse_fails("2026-00-10T00:00:00Z");
    assert_parse_fails("2026-13-01T00:00:00Z");
    assert_parse_fails("2026-01-00T00:00:00Z");
}

static void test_parse_refuses_hour_24(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T24:00:00Z");
}

static void test_parse_refuses_minute_60_and_second_61(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T23:60:00Z");
    assert_parse_fails("2026-11-22T23:59:61Z");
}

static void test_parse_refuses_year_before_1970(void **state)
{
    (void)state;
    assert_parse_fails("1969-12-31T23:59:59Z");
    assert_parse_fails("0000-01-01T00:00:00Z");
}

static void test_parse_accepts_year_9999(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), INT64_C(253402300799));
}

static void test_parse_refuses_missing_zone(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T22:14:49");
    assert_parse_fails("2026-11-22T22:14:49.123");
}

static void test_parse_refuses_malformed_offset(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T22:14:49+0200");
    assert_parse_fails("2026-11-22T22:14:49+02");
    assert_parse_fails("2026-11-22T22:14:49+24:00");
    assert_parse_fails("2026-11-22T22:14:49+02:60");
    assert_parse_fails("2026-11-22T22:14:49+2:00");
}

static void test_parse_refuses_date_only_and_time_only(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22");
    assert_parse_fails("22:14:49Z");
}

static void test_parse_refuses_wrong_separators(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22 22:14:49Z");
    assert_parse_fails("2026/11/22T22:14:49Z");
    assert_parse_fails("2026-11-22T22.14.49Z");
    assert_parse_fails("20261122T221449Z");
}

static void test_parse_refuses_trailing_or_leading_garbage(void **state)
{
    (void)state;
    assert_parse_fails("2026-11-22T22:14:49Zx");
    assert_parse_fails("2026-11-22T22:14:49Z ");
    assert_parse_fails(" 2026-11-22T22:14:49Z");
    assert_parse_fails("+2026-11-22T22:14:49Z");
    assert_parse_fails("2026-11-22T22:14:49+02:00Z");
}

static void test_parse_refuses_garbage(void **state)
{
    (void)state;
    assert_parse_fails("");
    assert_parse_fails("garbage");
    assert_parse_fails("now");
    assert_parse_fails("1795385689");
    assert_parse_fails("2026-1a-22T22:14:49Z");
    assert_parse_fails("2026-11-22T22:14:4Z");
    assert_parse_fails("-026-11-22T22:14:49Z");
}

static void test_parse_failure_leaves_out_unchanged(void **state)
{
    (void)state;
    int64_t t = 42;
    assert_int_equal(time_parse_rfc3339("2026-02-30T00:00:00Z", &t), -1);
    assert_int_equal(t, 42);
}

static void test_format_then_parse_round_trips(void **state)
{
    (void)state;
    const int64_t samples[] = {0, 1, 86399, 86400, 951782400, 1709208000, T_2026_11_22_221449,
                               INT64_C(4102444800), INT64_C(253402300799)};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char text[TIME_RFC3339_LEN];
        time_format_rfc3339(samples[i], text);
        assert_int_equal(parse_ok(text), samples[i]);
    }
}

static void test_add_year_keeps_month_day_and_time(void **state)
{
    (void)state;
    /* 2026-03-15T10:20:30Z -> 2027-03-15T10:20:30Z */
    assert_int_equal(time_add_calendar_year(INT64_C(1773570030)), INT64_C(1805106030));
}

static void test_add_year_maps_leap_day_to_february_28(void **state)
{
    (void)state;
    /* 2024-02-29T12:00:00Z -> 2025-02-28T12:00:00Z */
    assert_int_equal(time_add_calendar_year(INT64_C(1709208000)), INT64_C(1740744000));
    char out[TIME_RFC3339_LEN];
    time_format_rfc3339(time_add_calendar_year(parse_ok("2096-02-29T23:59:59Z")), out);
    assert_string_equal(out, "2097-02-28T23:59:59Z");
}

static void test_add_year_keeps_february_28_into_leap_year(void **state)
{
    (void)state;
    /* 2027-02-28T08:00:00Z -> 2028-02-28T08:00:00Z (not the 29th) */
    assert_int_equal(time_add_calendar_year(INT64_C(1803801600)), INT64_C(1835337600));
}

static void test_add_year_across_leap_day_is_366_days(void **state)
{
    (void)state;
    /* 2023-03-01 -> 2024-03-01 spans 2024-02-29 */
    int64_t t = INT64_C(1677628800);
    assert_int_equal(time_add_calendar_year(t), INT64_C(1709251200));
    assert_int_equal(time_add_calendar_year(t) - t, 366 * 86400);
}

static void test_add_year_at_year_end(void **state)
{
    (void)state;
    /* 2026-12-31T23:59:59Z -> 2027-12-31T23:59:59Z */
    assert_int_equal(time_add_calendar_year(INT64_C(1798761599)), INT64_C(1830297599));
}

static void test_add_year_into_century_common_year(void **state)
{
    (void)state;
    /* 2099-02-28 -> 2100-02-28: 2100 is not a leap year */
    assert_int_equal(time_add_calendar_year(INT64_C(4075920000)), INT64_C(4107456000));
}

static void test_now_matches_system_clock(void **state)
{
    (void)state;
    /* time(2) reads the coarse clock, which may lag the precise one time_now() reads by a
     * tick: near a second's boundary it can still say the second before */
    int64_t a = (int64_t)time(NULL);
    int64_t t = time_now();
    int64_t b = (int64_t)time(NULL);
    assert_true(t >= a && t <= b + 1);
}

static void test_monotonic_never_goes_back(void **state)
{
    (void)state;
    int64_t prev = time_monotonic_ms();
    for (int i = 0; i < 1000; i++) {
        int64_t cur = time_monotonic_ms();
        assert_true(cur >= prev);
        prev = cur;
    }
    struct timespec nap = {0, 20 * 1000000};
    nanosleep(&nap, NULL);
    assert_true(time_monotonic_ms() - prev >= 19);
}

int run_time_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_epoch),
        cmocka_unit_test(test_format_example_from_docs),
        cmocka_unit_test(test_format_last_second_of_9999),
        cmocka_unit_test(test_format_calendar_edges),
        cmocka_unit_test(test_format_before_1970),
        cmocka_unit_test(test_format_clamps_outside_years_0_to_9999),
        cmocka_unit_test(test_format_matches_gmtime_and_strftime),
        cmocka_unit_test(test_parse_utc_z),
        cmocka_unit_test(test_parse_epoch),
        cmocka_unit_test(test_parse_accepts_lowercase_t_and_z),
        cmocka_unit_test(test_parse_positive_offset_is_east_of_utc),
        cmocka_unit_test(test_parse_negative_offset_is_west_of_utc),
        cmocka_unit_test(test_parse_zero_offset_equals_z),
        cmocka_unit_test(test_parse_drops_fraction),
        cmocka_unit_test(test_parse_fraction_with_offset),
        cmocka_unit_test(test_parse_refuses_fraction_without_digits),
        cmocka_unit_test(test_parse_accepts_leap_day_of_leap_year),
        cmocka_unit_test(test_parse_refuses_february_30),
        cmocka_unit_test(test_parse_refuses_leap_day_of_common_year),
        cmocka_unit_test(test_parse_refuses_day_past_month_end),
        cmocka_unit_test(test_parse_refuses_month_or_day_zero_or_13),
        cmocka_unit_test(test_parse_refuses_hour_24),
        cmocka_unit_test(test_parse_refuses_minute_60_and_second_61),
        cmocka_unit_test(test_parse_refuses_year_before_1970),
        cmocka_unit_test(test_parse_accepts_year_9999),
        cmocka_unit_test(test_parse_refuses_missing_zone),
        cmocka_unit_test(test_parse_refuses_malformed_offset),
        cmocka_unit_test(test_parse_refuses_date_only_and_time_only),
        cmocka_unit_test(test_parse_refuses_wrong_separators),
        cmocka_unit_test(test_parse_refuses_trailing_or_leading_garbage),
        cmocka_unit_test(test_parse_refuses_garbage),
        cmocka_unit_test(test_parse_failure_leaves_out_unchanged),
        cmocka_unit_test(test_format_then_parse_round_trips),
        cmocka_unit_test(test_add_year_keeps_month_day_and_time),
        cmocka_unit_test(test_add_year_maps_leap_day_to_february_28),
        cmocka_unit_test(test_add_year_keeps_february_28_into_leap_year),
        cmocka_unit_test(test_add_year_across_leap_day_is_366_days),
        cmocka_unit_test(test_add_year_at_year_end),
        cmocka_unit_test(test_add_year_into_century_common_year),
        cmocka_unit_test(test_now_matches_system_clock),
        cmocka_unit_test(test_monotonic_never_goes_back),
    };
    return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}

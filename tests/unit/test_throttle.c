/* test_throttle.c — failure counting and blocking per name (src/core/throttle.h).
 * Times are passed in, so nothing here sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "../../src/core/throttle.h"
#include "unit.h"

#define BACKOFF 1000
#define MAXF 5
#define T0 INT64_C(1000000)
#define FIFTEEN_MIN (15 * 60 * 1000)

/* The table under test; teardown frees it, also when an assertion ended the test early. */
static struct throttle *current;

static struct throttle *keep(struct throttle *t)
{
    assert_non_null(t);
    current = t;
    return t;
}

static struct throttle *fresh(void)
{
    return keep(throttle_new(1024, BACKOFF));
}

static int teardown(void **state)
{
    (void)state;
    throttle_free(current);
    current = NULL;
    return 0;
}

static void fail_n(struct throttle *t, const char *name, int n, int64_t now)
{
    for (int i = 0; i < n; i++)
        throttle_fail(t, name, MAXF, now);
}

static void test_unknown_name_is_not_blocked(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), 0);
}

static void test_fewer_than_max_failures_do_not_block(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF - 1, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), 0);
}

static void test_max_failures_block_for_backoff(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
}

static void test_block_counts_down_and_ends(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0 + 400), BACKOFF - 400);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0 + BACKOFF - 1), 1);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0 + BACKOFF), 0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0 + BACKOFF + 5000), 0);
}

static void test_next_block_doubles(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    int64_t later = T0 + BACKOFF + 10;
    assert_int_equal(throttle_blocked_ms(t, "u:alice", later), 0);
    fail_n(t, "u:alice", MAXF, later);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", later), 2 * BACKOFF);
    int64_t third = later + 2 * BACKOFF + 10;
    fail_n(t, "u:alice", MAXF, third);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", third), 4 * BACKOFF);
}

static void test_block_never_exceeds_15_minutes(void **state)
{
    (void)state;
    struct throttle *t = keep(throttle_new(64, 60 * 1000));
    int64_t now = T0;
    int64_t last = 0;
    for (int block = 0; block < 12; block++) {
        fail_n(t, "u:alice", MAXF, now);
        last = throttle_blocked_ms(t, "u:alice", now);
        assert_true(last > 0 && last <= FIFTEEN_MIN);
        now += last; /* the next try comes as the block ends */
    }
    assert_int_equal(last, FIFTEEN_MIN);
}

static void test_block_stays_at_cap_when_failing_again_after_it(void **state)
{
    (void)state;
    /* "doubling with each further block up to 15 minutes": once at the cap, failing again
     * right after the block has passed earns another 15 minutes, not the first backoff. */
    struct throttle *t = keep(throttle_new(64, 60 * 1000));
    int64_t now = T0;
    for (int block = 0; block < 5; block++) { /* 1, 2, 4, 8 min, then the 15-min cap */
        fail_n(t, "u:alice", MAXF, now);
        now += throttle_blocked_ms(t, "u:alice", now) + 1;
    }
    assert_int_equal(throttle_blocked_ms(t, "u:alice", now), 0);
    fail_n(t, "u:alice", MAXF, now);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", now), FIFTEEN_MIN);
}

static void test_clear_lifts_block(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    throttle_clear(t, "u:alice");
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), 0);
}

static void test_clear_forgets_counted_failures(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF - 1, T0);
    throttle_clear(t, "u:alice");
    fail_n(t, "u:alice", MAXF - 1, T0 + 1);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0 + 1), 0);
}

static void test_clear_resets_doubling(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    int64_t later = T0 + BACKOFF + 1;
    fail_n(t, "u:alice", MAXF, later);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", later), 2 * BACKOFF);
    throttle_clear(t, "u:alice");
    fail_n(t, "u:alice", MAXF, later + 1);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", later + 1), BACKOFF);
}

static void test_clear_of_unknown_name_is_harmless(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    throttle_clear(t, "nobody");
    fail_n(t, "u:alice", MAXF, T0);
    throttle_clear(t, "nobody");
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
}

static void test_distinct_names_are_independent(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    fail_n(t, "u:bob", MAXF - 1, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
    assert_int_equal(throttle_blocked_ms(t, "u:bob", T0), 0);
    assert_int_equal(throttle_blocked_ms(t, "c:127.0.0.1", T0), 0);
    throttle_clear(t, "u:bob");
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
}

static void test_names_are_compared_exactly(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    fail_n(t, "u:alice", MAXF, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:Alice", T0), 0);
    assert_int_equal(throttle_blocked_ms(t, "u:alic", T0), 0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice2", T0), 0);
}

static void test_max_failures_of_one_blocks_at_once(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    throttle_fail(t, "c:10.0.0.1", 1, T0);
    assert_int_equal(throttle_blocked_ms(t, "c:10.0.0.1", T0), BACKOFF);
}

static void test_spraying_many_names_stays_bounded_and_working(void **state)
{
    (void)state;
    struct throttle *t = keep(throttle_new(1000, BACKOFF));
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "c:spray-%d", i);
        throttle_fail(t, name, MAXF, T0 + i);
    }
    /* the table still counts and blocks a fresh name correctly */
    int64_t now = T0 + 200000;
    fail_n(t, "u:victim", MAXF - 1, now);
    assert_int_equal(throttle_blocked_ms(t, "u:victim", now), 0);
    throttle_fail(t, "u:victim", MAXF, now);
    assert_int_equal(throttle_blocked_ms(t, "u:victim", now), BACKOFF);
    /* and a sprayed name that reached the limit recently is blocked */
    fail_n(t, "c:spray-99999", MAXF, now);
    assert_true(throttle_blocked_ms(t, "c:spray-99999", now) >= BACKOFF);
}

static void test_capacity_rounding_accepts_small_values(void **state)
{
    (void)state;
    struct throttle *t = keep(throttle_new(1, BACKOFF));
    fail_n(t, "u:alice", MAXF, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
}

/* ---- reservations: counted before the check runs ---- */

static void test_reservations_in_flight_use_up_the_allowance(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    for (int i = 0; i < MAXF; i++)
        assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
    /* MAXF checks are running: a further one waits, whatever they find */
    assert_true(throttle_reserve(t, "u:alice", MAXF, T0) > 0);
    for (int i = 0; i < MAXF; i++)
        throttle_release(t, "u:alice", THROTTLE_FAILED, MAXF, T0);
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), BACKOFF);
    assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), BACKOFF);
}

static void test_neutral_release_gives_the_attempt_back(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    for (int i = 0; i < 3 * MAXF; i++) {
        assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
        throttle_release(t, "u:alice", THROTTLE_NEUTRAL, MAXF, T0);
    }
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), 0);
}

static void test_successful_release_forgets_failures(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    for (int i = 0; i < MAXF - 1; i++) {
        assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
        throttle_release(t, "u:alice", THROTTLE_FAILED, MAXF, T0);
    }
    assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
    throttle_release(t, "u:alice", THROTTLE_SUCCEEDED, MAXF, T0);
    for (int i = 0; i < MAXF - 1; i++) {
        assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
        throttle_release(t, "u:alice", THROTTLE_FAILED, MAXF, T0);
    }
    assert_int_equal(throttle_blocked_ms(t, "u:alice", T0), 0);
}

/* Fills the whole table with blocked names (the attacker's spray), then checks the victim. */
static void test_blocked_entries_are_never_evicted(void **state)
{
    (void)state;
    struct throttle *t = keep(throttle_new(1, BACKOFF)); /* the smallest table */
    throttle_fail(t, "u:victim", 1, T0);
    char name[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "u:spray-%d", i);
        throttle_fail(t, name, 1, T0 + 1 + i % 100);
    }
    assert_true(throttle_blocked_ms(t, "u:victim", T0 + 200) > 0);
}

static void test_reservation_without_room_is_refused(void **state)
{
    (void)state;
    struct throttle *t = keep(throttle_new(1, BACKOFF));
    char name[32];
    int refused = 0;
    /* every slot held by an attempt in flight: new names are refused, not counted elsewhere */
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "c:busy-%d", i);
        if (throttle_reserve(t, name, MAXF, T0) > 0)
            refused++;
    }
    assert_true(refused > 0);
    assert_true(refused < 5000);
}

static void test_clear_keeps_attempts_in_flight(void **state)
{
    (void)state;
    struct throttle *t = fresh();
    for (int i = 0; i < MAXF; i++)
        assert_int_equal(throttle_reserve(t, "u:alice", MAXF, T0), 0);
    throttle_clear(t, "u:alice");
    assert_true(throttle_reserve(t, "u:alice", MAXF, T0) > 0);
}

static void test_free_null_is_harmless(void **state)
{
    (void)state;
    throttle_free(NULL);
}

int run_throttle_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_unknown_name_is_not_blocked, teardown),
        cmocka_unit_test_teardown(test_fewer_than_max_failures_do_not_block, teardown),
        cmocka_unit_test_teardown(test_max_failures_block_for_backoff, teardown),
        cmocka_unit_test_teardown(test_block_counts_down_and_ends, teardown),
        cmocka_unit_test_teardown(test_next_block_doubles, teardown),
        cmocka_unit_test_teardown(test_block_never_exceeds_15_minutes, teardown),
        cmocka_unit_test_teardown(test_block_stays_at_cap_when_failing_again_after_it, teardown),
        cmocka_unit_test_teardown(test_clear_lifts_block, teardown),
        cmocka_unit_test_teardown(test_clear_forgets_counted_failures, teardown),
        cmocka_unit_test_teardown(test_clear_resets_doubling, teardown),
        cmocka_unit_test_teardown(test_clear_of_unknown_name_is_harmless, teardown),
        cmocka_unit_test_teardown(test_distinct_names_are_independent, teardown),
        cmocka_unit_test_teardown(test_names_are_compared_exactly, teardown),
        cmocka_unit_test_teardown(test_max_failures_of_one_blocks_at_once, teardown),
        cmocka_unit_test_teardown(test_spraying_many_names_stays_bounded_and_working, teardown),
        cmocka_unit_test_teardown(test_capacity_rounding_accepts_small_values, teardown),
        cmocka_unit_test_teardown(test_reservations_in_flight_use_up_the_allowance, teardown),
        cmocka_unit_test_teardown(test_neutral_release_gives_the_attempt_back, teardown),
        cmocka_unit_test_teardown(test_successful_release_forgets_failures, teardown),
        cmocka_unit_test_teardown(test_blocked_entries_are_never_evicted, teardown),
        cmocka_unit_test_teardown(test_reservation_without_room_is_refused, teardown),
        cmocka_unit_test_teardown(test_clear_keeps_attempts_in_flight, teardown),
        cmocka_unit_test(test_free_null_is_harmless),
    };
    return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}

/* test_metrics.c — per-thread counters summed at scrape, histograms, gauges and the text
 * format (src/base/metrics.h); request ids (src/api/request_id.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/api/request_id.h"
#include "../../src/base/metrics.h"
#include "unit.h"

static const char *const labels[] = {"code=\"A\"", "code=\"B\""};
static unsigned counter_cell;

static void *count_a_lot(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        metrics_add(counter_cell + (unsigned)(i & 1), 1);
    return NULL;
}

/* The value of the sample line that starts with head (e.g. `x_total{code="A"} `); never a
 * "# HELP" line, which also starts with the name. */
static double sample(const char *text, const char *head)
{
    char line[256];
    snprintf(line, sizeof line, "\n%s", head);
    const char *p = strstr(text, line);
    assert_non_null(p);
    return strtod(p + strlen(line), NULL);
}

static void test_counters_of_every_thread_are_summed_exactly(void **state)
{
    (void)state;
    counter_cell = metrics_counter("unit_things_total", "Things.", labels, 2);
    /* registering again returns the same cells */
    assert_int_equal(metrics_counter("unit_things_total", "Things.", labels, 2), counter_cell);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_a_lot, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    metrics_add(counter_cell, 5); /* this thread too */
    size_t len = 0;
    char *text = metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "# TYPE unit_things_total counter\n"));
    assert_true(sample(text, "unit_things_total{code=\"A\"} ") == 200005.0);
    assert_true(sample(text, "unit_things_total{code=\"B\"} ") == 200000.0);
    free(text);
}

static const uint64_t bounds[] = {10, 100};

static void test_histograms_are_cumulative_with_sum_and_count(void **state)
{
    (void)state;
    struct metrics_hist h;
    metrics_histogram("unit_wait_seconds", "Waits.", NULL, 1, bounds, 2, 0.5, &h);
    metrics_observe(&h, 0, 5);   /* le 10 */
    metrics_observe(&h, 0, 10);  /* le 10: bounds are inclusive */
    metrics_observe(&h, 0, 50);  /* le 100 */
    metrics_observe(&h, 0, 500); /* +Inf */
    size_t len = 0;
    char *text = metrics_render(&len);
    assert_non_null(text);
    assert_true(sample(text, "unit_wait_seconds_bucket{le=\"5\"} ") == 2.0);
    assert_true(sample(text, "unit_wait_seconds_bucket{le=\"50\"} ") == 3.0);
    assert_true(sample(text, "unit_wait_seconds_bucket{le=\"+Inf\"} ") == 4.0);
    assert_true(sample(text, "unit_wait_seconds_sum ") == 282.5); /* 565 × 0.5 */
    assert_true(sample(text, "unit_wait_seconds_count ") == 4.0);
    free(text);
}

static double gauge_value(void *ctx, unsigned i)
{
    return i == 0 ? *(double *)ctx : NAN;
}

static void test_gauges_are_read_at_scrape_and_forgotten(void **state)
{
    (void)state;
    static const char *const g_labels[] = {"s=\"x\"", "s=\"y\""};
    double v = 42;
    metrics_gauge("unit_level", "Level.", "gauge", g_labels, 2, gauge_value, &v);
    size_t len = 0;
    char *text = metrics_render(&len);
    assert_true(sample(text, "unit_level{s=\"x\"} ") == 42.0);
    assert_null(strstr(text, "unit_level{s=\"y\"}")); /* NaN: left out */
    assert_non_null(strstr(text, "process_open_fds "));
    assert_true(sample(text, "process_resident_memory_bytes ") > 0);
    assert_true(sample(text, "process_threads ") >= 1);
    free(text);
    metrics_gauge_forget(&v);
    text = metrics_render(&len);
    assert_null(strstr(text, "unit_level"));
    free(text);
}

static void test_request_ids_kept_only_when_sane(void **state)
{
    (void)state;
    char id[REQUEST_ID_MAX + 1];
    assert_true(request_id_acceptable("edge-7f.a:b_c@d"));
    char longest[REQUEST_ID_MAX + 2];
    memset(longest, 'y', sizeof longest);
    longest[REQUEST_ID_MAX] = '\0';
    assert_true(request_id_acceptable(longest));
    longest[REQUEST_ID_MAX] = 'y';
    longest[REQUEST_ID_MAX + 1] = '\0';
    assert_false(request_id_acceptable(longest));
    const char *bad[] = {"", "a b", "a\nb", "a\"b", "a/b", "\xc3\xa9", "a<b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(request_id_acceptable(bad[i]));
    request_id_choose("edge-1", 1, id);
    assert_string_equal(id, "edge-1");
    request_id_choose("edge-1", 0, id); /* not a trusted proxy */
    assert_string_not_equal(id, "edge-1");
    assert_true(request_id_acceptable(id));
    char other[REQUEST_ID_MAX + 1];
    request_id_make(other);
    assert_string_not_equal(id, other);
    assert_int_equal(strlen(other), strlen(id)); /* 16 hex, '-', the counter */
    assert_int_equal(other[16], '-');
}

int run_metrics_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_of_every_thread_are_summed_exactly),
        cmocka_unit_test(test_histograms_are_cumulative_with_sum_and_count),
        cmocka_unit_test(test_gauges_are_read_at_scrape_and_forgotten),
        cmocka_unit_test(test_request_ids_kept_only_when_sane),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

/* test_peercount.c — connections per client address (src/api/peercount.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "../../src/api/peercount.h"
#include "unit.h"

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    assert_true(netaddr_parse(text, &a));
    return a;
}

static void test_counts_up_to_max_per_address(void **state)
{
    (void)state;
    struct peercount *pc = peercount_new(100);
    assert_non_null(pc);
    struct netaddr a = addr("10.0.0.1"), b = addr("10.0.0.2");
    for (int i = 0; i < 3; i++)
        assert_true(peercount_acquire(pc, &a, 3));
    assert_false(peercount_acquire(pc, &a, 3));
    assert_true(peercount_acquire(pc, &b, 3));
    peercount_release(pc, &a);
    assert_true(peercount_acquire(pc, &a, 3));
    assert_false(peercount_acquire(pc, &a, 3));
    peercount_free(pc);
}

static void test_ipv6_counts_per_64(void **state)
{
    (void)state;
    struct peercount *pc = peercount_new(100);
    struct netaddr a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2:ffff::2"),
                   c = addr("2001:db8:1:3::1");
    assert_true(peercount_acquire(pc, &a, 2));
    assert_true(peercount_acquire(pc, &b, 2));
    assert_false(peercount_acquire(pc, &a, 2));
    assert_true(peercount_acquire(pc, &c, 2));
    peercount_free(pc);
}

/* Many clients coming and going (the removal shifts chains back): every count stays right. */
static void test_churn_keeps_every_count(void **state)
{
    (void)state;
    enum { N = 200 };
    struct peercount *pc = peercount_new(N);
    struct netaddr as[N];
    char text[32];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "10.%d.%d.1", i / 250, i % 250);
        as[i] = addr(text);
    }
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < N; i++)
            assert_true(peercount_acquire(pc, &as[i], 2));
        for (int i = 0; i < N; i += 2)
            peercount_release(pc, &as[i]);
        for (int i = 0; i < N; i++) /* odd ones hold 1, even ones 0 */
            assert_true(peercount_acquire(pc, &as[i], 2));
        for (int i = 1; i < N; i += 2)
            assert_false(peercount_acquire(pc, &as[i], 2));
        for (int i = 0; i < N; i++) {
            peercount_release(pc, &as[i]);
            if (i % 2)
                peercount_release(pc, &as[i]);
        }
    }
    for (int i = 0; i < N; i++)
        assert_true(peercount_acquire(pc, &as[i], 1));
    peercount_free(pc);
}

int run_peercount_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_up_to_max_per_address),
        cmocka_unit_test(test_ipv6_counts_per_64),
        cmocka_unit_test(test_churn_keeps_every_count),
    };
    return cmocka_run_group_tests_name("peercount", tests, NULL, NULL);
}

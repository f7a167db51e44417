/* test_netaddr.c — addresses, CIDR lists and throttle names (src/base/netaddr.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../src/base/netaddr.h"
#include "../../src/base/usedfrom.h"
#include "unit.h"

static int in_list(const char *list, const char *addr)
{
    struct netaddr_list l;
    struct netaddr a;
    assert_int_equal(netaddr_list_parse(list, &l), 0);
    assert_true(netaddr_parse(addr, &a));
    return netaddr_list_contains(&l, &a);
}

static void test_parse_accepts_addresses_only(void **state)
{
    (void)state;
    struct netaddr a;
    assert_true(netaddr_parse("127.0.0.1", &a));
    assert_false(a.v6);
    assert_true(netaddr_parse("2001:db8::1", &a));
    assert_true(a.v6);
    const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "[::1]",
                         "::1%lo", "example.com", " 1.2.3.4", "1.2.3.4/32", "fe80::1::2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(netaddr_parse(bad[i], &a));
}

static void test_v4_mapped_is_v4(void **state)
{
    (void)state;
    struct netaddr a, b;
    assert_true(netaddr_parse("::ffff:10.1.2.3", &a));
    assert_true(netaddr_parse("10.1.2.3", &b));
    assert_false(a.v6);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_list_matches_ranges(void **state)
{
    (void)state;
    assert_true(in_list("127.0.0.0/8, ::1/128", "127.9.9.9"));
    assert_true(in_list("127.0.0.0/8, ::1/128", "::1"));
    assert_false(in_list("127.0.0.0/8, ::1/128", "128.0.0.1"));
    assert_false(in_list("127.0.0.0/8, ::1/128", "::2"));
    assert_true(in_list("10.0.0.0/8,192.168.1.7", "192.168.1.7"));
    assert_false(in_list("10.0.0.0/8,192.168.1.7", "192.168.1.8"));
    assert_true(in_list("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in_list("2001:db8::/32", "2001:db9::1"));
    assert_true(in_list("0.0.0.0/0", "8.8.8.8"));
    assert_false(in_list("0.0.0.0/0", "::1")); /* families never mix */
    assert_false(in_list("", "127.0.0.1"));   /* an empty list trusts nobody */
    assert_true(in_list("10.1.2.3/31", "10.1.2.2")); /* host bits of the range are ignored */
}

static void test_list_refuses_malformed(void **state)
{
    (void)state;
    struct netaddr_list l;
    const char *bad[] = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1",
                         "nope", "10.0.0.0/8,,x", "1.2.3.4/+8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(netaddr_list_parse(bad[i], &l), -1);
    char many[NETADDR_LIST_MAX * 12 + 16] = "";
    for (int i = 0; i <= NETADDR_LIST_MAX; i++)
        strcat(many, "10.0.0.1,");
    assert_int_equal(netaddr_list_parse(many, &l), -1);
}

static void test_throttle_name_groups_ipv6_by_64(void **state)
{
    (void)state;
    struct netaddr a;
    char name[NETADDR_TEXT_MAX];
    assert_true(netaddr_parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd", &a));
    netaddr_throttle_name(&a, name);
    assert_string_equal(name, "2001:db8:1:2::/64");
    assert_true(netaddr_parse("192.0.2.55", &a));
    netaddr_throttle_name(&a, name);
    assert_string_equal(name, "192.0.2.55");
    assert_true(netaddr_parse("::ffff:192.0.2.55", &a));
    netaddr_throttle_name(&a, name);
    assert_string_equal(name, "192.0.2.55");
}

static void test_usedfrom_merges_newest_first_distinct_at_most_five(void **state)
{
    (void)state;
    struct usedfrom l;
    usedfrom_parse("", &l);
    assert_int_equal(l.count, 0);
    const char *addrs[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.4",
                           "10.0.0.5", "10.0.0.6"};
    for (int i = 0; i < 7; i++)
        usedfrom_add(&l, addrs[i], 100 + i);
    char text[USEDFROM_TEXT_MAX];
    usedfrom_format(&l, text);
    assert_string_equal(text, "10.0.0.6 106,10.0.0.5 105,10.0.0.4 104,10.0.0.1 103,10.0.0.3 102");
    usedfrom_add(&l, "10.0.0.2", 50); /* older than all of a full list: dropped */
    usedfrom_add(&l, "10.0.0.5", 90); /* an older sighting does not move it back */
    usedfrom_format(&l, text);
    assert_string_equal(text, "10.0.0.6 106,10.0.0.5 105,10.0.0.4 104,10.0.0.1 103,10.0.0.3 102");
    usedfrom_add(&l, "10.0.0.3", 106); /* a tie goes before the one merged earlier */
    usedfrom_format(&l, text);
    assert_string_equal(text, "10.0.0.3 106,10.0.0.6 106,10.0.0.5 105,10.0.0.4 104,10.0.0.1 103");
    struct usedfrom back;
    usedfrom_parse(text, &back);
    char again[USEDFROM_TEXT_MAX];
    usedfrom_format(&back, again);
    assert_string_equal(again, text); /* stored order, ties included, survives a read */
    usedfrom_parse("junk,10.0.0.9 x,10.0.0.8 7,10.0.0.8 6,2001:db8::1 5", &back);
    usedfrom_format(&back, again);
    assert_string_equal(again, "10.0.0.8 7,2001:db8::1 5");
}

int run_netaddr_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_addresses_only),
        cmocka_unit_test(test_v4_mapped_is_v4),
        cmocka_unit_test(test_list_matches_ranges),
        cmocka_unit_test(test_list_refuses_malformed),
        cmocka_unit_test(test_throttle_name_groups_ipv6_by_64),
        cmocka_unit_test(test_usedfrom_merges_newest_first_distinct_at_most_five),
    };
    return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}

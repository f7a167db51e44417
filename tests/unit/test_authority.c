/* test_authority.c — the fixed list of authorities (src/core/authority.h): bits, names,
 * descriptions, and the comma-separated form roles are stored in. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../src/core/authority.h"
#include "unit.h"

/* The documented names (docs/API.md "Authorities and roles") with their enum bits. */
static const struct {
    const char *name;
    uint32_t bit;
} documented[] = {
    {"manage_users", AUTH_MANAGE_USERS},
    {"manage_user_api_keys", AUTH_MANAGE_USER_API_KEYS},
    {"manage_roles", AUTH_MANAGE_ROLES},
    {"manage_groups", AUTH_MANAGE_GROUPS},
    {"manage_environments", AUTH_MANAGE_ENVIRONMENTS},
    {"manage_service_accounts", AUTH_MANAGE_SERVICE_ACCOUNTS},
    {"manage_projects", AUTH_MANAGE_PROJECTS},
    {"manage_scopes", AUTH_MANAGE_SCOPES},
    {"view_audit", AUTH_VIEW_AUDIT},
    {"manage_webhooks", AUTH_MANAGE_WEBHOOKS},
};

#define DOCUMENTED_COUNT (sizeof documented / sizeof documented[0])
#define ALL_BITS ((UINT32_C(1) << AUTHORITY_COUNT) - 1)

static void test_count_matches_documented_list(void **state)
{
    (void)state;
    assert_int_equal(AUTHORITY_COUNT, DOCUMENTED_COUNT);
}

static void test_bit_of_each_documented_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < DOCUMENTED_COUNT; i++)
        assert_int_equal(authority_bit(documented[i].name), documented[i].bit);
}

static void test_bits_are_distinct_single_bits(void **state)
{
    (void)state;
    uint32_t seen = 0;
    for (size_t i = 0; i < DOCUMENTED_COUNT; i++) {
        uint32_t b = documented[i].bit;
        assert_true(b != 0 && (b & (b - 1)) == 0);
        assert_int_equal(seen & b, 0);
        seen |= b;
    }
    assert_int_equal(seen, ALL_BITS);
}

static void test_bit_of_unknown_name_is_0(void **state)
{
    (void)state;
    assert_int_equal(authority_bit("nope"), 0);
    assert_int_equal(authority_bit(""), 0);
    assert_int_equal(authority_bit("MANAGE_USERS"), 0);
    assert_int_equal(authority_bit("manage_users "), 0);
    assert_int_equal(authority_bit("manage_user"), 0);
}

static void test_name_of_index_is_name_of_its_bit(void **state)
{
    (void)state;
    for (size_t i = 0; i < AUTHORITY_COUNT; i++) {
        const char *name = authority_name(i);
        assert_non_null(name);
        assert_int_equal(authority_bit(name), UINT32_C(1) << i);
    }
}

static void test_every_authority_has_a_description(void **state)
{
    (void)state;
    for (size_t i = 0; i < AUTHORITY_COUNT; i++) {
        const char *d = authority_description(i);
        assert_non_null(d);
        assert_true(strlen(d) > 0);
    }
}

static void test_csv_of_one_name(void **state)
{
    (void)state;
    int unknown = 0;
    assert_int_equal(authority_mask_from_csv("view_audit", &unknown), AUTH_VIEW_AUDIT);
    assert_int_equal(unknown, 0);
}

static void test_csv_of_several_names(void **state)
{
    (void)state;
    int unknown = 0;
    assert_int_equal(authority_mask_from_csv("manage_roles,manage_users,view_audit", &unknown),
                     AUTH_MANAGE_ROLES | AUTH_MANAGE_USERS | AUTH_VIEW_AUDIT);
    assert_int_equal(unknown, 0);
}

static void test_empty_csv_is_empty_mask(void **state)
{
    (void)state;
    int unknown = 0;
    assert_int_equal(authority_mask_from_csv("", &unknown), 0);
    assert_int_equal(unknown, 0);
}

static void test_csv_with_unknown_name_is_flagged(void **state)
{
    (void)state;
    int unknown = 0;
    uint32_t mask = authority_mask_from_csv("manage_users,launch_missiles", &unknown);
    assert_int_equal(unknown, 1);
    assert_int_equal(mask, AUTH_MANAGE_USERS);
}

static void test_csv_with_only_unknown_names_is_flagged(void **state)
{
    (void)state;
    int unknown = 0;
    assert_int_equal(authority_mask_from_csv("Manage_Users", &unknown), 0);
    assert_int_equal(unknown, 1);
}

static void test_csv_with_overlong_unknown_name_is_flagged(void **state)
{
    (void)state;
    char csv[300];
    memset(csv, 'x', sizeof csv - 1);
    csv[sizeof csv - 1] = '\0';
    int unknown = 0;
    assert_int_equal(authority_mask_from_csv(csv, &unknown), 0);
    assert_int_equal(unknown, 1);
}

static void test_csv_unknown_flag_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(authority_mask_from_csv("bogus,manage_groups", NULL), AUTH_MANAGE_GROUPS);
}

static void test_mask_to_csv_of_empty_mask_is_empty(void **state)
{
    (void)state;
    char out[STORE_AUTHORITIES_BYTES];
    memset(out, 'x', sizeof out);
    authority_mask_to_csv(0, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_mask_to_csv_of_one_bit_is_its_name(void **state)
{
    (void)state;
    char out[STORE_AUTHORITIES_BYTES];
    for (size_t i = 0; i < DOCUMENTED_COUNT; i++) {
        authority_mask_to_csv(documented[i].bit, out, sizeof out);
        assert_string_equal(out, documented[i].name);
    }
}

static void test_csv_round_trip_of_every_mask(void **state)
{
    (void)state;
    char out[STORE_AUTHORITIES_BYTES];
    for (uint32_t mask = 0; mask <= ALL_BITS; mask++) {
        int unknown = 0;
        authority_mask_to_csv(mask, out, sizeof out);
        assert_int_equal(authority_mask_from_csv(out, &unknown), mask);
        assert_int_equal(unknown, 0);
    }
}

static void test_full_mask_csv_names_all_without_empty_items(void **state)
{
    (void)state;
    char out[STORE_AUTHORITIES_BYTES];
    authority_mask_to_csv(ALL_BITS, out, sizeof out);
    for (size_t i = 0; i < DOCUMENTED_COUNT; i++)
        assert_non_null(strstr(out, documented[i].name));
    assert_null(strstr(out, ",,"));
    assert_true(out[0] != ',' && out[strlen(out) - 1] != ',');
}

int run_authority_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_matches_documented_list),
        cmocka_unit_test(test_bit_of_each_documented_name),
        cmocka_unit_test(test_bits_are_distinct_single_bits),
        cmocka_unit_test(test_bit_of_unknown_name_is_0),
        cmocka_unit_test(test_name_of_index_is_name_of_its_bit),
        cmocka_unit_test(test_every_authority_has_a_description),
        cmocka_unit_test(test_csv_of_one_name),
        cmocka_unit_test(test_csv_of_several_names),
        cmocka_unit_test(test_empty_csv_is_empty_mask),
        cmocka_unit_test(test_csv_with_unknown_name_is_flagged),
        cmocka_unit_test(test_csv_with_only_unknown_names_is_flagged),
        cmocka_unit_test(test_csv_with_overlong_unknown_name_is_flagged),
        cmocka_unit_test(test_csv_unknown_flag_may_be_null),
        cmocka_unit_test(test_mask_to_csv_of_empty_mask_is_empty),
        cmocka_unit_test(test_mask_to_csv_of_one_bit_is_its_name),
        cmocka_unit_test(test_csv_round_trip_of_every_mask),
        cmocka_unit_test(test_full_mask_csv_names_all_without_empty_items),
    };
    return cmocka_run_group_tests_name("authority", tests, NULL, NULL);
}

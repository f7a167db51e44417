/* test_policy.c — the password policy (password_check_policy in src/core/password.h: 12-128
 * characters, not a common password, not the username) and users_email_valid
 * (src/core/users.h). No hashing here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/base/fielderr.h"
#include "../../src/core/password.h"
#include "../../src/core/users.h"
#include "unit.h"

/* The problems password_check_policy lists for (username, password) under field "password". */
static struct field_errors policy(const char *username, const char *password)
{
    struct field_errors fe;
    memset(&fe, 0, sizeof fe);
    password_check_policy(username, password, "password", &fe);
    return fe;
}

static void assert_refused(const char *username, const char *password)
{
    struct field_errors fe = policy(username, password);
    if (!field_errors_has(&fe, "password"))
        fail_msg("password \"%s\" (user %s) accepted", password, username ? username : "-");
}

static void assert_accepted(const char *username, const char *password)
{
    struct field_errors fe = policy(username, password);
    if (fe.count != 0)
        fail_msg("password \"%s\" (user %s) refused: %s", password, username ? username : "-",
                 fe.items[0].detail);
}

/* n copies of unit (a UTF-8 character or ASCII) in buf. */
static const char *repeat(char *buf, size_t cap, const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    assert_true(ul * n < cap);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * ul, unit, ul);
    buf[ul * n] = '\0';
    return buf;
}

/* ---- password_check_policy ---- */

static void test_good_password_is_accepted(void **state)
{
    (void)state;
    assert_accepted("alice", "violet kettle drums at noon");
}

static void test_password_of_11_characters_is_too_short(void **state)
{
    (void)state;
    assert_refused("alice", "k3ttle-drum");
}

static void test_password_of_12_characters_is_accepted(void **state)
{
    (void)state;
    assert_accepted("alice", "k3ttle-drums");
}

static void test_empty_password_is_too_short(void **state)
{
    (void)state;
    assert_refused("alice", "");
}

static void test_length_counts_characters_not_bytes(void **state)
{
    (void)state;
    char buf[64];
    /* 12 two-byte characters (24 bytes) are enough; 11 (22 bytes) are not */
    assert_accepted("alice", repeat(buf, sizeof buf, "\xc3\xa9", 12));
    assert_refused("alice", repeat(buf, sizeof buf, "\xc3\xa9", 11));
}

static void test_password_of_128_characters_is_accepted(void **state)
{
    (void)state;
    char buf[256];
    assert_accepted("alice", repeat(buf, sizeof buf, "k", 128));
}

static void test_password_of_129_characters_is_too_long(void **state)
{
    (void)state;
    char buf[256];
    assert_refused("alice", repeat(buf, sizeof buf, "k", 129));
}

static void test_128_four_byte_characters_are_accepted(void **state)
{
    (void)state;
    char buf[600];
    assert_accepted("alice", repeat(buf, sizeof buf, "\xf0\x9f\x94\x91", 128));
}

static void test_common_password_is_refused(void **state)
{
    (void)state;
    assert_refused("alice", "password1234");
    assert_refused("alice", "correcthorsebatterystaple");
}

static void test_common_password_is_refused_whatever_its_case(void **state)
{
    (void)state;
    assert_refused("alice", "PASSWORD1234");
    assert_refused("alice", "PassWord1234");
    assert_refused("alice", "CorrectHorseBatteryStaple");
}

static void test_password_equal_to_username_is_refused(void **state)
{
    (void)state;
    assert_refused("alice.example", "alice.example");
}

static void test_password_containing_username_is_accepted(void **state)
{
    (void)state;
    assert_accepted("alice", "alice likes kettle drums");
}

static void test_problem_is_listed_under_the_given_field(void **state)
{
    (void)state;
    struct field_errors fe;
    memset(&fe, 0, sizeof fe);
    password_check_policy("alice", "short", "new_password", &fe);
    assert_true(field_errors_has(&fe, "new_password"));
    assert_false(field_errors_has(&fe, "password"));
    assert_non_null(fe.items[0].detail);
}

static void test_problems_already_listed_are_kept(void **state)
{
    (void)state;
    struct field_errors fe;
    memset(&fe, 0, sizeof fe);
    field_errors_add(&fe, "username", "bad");
    password_check_policy("alice", "short", "password", &fe);
    assert_true(field_errors_has(&fe, "username"));
    assert_true(field_errors_has(&fe, "password"));
}

/* ---- users_email_valid ---- */

static void test_empty_email_is_valid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid(""), 1);
}

static void test_plain_address_is_valid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("bob@example.com"), 1);
    assert_int_equal(users_email_valid("b.o+b@mail.example.co.uk"), 1);
}

static void test_email_without_at_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("bob.example.com"), 0);
}

static void test_email_with_two_ats_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("bob@home@example.com"), 0);
    assert_int_equal(users_email_valid("bob@@example.com"), 0);
}

static void test_email_without_dot_in_domain_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("bob@localhost"), 0);
    assert_int_equal(users_email_valid("b.ob@localhost"), 0);
}

static void test_email_with_nothing_before_at_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("@example.com"), 0);
}

static void test_email_of_254_characters_is_valid(void **state)
{
    (void)state;
    char buf[300];
    repeat(buf, sizeof buf, "a", 254);
    memcpy(buf + 254 - strlen("@example.com"), "@example.com", strlen("@example.com"));
    assert_int_equal(strlen(buf), 254);
    assert_int_equal(users_email_valid(buf), 1);
}

static void test_email_of_255_characters_is_invalid(void **state)
{
    (void)state;
    char buf[300];
    repeat(buf, sizeof buf, "a", 255);
    memcpy(buf + 255 - strlen("@example.com"), "@example.com", strlen("@example.com"));
    assert_int_equal(strlen(buf), 255);
    assert_int_equal(users_email_valid(buf), 0);
}

static void test_email_with_control_character_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(users_email_valid("bob@example.com\n"), 0);
    assert_int_equal(users_email_valid("bo\tb@example.com"), 0);
}

int run_policy_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_password_is_accepted),
        cmocka_unit_test(test_password_of_11_characters_is_too_short),
        cmocka_unit_test(test_password_of_12_characters_is_accepted),
        cmocka_unit_test(test_empty_password_is_too_short),
        cmocka_unit_test(test_length_counts_characters_not_bytes),
        cmocka_unit_test(test_password_of_128_characters_is_accepted),
        cmocka_unit_test(test_password_of_129_characters_is_too_long),
        cmocka_unit_test(test_128_four_byte_characters_are_accepted),
        cmocka_unit_test(test_common_password_is_refused),
        cmocka_unit_test(test_common_password_is_refused_whatever_its_case),
        cmocka_unit_test(test_password_equal_to_username_is_refused),
        cmocka_unit_test(test_password_containing_username_is_accepted),
        cmocka_unit_test(test_problem_is_listed_under_the_given_field),
        cmocka_unit_test(test_problems_already_listed_are_kept),
        cmocka_unit_test(test_empty_email_is_valid),
        cmocka_unit_test(test_plain_address_is_valid),
        cmocka_unit_test(test_email_without_at_is_invalid),
        cmocka_unit_test(test_email_with_two_ats_is_invalid),
        cmocka_unit_test(test_email_without_dot_in_domain_is_invalid),
        cmocka_unit_test(test_email_with_nothing_before_at_is_invalid),
        cmocka_unit_test(test_email_of_254_characters_is_valid),
        cmocka_unit_test(test_email_of_255_characters_is_invalid),
        cmocka_unit_test(test_email_with_control_character_is_invalid),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}

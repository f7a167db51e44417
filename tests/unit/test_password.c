/* test_password.c — Argon2id hashing (src/core/password.h). Argon2id costs ~0.1 s a hash, so
 * the group makes two hashes in all (the shared one and a second for the salt test). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/core/password.h"
#include "unit.h"

static const char secret[] = "correct horse battery staple";
static char shared_hash[PASSWORD_HASH_MAX];
static int shared_ready;

/* The hash of `secret`, made once for the group. */
static const char *hash_of_secret(void)
{
    if (!shared_ready) {
        assert_int_equal(password_hash(secret, strlen(secret), shared_hash), ERR_OK);
        shared_ready = 1;
    }
    return shared_hash;
}

static void test_hash_is_encoded_argon2id(void **state)
{
    (void)state;
    const char *h = hash_of_secret();
    assert_non_null(memchr(h, '\0', PASSWORD_HASH_MAX));
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_null(strstr(h, secret));
}

static void test_verify_accepts_right_password(void **state)
{
    (void)state;
    assert_int_equal(password_verify(hash_of_secret(), secret, strlen(secret)), 1);
}

static void test_verify_rejects_wrong_password(void **state)
{
    (void)state;
    assert_int_equal(password_verify(hash_of_secret(), "correct horse battery stapler", 29), 0);
}

static void test_verify_rejects_prefix_of_password(void **state)
{
    (void)state;
    assert_int_equal(password_verify(hash_of_secret(), secret, strlen(secret) - 1), 0);
}

static void test_verify_with_null_hash_returns_0(void **state)
{
    (void)state;
    assert_int_equal(password_verify(NULL, secret, strlen(secret)), 0);
    assert_int_equal(password_verify(NULL, "", 0), 0);
}

static void test_verify_with_empty_hash_returns_0(void **state)
{
    (void)state;
    assert_int_equal(password_verify("", secret, strlen(secret)), 0);
    assert_int_equal(password_verify("", "", 0), 0);
}

static void test_verify_with_malformed_hash_returns_0(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    memset(h, 0, sizeof h);
    snprintf(h, sizeof h, "$argon2id$garbage");
    assert_int_equal(password_verify(h, secret, strlen(secret)), 0);
    snprintf(h, sizeof h, "%s", secret);
    assert_int_equal(password_verify(h, secret, strlen(secret)), 0);
}

static void test_verify_with_truncated_hash_returns_0(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    memset(h, 0, sizeof h);
    memcpy(h, hash_of_secret(), strlen(hash_of_secret()) - 5);
    assert_int_equal(password_verify(h, secret, strlen(secret)), 0);
}

static void test_two_hashes_of_same_password_differ(void **state)
{
    (void)state;
    char other[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(secret, strlen(secret), other), ERR_OK);
    assert_string_not_equal(other, hash_of_secret());
}

int run_password_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_encoded_argon2id),
        cmocka_unit_test(test_verify_accepts_right_password),
        cmocka_unit_test(test_verify_rejects_wrong_password),
        cmocka_unit_test(test_verify_rejects_prefix_of_password),
        cmocka_unit_test(test_verify_with_null_hash_returns_0),
        cmocka_unit_test(test_verify_with_empty_hash_returns_0),
        cmocka_unit_test(test_verify_with_malformed_hash_returns_0),
        cmocka_unit_test(test_verify_with_truncated_hash_returns_0),
        cmocka_unit_test(test_two_hashes_of_same_password_differ),
    };
    return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}

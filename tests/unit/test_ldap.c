/* test_ldap.c — the LDAP settings (src/core/ldap_settings.h) and the parts of the directory
 * client that need no server (src/core/directory.h): the RFC 4515 escape of the username in
 * the filter, and the empty password refused before any connection. The sign-in itself is
 * tested against a real slapd in tests/http/suite_ldap.py. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../src/core/directory.h"
#include "../../src/core/ldap_settings.h"
#include "unit.h"

static void expect_filter(const char *tmpl, const char *name, const char *want)
{
    char out[512];
    assert_int_equal(directory_filter(tmpl, name, out, sizeof out), ERR_OK);
    assert_string_equal(out, want);
}

static void test_filter_escapes_the_username_per_rfc4515(void **state)
{
    (void)state;
    expect_filter("(uid=%s)", "alice", "(uid=alice)");
    expect_filter("(uid=%s)", "*", "(uid=\\2A)");
    expect_filter("(uid=%s)", "*)(uid=*", "(uid=\\2A\\29\\28uid=\\2A)");
    expect_filter("(uid=%s)", "a\\b", "(uid=a\\5Cb)");
    expect_filter("(&(objectClass=user)(sAMAccountName=%s))", "bob",
                  "(&(objectClass=user)(sAMAccountName=bob))");
    expect_filter("(|(uid=%s)(mail=%s))", "x(", "(|(uid=x\\28)(mail=x\\28))");
}

static void test_filter_that_does_not_fit_is_refused(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(directory_filter("(uid=%s)", "a-rather-long-name", out, sizeof out),
                     ERR_INVALID);
}

static void test_settings_defaults_and_checks(void **state)
{
    (void)state;
    struct ldap_settings s;
    ldap_settings_defaults(&s);
    assert_string_equal(s.url, "");
    assert_string_equal(s.user_filter, "(uid=%s)");
    assert_int_equal(ldap_settings_check(&s), 0); /* off: nothing needed */
    assert_int_equal(ldap_settings_set(&s, "listen", "x"), 1); /* not an LDAP setting */
    assert_int_equal(ldap_settings_set(&s, "ldap_url", "ldaps://dc1.example.org"), 0);
    assert_int_equal(ldap_settings_check(&s), -1); /* no user base */
    assert_int_equal(ldap_settings_set(&s, "ldap_user_base", "dc=example,dc=org"), 0);
    assert_int_equal(ldap_settings_check(&s), 0);
    assert_int_equal(ldap_settings_set(&s, "ldap_bind_dn", "cn=svc,dc=example,dc=org"), 0);
    assert_int_equal(ldap_settings_check(&s), -1); /* no password file */
    const char *bad[][2] = {
        {"ldap_url", "http://x"},          {"ldap_url", "ldap://a ldap://b"},
        {"ldap_user_filter", "(uid=x)"},   {"ldap_user_filter", "uid=%s"},
        {"ldap_user_filter", "(uid=%s)(x=y)"}, {"ldap_user_filter", "(uid=%d%s)"},
        {"ldap_user_filter", "((uid=%s)"}, {"ldap_name_attribute", "cn)"},
        {"ldap_sync_seconds", "x"},        {"ldap_timeout_seconds", "61"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ldap_settings_set(&s, bad[i][0], bad[i][1]), -1);
    assert_int_equal(ldap_settings_set(&s, "ldap_user_filter",
                                       "(&(objectClass=user)(sAMAccountName=%s))"), 0);
}

static void test_group_roles_parse(void **state)
{
    (void)state;
    struct ldap_settings s;
    ldap_settings_defaults(&s);
    char why[160];
    assert_int_equal(ldap_group_roles_parse(&s,
                                            " cn=admins,ou=groups,dc=example,dc=org => admin ;"
                                            "cn=devs,ou=groups,dc=example,dc=org=>developer, user;",
                                            why, sizeof why),
                     0);
    assert_int_equal(s.group_role_count, 2);
    assert_string_equal(s.group_roles[0].dn, "cn=admins,ou=groups,dc=example,dc=org");
    assert_string_equal(s.group_roles[0].roles, "admin");
    assert_string_equal(s.group_roles[1].dn, "cn=devs,ou=groups,dc=example,dc=org");
    assert_string_equal(s.group_roles[1].roles, "developer,user");
    const char *bad[] = {"cn=admins,dc=x admin", "=> admin", "cn=admins,dc=x =>",
                         "cn=admins,dc=x => a b", "admins => admin"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ldap_group_roles_parse(&s, bad[i], why, sizeof why), -1);
}

static void test_empty_password_never_reaches_the_directory(void **state)
{
    (void)state;
    struct ldap_settings s;
    ldap_settings_defaults(&s);
    /* nothing listens on port 1: any attempt to connect would be "unavailable" */
    assert_int_equal(ldap_settings_set(&s, "ldap_url", "ldap://127.0.0.1:1"), 0);
    assert_int_equal(ldap_settings_set(&s, "ldap_user_base", "dc=example,dc=org"), 0);
    assert_int_equal(ldap_settings_set(&s, "ldap_timeout_seconds", "1"), 0);
    struct directory *d = NULL;
    assert_int_equal(directory_open(&s, &d), ERR_OK);
    assert_non_null(d);
    struct directory_user u;
    assert_int_equal(directory_authenticate(d, "alice", "", 0, &u), ERR_LOGIN_FAILED);
    assert_int_equal(directory_authenticate(d, "alice", "a\0b", 3, &u), ERR_LOGIN_FAILED);
    assert_int_equal(directory_authenticate(d, "alice", "secret", 6, &u),
                     ERR_DIRECTORY_UNAVAILABLE);
    directory_close(d);
}

int run_ldap_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_escapes_the_username_per_rfc4515),
        cmocka_unit_test(test_filter_that_does_not_fit_is_refused),
        cmocka_unit_test(test_settings_defaults_and_checks),
        cmocka_unit_test(test_group_roles_parse),
        cmocka_unit_test(test_empty_password_never_reaches_the_directory),
    };
    return cmocka_run_group_tests_name("ldap", tests, NULL, NULL);
}

/* test_users.c — people (src/core/users.h): the first admin, creating users, reading them.
 * Each successful create costs one Argon2id hash (~0.1 s), so only a few tests make users. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/auth.h"
#include "../../src/core/authority.h"
#include "../../src/core/users.h"
#include "unit.h"

static int setup(void **state)
{
    struct unit_core *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    if (unit_core_open(u, NULL) != 0) {
        free(u);
        return -1;
    }
    *state = u;
    return 0;
}

static int teardown(void **state)
{
    struct unit_core *u = *state;
    unit_core_destroy(u);
    free(u);
    return 0;
}

static void admin_caller(struct caller *who)
{
    unit_session_caller(who, "root");
    who->authorities = AUTH_MANAGE_USERS;
}

static struct user_input user(const char *name, const char *password)
{
    struct user_input in;
    memset(&in, 0, sizeof in);
    in.username = name;
    in.password = password;
    return in;
}

static int64_t user_count(struct unit_core *u)
{
    int64_t n = -1;
    assert_int_equal(u->store->ops->user_count(u->store, &n), ERR_OK);
    return n;
}

static int all_zero(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i])
            return 0;
    return 1;
}

static void test_name_valid_accepts_documented_characters(void **state)
{
    (void)state;
    assert_int_equal(users_name_valid("alice"), 1);
    assert_int_equal(users_name_valid("a.b_c-D9"), 1);
    assert_int_equal(users_name_valid("ada@example.org"), 1); /* a sign-in name */
    char s[65];
    memset(s, 'u', 64);
    s[64] = '\0';
    assert_int_equal(users_name_valid(s), 1);
}

static void test_name_valid_refuses_others(void **state)
{
    (void)state;
    char s[66];
    memset(s, 'u', 65);
    s[65] = '\0';
    assert_int_equal(users_name_valid(s), 0);
    const char *bad[] = {"", "a b", "a+b", "a:b", "a/b", "\xc3\xa9", "a\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(users_name_valid(bad[i]), 0);
}

static void test_create_by_non_admin_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    unit_session_caller(&who, "alice");
    struct user_input in = user("mallory", "a long enough password");
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_FORBIDDEN);
    assert_int_equal(user_count(u), 0);
}

static void test_create_with_bad_username_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    admin_caller(&who);
    struct user_input in = user("bad name", "a long enough password");
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "username"));
    assert_int_equal(user_count(u), 0);
}

static void test_create_with_short_password_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    admin_caller(&who);
    struct user_input in = user("bob", "elevenchars");
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "password"));
}

static void test_create_with_overlong_password_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    char pw[128 + 2];
    memset(pw, 'p', 128 + 1);
    pw[128 + 1] = '\0';
    admin_caller(&who);
    struct user_input in = user("bob", pw);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "password"));
}

static void test_create_with_bad_email_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    admin_caller(&who);
    struct user_input in = user("bob", "a long enough password");
    in.email = "not-an-address";
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "email"));
}

static void test_create_lists_every_problem(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    admin_caller(&who);
    struct user_input in = user("", "short");
    in.email = "nope";
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "username"));
    assert_true(field_errors_has(&fe, "password"));
    assert_true(field_errors_has(&fe, "email"));
}

static void test_create_stores_user_without_exposing_hash(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out, got;
    admin_caller(&who);
    struct user_input in = user("bob", "a long enough password");
    in.full_name = "Bob B\xc3\xb6" "b";
    in.email = "bob@example.com";
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_string_equal(out.username, "bob");
    assert_true(all_zero(out.password_hash, sizeof out.password_hash));
    assert_int_equal(users_get(u->core, "bob", &got), ERR_OK);
    assert_string_equal(got.username, "bob");
    assert_string_equal(got.full_name, "Bob B\xc3\xb6" "b");
    assert_string_equal(got.email, "bob@example.com");
    assert_string_equal(got.auth_source, "local");
    assert_string_equal(got.roles, "user");
    assert_int_equal(got.disabled, 0);
    assert_true(all_zero(got.password_hash, sizeof got.password_hash));
}

static void test_create_duplicate_username_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    admin_caller(&who);
    struct user_input in = user("bob", "a long enough password");
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_CONFLICT);
    assert_int_equal(user_count(u), 1);
}

static void test_get_unknown_user_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct user_record got;
    assert_int_equal(users_get(u->core, "nobody", &got), ERR_NOT_FOUND);
    assert_int_equal(users_get(u->core, "not a name", &got), ERR_NOT_FOUND);
    assert_int_equal(users_get(u->core, "", &got), ERR_NOT_FOUND);
}

static void test_bootstrap_creates_admin_from_spec(void **state)
{
    struct unit_core *u = *state;
    struct user_record got;
    assert_int_equal(users_bootstrap(u->core, "root:a long enough password", stderr), ERR_OK);
    assert_int_equal(users_get(u->core, "root", &got), ERR_OK);
    assert_string_equal(got.roles, "admin");
    assert_string_equal(got.auth_source, "local");
    assert_int_equal(user_count(u), 1);
}

static void test_bootstrap_does_nothing_when_a_user_exists(void **state)
{
    struct unit_core *u = *state;
    struct user_record got;
    assert_int_equal(users_bootstrap(u->core, "root:a long enough password", stderr), ERR_OK);
    assert_int_equal(users_bootstrap(u->core, "other:another long password", stderr), ERR_OK);
    assert_int_equal(users_get(u->core, "other", &got), ERR_NOT_FOUND);
    assert_int_equal(user_count(u), 1);
}

static void test_bootstrap_refuses_malformed_spec(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(users_bootstrap(u->core, "nocolon", stderr), ERR_INVALID);
    assert_int_equal(users_bootstrap(u->core, ":password", stderr), ERR_INVALID);
    assert_int_equal(users_bootstrap(u->core, "root:", stderr), ERR_INVALID);
    assert_int_equal(users_bootstrap(u->core, "bad name:password", stderr), ERR_INVALID);
    assert_int_equal(user_count(u), 0);
}

static void test_bootstrap_prints_working_generated_password(void **state)
{
    struct unit_core *u = *state;
    FILE *notice = tmpfile();
    assert_non_null(notice);
    assert_int_equal(users_bootstrap(u->core, NULL, notice), ERR_OK);
    rewind(notice);
    char text[512] = "";
    size_t n = fread(text, 1, sizeof text - 1, notice);
    text[n] = '\0';
    fclose(notice);
    const char *marker = "Password: ";
    char *p = strstr(text, marker);
    assert_non_null(p);
    p += strlen(marker);
    size_t len = strcspn(p, "\r\n");
    assert_true(len >= 12);
    p[len] = '\0';

    struct login_result res;
    int64_t retry = 0;
    assert_int_equal(auth_login(u->core, "admin", p, len, NULL, "127.0.0.1", NULL, &res, &retry), ERR_OK);
    assert_string_equal(res.username, "admin");
}

struct seen {
    size_t n;
    char names[4][STORE_NAME_MAX + 1];
    int hashes_wiped;
};

static int collect(void *ctx, const struct user_record *r)
{
    struct seen *s = ctx;
    if (s->n < 4)
        snprintf(s->names[s->n], sizeof s->names[0], "%s", r->username);
    if (!all_zero(r->password_hash, sizeof r->password_hash))
        s->hashes_wiped = 0;
    s->n++;
    return 0;
}

static void test_each_streams_users_in_name_order_without_hashes(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct seen s;
    memset(&s, 0, sizeof s);
    s.hashes_wiped = 1;
    assert_int_equal(users_bootstrap(u->core, "zed:a long enough password", stderr), ERR_OK);
    admin_caller(&who);
    struct user_input in = user("amy", "a long enough password");
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_int_equal(users_each(u->core, collect, &s), ERR_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "amy");
    assert_string_equal(s.names[1], "zed");
    assert_int_equal(s.hashes_wiped, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int run_users_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_valid_accepts_documented_characters),
        cmocka_unit_test(test_name_valid_refuses_others),
        T(test_create_by_non_admin_is_forbidden),
        T(test_create_with_bad_username_is_invalid),
        T(test_create_with_short_password_is_invalid),
        T(test_create_with_overlong_password_is_invalid),
        T(test_create_with_bad_email_is_invalid),
        T(test_create_lists_every_problem),
        T(test_create_stores_user_without_exposing_hash),
        T(test_create_duplicate_username_is_conflict),
        T(test_get_unknown_user_is_not_found),
        T(test_bootstrap_creates_admin_from_spec),
        T(test_bootstrap_does_nothing_when_a_user_exists),
        T(test_bootstrap_refuses_malformed_spec),
        T(test_bootstrap_prints_working_generated_password),
        T(test_each_streams_users_in_name_order_without_hashes),
    };
    return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}

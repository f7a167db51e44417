/* test_err.c — the error enum's HTTP mapping (src/base/err.h) and field-level problems
 * (src/base/fielderr.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/base/err.h"
#include "../../src/base/fielderr.h"
#include "unit.h"

struct expected {
    enum err e;
    int status;
    const char *slug;
};

/* The status and type suffix table of docs/API.md. */
static const struct expected documented[] = {
    {ERR_MALFORMED_JSON, 400, "malformed-json"},
    {ERR_BAD_REQUEST, 400, "bad-request"},
    {ERR_UNAUTHENTICATED, 401, "unauthenticated"},
    {ERR_LOGIN_FAILED, 401, "login-failed"},
    {ERR_FORBIDDEN, 403, "forbidden"},
    {ERR_NOT_HELD, 403, "not-held"},
    {ERR_OWN_GRANTS, 403, "own-grants"},
    {ERR_CSRF, 403, "csrf-token-invalid"},
    {ERR_NOT_FOUND, 404, "not-found"},
    {ERR_METHOD, 405, "method-not-allowed"},
    {ERR_CONFLICT, 409, "conflict"},
    {ERR_LIMIT, 409, "limit-reached"},
    {ERR_BODY_TOO_LARGE, 413, "body-too-large"},
    {ERR_URI_TOO_LONG, 414, "uri-too-long"},
    {ERR_MEDIA_TYPE, 415, "unsupported-media-type"},
    {ERR_INVALID, 422, "validation-failed"},
    {ERR_THROTTLED, 429, "too-many-requests"},
    {ERR_HEADERS_TOO_LARGE, 431, "headers-too-large"},
    {ERR_INTERNAL, 500, "internal"},
    {ERR_NOMEM, 500, "internal"},
    {ERR_STORE, 500, "internal"},
    {ERR_UNAVAILABLE, 503, "unavailable"},
    {ERR_STORAGE_FULL, 503, "storage-full"},
    {ERR_DIRECTORY_UNAVAILABLE, 503, "directory-unavailable"},
};

static void test_ok_is_200(void **state)
{
    (void)state;
    assert_int_equal(err_http_status(ERR_OK), 200);
}

static void test_status_matches_documented_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (err_http_status(documented[i].e) != documented[i].status)
            fail_msg("err %d: status %d, documented %d", (int)documented[i].e,
                     err_http_status(documented[i].e), documented[i].status);
}

static void test_slug_matches_documented_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        assert_string_equal(err_slug(documented[i].e), documented[i].slug);
}

static void test_every_code_has_a_title(void **state)
{
    (void)state;
    for (int e = 0; e < ERR__COUNT; e++) {
        assert_non_null(err_title((enum err)e));
        assert_true(strlen(err_title((enum err)e)) > 0);
        assert_non_null(err_slug((enum err)e));
    }
    assert_string_equal(err_title(ERR_INVALID), "Validation failed");
}

static void test_out_of_range_code_is_internal(void **state)
{
    (void)state;
    assert_int_equal(err_http_status(ERR__COUNT), 500);
    assert_string_equal(err_slug(ERR__COUNT), "internal");
    assert_non_null(err_title(ERR__COUNT));
}

static void test_field_errors_add_and_has(void **state)
{
    (void)state;
    struct field_errors fe = {0};
    static const char detail[] = "must not be empty";
    assert_int_equal(field_errors_has(&fe, "name"), 0);
    field_errors_add(&fe, "name", detail);
    assert_int_equal(fe.count, 1);
    assert_int_equal(field_errors_has(&fe, "name"), 1);
    assert_int_equal(field_errors_has(&fe, "scopes"), 0);
    assert_string_equal(fe.items[0].field, "name");
    assert_ptr_equal(fe.items[0].detail, detail);
}

static void test_field_errors_keep_order(void **state)
{
    (void)state;
    struct field_errors fe = {0};
    field_errors_add(&fe, "name", "a");
    field_errors_add(&fe, "scopes", "b");
    field_errors_add(&fe, "expires_at", "c");
    assert_int_equal(fe.count, 3);
    assert_string_equal(fe.items[0].field, "name");
    assert_string_equal(fe.items[1].field, "scopes");
    assert_string_equal(fe.items[2].field, "expires_at");
}

static void test_field_errors_cut_long_field_names_at_63_bytes(void **state)
{
    (void)state;
    struct field_errors fe = {0};
    char longname[200];
    memset(longname, 'f', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    field_errors_add(&fe, longname, "x");
    assert_int_equal(fe.count, 1);
    assert_int_equal(strlen(fe.items[0].field), 63);
}

static void test_field_errors_cut_on_code_point_boundaries(void **state)
{
    (void)state;
    /* 2-, 3- and 4-byte characters: the cut never leaves part of one */
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t c = 0; c < 3; c++) {
        for (size_t lead = 0; lead < 4; lead++) { /* shift where the boundary falls */
            char name[256] = "";
            memset(name, 'a', lead);
            for (int i = 0; i < 40; i++)
                strcat(name, chars[c]);
            struct field_errors fe = {0};
            field_errors_add(&fe, name, "x");
            size_t n = strlen(fe.items[0].field), w = strlen(chars[c]);
            assert_true(n <= 63);
            assert_true(n > 63 - w);
            assert_int_equal((n - lead) % w, 0);
            assert_memory_equal(fe.items[0].field, name, n);
        }
    }
}

static void test_field_errors_stop_at_max(void **state)
{
    (void)state;
    struct field_errors fe = {0};
    for (int i = 0; i < FIELD_ERRORS_MAX + 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        field_errors_add(&fe, name, "x");
    }
    assert_int_equal(fe.count, FIELD_ERRORS_MAX);
    assert_int_equal(field_errors_has(&fe, "f0"), 1);
    assert_int_equal(field_errors_has(&fe, "f15"), 1);
    assert_int_equal(field_errors_has(&fe, "f16"), 0);
}

int run_err_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_is_200),
        cmocka_unit_test(test_status_matches_documented_table),
        cmocka_unit_test(test_slug_matches_documented_table),
        cmocka_unit_test(test_every_code_has_a_title),
        cmocka_unit_test(test_out_of_range_code_is_internal),
        cmocka_unit_test(test_field_errors_add_and_has),
        cmocka_unit_test(test_field_errors_keep_order),
        cmocka_unit_test(test_field_errors_cut_long_field_names_at_63_bytes),
        cmocka_unit_test(test_field_errors_cut_on_code_point_boundaries),
        cmocka_unit_test(test_field_errors_stop_at_max),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}

/* test_text.c — code points and character classes of request text (src/base/text.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include <string.h>

#include "../../src/base/text.h"
#include "unit.h"

static void test_codepoints_of_empty_is_zero(void **state)
{
    (void)state;
    assert_int_equal(text_codepoints(""), 0);
}

static void test_codepoints_of_ascii_is_byte_count(void **state)
{
    (void)state;
    assert_int_equal(text_codepoints("hello world"), 11);
}

static void test_codepoints_count_multibyte_characters_once(void **state)
{
    (void)state;
    assert_int_equal(text_codepoints("\xc3\xa9"), 1);         /* é, 2 bytes */
    assert_int_equal(text_codepoints("\xe2\x82\xac"), 1);     /* €, 3 bytes */
    assert_int_equal(text_codepoints("\xf0\x9f\x98\x80"), 1); /* 😀, 4 bytes */
    assert_int_equal(text_codepoints("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5);
}

static void test_codepoints_of_combining_sequence_counts_each_code_point(void **state)
{
    (void)state;
    /* e + COMBINING ACUTE ACCENT: two code points */
    assert_int_equal(text_codepoints("e\xcc\x81"), 2);
}

static void test_has_control_false_for_plain_text(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("Deploy key #1 (prod)", 0), 0);
    assert_int_equal(text_has_control("", 0), 0);
    assert_int_equal(text_has_control("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", 0), 0);
}

static void test_has_control_detects_c0(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\x01" "b", 0), 1);
    assert_int_equal(text_has_control("a\x1f", 1), 1);
    assert_int_equal(text_has_control("\x1b[31m", 1), 1);
}

static void test_has_control_detects_del(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\x7f", 0), 1);
    assert_int_equal(text_has_control("a\x7f", 1), 1);
}

static void test_has_control_detects_c1(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\xc2\x80", 0), 1); /* U+0080 */
    assert_int_equal(text_has_control("a\xc2\x85", 1), 1); /* U+0085 NEL */
    assert_int_equal(text_has_control("a\xc2\x9f", 1), 1); /* U+009F */
}

static void test_has_control_allows_nbsp_and_latin1(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\xc2\xa0" "b", 0), 0); /* U+00A0 */
    assert_int_equal(text_has_control("\xc2\xa9", 0), 0);      /* © */
}

static void test_tab_and_newline_refused_without_allow(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\tb", 0), 1);
    assert_int_equal(text_has_control("a\nb", 0), 1);
}

static void test_tab_and_newline_allowed_with_allow(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\tb\nc", 1), 0);
}

static void test_carriage_return_refused_even_with_allow(void **state)
{
    (void)state;
    assert_int_equal(text_has_control("a\r\nb", 1), 1);
}

static void test_blank_empty_string(void **state)
{
    (void)state;
    assert_int_equal(text_is_blank(""), 1);
}

static void test_blank_ascii_whitespace(void **state)
{
    (void)state;
    assert_int_equal(text_is_blank("   "), 1);
    assert_int_equal(text_is_blank(" \t\n\r\v\f"), 1);
}

static void test_not_blank_with_any_visible_character(void **state)
{
    (void)state;
    assert_int_equal(text_is_blank("  a  "), 0);
    assert_int_equal(text_is_blank("."), 0);
}

static void test_blank_with_unicode_spaces_and_zero_width_only(void **state)
{
    (void)state;
    /* a name that shows nothing is blank: NBSP, zero-width space/joiners, word joiner, BOM */
    assert_int_equal(text_is_blank("\xc2\xa0"), 1);
    assert_int_equal(text_is_blank("\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d"), 1);
    assert_int_equal(text_is_blank(" \xe2\x81\xa0\xef\xbb\xbf\xe3\x80\x80\t"), 1);
    assert_int_equal(text_is_blank("\xe2\x80\x8b" "a"), 0);
    assert_int_equal(text_is_blank("\xe2\x80\x90"), 0); /* U+2010 hyphen shows */
    assert_int_equal(text_is_blank("\xe2"), 0);           /* a cut sequence is not blank */
}

static void test_has_control_detects_bidi_controls(void **state)
{
    (void)state;
    /* U+202A..U+202E and U+2066..U+2069, with and without newlines allowed */
    const char *bidi[] = {"\xe2\x80\xaa", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9"};
    for (size_t i = 0; i < 4; i++) {
        char text[32];
        snprintf(text, sizeof text, "prod%sdorp", bidi[i]);
        assert_int_equal(text_has_control(text, 0), 1);
        assert_int_equal(text_has_control(text, 1), 1);
    }
    assert_int_equal(text_has_control("\xe2\x80\xa9", 0), 0); /* U+2029 is not one */
    assert_int_equal(text_has_control("\xe2\x81\xa5", 0), 0); /* U+2065 */
    assert_int_equal(text_has_control("\xe2\x80\xaf", 0), 0); /* U+202F */
}

static void test_token_accepts_alnum_and_extras(void **state)
{
    (void)state;
    assert_int_equal(text_is_token("alice.b_c-d9", "._-", 64), 1);
    assert_int_equal(text_is_token("ABCxyz019", "", 64), 1);
}

static void test_token_refuses_empty(void **state)
{
    (void)state;
    assert_int_equal(text_is_token("", "._-", 64), 0);
}

static void test_token_length_limit_is_inclusive(void **state)
{
    (void)state;
    char s[70];
    memset(s, 'a', 64);
    s[64] = '\0';
    assert_int_equal(text_is_token(s, "", 64), 1);
    s[64] = 'a';
    s[65] = '\0';
    assert_int_equal(text_is_token(s, "", 64), 0);
}

static void test_token_refuses_characters_outside_set(void **state)
{
    (void)state;
    assert_int_equal(text_is_token("a b", "._-", 64), 0);
    assert_int_equal(text_is_token("a/b", "._-", 64), 0);
    assert_int_equal(text_is_token("a:b", "._-", 64), 0);
    assert_int_equal(text_is_token("a.b", "", 64), 0);
    assert_int_equal(text_is_token("\xc3\xa9", "._-", 64), 0);
    assert_int_equal(text_is_token("a\x01", "._-", 64), 0);
}

int run_text_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codepoints_of_empty_is_zero),
        cmocka_unit_test(test_codepoints_of_ascii_is_byte_count),
        cmocka_unit_test(test_codepoints_count_multibyte_characters_once),
        cmocka_unit_test(test_codepoints_of_combining_sequence_counts_each_code_point),
        cmocka_unit_test(test_has_control_false_for_plain_text),
        cmocka_unit_test(test_has_control_detects_c0),
        cmocka_unit_test(test_has_control_detects_del),
        cmocka_unit_test(test_has_control_detects_c1),
        cmocka_unit_test(test_has_control_allows_nbsp_and_latin1),
        cmocka_unit_test(test_tab_and_newline_refused_without_allow),
        cmocka_unit_test(test_tab_and_newline_allowed_with_allow),
        cmocka_unit_test(test_carriage_return_refused_even_with_allow),
        cmocka_unit_test(test_blank_empty_string),
        cmocka_unit_test(test_blank_ascii_whitespace),
        cmocka_unit_test(test_not_blank_with_any_visible_character),
        cmocka_unit_test(test_blank_with_unicode_spaces_and_zero_width_only),
        cmocka_unit_test(test_has_control_detects_bidi_controls),
        cmocka_unit_test(test_token_accepts_alnum_and_extras),
        cmocka_unit_test(test_token_refuses_empty),
        cmocka_unit_test(test_token_length_limit_is_inclusive),
        cmocka_unit_test(test_token_refuses_characters_outside_set),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}

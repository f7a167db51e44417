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

#define GRIN "\xf0\x9f\x98\x80" /* U+1F600, 4 bytes */

static void test_cut_keeps_text_that_fits(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(text_cut(buf, sizeof buf, "short"), 5);
    assert_string_equal(buf, "short");
    assert_int_equal(text_cut(buf, 5, "four"), 4); /* exactly cap - 1 bytes */
    assert_string_equal(buf, "four");
}

static void test_cut_never_splits_a_four_byte_character(void **state)
{
    (void)state;
    char big[401];
    big[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(big, GRIN);
    char buf[256]; /* the audit detail's size: 255 bytes would end inside the 64th */
    assert_int_equal(text_cut(buf, sizeof buf, big), 252);
    assert_int_equal(text_codepoints(buf), 63);
    assert_true(text_utf8_valid(buf));
    for (size_t cap = 1; cap <= 9; cap++) { /* every cut position inside one and two */
        char small[16];
        size_t len = text_cut(small, cap, GRIN GRIN);
        assert_int_equal(len, ((cap - 1) / 4) * 4);
        assert_true(text_utf8_valid(small));
    }
}

static void test_cut_never_splits_two_and_three_byte_characters(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(text_cut(buf, 4, "a\xc3\xa9\xc3\xa9"), 3); /* a é (é cut off) */
    assert_string_equal(buf, "a\xc3\xa9");
    assert_int_equal(text_cut(buf, 3, "a\xc3\xa9"), 1);
    assert_string_equal(buf, "a");
    assert_int_equal(text_cut(buf, 5, "\xe2\x82\xac\xe2\x82\xac"), 3); /* one € of two */
    assert_string_equal(buf, "\xe2\x82\xac");
}

static void test_cutn_reads_at_most_n_bytes(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(text_cutn(buf, sizeof buf, GRIN GRIN, 4), 4);
    assert_string_equal(buf, GRIN);
}

static void test_utf8_valid_refuses_broken_sequences(void **state)
{
    (void)state;
    assert_true(text_utf8_valid("plain " GRIN " \xc3\xa9"));
    assert_false(text_utf8_valid("\xf0\x9f\x98"));   /* cut 4-byte character */
    assert_false(text_utf8_valid("\x80"));             /* lone continuation */
    assert_false(text_utf8_valid("\xc0\xaf"));         /* overlong */
    assert_false(text_utf8_valid("\xed\xa0\x80"));     /* surrogate */
    assert_false(text_utf8_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
}

static void test_utf8_repair_replaces_each_bad_byte(void **state)
{
    (void)state;
    char buf[64];
    text_utf8_repair(buf, sizeof buf, "ok " GRIN "\xf0\x9f\x98");
    assert_string_equal(buf, "ok " GRIN "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_true(text_utf8_valid(buf));
    text_utf8_repair(buf, 6, "ab\x80" "cd"); /* a full buffer ends before a whole U+FFFD */
    assert_string_equal(buf, "ab\xef\xbf\xbd");
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
        cmocka_unit_test(test_cut_keeps_text_that_fits),
        cmocka_unit_test(test_cut_never_splits_a_four_byte_character),
        cmocka_unit_test(test_cut_never_splits_two_and_three_byte_characters),
        cmocka_unit_test(test_cutn_reads_at_most_n_bytes),
        cmocka_unit_test(test_utf8_valid_refuses_broken_sequences),
        cmocka_unit_test(test_utf8_repair_replaces_each_bad_byte),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}

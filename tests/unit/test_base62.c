/* test_base62.c — fixed-width big-endian base62 (src/base/base62.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "../../src/base/base62.h"
#include "unit.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void test_width_of_documented_sizes(void **state)
{
    (void)state;
    assert_int_equal(base62_width(32), 43);
    assert_int_equal(base62_width(4), 6);
}

static void test_width_is_minimal_for_each_size(void **state)
{
    (void)state;
    /* ceil(8n / log2 62) */
    assert_int_equal(base62_width(0), 0);
    assert_int_equal(base62_width(1), 2);
    assert_int_equal(base62_width(2), 3);
    assert_int_equal(base62_width(8), 11);
    assert_int_equal(base62_width(16), 22);
    assert_int_equal(base62_width(64), 86);
}

static void test_encode_zero_is_all_zero_digits(void **state)
{
    (void)state;
    uint8_t in[4] = {0};
    char out[7];
    assert_int_equal(base62_encode(in, sizeof in, out, 6), 0);
    assert_string_equal(out, "000000");
}

static void test_encode_uses_alphabet_order(void **state)
{
    (void)state;
    char out[7];
    uint8_t v61[4] = {0, 0, 0, 61};
    uint8_t v62[4] = {0, 0, 0, 62};
    uint8_t v10[4] = {0, 0, 0, 10};
    uint8_t v36[4] = {0, 0, 0, 36};
    assert_int_equal(base62_encode(v61, 4, out, 6), 0);
    assert_string_equal(out, "00000z");
    assert_int_equal(base62_encode(v62, 4, out, 6), 0);
    assert_string_equal(out, "000010");
    assert_int_equal(base62_encode(v10, 4, out, 6), 0);
    assert_string_equal(out, "00000A");
    assert_int_equal(base62_encode(v36, 4, out, 6), 0);
    assert_string_equal(out, "00000a");
}

static void test_encode_is_big_endian(void **state)
{
    (void)state;
    char out[7];
    uint8_t be[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(base62_encode(be, 4, out, 6), 0);
    assert_string_equal(out, "44pZgF");
}

static void test_encode_max_32_bit_value(void **state)
{
    (void)state;
    char out[7];
    uint8_t ff[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(base62_encode(ff, 4, out, 6), 0);
    assert_string_equal(out, "4gfFC3");
}

static void test_encode_max_256_bit_value_fits_43(void **state)
{
    (void)state;
    uint8_t ff[32];
    char out[44];
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(base62_encode(ff, sizeof ff, out, 43), 0);
    assert_string_equal(out, "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1");
}

static void test_encode_refuses_too_narrow_width(void **state)
{
    (void)state;
    uint8_t ff[32];
    char out[44];
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(base62_encode(ff, sizeof ff, out, 42), -1);
}

static void test_encode_nul_terminates_at_width(void **state)
{
    (void)state;
    uint8_t in[4] = {1, 2, 3, 4};
    char out[16];
    memset(out, 'x', sizeof out);
    assert_int_equal(base62_encode(in, 4, out, 10), 0);
    assert_int_equal(strlen(out), 10);
}

static void test_encode_refuses_more_than_64_bytes(void **state)
{
    (void)state;
    uint8_t in[65] = {0};
    char out[100];
    assert_int_equal(base62_encode(in, sizeof in, out, 98), -1);
}

static void test_decode_inverts_encode_for_random_values(void **state)
{
    (void)state;
    for (int round = 0; round < 500; round++) {
        uint8_t in[32], back[32];
        char text[44];
        randombytes_buf(in, sizeof in);
        assert_int_equal(base62_encode(in, sizeof in, text, 43), 0);
        assert_int_equal(strlen(text), 43);
        for (size_t i = 0; i < 43; i++)
            assert_true(base62_is_char(text[i]));
        assert_int_equal(base62_decode(text, 43, back, sizeof back), 0);
        assert_memory_equal(in, back, sizeof in);
    }
}

static void test_decode_known_value(void **state)
{
    (void)state;
    uint8_t out[4];
    uint8_t want[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(base62_decode("44pZgF", 6, out, 4), 0);
    assert_memory_equal(out, want, 4);
}

static void test_decode_reads_only_len_characters(void **state)
{
    (void)state;
    uint8_t out[4];
    uint8_t want[4] = {0, 0, 0, 1};
    assert_int_equal(base62_decode("01zzzz", 2, out, 4), 0);
    assert_memory_equal(out, want, 4);
}

static void test_decode_rejects_character_outside_alphabet(void **state)
{
    (void)state;
    uint8_t out[4];
    const char *bad[] = {"00000-", "0000_0", "00 000", "+00000", "0000/0", "0000\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(base62_decode(bad[i], strlen(bad[i]), out, 4), -1);
}

static void test_decode_rejects_value_too_large(void **state)
{
    (void)state;
    uint8_t out[4];
    /* 62^6 - 1 > 2^32 - 1; "4gfFC4" is 2^32 exactly */
    assert_int_equal(base62_decode("zzzzzz", 6, out, 4), -1);
    assert_int_equal(base62_decode("4gfFC4", 6, out, 4), -1);
    assert_int_equal(base62_decode("4gfFC3", 6, out, 4), 0);
}

static void test_decode_refuses_more_than_64_bytes(void **state)
{
    (void)state;
    uint8_t out[65];
    assert_int_equal(base62_decode("1", 1, out, sizeof out), -1);
}

static void test_is_char_accepts_exactly_the_alphabet(void **state)
{
    (void)state;
    int count = 0;
    for (int c = -128; c < 128; c++) {
        int in_alphabet = c > 0 && strchr(alphabet, c) != NULL;
        assert_int_equal(base62_is_char((char)c) != 0, in_alphabet);
        count += base62_is_char((char)c) != 0;
    }
    assert_int_equal(count, 62);
}

static void test_fixed_width_preserves_numeric_order(void **state)
{
    (void)state;
    char prev[7] = "", cur[7];
    for (uint32_t v = 0; v < 5000; v += 7) {
        uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        assert_int_equal(base62_encode(be, 4, cur, 6), 0);
        if (v)
            assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof cur);
    }
}

int run_base62_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_of_documented_sizes),
        cmocka_unit_test(test_width_is_minimal_for_each_size),
        cmocka_unit_test(test_encode_zero_is_all_zero_digits),
        cmocka_unit_test(test_encode_uses_alphabet_order),
        cmocka_unit_test(test_encode_is_big_endian),
        cmocka_unit_test(test_encode_max_32_bit_value),
        cmocka_unit_test(test_encode_max_256_bit_value_fits_43),
        cmocka_unit_test(test_encode_refuses_too_narrow_width),
        cmocka_unit_test(test_encode_nul_terminates_at_width),
        cmocka_unit_test(test_encode_refuses_more_than_64_bytes),
        cmocka_unit_test(test_decode_inverts_encode_for_random_values),
        cmocka_unit_test(test_decode_known_value),
        cmocka_unit_test(test_decode_reads_only_len_characters),
        cmocka_unit_test(test_decode_rejects_character_outside_alphabet),
        cmocka_unit_test(test_decode_rejects_value_too_large),
        cmocka_unit_test(test_decode_refuses_more_than_64_bytes),
        cmocka_unit_test(test_is_char_accepts_exactly_the_alphabet),
        cmocka_unit_test(test_fixed_width_preserves_numeric_order),
    };
    return cmocka_run_group_tests_name("base62", tests, NULL, NULL);
}

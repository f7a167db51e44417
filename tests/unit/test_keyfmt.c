/* test_keyfmt.c — the API key format "<prefix>_<body><check>" (src/core/keyfmt.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "../../src/base/base62.h"
#include "../../src/base/sha256.h"
#include "../../src/core/keyfmt.h"

#include "unit.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The checksum as docs/API.md defines it: zlib CRC-32 of head, big-endian, 6 base62 chars. */
static void expected_check(const char *head, size_t len, char out[KEYFMT_CHECK_LEN + 1])
{
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)head, (uInt)len);
    uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                     (uint8_t)crc};
    assert_int_equal(base62_encode(be, 4, out, KEYFMT_CHECK_LEN), 0);
}

/* head + its correct checksum, so only the shape rule under test can refuse it. */
static void with_check(const char *head, char *out, size_t cap)
{
    char check[KEYFMT_CHECK_LEN + 1];
    expected_check(head, strlen(head), check);
    snprintf(out, cap, "%s%s", head, check);
}

static void generate(char key[KEYFMT_MAX_LEN + 1])
{
    assert_int_equal(keyfmt_generate("apk", key), 0);
}

static int is_body_char(char c)
{
    return c && strchr(alphabet, c) != NULL;
}

static void test_prefix_valid_accepts_lowercase_and_digits(void **state)
{
    (void)state;
    assert_int_equal(keyfmt_prefix_valid("apk"), 1);
    assert_int_equal(keyfmt_prefix_valid("a"), 1);
    assert_int_equal(keyfmt_prefix_valid("0"), 1);
    assert_int_equal(keyfmt_prefix_valid("abcdefghij012345"), 1); /* 16 */
}

static void test_prefix_valid_refuses_empty_and_too_long(void **state)
{
    (void)state;
    assert_int_equal(keyfmt_prefix_valid(""), 0);
    assert_int_equal(keyfmt_prefix_valid("abcdefghij0123456"), 0); /* 17 */
}

static void test_prefix_valid_refuses_other_characters(void **state)
{
    (void)state;
    const char *bad[] = {"APK", "Apk", "ap_k", "ap-k", "ap k", "ap.k", "\xc3\xa9", "apk_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(keyfmt_prefix_valid(bad[i]), 0);
}

static void test_generated_key_has_documented_shape(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    generate(key);
    /* ^apk_[0-9A-Za-z]{49}$ */
    assert_int_equal(strlen(key), 53);
    assert_memory_equal(key, "apk_", 4);
    for (size_t i = 4; i < 53; i++)
        if (!is_body_char(key[i]))
            fail_msg("character %zu of the key is not base62", i);
}

static void test_generated_key_checksum_is_crc32_of_prefix_and_body(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        char key[KEYFMT_MAX_LEN + 1], check[KEYFMT_CHECK_LEN + 1];
        generate(key);
        expected_check(key, 4 + KEYFMT_BODY_LEN, check);
        assert_string_equal(key + 4 + KEYFMT_BODY_LEN, check);
    }
}

static void test_generated_body_is_32_bytes_in_base62(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    uint8_t body[KEYFMT_BODY_BYTES];
    generate(key);
    assert_int_equal(base62_decode(key + 4, KEYFMT_BODY_LEN, body, sizeof body), 0);
}

static void test_generate_refuses_bad_prefix(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("APK", key), -1);
    assert_int_equal(keyfmt_generate("", key), -1);
    assert_int_equal(keyfmt_generate("abcdefghij0123456", key), -1);
}

static void test_generate_with_longest_prefix(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("abcdefghij012345", key), 0);
    assert_int_equal(strlen(key), KEYFMT_MAX_LEN);
    assert_int_equal(keyfmt_check(key, strlen(key)), 1);
}

static void test_generate_with_one_character_prefix(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("x", key), 0);
    assert_int_equal(strlen(key), 1 + 1 + KEYFMT_BODY_LEN + KEYFMT_CHECK_LEN);
    assert_int_equal(keyfmt_check(key, strlen(key)), 1);
}

static void test_two_generated_keys_differ(void **state)
{
    (void)state;
    char a[KEYFMT_MAX_LEN + 1], b[KEYFMT_MAX_LEN + 1];
    generate(a);
    generate(b);
    assert_string_not_equal(a, b);
}

static void test_check_accepts_generated_key(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        char key[KEYFMT_MAX_LEN + 1];
        generate(key);
        assert_int_equal(keyfmt_check(key, strlen(key)), 1);
    }
}

static void test_check_rejects_changed_character(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    generate(key);
    size_t len = strlen(key);
    static const char replacements[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-+/. ";
    for (size_t i = 0; i < len; i++) {
        char orig = key[i];
        for (const char *r = replacements; *r; r++) {
            if (*r == orig)
                continue;
            key[i] = *r;
            if (keyfmt_check(key, len))
                fail_msg("accepted the key with character %zu changed from '%c' to '%c'", i,
                         orig, *r);
        }
        key[i] = orig;
    }
    assert_int_equal(keyfmt_check(key, len), 1);
}

static void test_check_rejects_swapped_adjacent_characters(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    generate(key);
    size_t len = strlen(key);
    for (size_t i = 4; i + 1 < len; i++) {
        if (key[i] == key[i + 1])
            continue;
        char t = key[i];
        key[i] = key[i + 1];
        key[i + 1] = t;
        assert_int_equal(keyfmt_check(key, len), 0);
        key[i + 1] = key[i];
        key[i] = t;
    }
}

static void test_check_rejects_truncated_key(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    generate(key);
    size_t len = strlen(key);
    for (size_t n = 0; n < len; n++)
        assert_int_equal(keyfmt_check(key, n), 0);
}

static void test_check_rejects_extra_character(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 2];
    generate(key);
    size_t len = strlen(key);
    for (const char *c = "0aZ_"; *c; c++) {
        key[len] = *c;
        key[len + 1] = '\0';
        assert_int_equal(keyfmt_check(key, len + 1), 0);
    }
}

static void test_check_rejects_overlong_input(void **state)
{
    (void)state;
    char big[600];
    memset(big, 'a', sizeof big);
    big[3] = '_';
    assert_int_equal(keyfmt_check(big, sizeof big), 0);
    assert_int_equal(keyfmt_check(big, KEYFMT_MAX_LEN + 1), 0);
}

static void test_check_rejects_empty(void **state)
{
    (void)state;
    assert_int_equal(keyfmt_check("", 0), 0);
}

static void test_check_rejects_uppercase_prefix_even_with_valid_checksum(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], forged[KEYFMT_MAX_LEN + 1];
    generate(key);
    key[4 + KEYFMT_BODY_LEN] = '\0';
    key[0] = 'A';
    with_check(key, forged, sizeof forged);
    assert_int_equal(strlen(forged), 53);
    assert_int_equal(keyfmt_check(forged, strlen(forged)), 0);
}

static void test_check_rejects_punctuation_in_prefix_even_with_valid_checksum(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], forged[KEYFMT_MAX_LEN + 1];
    const char bad[] = "-._ +/";
    for (const char *c = bad; *c; c++) {
        generate(key);
        key[4 + KEYFMT_BODY_LEN] = '\0';
        key[1] = *c;
        with_check(key, forged, sizeof forged);
        if (keyfmt_check(forged, strlen(forged)))
            fail_msg("accepted prefix \"%.3s\"", forged);
    }
}

static void test_check_rejects_missing_underscore_even_with_valid_checksum(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], forged[KEYFMT_MAX_LEN + 1], head[KEYFMT_MAX_LEN + 1];
    generate(key);
    /* "apkX<body>": the separator replaced by a base62 character */
    memcpy(head, key, 4 + KEYFMT_BODY_LEN);
    head[3] = 'x';
    head[4 + KEYFMT_BODY_LEN] = '\0';
    with_check(head, forged, sizeof forged);
    assert_int_equal(keyfmt_check(forged, strlen(forged)), 0);
    /* "apk<body>": the separator dropped */
    snprintf(head, sizeof head, "apk%.*s", KEYFMT_BODY_LEN, key + 4);
    with_check(head, forged, sizeof forged);
    assert_int_equal(keyfmt_check(forged, strlen(forged)), 0);
}

static void test_check_rejects_empty_prefix_even_with_valid_checksum(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], forged[KEYFMT_MAX_LEN + 1];
    generate(key);
    key[4 + KEYFMT_BODY_LEN] = '\0';
    with_check(key + 3, forged, sizeof forged); /* "_<body>" */
    assert_int_equal(keyfmt_check(forged, strlen(forged)), 0);
}

static void test_check_rejects_non_base62_body_even_with_valid_checksum(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], forged[KEYFMT_MAX_LEN + 1];
    generate(key);
    key[4 + KEYFMT_BODY_LEN] = '\0';
    key[10] = '+';
    with_check(key, forged, sizeof forged);
    assert_int_equal(keyfmt_check(forged, strlen(forged)), 0);
}

static void test_check_reads_only_len_bytes(void **state)
{
    (void)state;
    char buf[KEYFMT_MAX_LEN + 16];
    generate(buf);
    size_t len = strlen(buf);
    memcpy(buf + len, "garbage", 8); /* the key is followed by more bytes, no NUL at len */
    assert_int_equal(keyfmt_check(buf, len), 1);
}

static void test_check_accepts_other_valid_prefix(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("live2", key), 0);
    assert_memory_equal(key, "live2_", 6);
    assert_int_equal(keyfmt_check(key, strlen(key)), 1);
}

static void test_hint_is_first_8_ellipsis_last_4(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1], hint[KEYFMT_HINT_LEN], want[KEYFMT_HINT_LEN + 8];
    generate(key);
    size_t len = strlen(key);
    keyfmt_hint(key, hint);
    snprintf(want, sizeof want, "%.8s\xe2\x80\xa6%s", key, key + len - 4);
    assert_string_equal(hint, want);
    assert_int_equal(strlen(hint), KEYFMT_HINT_LEN - 1);
}

static void test_hint_of_fixed_key(void **state)
{
    (void)state;
    char hint[KEYFMT_HINT_LEN];
    keyfmt_hint("apk_2mPqAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAx9Qz", hint);
    assert_string_equal(hint, "apk_2mPq\xe2\x80\xa6x9Qz");
}

static void test_hash_is_sha256_of_key_bytes(void **state)
{
    (void)state;
    static const uint8_t sha256_abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t out[KEYFMT_HASH_LEN];
    keyfmt_hash("abc", 3, out);
    assert_memory_equal(out, sha256_abc, 32);
}

static void test_hash_of_generated_key_matches_libsodium(void **state)
{
    (void)state;
    char key[KEYFMT_MAX_LEN + 1];
    uint8_t got[KEYFMT_HASH_LEN], want[crypto_hash_sha256_BYTES];
    generate(key);
    keyfmt_hash(key, strlen(key), got);
    crypto_hash_sha256(want, (const unsigned char *)key, strlen(key));
    assert_memory_equal(got, want, sizeof want);
}

static void test_hash_covers_len_bytes_only(void **state)
{
    (void)state;
    uint8_t a[KEYFMT_HASH_LEN], b[KEYFMT_HASH_LEN];
    keyfmt_hash("abcdef", 3, a);
    keyfmt_hash("abc", 3, b);
    assert_memory_equal(a, b, sizeof a);
    keyfmt_hash("abd", 3, b);
    assert_memory_not_equal(a, b, sizeof a);
}

/* sha256() (OpenSSL, SHA-NI) against libsodium's SHA-256 for every length 0..300, so block
 * boundaries and padding are covered. */
static void test_sha256_matches_libsodium_for_every_length(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof data; len++) {
        uint8_t got[SHA256_LEN], want[crypto_hash_sha256_BYTES];
        sha256(data, len, got);
        crypto_hash_sha256(want, data, len);
        assert_memory_equal(got, want, sizeof want);
    }
}

static void *hash_in_thread(void *arg)
{
    uint8_t *out = arg;
    for (int i = 0; i < 1000; i++)
        sha256("apk_threaded", 12, out);
    return NULL;
}

/* Each thread has its own context: hashing side by side gives the right digest. */
static void test_sha256_in_several_threads_at_once(void **state)
{
    (void)state;
    pthread_t t[4];
    uint8_t out[4][SHA256_LEN], want[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(want, (const unsigned char *)"apk_threaded", 12);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_in_thread, out[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_memory_equal(out[i], want, sizeof want);
    }
}

int run_keyfmt_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_valid_accepts_lowercase_and_digits),
        cmocka_unit_test(test_prefix_valid_refuses_empty_and_too_long),
        cmocka_unit_test(test_prefix_valid_refuses_other_characters),
        cmocka_unit_test(test_generated_key_has_documented_shape),
        cmocka_unit_test(test_generated_key_checksum_is_crc32_of_prefix_and_body),
        cmocka_unit_test(test_generated_body_is_32_bytes_in_base62),
        cmocka_unit_test(test_generate_refuses_bad_prefix),
        cmocka_unit_test(test_generate_with_longest_prefix),
        cmocka_unit_test(test_generate_with_one_character_prefix),
        cmocka_unit_test(test_two_generated_keys_differ),
        cmocka_unit_test(test_check_accepts_generated_key),
        cmocka_unit_test(test_check_rejects_changed_character),
        cmocka_unit_test(test_check_rejects_swapped_adjacent_characters),
        cmocka_unit_test(test_check_rejects_truncated_key),
        cmocka_unit_test(test_check_rejects_extra_character),
        cmocka_unit_test(test_check_rejects_overlong_input),
        cmocka_unit_test(test_check_rejects_empty),
        cmocka_unit_test(test_check_rejects_uppercase_prefix_even_with_valid_checksum),
        cmocka_unit_test(test_check_rejects_punctuation_in_prefix_even_with_valid_checksum),
        cmocka_unit_test(test_check_rejects_missing_underscore_even_with_valid_checksum),
        cmocka_unit_test(test_check_rejects_empty_prefix_even_with_valid_checksum),
        cmocka_unit_test(test_check_rejects_non_base62_body_even_with_valid_checksum),
        cmocka_unit_test(test_check_reads_only_len_bytes),
        cmocka_unit_test(test_check_accepts_other_valid_prefix),
        cmocka_unit_test(test_hint_is_first_8_ellipsis_last_4),
        cmocka_unit_test(test_hint_of_fixed_key),
        cmocka_unit_test(test_hash_is_sha256_of_key_bytes),
        cmocka_unit_test(test_hash_of_generated_key_matches_libsodium),
        cmocka_unit_test(test_hash_covers_len_bytes_only),
        cmocka_unit_test(test_sha256_matches_libsodium_for_every_length),
        cmocka_unit_test(test_sha256_in_several_threads_at_once),
    };
    return cmocka_run_group_tests_name("keyfmt", tests, NULL, NULL);
}

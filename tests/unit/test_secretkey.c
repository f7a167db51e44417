/* test_secretkey.c — the server key (src/core/secretkey.h): made on first load as a 0600 file
 * of 32 bytes, read back on the next, sealing and opening, and refusal of altered messages and
 * of key files of the wrong size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/core/secretkey.h"
#include "unit.h"

/* A temporary directory with the path of a key file in it, and up to two loaded keys; all
 * freed by teardown, also when an assertion ended the test early. */
struct fixture {
    char *dir;
    char path[1024];
    struct secretkey *a, *b;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->dir = unit_tempdir();
    snprintf(f->path, sizeof f->path, "%s/secret.key", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    secretkey_free(f->a);
    secretkey_free(f->b);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static const uint8_t message[] = "JBSWY3DPEHPK3PXP-totp-seed";
#define MSG_LEN (sizeof message - 1)

static void test_load_creates_0600_file_of_32_bytes(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->path, &st), -1);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    assert_non_null(f->a);
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 32);
}

static void test_sealed_message_opens_with_same_key(void **state)
{
    struct fixture *f = *state;
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    assert_int_equal(secretkey_open(f->a, sealed, sizeof sealed, plain), 0);
    assert_memory_equal(plain, message, MSG_LEN);
}

static void test_sealed_message_does_not_contain_plaintext(void **state)
{
    struct fixture *f = *state;
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    assert_null(memmem(sealed, sizeof sealed, message, 8));
}

static void test_two_seals_of_same_message_differ(void **state)
{
    struct fixture *f = *state;
    uint8_t s1[MSG_LEN + SECRETKEY_OVERHEAD], s2[MSG_LEN + SECRETKEY_OVERHEAD];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, s1);
    secretkey_seal(f->a, message, MSG_LEN, s2);
    assert_memory_not_equal(s1, s2, sizeof s1);
}

static void test_second_load_reads_the_same_key(void **state)
{
    struct fixture *f = *state;
    uint8_t before[32], after[32];
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(before, 1, sizeof before, fp), 32);
    fclose(fp);

    assert_int_equal(secretkey_load(f->path, &f->b), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    memset(plain, 0, sizeof plain);
    assert_int_equal(secretkey_open(f->b, sealed, sizeof sealed, plain), 0);
    assert_memory_equal(plain, message, MSG_LEN);

    fp = fopen(f->path, "rb"); /* the file was read, not rewritten */
    assert_non_null(fp);
    assert_int_equal(fread(after, 1, sizeof after, fp), 32);
    fclose(fp);
    assert_memory_equal(before, after, sizeof before);
}

static void test_load_reads_an_existing_key_file(void **state)
{
    struct fixture *f = *state;
    uint8_t raw[32];
    char other[1100];
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 7 + 1);
    write_file(f->path, raw, sizeof raw);
    snprintf(other, sizeof other, "%s/copy.key", f->dir);
    write_file(other, raw, sizeof raw);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    assert_int_equal(secretkey_load(other, &f->b), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    assert_int_equal(secretkey_open(f->b, sealed, sizeof sealed, plain), 0);
    assert_memory_equal(plain, message, MSG_LEN);
}

static void test_other_key_cannot_open(void **state)
{
    struct fixture *f = *state;
    char other[1100];
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    snprintf(other, sizeof other, "%s/other.key", f->dir);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    assert_int_equal(secretkey_load(other, &f->b), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    assert_int_equal(secretkey_open(f->b, sealed, sizeof sealed, plain), -1);
}

static void test_tampered_ciphertext_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    sealed[sizeof sealed - 1] ^= 0x01;
    assert_int_equal(secretkey_open(f->a, sealed, sizeof sealed, plain), -1);
}

static void test_every_altered_byte_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    for (size_t i = 0; i < sizeof sealed; i++) { /* nonce, MAC and ciphertext alike */
        sealed[i] ^= 0x80;
        if (secretkey_open(f->a, sealed, sizeof sealed, plain) != -1)
            fail_msg("altered byte %zu was accepted", i);
        sealed[i] ^= 0x80;
    }
    assert_int_equal(secretkey_open(f->a, sealed, sizeof sealed, plain), 0);
}

static void test_truncated_message_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t sealed[MSG_LEN + SECRETKEY_OVERHEAD], plain[MSG_LEN];
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_OK);
    secretkey_seal(f->a, message, MSG_LEN, sealed);
    assert_int_equal(secretkey_open(f->a, sealed, sizeof sealed - 1, plain), -1);
    assert_int_equal(secretkey_open(f->a, sealed, SECRETKEY_OVERHEAD - 1, plain), -1);
    assert_int_equal(secretkey_open(f->a, sealed, 0, plain), -1);
}

static void test_key_file_of_31_bytes_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t raw[31] = {0};
    write_file(f->path, raw, sizeof raw);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_STORE);
    f->a = NULL;
}

static void test_key_file_of_33_bytes_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t raw[33] = {0};
    write_file(f->path, raw, sizeof raw);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_STORE);
    f->a = NULL;
}

static void test_empty_key_file_is_refused_and_kept(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    write_file(f->path, "", 0);
    assert_int_equal(secretkey_load(f->path, &f->a), ERR_STORE);
    f->a = NULL;
    assert_int_equal(stat(f->path, &st), 0); /* not replaced by a fresh key */
    assert_int_equal(st.st_size, 0);
}

static void test_key_in_missing_directory_is_refused(void **state)
{
    struct fixture *f = *state;
    char path[1100];
    snprintf(path, sizeof path, "%s/no/such/dir/secret.key", f->dir);
    assert_int_equal(secretkey_load(path, &f->a), ERR_STORE);
    f->a = NULL;
}

static void test_free_of_null_is_harmless(void **state)
{
    (void)state;
    secretkey_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int run_secretkey_tests(void)
{
    const struct CMUnitTest tests[] = {
        T(test_load_creates_0600_file_of_32_bytes),
        T(test_sealed_message_opens_with_same_key),
        T(test_sealed_message_does_not_contain_plaintext),
        T(test_two_seals_of_same_message_differ),
        T(test_second_load_reads_the_same_key),
        T(test_load_reads_an_existing_key_file),
        T(test_other_key_cannot_open),
        T(test_tampered_ciphertext_is_refused),
        T(test_every_altered_byte_is_refused),
        T(test_truncated_message_is_refused),
        T(test_key_file_of_31_bytes_is_refused),
        T(test_key_file_of_33_bytes_is_refused),
        T(test_empty_key_file_is_refused_and_kept),
        T(test_key_in_missing_directory_is_refused),
        cmocka_unit_test(test_free_of_null_is_harmless),
    };
    return cmocka_run_group_tests_name("secretkey", tests, NULL, NULL);
}

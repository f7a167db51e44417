/* test_mfa.c — TOTP multi-factor authentication (src/core/mfa.h) on a core with a server key
 * in the temporary directory. The tests compute codes themselves: the enrolment secret is
 * base32-decoded and fed to liboath's RFC 6238 generator (HMAC-SHA1, 6 digits, 30 s). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../src/core/mfa.h"
#include "../../src/core/password.h"
#include "../../src/core/users.h"
#include "unit.h"

#define STEP 30
#define GOOD_PASSWORD "violet kettle drums at noon"

/* A core whose server key is the file secret.key in the core's temporary directory: opened
 * without one first (the directory is made by unit_core_open), then reopened with it. */
static int setup(void **state)
{
    struct unit_core *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    if (unit_core_open(u, NULL) != 0) {
        free(u);
        return -1;
    }
    snprintf(u->cfg.secret_key_file, sizeof u->cfg.secret_key_file, "%s/secret.key", u->dir);
    if (unit_core_reopen(u) != 0) {
        unit_core_destroy(u);
        free(u);
        return -1;
    }
    *state = u;
    return 0;
}

static int setup_without_key(void **state)
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

/* ---- helpers ---- */

static void store_user(struct unit_core *u, const char *name, const char *source,
                       const char *password)
{
    struct user_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.username, sizeof rec.username, "%s", name);
    snprintf(rec.auth_source, sizeof rec.auth_source, "%s", source);
    snprintf(rec.environment, sizeof rec.environment, "ROOT");
    snprintf(rec.roles, sizeof rec.roles, "user");
    rec.created_at = 100;
    if (password)
        assert_int_equal(password_hash(password, strlen(password), rec.password_hash), ERR_OK);
    assert_int_equal(u->store->ops->user_create(u->store, &rec, 10000), ERR_OK);
}

/* The stored record, secrets included (the code checks need them). */
static struct user_record stored(struct unit_core *u, const char *name)
{
    struct user_record rec;
    assert_int_equal(u->store->ops->user_get(u->store, name, &rec), ERR_OK);
    return rec;
}

/* A login's code check: the step that code matches, claimed as the last accepted one (what
 * session_create does with the session). ERR_OK or ERR_LOGIN_FAILED. */
static enum err login_code_check(struct core *c, struct unit_core *u,
                                 const struct user_record *rec, const char *code)
{
    int64_t step = mfa_login_step(c, rec, code);
    if (step < 0)
        return ERR_LOGIN_FAILED;
    enum err e = u->store->ops->user_mfa_advance(u->store, rec->username, step);
    return e == ERR_CONFLICT ? ERR_LOGIN_FAILED : e;
}

static int64_t step_now(void)
{
    return (int64_t)time(NULL) / STEP;
}

/* The 6-digit code of the base32 secret b32 for time step `step`. */
static void totp(const char *b32, int64_t step, char code[7])
{
    char *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(oath_base32_decode(b32, strlen(b32), &raw, &raw_len), OATH_OK);
    assert_int_equal(raw_len, MFA_SECRET_BYTES);
    int rc = oath_totp_generate(raw, raw_len, (time_t)(step * STEP), STEP, 0, 6, code);
    free(raw);
    assert_int_equal(rc, OATH_OK);
    assert_int_equal(strlen(code), 6);
}

/* A well-formed code that is the code of none of the steps around now (±3). */
static void wrong_code(const char *b32, char code[7])
{
    char near[7][7];
    int64_t now = step_now();
    for (int i = 0; i < 7; i++)
        totp(b32, now - 3 + i, near[i]);
    for (unsigned n = 0;; n++) {
        snprintf(code, 7, "%06u", (n * 7919u) % 1000000u);
        int clash = 0;
        for (int i = 0; i < 7; i++)
            clash |= strcmp(code, near[i]) == 0;
        if (!clash)
            return;
    }
}

/* Enrols name (a local user in the store) and confirms with the code of the current step
 * plus offset (-1, 0 or 1: inside the accepted window). Returns the secret in b32 and the
 * confirming step in *confirmed_step. */
static void enable_mfa_with_codes(struct unit_core *u, const char *name, int offset,
                                  char b32[64], int64_t *confirmed_step,
                                  struct recovery_set *codes)
{
    struct caller who;
    struct mfa_enrolment en;
    struct field_errors fe = {0};
    char code[7];
    unit_session_caller(&who, name);
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    snprintf(b32, 64, "%s", en.secret);
    while (time(NULL) % STEP >= STEP - 2) /* keep clear of a step boundary while confirming */
        sleep(1);
    *confirmed_step = step_now() + offset;
    totp(b32, *confirmed_step, code);
    assert_int_equal(mfa_confirm(u->core, &who, code, GOOD_PASSWORD, &fe, NULL, codes), ERR_OK);
}

static void enable_mfa_at(struct unit_core *u, const char *name, int offset, char b32[64],
                          int64_t *confirmed_step)
{
    struct recovery_set codes;
    enable_mfa_with_codes(u, name, offset, b32, confirmed_step, &codes);
}

static void enable_mfa(struct unit_core *u, const char *name, char b32[64],
                       int64_t *confirmed_step)
{
    enable_mfa_at(u, name, 0, b32, confirmed_step);
}

static int is_base32(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7')))
            return 0;
    return 1;
}

/* ---- mfa_begin ---- */

static void test_begin_returns_base32_secret_of_160_bits(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    char *raw = NULL;
    size_t raw_len = 0;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    assert_int_equal(strlen(en.secret), 32);
    assert_true(is_base32(en.secret));
    assert_int_equal(oath_base32_decode(en.secret, strlen(en.secret), &raw, &raw_len), OATH_OK);
    free(raw);
    assert_int_equal(raw_len, 20);
}

static void test_begin_returns_otpauth_uri_with_the_secret(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    char want[128];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    assert_true(strncmp(en.otpauth_uri, "otpauth://totp/", 15) == 0);
    snprintf(want, sizeof want, "secret=%s", en.secret);
    assert_non_null(strstr(en.otpauth_uri, want));
    assert_non_null(strstr(en.otpauth_uri, "alice"));
}

static void test_two_enrolments_get_different_secrets(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment a, b;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &a), ERR_OK);
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &b), ERR_OK);
    assert_string_not_equal(a.secret, b.secret);
}

static void test_begin_keeps_the_secret_encrypted_and_pending(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    char *raw = NULL;
    size_t raw_len = 0;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    struct user_record rec = stored(u, "alice");
    assert_int_equal(rec.mfa_enabled, 0);
    assert_true(rec.mfa_pending_len > 0);
    assert_int_equal(oath_base32_decode(en.secret, strlen(en.secret), &raw, &raw_len), OATH_OK);
    assert_null(memmem(rec.mfa_pending, rec.mfa_pending_len, raw, raw_len));
    assert_null(memmem(rec.mfa_pending, rec.mfa_pending_len, en.secret, strlen(en.secret)));
    free(raw);
}

static void test_begin_for_sso_user_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    store_user(u, "carol", "ldap", NULL);
    store_user(u, "dave", "saml", NULL);
    unit_session_caller(&who, "carol");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_FORBIDDEN);
    unit_session_caller(&who, "dave");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_FORBIDDEN);
    assert_int_equal(stored(u, "carol").mfa_pending_len, 0);
}

static void test_begin_while_enabled_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    char b32[64];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_CONFLICT);
}

static void test_begin_without_server_key_is_unavailable(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_UNAVAILABLE);
}

/* ---- mfa_confirm ---- */

static void test_confirm_with_wrong_code_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    struct field_errors fe = {0};
    char code[7];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    wrong_code(en.secret, code);
    assert_int_equal(mfa_confirm(u->core, &who, code, GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_INVALID);
    assert_true(field_errors_has(&fe, "code"));
    assert_int_equal(stored(u, "alice").mfa_enabled, 0);
}

static void test_confirm_with_malformed_code_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    static const char *const bad[] = {"", "12345", "1234567", "12a456", " 12345"};
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct field_errors fe = {0};
        assert_int_equal(mfa_confirm(u->core, &who, bad[i], GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_INVALID);
        assert_true(field_errors_has(&fe, "code"));
    }
    assert_int_equal(stored(u, "alice").mfa_enabled, 0);
}

static void test_confirm_with_right_code_enables_mfa(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment en;
    struct field_errors fe = {0};
    struct user_record got;
    char code[7];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    totp(en.secret, step_now(), code);
    assert_int_equal(mfa_confirm(u->core, &who, code, GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_OK);
    assert_int_equal(fe.count, 0);
    assert_int_equal(users_get(u->core, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_enabled, 1);
    struct user_record rec = stored(u, "alice");
    assert_true(rec.mfa_secret_len > 0);
    assert_int_equal(rec.mfa_pending_len, 0);
}

static void test_confirm_with_code_of_previous_enrolment_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct mfa_enrolment first, second;
    struct field_errors fe = {0};
    char code[7], other[7];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &first), ERR_OK);
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &second), ERR_OK);
    int64_t now = step_now();
    totp(first.secret, now, code);
    totp(second.secret, now, other);
    if (strcmp(code, other) == 0)
        skip(); /* one chance in a million: the two secrets agree on this step */
    assert_int_equal(mfa_confirm(u->core, &who, code, GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_INVALID);
}

static void test_confirm_with_nothing_pending_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_confirm(u->core, &who, "123456", GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_CONFLICT);
}

static void test_confirm_when_already_enabled_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step + 1, code);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_confirm(u->core, &who, code, GOOD_PASSWORD, &fe, NULL, &(struct recovery_set){0}), ERR_CONFLICT);
}

/* ---- the login code check ---- */

static void test_check_accepts_next_steps_code_once(void **state)
{
    struct unit_core *u = *state;
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step + 1, code);
    struct user_record rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, code), ERR_OK);
    /* the same code again, even with the record read before it was used: a replay */
    assert_int_equal(login_code_check(u->core, u, &rec, code), ERR_LOGIN_FAILED);
    rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, code), ERR_LOGIN_FAILED);
}

static void test_check_refuses_the_confirming_codes_step(void **state)
{
    struct unit_core *u = *state;
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step, code);
    struct user_record rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, code), ERR_LOGIN_FAILED);
}

static void test_check_refuses_earlier_step_after_a_later_one(void **state)
{
    struct unit_core *u = *state;
    char b32[64], later[7], earlier[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa_at(u, "alice", -1, b32, &step); /* confirmed with the previous step's code */
    totp(b32, step + 2, later);                /* the next step */
    totp(b32, step + 1, earlier);              /* the current step: after the confirming one */
    struct user_record rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, later), ERR_OK);
    rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, earlier), ERR_LOGIN_FAILED);
}

static void test_check_refuses_wrong_code(void **state)
{
    struct unit_core *u = *state;
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    wrong_code(b32, code);
    struct user_record rec = stored(u, "alice");
    assert_int_equal(login_code_check(u->core, u, &rec, code), ERR_LOGIN_FAILED);
}

static void test_check_refuses_code_far_from_now(void **state)
{
    struct unit_core *u = *state;
    char b32[64], past[7], future[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step + 10, future);
    totp(b32, step - 10, past);
    struct user_record rec = stored(u, "alice");
    char near[3][7];
    for (int i = 0; i < 3; i++)
        totp(b32, step + i, near[i]);
    for (int i = 0; i < 3; i++)
        if (strcmp(future, near[i]) == 0)
            skip(); /* a collision with a code that is in the window */
    assert_int_equal(login_code_check(u->core, u, &rec, future), ERR_LOGIN_FAILED);
    assert_int_equal(login_code_check(u->core, u, &rec, past), ERR_LOGIN_FAILED);
}

/* ---- mfa_disable ---- */

static void test_disable_with_password_turns_mfa_off(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    char b32[64];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, NULL, GOOD_PASSWORD, &fe, NULL), ERR_OK);
    struct user_record rec = stored(u, "alice");
    assert_int_equal(rec.mfa_enabled, 0);
    assert_int_equal(rec.mfa_secret_len, 0);
}

static void test_disable_with_wrong_password_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    char b32[64];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, NULL, "not my password", &fe, NULL), ERR_INVALID);
    assert_true(fe.count > 0);
    assert_int_equal(stored(u, "alice").mfa_enabled, 1);
}

static void test_disable_with_current_code_turns_mfa_off(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step + 1, code);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, code, NULL, &fe, NULL), ERR_OK);
    assert_int_equal(stored(u, "alice").mfa_enabled, 0);
}

static void test_disable_with_wrong_code_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    wrong_code(b32, code);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, code, NULL, &fe, NULL), ERR_INVALID);
    assert_int_equal(stored(u, "alice").mfa_enabled, 1);
}

static void test_disable_when_off_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, NULL, GOOD_PASSWORD, &fe, NULL), ERR_CONFLICT);
}

static void test_enrol_again_after_disable(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct mfa_enrolment en;
    char b32[64], code[7];
    int64_t step;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa(u, "alice", b32, &step);
    totp(b32, step + 1, code);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, code, NULL, &fe, NULL), ERR_OK);
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &(struct field_errors){0}, NULL, &en), ERR_OK);
    assert_string_not_equal(en.secret, b32);
}

/* ---- the current password, and recovery codes ---- */

static void test_begin_with_wrong_password_is_invalid_and_starts_nothing(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct mfa_enrolment en;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, "not my password", &fe, NULL, &en), ERR_INVALID);
    assert_int_equal(fe.count, 1);
    assert_string_equal(fe.items[0].field, "current_password");
    assert_int_equal(stored(u, "alice").mfa_pending_len, 0);
}

static void test_confirm_with_wrong_password_is_invalid_and_stays_off(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct mfa_enrolment en;
    struct recovery_set codes;
    char code[7];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_begin(u->core, &who, GOOD_PASSWORD, &fe, NULL, &en), ERR_OK);
    totp(en.secret, step_now(), code);
    assert_int_equal(mfa_confirm(u->core, &who, code, "not my password", &fe, NULL, &codes),
                     ERR_INVALID);
    assert_string_equal(fe.items[0].field, "current_password");
    assert_int_equal(stored(u, "alice").mfa_enabled, 0);
}

static void test_confirm_gives_ten_distinct_codes_each_accepted(void **state)
{
    struct unit_core *u = *state;
    struct recovery_set codes;
    char b32[64];
    int64_t step, left = 0;
    uint8_t hash[STORE_HASH_LEN];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa_with_codes(u, "alice", 0, b32, &step, &codes);
    struct user_record rec = stored(u, "alice");
    for (int i = 0; i < RECOVERY_CODES; i++) {
        assert_int_equal(strlen(codes.text[i]), 19); /* xxxx-xxxx-xxxx-xxxx */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(codes.text[i], codes.text[j]);
        assert_true(mfa_login_recovery(u->core, &rec, codes.text[i], hash));
    }
    assert_int_equal(mfa_recovery_codes_left(u->core, "alice", &left), ERR_OK);
    assert_int_equal(left, RECOVERY_CODES);
}

static void test_recovery_code_input_ignores_case_and_dashes_refuses_others(void **state)
{
    struct unit_core *u = *state;
    struct recovery_set codes;
    char b32[64], typed[40];
    int64_t step;
    uint8_t hash[STORE_HASH_LEN];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa_with_codes(u, "alice", 0, b32, &step, &codes);
    struct user_record rec = stored(u, "alice");
    size_t n = 0;
    for (const char *p = codes.text[0]; *p; p++) /* as typed: upper case, spaces for dashes */
        typed[n++] = *p == '-' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    typed[n] = '\0';
    assert_true(mfa_login_recovery(u->core, &rec, typed, hash));
    snprintf(typed, sizeof typed, "%sa", codes.text[0]); /* one character too many */
    assert_false(mfa_login_recovery(u->core, &rec, typed, hash));
    snprintf(typed, sizeof typed, "%s", codes.text[0]);
    typed[0] = typed[0] == 'a' ? 'b' : 'a'; /* another code */
    assert_false(mfa_login_recovery(u->core, &rec, typed, hash));
    assert_false(mfa_login_recovery(u->core, &rec, "123456", hash));
    assert_false(recovery_hash_input("0000-1111-8888-9999", hash)); /* not base32 */
}

static void test_regenerated_codes_replace_the_old_ones(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct recovery_set old, fresh;
    char b32[64];
    int64_t step;
    uint8_t hash[STORE_HASH_LEN];
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa_with_codes(u, "alice", 0, b32, &step, &old);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_recovery_regenerate(u->core, &who, "wrong password", &fe, NULL, &fresh),
                     ERR_INVALID);
    struct user_record rec = stored(u, "alice");
    assert_true(mfa_login_recovery(u->core, &rec, old.text[0], hash));
    fe.count = 0;
    assert_int_equal(mfa_recovery_regenerate(u->core, &who, GOOD_PASSWORD, &fe, NULL, &fresh),
                     ERR_OK);
    for (int i = 0; i < RECOVERY_CODES; i++) {
        assert_false(mfa_login_recovery(u->core, &rec, old.text[i], hash));
        assert_true(mfa_login_recovery(u->core, &rec, fresh.text[i], hash));
    }
}

static void test_regenerate_with_mfa_off_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct recovery_set codes;
    int64_t left = -1;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_recovery_regenerate(u->core, &who, GOOD_PASSWORD, &fe, NULL, &codes),
                     ERR_CONFLICT);
    assert_int_equal(mfa_recovery_codes_left(u->core, "alice", &left), ERR_OK);
    assert_int_equal(left, 0);
}

static void test_disable_with_recovery_code_turns_mfa_off_and_drops_the_codes(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct recovery_set codes;
    char b32[64];
    int64_t step, left = -1;
    store_user(u, "alice", "local", GOOD_PASSWORD);
    enable_mfa_with_codes(u, "alice", 0, b32, &step, &codes);
    unit_session_caller(&who, "alice");
    assert_int_equal(mfa_disable(u->core, &who, codes.text[3], NULL, &fe, NULL), ERR_OK);
    assert_int_equal(stored(u, "alice").mfa_enabled, 0);
    assert_int_equal(mfa_recovery_codes_left(u->core, "alice", &left), ERR_OK);
    assert_int_equal(left, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int run_mfa_tests(void)
{
    const struct CMUnitTest tests[] = {
        T(test_begin_returns_base32_secret_of_160_bits),
        T(test_begin_returns_otpauth_uri_with_the_secret),
        T(test_two_enrolments_get_different_secrets),
        T(test_begin_keeps_the_secret_encrypted_and_pending),
        T(test_begin_for_sso_user_is_forbidden),
        T(test_begin_while_enabled_is_conflict),
        cmocka_unit_test_setup_teardown(test_begin_without_server_key_is_unavailable,
                                        setup_without_key, teardown),
        T(test_confirm_with_wrong_code_is_invalid),
        T(test_confirm_with_malformed_code_is_invalid),
        T(test_confirm_with_right_code_enables_mfa),
        T(test_confirm_with_code_of_previous_enrolment_is_invalid),
        T(test_confirm_with_nothing_pending_is_conflict),
        T(test_confirm_when_already_enabled_is_conflict),
        T(test_check_accepts_next_steps_code_once),
        T(test_check_refuses_the_confirming_codes_step),
        T(test_check_refuses_earlier_step_after_a_later_one),
        T(test_check_refuses_wrong_code),
        T(test_check_refuses_code_far_from_now),
        T(test_disable_with_password_turns_mfa_off),
        T(test_disable_with_wrong_password_is_invalid),
        T(test_disable_with_current_code_turns_mfa_off),
        T(test_disable_with_wrong_code_is_invalid),
        T(test_disable_when_off_is_conflict),
        T(test_enrol_again_after_disable),
        T(test_begin_with_wrong_password_is_invalid_and_starts_nothing),
        T(test_confirm_with_wrong_password_is_invalid_and_stays_off),
        T(test_confirm_gives_ten_distinct_codes_each_accepted),
        T(test_recovery_code_input_ignores_case_and_dashes_refuses_others),
        T(test_regenerated_codes_replace_the_old_ones),
        T(test_regenerate_with_mfa_off_is_conflict),
        T(test_disable_with_recovery_code_turns_mfa_off_and_drops_the_codes),
    };
    return cmocka_run_group_tests_name("mfa", tests, NULL, NULL);
}

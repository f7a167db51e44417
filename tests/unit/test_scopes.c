/* test_scopes.c — the scope catalogue (src/core/scopes.h) on a SQLite store in a temporary
 * directory (src/store/store.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/scopes.h"
#include "unit.h"

static const char *const defaults[] = {"Authentication", "PublishApp", "PublishAimms",
                                       "Tasks",          "APIKey",     "Session",
                                       "Secret",         "User",       "Account"};
#define NDEFAULTS 9

struct fixture {
    char *dir;
    struct store *st;
    struct scopes *sc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->dir = unit_tempdir();
    if (store_sqlite_open(f->dir, &f->st) != ERR_OK || scopes_load(f->st, &f->sc) != ERR_OK) {
        if (f->st)
            f->st->ops->close(f->st);
        unit_rmtree(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    scopes_free(f->sc);
    if (f->st)
        f->st->ops->close(f->st);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

struct listing {
    size_t count;
    char names[SCOPES_MAX + 4][STORE_NAME_MAX + 1];
    char last_desc[64];
    size_t stop_after; /* 0 = never stop */
};

static int collect(void *ctx, const char *name, const char *desc)
{
    struct listing *l = ctx;
    if (l->count < sizeof l->names / sizeof l->names[0])
        snprintf(l->names[l->count], sizeof l->names[0], "%s", name);
    snprintf(l->last_desc, sizeof l->last_desc, "%s", desc);
    l->count++;
    return l->stop_after && l->count >= l->stop_after;
}

static size_t catalogue_size(struct scopes *sc)
{
    struct listing l;
    memset(&l, 0, sizeof l);
    scopes_each(sc, collect, &l);
    return l.count;
}

static void test_defaults_are_the_nine_in_order(void **state)
{
    struct fixture *f = *state;
    struct listing l;
    memset(&l, 0, sizeof l);
    scopes_each(f->sc, collect, &l);
    assert_int_equal(l.count, NDEFAULTS);
    for (size_t i = 0; i < NDEFAULTS; i++)
        assert_string_equal(l.names[i], defaults[i]);
}

static void test_default_scopes_have_descriptions(void **state)
{
    struct fixture *f = *state;
    struct listing l;
    memset(&l, 0, sizeof l);
    l.stop_after = 1;
    scopes_each(f->sc, collect, &l);
    assert_true(strlen(l.last_desc) > 0);
}

static void test_each_stops_when_callback_returns_nonzero(void **state)
{
    struct fixture *f = *state;
    struct listing l;
    memset(&l, 0, sizeof l);
    l.stop_after = 3;
    scopes_each(f->sc, collect, &l);
    assert_int_equal(l.count, 3);
}

static void test_bit_is_catalogue_position(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < NDEFAULTS; i++)
        assert_int_equal(scopes_bit(f->sc, defaults[i]), i);
}

static void test_bit_of_unknown_scope_is_minus_1(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_bit(f->sc, "Nope"), -1);
    assert_int_equal(scopes_bit(f->sc, ""), -1);
    assert_int_equal(scopes_bit(f->sc, "apikey"), -1); /* names are case-sensitive */
    assert_int_equal(scopes_bit(f->sc, "APIKey "), -1);
}

static void test_mask_from_csv_sets_named_bits(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_mask_from_csv(f->sc, "APIKey,Tasks"), (1u << 4) | (1u << 3));
    assert_int_equal(scopes_mask_from_csv(f->sc, "Authentication"), 1u);
    assert_int_equal(scopes_mask_from_csv(f->sc, "Account"), 1u << 8);
}

static void test_mask_from_csv_skips_unknown_and_empty_names(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_mask_from_csv(f->sc, ""), 0);
    assert_int_equal(scopes_mask_from_csv(f->sc, "Nope"), 0);
    assert_int_equal(scopes_mask_from_csv(f->sc, "Nope,Secret,,"), 1u << 6);
    assert_int_equal(scopes_mask_from_csv(f->sc, ",,Tasks,"), 1u << 3);
}

static void test_mask_from_csv_ignores_overlong_name(void **state)
{
    struct fixture *f = *state;
    char csv[400];
    memset(csv, 'A', 300);
    snprintf(csv + 300, sizeof csv - 300, ",User");
    assert_int_equal(scopes_mask_from_csv(f->sc, csv), 1u << 7);
}

static void test_mask_to_text_lists_in_catalogue_order(void **state)
{
    struct fixture *f = *state;
    char out[256];
    scopes_mask_to_text(f->sc, (1u << 4) | 1u | (1u << 8), ", ", out, sizeof out);
    assert_string_equal(out, "Authentication, APIKey, Account");
}

static void test_mask_to_text_of_zero_is_empty(void **state)
{
    struct fixture *f = *state;
    char out[16] = "junk";
    scopes_mask_to_text(f->sc, 0, ",", out, sizeof out);
    assert_string_equal(out, "");
}

static void test_mask_to_text_ignores_bits_past_catalogue(void **state)
{
    struct fixture *f = *state;
    char out[256];
    scopes_mask_to_text(f->sc, (UINT64_C(1) << 63) | (UINT64_C(1) << 20) | (1u << 5), ",", out,
                        sizeof out);
    assert_string_equal(out, "Session");
}

static void test_mask_round_trips_through_text(void **state)
{
    struct fixture *f = *state;
    char out[1024];
    uint64_t all = (UINT64_C(1) << NDEFAULTS) - 1;
    for (uint64_t mask = 0; mask <= all; mask += 37) {
        scopes_mask_to_text(f->sc, mask, ",", out, sizeof out);
        assert_int_equal(scopes_mask_from_csv(f->sc, out), mask);
    }
}

static void test_mask_to_text_stays_within_cap(void **state)
{
    struct fixture *f = *state;
    char out[24];
    memset(out, 'x', sizeof out);
    scopes_mask_to_text(f->sc, (UINT64_C(1) << NDEFAULTS) - 1, ",", out, 20);
    assert_non_null(memchr(out, '\0', 20));
    assert_int_equal(out[20], 'x');
}

static void test_name_valid_accepts_documented_characters(void **state)
{
    (void)state;
    assert_int_equal(scopes_name_valid("Billing"), 1);
    assert_int_equal(scopes_name_valid("billing.read:v1-x_y"), 1);
    assert_int_equal(scopes_name_valid("a"), 1);
    char s[65];
    memset(s, 'z', 64);
    s[64] = '\0';
    assert_int_equal(scopes_name_valid(s), 1);
}

static void test_name_valid_refuses_empty_long_and_other_characters(void **state)
{
    (void)state;
    char s[66];
    memset(s, 'z', 65);
    s[65] = '\0';
    assert_int_equal(scopes_name_valid(s), 0);
    assert_int_equal(scopes_name_valid(""), 0);
    const char *bad[] = {"a b", "a/b", "a,b", "a\xc3\xa9", "a*", "a\n", "a@b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(scopes_name_valid(bad[i]), 0);
}

static void test_description_valid_accepts_up_to_1000_characters(void **state)
{
    (void)state;
    char *d = malloc(4001);
    assert_non_null(d);
    assert_int_equal(scopes_description_valid(""), 1);
    memset(d, 'd', 1000);
    d[1000] = '\0';
    assert_int_equal(scopes_description_valid(d), 1);
    for (int i = 0; i < 1000; i++)
        memcpy(d + 4 * i, "\xf0\x9f\x98\x80", 4);
    d[4000] = '\0';
    assert_int_equal(scopes_description_valid(d), 1);
    free(d);
}

static void test_description_valid_refuses_1001_characters(void **state)
{
    (void)state;
    char d[1002];
    memset(d, 'd', 1001);
    d[1001] = '\0';
    assert_int_equal(scopes_description_valid(d), 0);
}

static void test_description_valid_allows_only_tab_and_newline_controls(void **state)
{
    (void)state;
    assert_int_equal(scopes_description_valid("one\n\ttwo"), 1);
    assert_int_equal(scopes_description_valid("cr\r"), 0);
    assert_int_equal(scopes_description_valid("nul\x01"), 0);
    assert_int_equal(scopes_description_valid("del\x7f"), 0);
    assert_int_equal(scopes_description_valid("c1\xc2\x9b"), 0);
}

static void test_add_appends_custom_scope_with_next_bit(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "Billing.read", "Read invoices"), ERR_OK);
    assert_int_equal(scopes_bit(f->sc, "Billing.read"), NDEFAULTS);
    assert_int_equal(scopes_bit(f->sc, "Account"), NDEFAULTS - 1);
    struct listing l;
    memset(&l, 0, sizeof l);
    scopes_each(f->sc, collect, &l);
    assert_int_equal(l.count, NDEFAULTS + 1);
    assert_string_equal(l.names[NDEFAULTS], "Billing.read");
    assert_string_equal(l.last_desc, "Read invoices");
}

static void test_added_scope_is_kept_in_store(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "Invoices"), ERR_OK);
    assert_int_equal(scopes_add(f->sc, f->st, "Reports", ""), ERR_OK);
    struct scopes *again = NULL;
    assert_int_equal(scopes_load(f->st, &again), ERR_OK);
    assert_int_equal(scopes_bit(again, "Billing"), NDEFAULTS);
    assert_int_equal(scopes_bit(again, "Reports"), NDEFAULTS + 1);
    assert_int_equal(catalogue_size(again), NDEFAULTS + 2);
    scopes_free(again);
}

static void test_added_scope_survives_store_reopen(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "Invoices"), ERR_OK);
    scopes_free(f->sc);
    f->sc = NULL;
    f->st->ops->close(f->st);
    f->st = NULL;
    assert_int_equal(store_sqlite_open(f->dir, &f->st), ERR_OK);
    assert_int_equal(scopes_load(f->st, &f->sc), ERR_OK);
    assert_int_equal(scopes_bit(f->sc, "Billing"), NDEFAULTS);
    assert_int_equal(catalogue_size(f->sc), NDEFAULTS + 1);
}

static void test_added_scope_works_in_masks(void **state)
{
    struct fixture *f = *state;
    char out[256];
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "Invoices"), ERR_OK);
    uint64_t mask = scopes_mask_from_csv(f->sc, "Billing,Tasks");
    assert_int_equal(mask, (UINT64_C(1) << NDEFAULTS) | (1u << 3));
    scopes_mask_to_text(f->sc, mask, ",", out, sizeof out);
    assert_string_equal(out, "Tasks,Billing");
}

static void test_add_duplicate_custom_scope_is_conflict(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "Invoices"), ERR_OK);
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "Other"), ERR_CONFLICT);
    assert_int_equal(catalogue_size(f->sc), NDEFAULTS + 1);
}

static void test_add_duplicate_default_scope_is_conflict(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "APIKey", "again"), ERR_CONFLICT);
    assert_int_equal(catalogue_size(f->sc), NDEFAULTS);
}

static void test_add_invalid_name_is_invalid(void **state)
{
    struct fixture *f = *state;
    char longname[66];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    assert_int_equal(scopes_add(f->sc, f->st, "", "x"), ERR_INVALID);
    assert_int_equal(scopes_add(f->sc, f->st, "has space", "x"), ERR_INVALID);
    assert_int_equal(scopes_add(f->sc, f->st, "comma,name", "x"), ERR_INVALID);
    assert_int_equal(scopes_add(f->sc, f->st, longname, "x"), ERR_INVALID);
    assert_int_equal(catalogue_size(f->sc), NDEFAULTS);
}

static void test_add_overlong_description_is_invalid(void **state)
{
    struct fixture *f = *state;
    char desc[1002];
    memset(desc, 'd', 1001);
    desc[1001] = '\0';
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", desc), ERR_INVALID);
    desc[1000] = '\0';
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", desc), ERR_OK);
}

static void test_add_description_counts_characters_not_bytes(void **state)
{
    struct fixture *f = *state;
    /* 1000 four-byte characters: 4000 bytes, at the limit */
    char *desc = malloc(4001);
    assert_non_null(desc);
    for (int i = 0; i < 1000; i++)
        memcpy(desc + 4 * i, "\xf0\x9f\x98\x80", 4);
    desc[4000] = '\0';
    assert_int_equal(scopes_add(f->sc, f->st, "Emoji", desc), ERR_OK);
    free(desc);
}

static void test_add_description_with_control_character_is_invalid(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "bad\x01"), ERR_INVALID);
    assert_int_equal(scopes_add(f->sc, f->st, "Billing", "line one\nline two"), ERR_OK);
}

static void test_add_beyond_64_scopes_is_limit(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = NDEFAULTS; i < SCOPES_MAX; i++) {
        snprintf(name, sizeof name, "Custom%d", i);
        assert_int_equal(scopes_add(f->sc, f->st, name, "x"), ERR_OK);
        assert_int_equal(scopes_bit(f->sc, name), i);
    }
    assert_int_equal(catalogue_size(f->sc), SCOPES_MAX);
    assert_int_equal(scopes_add(f->sc, f->st, "OneTooMany", "x"), ERR_LIMIT);
    assert_int_equal(catalogue_size(f->sc), SCOPES_MAX);
    assert_int_equal(scopes_bit(f->sc, "OneTooMany"), -1);
    /* the 64th scope uses the top bit */
    assert_int_equal(scopes_mask_from_csv(f->sc, "Custom63"), UINT64_C(1) << 63);
    /* and a full catalogue reloads whole */
    struct scopes *again = NULL;
    assert_int_equal(scopes_load(f->st, &again), ERR_OK);
    assert_int_equal(catalogue_size(again), SCOPES_MAX);
    scopes_free(again);
}

static void test_duplicate_is_conflict_even_when_full(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = NDEFAULTS; i < SCOPES_MAX; i++) {
        snprintf(name, sizeof name, "Custom%d", i);
        assert_int_equal(scopes_add(f->sc, f->st, name, "x"), ERR_OK);
    }
    assert_int_equal(scopes_add(f->sc, f->st, "Custom20", "x"), ERR_CONFLICT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int run_scopes_tests(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults_are_the_nine_in_order),
        T(test_default_scopes_have_descriptions),
        T(test_each_stops_when_callback_returns_nonzero),
        T(test_bit_is_catalogue_position),
        T(test_bit_of_unknown_scope_is_minus_1),
        T(test_mask_from_csv_sets_named_bits),
        T(test_mask_from_csv_skips_unknown_and_empty_names),
        T(test_mask_from_csv_ignores_overlong_name),
        T(test_mask_to_text_lists_in_catalogue_order),
        T(test_mask_to_text_of_zero_is_empty),
        T(test_mask_to_text_ignores_bits_past_catalogue),
        T(test_mask_round_trips_through_text),
        T(test_mask_to_text_stays_within_cap),
        cmocka_unit_test(test_name_valid_accepts_documented_characters),
        cmocka_unit_test(test_name_valid_refuses_empty_long_and_other_characters),
        cmocka_unit_test(test_description_valid_accepts_up_to_1000_characters),
        cmocka_unit_test(test_description_valid_refuses_1001_characters),
        cmocka_unit_test(test_description_valid_allows_only_tab_and_newline_controls),
        T(test_add_appends_custom_scope_with_next_bit),
        T(test_added_scope_is_kept_in_store),
        T(test_added_scope_survives_store_reopen),
        T(test_added_scope_works_in_masks),
        T(test_add_duplicate_custom_scope_is_conflict),
        T(test_add_duplicate_default_scope_is_conflict),
        T(test_add_invalid_name_is_invalid),
        T(test_add_overlong_description_is_invalid),
        T(test_add_description_counts_characters_not_bytes),
        T(test_add_description_with_control_character_is_invalid),
        T(test_add_beyond_64_scopes_is_limit),
        T(test_duplicate_is_conflict_even_when_full),
    };
    return cmocka_run_group_tests_name("scopes", tests, NULL, NULL);
}

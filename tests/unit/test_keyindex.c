/* test_keyindex.c — the in-memory verification index (src/core/keyindex.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/keyindex.h"
#include "unit.h"

/* A realistic (uniform) hash: SHA-256 of "key-<i>". */
static void hash_of(int i, uint8_t out[STORE_HASH_LEN])
{
    char text[32];
    int n = snprintf(text, sizeof text, "key-%d", i);
    crypto_hash_sha256(out, (const unsigned char *)text, (unsigned long long)n);
}

/* A hash whose first 8 bytes (the home slot) are home, the rest telling entries apart. */
static void colliding_hash(uint64_t home, int i, uint8_t out[STORE_HASH_LEN])
{
    memset(out, 0, STORE_HASH_LEN);
    memcpy(out, &home, sizeof home);
    out[8] = (uint8_t)(i >> 8);
    out[9] = (uint8_t)i;
    out[31] = 0x5a;
}

static void view_of(int i, struct keyindex_view *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%024x", (unsigned)i);
    snprintf(v->owner_type, sizeof v->owner_type, "user");
    snprintf(v->owner_id, sizeof v->owner_id, "owner-%d", i);
    snprintf(v->created_by, sizeof v->created_by, "creator-%d", i);
    v->scopes = (uint64_t)i * 2654435761u;
    v->expires_at = 2000000000 + i;
}

static void put(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN], int i)
{
    struct keyindex_view v;
    view_of(i, &v);
    assert_int_equal(keyindex_put(ix, hash, &v), ERR_OK);
}

static void assert_finds(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN], int i)
{
    struct keyindex_view got, want;
    view_of(i, &want);
    memset(&got, 0, sizeof got);
    if (!keyindex_lookup(ix, hash, 0, NULL, &got))
        fail_msg("entry %d not found", i);
    assert_string_equal(got.id, want.id);
    assert_string_equal(got.owner_type, want.owner_type);
    assert_string_equal(got.owner_id, want.owner_id);
    assert_string_equal(got.created_by, want.created_by);
    assert_int_equal(got.scopes, want.scopes);
    assert_int_equal(got.expires_at, want.expires_at);
    assert_int_equal(got.disabled, 0);
}

static int finds(struct keyindex *ix, const uint8_t hash[STORE_HASH_LEN])
{
    struct keyindex_view got;
    return keyindex_lookup(ix, hash, 0, NULL, &got);
}

/* The index and scratch memory of the running test; teardown frees them, also when an
 * assertion ended the test early. */
static struct keyindex *current;
static void *scratch[2];

static struct keyindex *fresh(void)
{
    current = keyindex_new();
    assert_non_null(current);
    return current;
}

static void *scratch_alloc(int slot, size_t size)
{
    scratch[slot] = malloc(size);
    assert_non_null(scratch[slot]);
    return scratch[slot];
}

static int teardown(void **state)
{
    (void)state;
    keyindex_free(current);
    current = NULL;
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++) {
        free(scratch[i]);
        scratch[i] = NULL;
    }
    return 0;
}

static void test_new_index_is_empty(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    hash_of(1, h);
    assert_int_equal(keyindex_count(ix), 0);
    assert_int_equal(finds(ix, h), 0);
}

static void test_put_then_lookup_returns_view(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    hash_of(7, h);
    put(ix, h, 7);
    assert_int_equal(keyindex_count(ix), 1);
    assert_finds(ix, h, 7);
}

static void test_lookup_of_absent_hash_returns_0(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN], other[STORE_HASH_LEN];
    hash_of(1, h);
    hash_of(2, other);
    put(ix, h, 1);
    assert_int_equal(finds(ix, other), 0);
}

static void test_hashes_differing_in_last_byte_are_distinct(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    hash_of(1, a);
    memcpy(b, a, sizeof b);
    b[31] ^= 1;
    put(ix, a, 1);
    assert_int_equal(finds(ix, b), 0);
    put(ix, b, 2);
    assert_int_equal(keyindex_count(ix), 2);
    assert_finds(ix, a, 1);
    assert_finds(ix, b, 2);
}

static void test_put_existing_hash_replaces_view(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    hash_of(1, h);
    put(ix, h, 1);
    put(ix, h, 99);
    assert_int_equal(keyindex_count(ix), 1);
    assert_finds(ix, h, 99);
}

static void test_disabling_owner_disables_all_their_keys_at_once(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], other[STORE_HASH_LEN];
    struct keyindex_view v, got;
    hash_of(1, h1);
    hash_of(2, h2);
    hash_of(3, other);
    view_of(1, &v);
    assert_int_equal(keyindex_put(ix, h1, &v), ERR_OK);
    assert_int_equal(keyindex_put(ix, h2, &v), ERR_OK); /* same owner, owner-1 */
    put(ix, other, 3);                                   /* owner-3 */
    assert_int_equal(keyindex_set_owner_disabled(ix, "user", "owner-1", 1), ERR_OK);
    assert_int_equal(keyindex_lookup(ix, h1, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 1);
    assert_int_equal(keyindex_lookup(ix, h2, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 1);
    assert_int_equal(keyindex_lookup(ix, other, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 0);
    assert_int_equal(keyindex_set_owner_disabled(ix, "user", "owner-1", 0), ERR_OK);
    assert_int_equal(keyindex_lookup(ix, h1, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 0);
}

static void test_owner_disabled_before_any_key_applies_to_later_keys(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view got;
    assert_int_equal(keyindex_set_owner_disabled(ix, "user", "owner-1", 1), ERR_OK);
    hash_of(1, h);
    put(ix, h, 1);
    assert_int_equal(keyindex_lookup(ix, h, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 1);
}

static void test_put_ignores_disabled_in_view(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v, got;
    hash_of(1, h);
    view_of(1, &v);
    v.disabled = 1; /* the owner's state governs, not the view */
    assert_int_equal(keyindex_put(ix, h, &v), ERR_OK);
    assert_int_equal(keyindex_lookup(ix, h, 0, NULL, &got), 1);
    assert_int_equal(got.disabled, 0);
}

static void test_remove_owner_removes_only_their_keys(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[10][STORE_HASH_LEN];
    struct keyindex_view v, got;
    for (int i = 0; i < 10; i++) {
        hash_of(i, h[i]);
        view_of(i % 2 ? 1 : 2, &v); /* odd -> owner-1, even -> owner-2 */
        assert_int_equal(keyindex_put(ix, h[i], &v), ERR_OK);
    }
    assert_int_equal(keyindex_remove_owner(ix, "user", "owner-1"), 5);
    assert_int_equal(keyindex_count(ix), 5);
    for (int i = 0; i < 10; i++)
        assert_int_equal(keyindex_lookup(ix, h[i], 0, NULL, &got), i % 2 ? 0 : 1);
    assert_int_equal(keyindex_remove_owner(ix, "user", "owner-1"), 0);
    assert_int_equal(keyindex_remove_owner(ix, "user", "nobody"), 0);
}

static void test_remove_makes_key_unfindable(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    hash_of(1, h);
    put(ix, h, 1);
    keyindex_remove(ix, h);
    assert_int_equal(finds(ix, h), 0);
    assert_int_equal(keyindex_count(ix), 0);
}

static void test_remove_of_absent_hash_is_noop(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN], other[STORE_HASH_LEN];
    hash_of(1, h);
    hash_of(2, other);
    put(ix, h, 1);
    keyindex_remove(ix, other);
    keyindex_remove(ix, other);
    assert_int_equal(keyindex_count(ix), 1);
    assert_finds(ix, h, 1);
}

static void test_removed_key_can_be_put_again(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    hash_of(1, h);
    put(ix, h, 1);
    keyindex_remove(ix, h);
    put(ix, h, 2);
    assert_int_equal(keyindex_count(ix), 1);
    assert_finds(ix, h, 2);
}

#define MANY 50000

static uint8_t (*many_hashes(void))[STORE_HASH_LEN]
{
    uint8_t(*hashes)[STORE_HASH_LEN] = scratch_alloc(0, MANY * sizeof *hashes);
    for (int i = 0; i < MANY; i++)
        hash_of(i, hashes[i]);
    return hashes;
}

static void test_many_keys_force_growth_and_stay_findable(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t(*hashes)[STORE_HASH_LEN] = many_hashes();
    for (int i = 0; i < MANY; i++)
        put(ix, hashes[i], i);
    assert_int_equal(keyindex_count(ix), MANY);
    for (int i = 0; i < MANY; i++)
        assert_finds(ix, hashes[i], i);
}

static void test_removing_every_other_key_keeps_the_rest_findable(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t(*hashes)[STORE_HASH_LEN] = many_hashes();
    for (int i = 0; i < MANY; i++)
        put(ix, hashes[i], i);
    for (int i = 0; i < MANY; i += 2)
        keyindex_remove(ix, hashes[i]);
    assert_int_equal(keyindex_count(ix), MANY / 2);
    for (int i = 0; i < MANY; i++) {
        if (i % 2)
            assert_finds(ix, hashes[i], i);
        else if (finds(ix, hashes[i]))
            fail_msg("removed entry %d still found", i);
    }
}

static void test_removing_all_keys_empties_index(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t(*hashes)[STORE_HASH_LEN] = many_hashes();
    for (int i = 0; i < 5000; i++)
        put(ix, hashes[i], i);
    for (int i = 4999; i >= 0; i--) {
        keyindex_remove(ix, hashes[i]);
        if (i > 0)
            assert_finds(ix, hashes[i - 1], i - 1);
    }
    assert_int_equal(keyindex_count(ix), 0);
    for (int i = 0; i < 5000; i++)
        put(ix, hashes[i], i + 1);
    for (int i = 0; i < 5000; i++)
        assert_finds(ix, hashes[i], i + 1);
}

static void test_colliding_hashes_survive_removal_from_middle_of_run(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    enum { N = 40 };
    uint8_t h[N][STORE_HASH_LEN];
    for (int i = 0; i < N; i++) {
        colliding_hash(5, i, h[i]);
        put(ix, h[i], i);
    }
    for (int i = 1; i < N; i += 3)
        keyindex_remove(ix, h[i]);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 1)
            assert_int_equal(finds(ix, h[i]), 0);
        else
            assert_finds(ix, h[i], i);
    }
}

static void test_interleaved_probe_runs_survive_removal(void **state)
{
    (void)state;
    /* entries whose homes are 100, 101, 102 share one run; removing from it must not strand
     * an entry behind a hole or move one before its home */
    struct keyindex *ix = fresh();
    enum { N = 30 };
    uint8_t h[N][STORE_HASH_LEN];
    for (int i = 0; i < N; i++) {
        colliding_hash(100 + (uint64_t)(i % 3), i, h[i]);
        put(ix, h[i], i);
    }
    for (int i = 0; i < N; i += 4)
        keyindex_remove(ix, h[i]);
    for (int i = 0; i < N; i++) {
        if (i % 4 == 0)
            assert_int_equal(finds(ix, h[i]), 0);
        else
            assert_finds(ix, h[i], i);
    }
}

static void test_probe_run_wrapping_past_table_end_survives_removal(void **state)
{
    (void)state;
    /* homes at the very end of any power-of-two table (all low bits set), so the run wraps
     * round to slot 0; plus entries homed at slot 0 and 1 */
    struct keyindex *ix = fresh();
    enum { N = 24 };
    uint8_t h[N][STORE_HASH_LEN];
    for (int i = 0; i < N; i++) {
        uint64_t home = i < 12 ? UINT64_MAX - (uint64_t)(i % 2) : (uint64_t)(i % 2);
        colliding_hash(home, i, h[i]);
        put(ix, h[i], i);
    }
    for (int i = 0; i < N; i += 3)
        keyindex_remove(ix, h[i]);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            assert_int_equal(finds(ix, h[i]), 0);
        else
            assert_finds(ix, h[i], i);
    }
}

static void test_lookup_without_touch_queues_nothing(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    assert_int_equal(finds(ix, h), 1);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 0);
}

static void test_touch_is_drained_with_its_time(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    assert_int_equal(keyindex_lookup(ix, h, 1700000000, NULL, &v), 1);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    assert_memory_equal(out[0].hash, h, STORE_HASH_LEN);
    assert_int_equal(out[0].last_used_at, 1700000000);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 0);
}

static void test_repeated_touches_queue_once(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(keyindex_lookup(ix, h, 1700000000, NULL, &v), 1);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
}

static void test_later_touch_before_drain_reports_latest_time(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    keyindex_lookup(ix, h, 1700000000, NULL, &v);
    keyindex_lookup(ix, h, 1700000005, NULL, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    assert_int_equal(out[0].last_used_at, 1700000005);
}

static void test_touch_after_drain_is_queued_again(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    keyindex_lookup(ix, h, 1700000000, NULL, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    keyindex_lookup(ix, h, 1700000010, NULL, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    assert_int_equal(out[0].last_used_at, 1700000010);
}

static void test_same_time_after_drain_is_not_queued_again(void **state)
{
    (void)state;
    /* "queued for the store when it changed" */
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    put(ix, h, 1);
    keyindex_lookup(ix, h, 1700000000, NULL, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    keyindex_lookup(ix, h, 1700000000, NULL, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 0);
}

static void test_removed_key_touch_is_skipped(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, a);
    hash_of(2, b);
    put(ix, a, 1);
    put(ix, b, 2);
    keyindex_lookup(ix, a, 1700000000, NULL, &v);
    keyindex_lookup(ix, b, 1700000001, NULL, &v);
    keyindex_remove(ix, a);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 1);
    assert_memory_equal(out[0].hash, b, STORE_HASH_LEN);
    assert_int_equal(out[0].last_used_at, 1700000001);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 0);
}

static void test_lookup_of_absent_key_with_touch_queues_nothing(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[4];
    hash_of(1, h);
    assert_int_equal(keyindex_lookup(ix, h, 1700000000, NULL, &v), 0);
    assert_int_equal(keyindex_drain_touches(ix, out, 4), 0);
}

static void test_drain_respects_max(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[3][STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[3];
    for (int i = 0; i < 3; i++) {
        hash_of(i, h[i]);
        put(ix, h[i], i);
        keyindex_lookup(ix, h[i], 1700000000 + i, NULL, &v);
    }
    assert_int_equal(keyindex_drain_touches(ix, out, 2), 2);
    assert_int_equal(keyindex_drain_touches(ix, out + 2, 2), 1);
    assert_int_equal(keyindex_drain_touches(ix, out, 2), 0);
    /* every key was reported once with its own time */
    for (int i = 0; i < 3; i++) {
        int seen = 0;
        for (int j = 0; j < 3; j++)
            if (memcmp(out[j].hash, h[i], STORE_HASH_LEN) == 0) {
                seen++;
                assert_int_equal(out[j].last_used_at, 1700000000 + i);
            }
        assert_int_equal(seen, 1);
    }
}

static void test_many_touches_all_drain(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    enum { N = 3000 };
    uint8_t(*hashes)[STORE_HASH_LEN] = scratch_alloc(0, N * sizeof *hashes);
    struct key_touch *out = scratch_alloc(1, N * sizeof *out);
    struct keyindex_view v;
    for (int i = 0; i < N; i++) {
        hash_of(i, hashes[i]);
        put(ix, hashes[i], i);
        keyindex_lookup(ix, hashes[i], 1700000000, NULL, &v);
    }
    size_t total = 0, n;
    while ((n = keyindex_drain_touches(ix, out + total, 256)) > 0)
        total += n;
    assert_int_equal(total, N);
}

static void test_same_address_queues_the_key_once_with_its_address(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[8];
    struct netaddr a;
    hash_of(1, h);
    put(ix, h, 1);
    assert_int_equal(netaddr_parse("198.51.100.7", &a), 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(keyindex_lookup(ix, h, 1700000000 + i, &a, &v), 1);
    assert_int_equal(keyindex_drain_touches(ix, out, 8), 1);
    assert_int_equal(out[0].last_used_at, 1700000009);
    assert_string_equal(out[0].from, "198.51.100.7");
}

static void test_moving_address_keeps_the_old_one_with_its_last_time_in_order(void **state)
{
    (void)state;
    struct keyindex *ix = fresh();
    uint8_t h[STORE_HASH_LEN];
    struct keyindex_view v;
    struct key_touch out[8];
    struct netaddr a, b;
    hash_of(1, h);
    put(ix, h, 1);
    netaddr_parse("198.51.100.7", &a);
    netaddr_parse("::ffff:203.0.113.1", &b); /* IPv4-mapped: written as IPv4 */
    keyindex_lookup(ix, h, 1700000000, &a, &v);
    keyindex_lookup(ix, h, 1700000003, &a, &v);
    keyindex_lookup(ix, h, 1700000005, &b, &v);
    keyindex_lookup(ix, h, 1700000006, &a, &v);
    assert_int_equal(keyindex_drain_touches(ix, out, 8), 3);
    assert_string_equal(out[0].from, "198.51.100.7"); /* left at 1700000005 */
    assert_int_equal(out[0].last_used_at, 1700000003);
    assert_string_equal(out[1].from, "203.0.113.1");
    assert_int_equal(out[1].last_used_at, 1700000005);
    assert_string_equal(out[2].from, "198.51.100.7"); /* the latest, with the key's time */
    assert_int_equal(out[2].last_used_at, 1700000006);
    assert_int_equal(keyindex_drain_touches(ix, out, 8), 0);
}

int run_keyindex_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_new_index_is_empty, teardown),
        cmocka_unit_test_teardown(test_put_then_lookup_returns_view, teardown),
        cmocka_unit_test_teardown(test_lookup_of_absent_hash_returns_0, teardown),
        cmocka_unit_test_teardown(test_hashes_differing_in_last_byte_are_distinct, teardown),
        cmocka_unit_test_teardown(test_put_existing_hash_replaces_view, teardown),
        cmocka_unit_test_teardown(test_disabling_owner_disables_all_their_keys_at_once, teardown),
        cmocka_unit_test_teardown(test_owner_disabled_before_any_key_applies_to_later_keys,
                                  teardown),
        cmocka_unit_test_teardown(test_put_ignores_disabled_in_view, teardown),
        cmocka_unit_test_teardown(test_remove_owner_removes_only_their_keys, teardown),
        cmocka_unit_test_teardown(test_remove_makes_key_unfindable, teardown),
        cmocka_unit_test_teardown(test_remove_of_absent_hash_is_noop, teardown),
        cmocka_unit_test_teardown(test_removed_key_can_be_put_again, teardown),
        cmocka_unit_test_teardown(test_many_keys_force_growth_and_stay_findable, teardown),
        cmocka_unit_test_teardown(test_removing_every_other_key_keeps_the_rest_findable, teardown),
        cmocka_unit_test_teardown(test_removing_all_keys_empties_index, teardown),
        cmocka_unit_test_teardown(test_colliding_hashes_survive_removal_from_middle_of_run, teardown),
        cmocka_unit_test_teardown(test_interleaved_probe_runs_survive_removal, teardown),
        cmocka_unit_test_teardown(test_probe_run_wrapping_past_table_end_survives_removal, teardown),
        cmocka_unit_test_teardown(test_lookup_without_touch_queues_nothing, teardown),
        cmocka_unit_test_teardown(test_touch_is_drained_with_its_time, teardown),
        cmocka_unit_test_teardown(test_repeated_touches_queue_once, teardown),
        cmocka_unit_test_teardown(test_later_touch_before_drain_reports_latest_time, teardown),
        cmocka_unit_test_teardown(test_touch_after_drain_is_queued_again, teardown),
        cmocka_unit_test_teardown(test_same_time_after_drain_is_not_queued_again, teardown),
        cmocka_unit_test_teardown(test_removed_key_touch_is_skipped, teardown),
        cmocka_unit_test_teardown(test_lookup_of_absent_key_with_touch_queues_nothing, teardown),
        cmocka_unit_test_teardown(test_drain_respects_max, teardown),
        cmocka_unit_test_teardown(test_many_touches_all_drain, teardown),
        cmocka_unit_test_teardown(test_same_address_queues_the_key_once_with_its_address, teardown),
        cmocka_unit_test_teardown(test_moving_address_keeps_the_old_one_with_its_last_time_in_order,
                                  teardown),
    };
    return cmocka_run_group_tests_name("keyindex", tests, NULL, NULL);
}

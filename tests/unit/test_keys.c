/* test_keys.c — the key lifecycle rules (src/core/keys.h) and verification (src/core/verify.h)
 * through core_open on a SQLite store in a temporary directory. Callers are built by hand:
 * portal sessions, and API keys with a scope mask and an expiry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/base/timeutil.h"
#include "../../src/core/keys.h"
#include "../../src/core/verify.h"
#include "unit.h"

#define BIT_AUTHENTICATION (UINT64_C(1) << 0)
#define BIT_TASKS (UINT64_C(1) << 3)
#define BIT_APIKEY (UINT64_C(1) << 4)
#define BIT_SECRET (UINT64_C(1) << 6)
#define DAY 86400

/* Memory of the running test, freed by teardown (also when an assertion ended it early). */
static void *allocs[64];
static size_t nallocs;

static void *talloc(size_t size)
{
    assert_true(nallocs < sizeof allocs / sizeof allocs[0]);
    void *p = calloc(1, size);
    assert_non_null(p);
    allocs[nallocs++] = p;
    return p;
}

static void free_allocs(void)
{
    while (nallocs > 0)
        free(allocs[--nallocs]);
}

static int setup(void **state)
{
    struct unit_core *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    if (unit_core_open(u, NULL) != 0) {
        free(u);
        return -1;
    }
    unit_core_add_people(u);
    *state = u;
    return 0;
}

static int setup_two_keys_per_owner(void **state)
{
    struct unit_core *u = calloc(1, sizeof *u);
    struct core_config cfg;
    if (!u)
        return -1;
    core_config_defaults(&cfg);
    cfg.max_keys_per_owner = 2;
    if (unit_core_open(u, &cfg) != 0) {
        free(u);
        return -1;
    }
    unit_core_add_people(u);
    *state = u;
    return 0;
}

static int setup_three_bad_verifications(void **state)
{
    struct unit_core *u = calloc(1, sizeof *u);
    struct core_config cfg;
    if (!u)
        return -1;
    core_config_defaults(&cfg);
    cfg.verify_max_failures = 3;
    if (unit_core_open(u, &cfg) != 0) {
        free(u);
        return -1;
    }
    unit_core_add_people(u);
    *state = u;
    return 0;
}

static int teardown(void **state)
{
    struct unit_core *u = *state;
    free_allocs();
    unit_core_destroy(u);
    free(u);
    return 0;
}

/* ---- helpers ---- */


static struct key_input input(const char *name, const char *const *scopes, size_t n)
{
    struct key_input in;
    memset(&in, 0, sizeof in);
    in.name = name;
    in.scopes = scopes;
    in.scope_count = n;
    return in;
}

static const char *const tasks_only[] = {"Tasks"};
static const char *const tasks_and_apikey[] = {"Tasks", "APIKey"};

struct made {
    struct key_record rec;
    char secret[KEYFMT_MAX_LEN + 1];
};

/* keys_create that must succeed; the record is freed by teardown. */
static struct made *create_ok(struct core *c, const struct caller *who, const struct key_input *in)
{
    struct made *m = talloc(sizeof *m);
    struct field_errors fe = {0};
    enum err e = keys_create(c, who, in, &fe, &m->rec, m->secret);
    if (e != ERR_OK)
        fail_msg("keys_create: err %d, %zu field errors (first: %s)", (int)e, fe.count,
                 fe.count ? fe.items[0].field : "-");
    return m;
}

static struct made *create_named(struct core *c, const struct caller *who, const char *name)
{
    struct key_input in = input(name, tasks_only, 1);
    return create_ok(c, who, &in);
}

/* keys_create expected to be refused with e (and, for ERR_INVALID, a problem on field). */
static void create_refused(struct core *c, const struct caller *who, const struct key_input *in,
                           enum err want, const char *field)
{
    struct key_record *rec = talloc(sizeof *rec);
    char secret[KEYFMT_MAX_LEN + 1];
    struct field_errors fe = {0};
    memset(secret, 0, sizeof secret);
    enum err e = keys_create(c, who, in, &fe, rec, secret);
    if (e != want)
        fail_msg("keys_create: err %d, expected %d", (int)e, (int)want);
    if (field && !field_errors_has(&fe, field))
        fail_msg("keys_create: no problem listed for field \"%s\" (%zu listed)", field, fe.count);
    if (want == ERR_INVALID)
        assert_true(fe.count > 0);
    assert_int_equal(secret[0], '\0'); /* no secret handed out on refusal */
}

static int count_one(void *ctx, const struct key_record *k)
{
    (void)k;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t list_count(struct core *c, const struct caller *who)
{
    size_t n = 0;
    assert_int_equal(keys_list(c, who, count_one, &n), ERR_OK);
    return n;
}

static void verify(struct core *c, const char *secret, const char *scope,
                   struct verify_result *out)
{
    verify_key(c, secret, strlen(secret), scope, NULL, out, NULL);
}

static char *repeat(const char *unit, size_t times)
{
    size_t ul = strlen(unit);
    char *s = talloc(ul * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * times] = '\0';
    return s;
}

/* ---- create ---- */

static void test_create_returns_well_formed_secret(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(strlen(m->secret), 53);
    assert_memory_equal(m->secret, "apk_", 4);
    assert_int_equal(keyfmt_check(m->secret, strlen(m->secret)), 1);
}

static void test_create_fills_record(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci deploy", tasks_and_apikey, 2);
    in.description = "used by CI";
    struct made *m = create_ok(u->core, &who, &in);
    assert_int_equal(strlen(m->rec.id), STORE_ID_LEN);
    assert_string_equal(m->rec.owner_type, "user");
    assert_string_equal(m->rec.owner_id, "alice");
    assert_string_equal(m->rec.created_by, "alice");
    assert_string_equal(m->rec.name, "ci deploy");
    assert_int_equal(m->rec.has_description, 1);
    assert_string_equal(m->rec.description, "used by CI");
    assert_int_equal(m->rec.last_used_at, 0);
    assert_non_null(strstr(m->rec.scopes, "Tasks"));
    assert_non_null(strstr(m->rec.scopes, "APIKey"));
}

static void test_create_stores_hash_and_hint_of_secret(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    uint8_t hash[KEYFMT_HASH_LEN];
    char hint[KEYFMT_HINT_LEN];
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    keyfmt_hash(m->secret, strlen(m->secret), hash);
    keyfmt_hint(m->secret, hint);
    assert_memory_equal(m->rec.hash, hash, KEYFMT_HASH_LEN);
    assert_string_equal(m->rec.hint, hint);
}

static void test_create_without_description_has_none(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(m->rec.has_description, 0);
}

static void test_default_expiry_is_90_days(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    int64_t before = time_now();
    struct made *m = create_named(u->core, &who, "ci");
    int64_t after = time_now();
    assert_true(m->rec.created_at >= before && m->rec.created_at <= after);
    assert_int_equal(m->rec.expires_at - m->rec.created_at, 90 * DAY);
}

static void test_explicit_expiry_is_kept(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = time_now() + 7 * DAY;
    struct made *m = create_ok(u->core, &who, &in);
    assert_int_equal(m->rec.expires_at, in.expires_at);
}

static void test_expiry_of_exactly_one_calendar_year_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = time_add_calendar_year(time_now());
    struct made *m = create_ok(u->core, &who, &in);
    assert_int_equal(m->rec.expires_at, in.expires_at);
}

static void test_expiry_beyond_one_calendar_year_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = time_add_calendar_year(time_now()) + DAY;
    create_refused(u->core, &who, &in, ERR_INVALID, "expires_at");
}

static void test_expiry_in_the_past_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = time_now() - 60;
    create_refused(u->core, &who, &in, ERR_INVALID, "expires_at");
}

static void test_expiry_equal_to_now_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = time_now(); /* "must be later than now" */
    create_refused(u->core, &who, &in, ERR_INVALID, "expires_at");
}

/* ---- names and descriptions ---- */

static void test_empty_name_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("", tasks_only, 1);
    create_refused(u->core, &who, &in, ERR_INVALID, "name");
}

static void test_blank_name_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("   \t ", tasks_only, 1);
    create_refused(u->core, &who, &in, ERR_INVALID, "name");
}

static void test_name_of_101_characters_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *name = repeat("n", 101);
    struct key_input in = input(name, tasks_only, 1);
    create_refused(u->core, &who, &in, ERR_INVALID, "name");
}

static void test_name_of_100_characters_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *name = repeat("n", 100);
    struct made *m = create_named(u->core, &who, name);
    assert_string_equal(m->rec.name, name);
}

static void test_name_of_100_four_byte_characters_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *name = repeat("\xf0\x9f\x94\x91", 100); /* 100 x U+1F511, 400 bytes */
    struct made *m = create_named(u->core, &who, name);
    assert_string_equal(m->rec.name, name);
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_string_equal(got->name, name);
}

static void test_name_of_100_two_byte_characters_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *name = repeat("\xc3\xa9", 100);
    struct made *m = create_named(u->core, &who, name);
    assert_string_equal(m->rec.name, name);
}

static void test_name_of_101_four_byte_characters_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *name = repeat("\xf0\x9f\x94\x91", 101);
    struct key_input in = input(name, tasks_only, 1);
    create_refused(u->core, &who, &in, ERR_INVALID, "name");
}

static void test_name_with_control_character_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    const char *bad[] = {"ci\x01", "line\nbreak", "tab\there", "del\x7f", "nel\xc2\x85"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct key_input in = input(bad[i], tasks_only, 1);
        create_refused(u->core, &who, &in, ERR_INVALID, "name");
    }
}

static void test_description_of_1000_characters_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *desc = repeat("\xf0\x9f\x94\x91", 1000); /* 4000 bytes */
    struct key_input in = input("ci", tasks_only, 1);
    in.description = desc;
    struct made *m = create_ok(u->core, &who, &in);
    assert_string_equal(m->rec.description, desc);
}

static void test_description_of_1001_characters_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    char *desc = repeat("d", 1001);
    struct key_input in = input("ci", tasks_only, 1);
    in.description = desc;
    create_refused(u->core, &who, &in, ERR_INVALID, "description");
}

static void test_description_allows_tab_and_newline(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.description = "first line\n\tsecond line";
    struct made *m = create_ok(u->core, &who, &in);
    assert_string_equal(m->rec.description, in.description);
}

static void test_description_with_control_character_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_only, 1);
    in.description = "bell\x07";
    create_refused(u->core, &who, &in, ERR_INVALID, "description");
}

/* ---- scopes ---- */

static void test_unknown_scope_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    const char *const scopes[] = {"Tasks", "Teleport"};
    struct key_input in = input("ci", scopes, 2);
    create_refused(u->core, &who, &in, ERR_INVALID, "scopes");
}

static void test_duplicate_scope_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    const char *const scopes[] = {"Tasks", "APIKey", "Tasks"};
    struct key_input in = input("ci", scopes, 3);
    create_refused(u->core, &who, &in, ERR_INVALID, "scopes");
}

static void test_empty_scope_list_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", NULL, 0);
    create_refused(u->core, &who, &in, ERR_INVALID, "scopes");
}

static void test_scope_names_are_case_sensitive(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    const char *const scopes[] = {"apikey"};
    struct key_input in = input("ci", scopes, 1);
    create_refused(u->core, &who, &in, ERR_INVALID, "scopes");
}

static void test_all_nine_default_scopes_can_be_granted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    const char *const scopes[] = {"Authentication", "PublishApp", "PublishAimms",
                                  "Tasks",          "APIKey",     "Session",
                                  "Secret",         "User",       "Account"};
    struct key_input in = input("everything", scopes, 9);
    struct made *m = create_ok(u->core, &who, &in);
    for (size_t i = 0; i < 9; i++) {
        verify(u->core, m->secret, scopes[i], &r);
        assert_int_equal(r.code, VERIFY_VALID);
    }
}

static void test_every_problem_is_listed(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_record *rec = talloc(sizeof *rec);
    char secret[KEYFMT_MAX_LEN + 1];
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    const char *const scopes[] = {"Nope"};
    struct key_input in = input("", scopes, 1);
    in.description = "bad\x01";
    in.has_expires_at = 1;
    in.expires_at = time_now() - 10;
    assert_int_equal(keys_create(u->core, &who, &in, &fe, rec, secret), ERR_INVALID);
    assert_true(field_errors_has(&fe, "name"));
    assert_true(field_errors_has(&fe, "description"));
    assert_true(field_errors_has(&fe, "scopes"));
    assert_true(field_errors_has(&fe, "expires_at"));
}

/* ---- key callers ---- */

static void test_key_caller_cannot_grant_scope_it_lacks(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, time_now() + 30 * DAY);
    const char *const scopes[] = {"Tasks", "Secret"};
    struct key_input in = input("ci", scopes, 2);
    create_refused(u->core, &who, &in, ERR_FORBIDDEN, NULL);
}

static void test_key_caller_may_grant_scopes_it_holds(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, time_now() + 30 * DAY);
    struct key_input in = input("ci", tasks_and_apikey, 2);
    struct made *m = create_ok(u->core, &who, &in);
    assert_string_equal(m->rec.owner_type, "user");
    assert_string_equal(m->rec.owner_id, "alice");
}

static void test_key_caller_explicit_expiry_later_than_own_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    int64_t own = time_now() + 10 * DAY;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, own);
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = own + 1;
    create_refused(u->core, &who, &in, ERR_INVALID, "expires_at");
}

static void test_key_caller_explicit_expiry_equal_to_own_is_accepted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    int64_t own = time_now() + 10 * DAY;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, own);
    struct key_input in = input("ci", tasks_only, 1);
    in.has_expires_at = 1;
    in.expires_at = own;
    struct made *m = create_ok(u->core, &who, &in);
    assert_int_equal(m->rec.expires_at, own);
}

static void test_key_caller_default_expiry_is_clamped_to_own(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    int64_t own = time_now() + 10 * DAY;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, own);
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(m->rec.expires_at, own);
}

static void test_key_caller_with_long_expiry_gets_90_day_default(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_key_caller(&who, "alice", BIT_APIKEY | BIT_TASKS, time_now() + 300 * DAY);
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(m->rec.expires_at - m->rec.created_at, 90 * DAY);
}

static void test_key_caller_creates_key_for_its_owner(void **state)
{
    struct unit_core *u = *state;
    struct caller key, session;
    unit_key_caller(&key, "alice", BIT_APIKEY | BIT_TASKS, time_now() + 30 * DAY);
    unit_session_caller(&session, "alice");
    struct made *m = create_named(u->core, &key, "from key");
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &session, m->rec.id, got), ERR_OK);
    assert_string_equal(got->name, "from key");
}

/* ---- conflicts, limits, nothing stored on refusal ---- */

static void test_duplicate_name_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    create_named(u->core, &who, "ci");
    struct key_input in = input("ci", tasks_only, 1);
    create_refused(u->core, &who, &in, ERR_CONFLICT, NULL);
    assert_int_equal(list_count(u->core, &who), 1);
    assert_int_equal(core_key_count(u->core), 1);
}

static void test_same_name_for_other_owner_is_fine(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, bob;
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    struct made *a = create_named(u->core, &alice, "ci");
    struct made *b = create_named(u->core, &bob, "ci");
    assert_string_not_equal(a->rec.id, b->rec.id);
}

static void test_nothing_stored_on_refusal(void **state)
{
    struct unit_core *u = *state;
    struct caller who, key;
    unit_session_caller(&who, "alice");
    unit_key_caller(&key, "alice", BIT_APIKEY | BIT_TASKS, time_now() + 30 * DAY);
    create_named(u->core, &who, "existing");

    struct key_input bad_name = input("", tasks_only, 1);
    create_refused(u->core, &who, &bad_name, ERR_INVALID, "name");
    const char *const unknown[] = {"Nope"};
    struct key_input bad_scope = input("new1", unknown, 1);
    create_refused(u->core, &who, &bad_scope, ERR_INVALID, "scopes");
    struct key_input bad_expiry = input("new2", tasks_only, 1);
    bad_expiry.has_expires_at = 1;
    bad_expiry.expires_at = time_now() + 400 * DAY;
    create_refused(u->core, &who, &bad_expiry, ERR_INVALID, "expires_at");
    const char *const secret_scope[] = {"Secret"};
    struct key_input forbidden = input("new3", secret_scope, 1);
    create_refused(u->core, &key, &forbidden, ERR_FORBIDDEN, NULL);
    struct key_input dup = input("existing", tasks_only, 1);
    create_refused(u->core, &who, &dup, ERR_CONFLICT, NULL);

    assert_int_equal(list_count(u->core, &who), 1);
    assert_int_equal(core_key_count(u->core), 1);
}

static void test_key_limit_per_owner(void **state)
{
    struct unit_core *u = *state; /* max_keys_per_owner = 2 */
    struct caller alice, bob;
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    create_named(u->core, &alice, "one");
    create_named(u->core, &alice, "two");
    struct key_input in = input("three", tasks_only, 1);
    create_refused(u->core, &alice, &in, ERR_LIMIT, NULL);
    assert_int_equal(list_count(u->core, &alice), 2);
    assert_int_equal(core_key_count(u->core), 2);
    create_named(u->core, &bob, "three"); /* the limit is per owner */
}

/* ---- get, list, update, delete ---- */

static void test_get_returns_own_key(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_string_equal(got->id, m->rec.id);
    assert_string_equal(got->name, "ci");
    assert_string_equal(got->hint, m->rec.hint);
    assert_int_equal(got->expires_at, m->rec.expires_at);
    assert_int_equal(got->created_at, m->rec.created_at);
    assert_memory_equal(got->hash, m->rec.hash, STORE_HASH_LEN);
}

static void test_get_unknown_id_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_record *got = talloc(sizeof *got);
    unit_session_caller(&who, "alice");
    assert_int_equal(keys_get(u->core, &who, "0123456789abcdef01234567", got), ERR_NOT_FOUND);
    assert_int_equal(keys_get(u->core, &who, "", got), ERR_NOT_FOUND);
    assert_int_equal(keys_get(u->core, &who, "x' OR '1'='1", got), ERR_NOT_FOUND);
}

static void test_get_of_other_owners_key_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, bob;
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    struct made *m = create_named(u->core, &alice, "ci");
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &bob, m->rec.id, got), ERR_NOT_FOUND);
}

static void test_owner_type_is_part_of_ownership(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, service;
    unit_session_caller(&alice, "alice");
    unit_session_caller(&service, "alice");
    snprintf(service.owner_type, sizeof service.owner_type, "service-account");
    struct made *m = create_named(u->core, &alice, "ci");
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &service, m->rec.id, got), ERR_NOT_FOUND);
    assert_int_equal(keys_delete(u->core, &service, m->rec.id), ERR_NOT_FOUND);
}

static void test_update_of_other_owners_key_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, bob;
    struct field_errors fe = {0};
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    struct made *m = create_named(u->core, &alice, "ci");
    struct key_record *got = talloc(sizeof *got);
    struct key_patch p = {.name = "stolen"};
    assert_int_equal(keys_update(u->core, &bob, m->rec.id, &p, &fe, got), ERR_NOT_FOUND);
    assert_int_equal(keys_get(u->core, &alice, m->rec.id, got), ERR_OK);
    assert_string_equal(got->name, "ci");
}

static void test_delete_of_other_owners_key_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, bob;
    struct verify_result r;
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    struct made *m = create_named(u->core, &alice, "ci");
    assert_int_equal(keys_delete(u->core, &bob, m->rec.id), ERR_NOT_FOUND);
    assert_int_equal(list_count(u->core, &alice), 1);
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
}

struct names {
    size_t n;
    char name[8][STORE_KEY_NAME_BYTES + 1];
};

static int collect_name(void *ctx, const struct key_record *k)
{
    struct names *ns = ctx;
    if (ns->n < 8)
        snprintf(ns->name[ns->n], sizeof ns->name[0], "%s", k->name);
    ns->n++;
    return 0;
}

static void test_list_returns_own_keys_newest_first(void **state)
{
    struct unit_core *u = *state;
    struct caller alice, bob;
    struct names ns;
    memset(&ns, 0, sizeof ns);
    unit_session_caller(&alice, "alice");
    unit_session_caller(&bob, "bob");
    create_named(u->core, &alice, "first");
    create_named(u->core, &bob, "bobs");
    create_named(u->core, &alice, "second");
    create_named(u->core, &alice, "third");
    assert_int_equal(keys_list(u->core, &alice, collect_name, &ns), ERR_OK);
    assert_int_equal(ns.n, 3);
    assert_string_equal(ns.name[0], "third");
    assert_string_equal(ns.name[1], "second");
    assert_string_equal(ns.name[2], "first");
}

static void test_update_renames_key(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    struct key_patch p = {.name = "renamed"};
    assert_int_equal(keys_update(u->core, &who, m->rec.id, &p, &fe, got), ERR_OK);
    assert_string_equal(got->name, "renamed");
    memset(got, 0, sizeof *got);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_string_equal(got->name, "renamed");
    assert_int_equal(got->expires_at, m->rec.expires_at);
    assert_string_equal(got->scopes, m->rec.scopes);
}

static void test_update_sets_and_clears_description(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    struct key_patch set = {.set_description = 1, .description = "now described"};
    assert_int_equal(keys_update(u->core, &who, m->rec.id, &set, &fe, got), ERR_OK);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_int_equal(got->has_description, 1);
    assert_string_equal(got->description, "now described");
    assert_string_equal(got->name, "ci");
    struct key_patch clear = {.set_description = 1, .description = NULL};
    assert_int_equal(keys_update(u->core, &who, m->rec.id, &clear, &fe, got), ERR_OK);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_int_equal(got->has_description, 0);
}

static void test_update_with_invalid_name_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    struct key_patch p = {.name = "  "};
    assert_int_equal(keys_update(u->core, &who, m->rec.id, &p, &fe, got), ERR_INVALID);
    assert_true(field_errors_has(&fe, "name"));
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_string_equal(got->name, "ci");
}

static void test_update_to_taken_name_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    create_named(u->core, &who, "one");
    struct made *b = create_named(u->core, &who, "two");
    struct key_record *got = talloc(sizeof *got);
    struct key_patch p = {.name = "one"};
    assert_int_equal(keys_update(u->core, &who, b->rec.id, &p, &fe, got), ERR_CONFLICT);
    assert_int_equal(keys_get(u->core, &who, b->rec.id, got), ERR_OK);
    assert_string_equal(got->name, "two");
}

static void test_delete_removes_key(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_delete(u->core, &who, m->rec.id), ERR_OK);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_NOT_FOUND);
    assert_int_equal(list_count(u->core, &who), 0);
    assert_int_equal(core_key_count(u->core), 0);
}

static void test_deleted_key_no_longer_verifies(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
    assert_int_equal(keys_delete(u->core, &who, m->rec.id), ERR_OK);
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
    assert_int_equal(r.found, 0);
}

static void test_delete_twice_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(keys_delete(u->core, &who, m->rec.id), ERR_OK);
    assert_int_equal(keys_delete(u->core, &who, m->rec.id), ERR_NOT_FOUND);
}

static void test_deleted_name_can_be_reused(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    assert_int_equal(keys_delete(u->core, &who, m->rec.id), ERR_OK);
    create_named(u->core, &who, "ci");
}

/* ---- verify ---- */

static void test_verify_valid_key(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
    assert_int_equal(r.found, 1);
    assert_string_equal(r.view.id, m->rec.id);
    assert_string_equal(r.view.owner_type, "user");
    assert_string_equal(r.view.owner_id, "alice");
    assert_string_equal(r.view.created_by, "alice");
    assert_int_equal(r.view.expires_at, m->rec.expires_at);
    assert_int_equal(r.view.scopes, BIT_TASKS);
}

static void test_verify_with_held_scope_is_valid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_and_apikey, 2);
    struct made *m = create_ok(u->core, &who, &in);
    verify(u->core, m->secret, "APIKey", &r);
    assert_int_equal(r.code, VERIFY_VALID);
    verify(u->core, m->secret, "Tasks", &r);
    assert_int_equal(r.code, VERIFY_VALID);
}

static void test_verify_with_scope_not_held_is_insufficient(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    verify(u->core, m->secret, "Secret", &r);
    assert_int_equal(r.code, VERIFY_INSUFFICIENT_SCOPE);
    assert_int_equal(r.found, 1);
    assert_string_equal(r.view.id, m->rec.id);
    assert_string_equal(r.view.owner_id, "alice");
}

static void test_verify_with_unknown_scope_is_insufficient(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    verify(u->core, m->secret, "NoSuchScope", &r);
    assert_int_equal(r.code, VERIFY_INSUFFICIENT_SCOPE);
}

static void test_verify_garbage_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct verify_result r;
    const char *bad[] = {"", "apk_", "not a key", "Bearer apk_x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        verify(u->core, bad[i], NULL, &r);
        assert_int_equal(r.code, VERIFY_NOT_FOUND);
        assert_int_equal(r.found, 0);
    }
    char big[600];
    memset(big, 'a', sizeof big);
    verify_key(u->core, big, sizeof big, NULL, NULL, &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
}

static void test_verify_well_formed_unknown_key_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct verify_result r;
    char key[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("apk", key), 0);
    verify(u->core, key, NULL, &r);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
    assert_int_equal(r.found, 0);
}

static void test_verify_key_with_changed_character_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    m->secret[20] = m->secret[20] == 'a' ? 'b' : 'a';
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
}

static void test_verify_truncated_key_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    verify_key(u->core, m->secret, strlen(m->secret) - 1, NULL, NULL, &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
}

static void test_verify_reports_expired_key(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct key_input in = input("short-lived", tasks_only, 1);
    in.has_expires_at = 1;
    /* now + 2 rather than + 1, so a second ticking over inside keys_create cannot make the
     * expiry "not in the future"; then the one sleep of the suite, until it has passed */
    in.expires_at = time_now() + 2;
    struct made *m = create_ok(u->core, &who, &in);
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
    for (int i = 0; i < 40 && time_now() <= in.expires_at; i++) {
        struct timespec nap = {0, 100 * 1000000};
        nanosleep(&nap, NULL);
    }
    assert_true(time_now() > in.expires_at);
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_EXPIRED);
    assert_int_equal(r.found, 1);
    assert_string_equal(r.view.id, m->rec.id);
    verify(u->core, m->secret, "Tasks", &r);
    assert_int_equal(r.code, VERIFY_EXPIRED);
    /* expired keys are still listed */
    assert_int_equal(list_count(u->core, &who), 1);
}

static void test_verify_code_names(void **state)
{
    (void)state;
    assert_string_equal(verify_code_name(VERIFY_VALID), "VALID");
    assert_string_equal(verify_code_name(VERIFY_NOT_FOUND), "NOT_FOUND");
    assert_string_equal(verify_code_name(VERIFY_EXPIRED), "EXPIRED");
    assert_string_equal(verify_code_name(VERIFY_DISABLED), "DISABLED");
    assert_string_equal(verify_code_name(VERIFY_INSUFFICIENT_SCOPE), "INSUFFICIENT_SCOPE");
    assert_string_equal(verify_code_name(VERIFY_RATE_LIMITED), "RATE_LIMITED");
}

static void test_verify_scopes_text_names_catalogue_scopes(void **state)
{
    struct unit_core *u = *state;
    char out[128];
    verify_scopes_text(u->core, BIT_APIKEY | BIT_AUTHENTICATION, ",", out, sizeof out);
    assert_string_equal(out, "Authentication,APIKey");
}

static void test_verify_records_last_use(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    int64_t before = time_now();
    verify(u->core, m->secret, NULL, &r);
    int64_t after = time_now();
    core_flush_usage(u->core);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_true(got->last_used_at >= before && got->last_used_at <= after);
}

static void test_verify_of_unknown_key_records_nothing(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    struct key_record *got = talloc(sizeof *got);
    char other[KEYFMT_MAX_LEN + 1];
    assert_int_equal(keyfmt_generate("apk", other), 0);
    verify(u->core, other, NULL, &r);
    core_flush_usage(u->core);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_int_equal(got->last_used_at, 0);
}

/* ---- problems found before keys_create (while parsing) ---- */

static void test_prefilled_problem_makes_create_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_record *rec = talloc(sizeof *rec);
    char secret[KEYFMT_MAX_LEN + 1] = "";
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    field_errors_add(&fe, "expires_at", "must be an RFC 3339 date-time");
    struct key_input in = input("ci", tasks_only, 1);
    assert_int_equal(keys_create(u->core, &who, &in, &fe, rec, secret), ERR_INVALID);
    assert_int_equal(fe.count, 1); /* the field is not checked (or listed) again */
    assert_true(field_errors_has(&fe, "expires_at"));
    assert_int_equal(list_count(u->core, &who), 0);
    assert_int_equal(core_key_count(u->core), 0);
}

static void test_prefilled_problem_is_listed_with_the_others(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_record *rec = talloc(sizeof *rec);
    char secret[KEYFMT_MAX_LEN + 1] = "";
    struct field_errors fe = {0};
    unit_session_caller(&who, "alice");
    field_errors_add(&fe, "name", "must be a string");
    const char *const unknown[] = {"Nope"};
    struct key_input in = input(NULL, unknown, 1);
    assert_int_equal(keys_create(u->core, &who, &in, &fe, rec, secret), ERR_INVALID);
    assert_int_equal(fe.count, 2);
    assert_true(field_errors_has(&fe, "name"));
    assert_true(field_errors_has(&fe, "scopes"));
}

static void test_missing_name_is_invalid_with_name_listed(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    unit_session_caller(&who, "alice");
    struct key_input in = input(NULL, tasks_only, 1); /* name is required */
    create_refused(u->core, &who, &in, ERR_INVALID, "name");
    assert_int_equal(list_count(u->core, &who), 0);
}

/* ---- verification throttling per client (verify_max_failures = 3 here) ---- */

static void bad_verifications(struct core *c, const char *client, int n)
{
    struct verify_result r;
    for (int i = 0; i < n; i++) {
        verify_key(c, "apk_invented", 12, NULL, client, &r, NULL);
        assert_int_equal(r.code, VERIFY_NOT_FOUND);
    }
}

static void test_client_is_rate_limited_after_max_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    int64_t retry = 0;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    bad_verifications(u->core, "10.0.0.1", 3);
    /* while blocked, keys that are not found are RATE_LIMITED... */
    verify_key(u->core, "apk_invented", 12, NULL, "10.0.0.1", &r, &retry);
    assert_int_equal(r.code, VERIFY_RATE_LIMITED);
    assert_int_equal(r.found, 0);
    assert_int_equal(retry, u->cfg.login_backoff_seconds);
    /* ...but a real key still answers by its own state */
    verify_key(u->core, m->secret, strlen(m->secret), NULL, "10.0.0.1", &r, &retry);
    assert_int_equal(r.code, VERIFY_VALID);
}

static void test_ipv6_clients_are_counted_per_64(void **state)
{
    struct unit_core *u = *state;
    struct verify_result r;
    bad_verifications(u->core, "2001:db8:1:2::1", 1);
    bad_verifications(u->core, "2001:db8:1:2:ffff::9", 1);
    bad_verifications(u->core, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", 1);
    verify_key(u->core, "apk_invented", 12, NULL, "2001:db8:1:2::77", &r, NULL);
    assert_int_equal(r.code, VERIFY_RATE_LIMITED);
    verify_key(u->core, "apk_invented", 12, NULL, "2001:db8:1:3::1", &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
}

static void test_fewer_than_max_not_found_do_not_rate_limit(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    bad_verifications(u->core, "10.0.0.1", 2);
    verify_key(u->core, m->secret, strlen(m->secret), NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_VALID);
}

static void test_rate_limit_is_per_client(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    bad_verifications(u->core, "10.0.0.1", 3);
    verify_key(u->core, m->secret, strlen(m->secret), NULL, "10.0.0.2", &r, NULL);
    assert_int_equal(r.code, VERIFY_VALID);
}

static void test_verify_without_client_is_never_rate_limited(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    bad_verifications(u->core, NULL, 20);
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
}

static void test_found_keys_do_not_count_towards_rate_limit(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    for (int i = 0; i < 10; i++) {
        verify_key(u->core, m->secret, strlen(m->secret), "Secret", "10.0.0.1", &r, NULL);
        assert_int_equal(r.code, VERIFY_INSUFFICIENT_SCOPE);
        verify_key(u->core, m->secret, strlen(m->secret), NULL, "10.0.0.1", &r, NULL);
        assert_int_equal(r.code, VERIFY_VALID);
    }
}

static void test_deleted_and_mistyped_keys_count_as_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *gone = create_named(u->core, &who, "gone");
    struct made *keep = create_named(u->core, &who, "keep");
    assert_int_equal(keys_delete(u->core, &who, gone->rec.id), ERR_OK);
    verify_key(u->core, gone->secret, strlen(gone->secret), NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
    char typo[KEYFMT_MAX_LEN + 1];
    memcpy(typo, keep->secret, sizeof typo);
    typo[10] = typo[10] == 'a' ? 'b' : 'a';
    verify_key(u->core, typo, strlen(typo), NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
    verify_key(u->core, keep->secret, strlen(keep->secret) - 1, NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
    verify_key(u->core, "apk_invented", 12, NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_RATE_LIMITED);
    verify_key(u->core, keep->secret, strlen(keep->secret), NULL, "10.0.0.1", &r, NULL);
    assert_int_equal(r.code, VERIFY_VALID);
}

/* ---- restart ---- */

static void test_keys_still_verify_after_reopen(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct key_input in = input("ci", tasks_and_apikey, 2);
    struct made *a = create_ok(u->core, &who, &in);
    struct made *b = create_named(u->core, &who, "second");
    struct made *gone = create_named(u->core, &who, "deleted");
    assert_int_equal(keys_delete(u->core, &who, gone->rec.id), ERR_OK);
    assert_int_equal(unit_core_reopen(u), 0);
    assert_int_equal(core_key_count(u->core), 2);
    verify(u->core, a->secret, "APIKey", &r);
    assert_int_equal(r.code, VERIFY_VALID);
    assert_string_equal(r.view.id, a->rec.id);
    assert_int_equal(r.view.expires_at, a->rec.expires_at);
    verify(u->core, a->secret, "Secret", &r);
    assert_int_equal(r.code, VERIFY_INSUFFICIENT_SCOPE);
    verify(u->core, b->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_VALID);
    verify(u->core, gone->secret, NULL, &r);
    assert_int_equal(r.code, VERIFY_NOT_FOUND);
}

static void test_last_use_is_written_on_close(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct verify_result r;
    unit_session_caller(&who, "alice");
    struct made *m = create_named(u->core, &who, "ci");
    int64_t before = time_now();
    verify(u->core, m->secret, NULL, &r);
    assert_int_equal(unit_core_reopen(u), 0);
    struct key_record *got = talloc(sizeof *got);
    assert_int_equal(keys_get(u->core, &who, m->rec.id, got), ERR_OK);
    assert_true(got->last_used_at >= before);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T3(fn) cmocka_unit_test_setup_teardown(fn, setup_three_bad_verifications, teardown)

int run_keys_tests(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_returns_well_formed_secret),
        T(test_create_fills_record),
        T(test_create_stores_hash_and_hint_of_secret),
        T(test_create_without_description_has_none),
        T(test_default_expiry_is_90_days),
        T(test_explicit_expiry_is_kept),
        T(test_expiry_of_exactly_one_calendar_year_is_accepted),
        T(test_expiry_beyond_one_calendar_year_is_invalid),
        T(test_expiry_in_the_past_is_invalid),
        T(test_expiry_equal_to_now_is_invalid),
        T(test_empty_name_is_invalid),
        T(test_blank_name_is_invalid),
        T(test_name_of_101_characters_is_invalid),
        T(test_name_of_100_characters_is_accepted),
        T(test_name_of_100_four_byte_characters_is_accepted),
        T(test_name_of_100_two_byte_characters_is_accepted),
        T(test_name_of_101_four_byte_characters_is_invalid),
        T(test_name_with_control_character_is_invalid),
        T(test_description_of_1000_characters_is_accepted),
        T(test_description_of_1001_characters_is_invalid),
        T(test_description_allows_tab_and_newline),
        T(test_description_with_control_character_is_invalid),
        T(test_unknown_scope_is_invalid),
        T(test_duplicate_scope_is_invalid),
        T(test_empty_scope_list_is_invalid),
        T(test_scope_names_are_case_sensitive),
        T(test_all_nine_default_scopes_can_be_granted),
        T(test_every_problem_is_listed),
        T(test_key_caller_cannot_grant_scope_it_lacks),
        T(test_key_caller_may_grant_scopes_it_holds),
        T(test_key_caller_explicit_expiry_later_than_own_is_invalid),
        T(test_key_caller_explicit_expiry_equal_to_own_is_accepted),
        T(test_key_caller_default_expiry_is_clamped_to_own),
        T(test_key_caller_with_long_expiry_gets_90_day_default),
        T(test_key_caller_creates_key_for_its_owner),
        T(test_duplicate_name_is_conflict),
        T(test_same_name_for_other_owner_is_fine),
        T(test_nothing_stored_on_refusal),
        cmocka_unit_test_setup_teardown(test_key_limit_per_owner, setup_two_keys_per_owner,
                                        teardown),
        T(test_get_returns_own_key),
        T(test_get_unknown_id_is_not_found),
        T(test_get_of_other_owners_key_is_not_found),
        T(test_owner_type_is_part_of_ownership),
        T(test_update_of_other_owners_key_is_not_found),
        T(test_delete_of_other_owners_key_is_not_found),
        T(test_list_returns_own_keys_newest_first),
        T(test_update_renames_key),
        T(test_update_sets_and_clears_description),
        T(test_update_with_invalid_name_is_invalid),
        T(test_update_to_taken_name_is_conflict),
        T(test_delete_removes_key),
        T(test_deleted_key_no_longer_verifies),
        T(test_delete_twice_is_not_found),
        T(test_deleted_name_can_be_reused),
        T(test_verify_valid_key),
        T(test_verify_with_held_scope_is_valid),
        T(test_verify_with_scope_not_held_is_insufficient),
        T(test_verify_with_unknown_scope_is_insufficient),
        T(test_verify_garbage_is_not_found),
        T(test_verify_well_formed_unknown_key_is_not_found),
        T(test_verify_key_with_changed_character_is_not_found),
        T(test_verify_truncated_key_is_not_found),
        T(test_verify_reports_expired_key),
        cmocka_unit_test(test_verify_code_names),
        T(test_verify_scopes_text_names_catalogue_scopes),
        T(test_verify_records_last_use),
        T(test_verify_of_unknown_key_records_nothing),
        T(test_prefilled_problem_makes_create_invalid),
        T(test_prefilled_problem_is_listed_with_the_others),
        T(test_missing_name_is_invalid_with_name_listed),
        T3(test_client_is_rate_limited_after_max_not_found),
        T3(test_ipv6_clients_are_counted_per_64),
        T3(test_fewer_than_max_not_found_do_not_rate_limit),
        T3(test_rate_limit_is_per_client),
        T3(test_verify_without_client_is_never_rate_limited),
        T3(test_found_keys_do_not_count_towards_rate_limit),
        T3(test_deleted_and_mistyped_keys_count_as_not_found),
        T(test_keys_still_verify_after_reopen),
        T(test_last_use_is_written_on_close),
    };
    return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}

/* test_identity.c — users, roles, groups, environments, other people's keys, the audit trail
 * and self-service passwords (src/core/users.h, roles.h, groups.h, keys.h, audit.h) through
 * core_open on a SQLite store in a temporary directory. Callers are built by hand with the
 * authorities they need. Most people are written straight into the store (no Argon2id hash);
 * only the tests about local passwords pay for hashing.
 * users_update and users_delete run on a helper thread with a time limit, so that a deadlock
 * in them fails its test instead of hanging the whole run (the wedged core is then left
 * alone rather than closed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/core/audit.h"
#include "../../src/core/authority.h"
#include "../../src/core/groups.h"
#include "../../src/core/keys.h"
#include "../../src/core/password.h"
#include "../../src/core/roles.h"
#include "../../src/core/users.h"
#include "../../src/core/verify.h"
#include "unit.h"

#define ALL_AUTHORITIES ((UINT32_C(1) << AUTHORITY_COUNT) - 1)
#define GOOD_PASSWORD "violet kettle drums at noon"

/* ---- fixture: a core with root (admin), alice and bob (user), all in ROOT ---- */

static void store_user(struct unit_core *u, const char *name, const char *roles,
                       const char *environment, const char *source, int disabled);

/* Set when a users_update/users_delete call did not return: its thread still waits inside
 * the store, so teardown must not close the core or the store. */
static int wedged;

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
    wedged = 0;
    store_user(u, "root", "admin", "ROOT", "local", 0);
    return 0;
}

static int teardown(void **state)
{
    struct unit_core *u = *state;
    if (wedged) { /* leak core and store: a thread is blocked inside them for good */
        unit_rmtree(u->dir);
        wedged = 0;
    } else {
        unit_core_destroy(u);
    }
    free(u);
    return 0;
}

/* ---- users_update / users_delete with a time limit ---- */

#define CALL_LIMIT_SECONDS 10

struct bounded_call {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int finished;
    int is_delete;
    struct core *c;
    struct caller who;
    char username[STORE_NAME_MAX + 1];
    struct user_patch patch;
    struct field_errors fe;
    struct user_record out;
    struct project_record sole_owner_of;
    enum err result;
};

static void *bounded_main(void *arg)
{
    struct bounded_call *k = arg;
    enum err e = k->is_delete
                     ? users_delete(k->c, &k->who, k->username, &k->sole_owner_of)
                     : users_update(k->c, &k->who, k->username, &k->patch, &k->fe, &k->out);
    pthread_mutex_lock(&k->lock);
    k->result = e;
    k->finished = 1;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* Runs k on a thread; fails the test (leaking k and marking the core wedged) when it has not
 * returned within CALL_LIMIT_SECONDS. */
static enum err run_bounded(struct bounded_call *k)
{
    pthread_t t;
    struct timespec deadline;
    int rc = 0;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cv, NULL);
    assert_int_equal(pthread_create(&t, NULL, bounded_main, k), 0);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += CALL_LIMIT_SECONDS;
    pthread_mutex_lock(&k->lock);
    while (!k->finished && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&k->cv, &k->lock, &deadline);
    int finished = k->finished;
    pthread_mutex_unlock(&k->lock);
    if (!finished) {
        pthread_detach(t);
        wedged = 1;
        fail_msg("%s(\"%s\") did not return within %d s (deadlock)",
                 k->is_delete ? "users_delete" : "users_update", k->username,
                 CALL_LIMIT_SECONDS);
    }
    pthread_join(t, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->lock);
    return k->result;
}

static struct bounded_call *new_call(struct unit_core *u, const struct caller *who,
                                     const char *name)
{
    struct bounded_call *k = calloc(1, sizeof *k);
    assert_non_null(k);
    k->c = u->core;
    k->who = *who;
    snprintf(k->username, sizeof k->username, "%s", name);
    return k;
}

/* users_update with a time limit. */
static enum err update_user(struct unit_core *u, const struct caller *who, const char *name,
                            const struct user_patch *p, struct field_errors *fe,
                            struct user_record *out)
{
    struct bounded_call *k = new_call(u, who, name);
    k->patch = *p;
    k->fe = *fe;
    enum err e = run_bounded(k);
    *fe = k->fe;
    *out = k->out;
    free(k);
    return e;
}

/* users_delete with a time limit. */
static enum err remove_user(struct unit_core *u, const struct caller *who, const char *name)
{
    struct bounded_call *k = new_call(u, who, name);
    k->is_delete = 1;
    enum err e = run_bounded(k);
    free(k);
    return e;
}

/* ---- helpers ---- */

/* Writes a user straight into the store (no password hash). */
static void store_user(struct unit_core *u, const char *name, const char *roles,
                       const char *environment, const char *source, int disabled)
{
    struct user_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.username, sizeof rec.username, "%s", name);
    snprintf(rec.auth_source, sizeof rec.auth_source, "%s", source);
    snprintf(rec.environment, sizeof rec.environment, "%s", environment);
    snprintf(rec.roles, sizeof rec.roles, "%s", roles);
    rec.disabled = disabled;
    rec.created_at = 100;
    assert_int_equal(u->store->ops->user_create(u->store, &rec, USERS_MAX), ERR_OK);
}

/* A local user with a real password hash (one Argon2id hash). */
static void store_local_user_with_password(struct unit_core *u, const char *name,
                                           const char *password)
{
    struct user_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.username, sizeof rec.username, "%s", name);
    snprintf(rec.auth_source, sizeof rec.auth_source, "local");
    snprintf(rec.environment, sizeof rec.environment, "ROOT");
    snprintf(rec.roles, sizeof rec.roles, "user");
    rec.created_at = 100;
    assert_int_equal(password_hash(password, strlen(password), rec.password_hash), ERR_OK);
    assert_int_equal(u->store->ops->user_create(u->store, &rec, USERS_MAX), ERR_OK);
}

/* A portal-session caller acting as name with the given authorities; "root" is the store's
 * admin, and so holds the admin role and every authority (grants.h: a caller grants only
 * what it holds). */
static void as(struct caller *who, const char *name, uint32_t authorities)
{
    unit_session_caller(who, name);
    who->authorities = authorities;
    if (strcmp(name, "root") == 0) {
        who->authorities = ALL_AUTHORITIES;
        who->holds_admin = 1;
    }
    snprintf(who->client, sizeof who->client, "192.0.2.7");
}

/* Another admin than root, so that root's own roles are not the caller's own. */
static void as_other_admin(struct caller *who)
{
    as(who, "operator", ALL_AUTHORITIES);
    who->holds_admin = 1;
}

static struct user_patch no_change(void)
{
    struct user_patch p;
    memset(&p, 0, sizeof p);
    p.disabled = -1;
    return p;
}

static struct user_input sso_input(const char *name, const char *source)
{
    struct user_input in;
    memset(&in, 0, sizeof in);
    in.username = name;
    in.auth_source = source;
    return in;
}

static enum err set_disabled(struct unit_core *u, const char *name, int disabled)
{
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_patch p = no_change();
    p.disabled = disabled;
    as_other_admin(&who);
    return update_user(u, &who, name, &p, &fe, &out);
}

static enum err set_roles(struct unit_core *u, const char *name, const char *const *roles,
                          size_t n)
{
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_patch p = no_change();
    p.set_roles = 1;
    p.roles = roles;
    p.role_count = n;
    as_other_admin(&who);
    return update_user(u, &who, name, &p, &fe, &out);
}

static enum err delete_user(struct unit_core *u, const char *name)
{
    struct caller who;
    as_other_admin(&who);
    return remove_user(u, &who, name);
}

static int user_exists(struct unit_core *u, const char *name)
{
    struct user_record got;
    enum err e = users_get(u->core, name, &got);
    assert_true(e == ERR_OK || e == ERR_NOT_FOUND);
    return e == ERR_OK;
}

static struct user_record get_user(struct unit_core *u, const char *name)
{
    struct user_record got;
    assert_int_equal(users_get(u->core, name, &got), ERR_OK);
    return got;
}

struct made_key {
    struct key_record rec;
    char secret[KEYFMT_MAX_LEN + 1];
};

static const char *const tasks_only[] = {"Tasks"};

/* A key of user owner (created by owner in a portal session). */
static void make_key(struct unit_core *u, const char *owner, const char *name,
                     struct made_key *out)
{
    struct caller who;
    struct field_errors fe = {0};
    struct key_input in;
    memset(&in, 0, sizeof in);
    in.name = name;
    in.scopes = tasks_only;
    in.scope_count = 1;
    unit_session_caller(&who, owner);
    enum err e = keys_create(u->core, &who, &in, &fe, &out->rec, out->secret);
    if (e != ERR_OK)
        fail_msg("keys_create for %s: err %d", owner, (int)e);
}

static enum verify_code verify_code_of(struct unit_core *u, const char *secret)
{
    struct verify_result r;
    memset(&r, 0, sizeof r);
    verify_key(u->core, secret, strlen(secret), NULL, NULL, &r, NULL);
    return r.code;
}

static uint32_t authorities_of(struct unit_core *u, const char *name)
{
    uint32_t mask = 0xdeadbeef;
    assert_int_equal(users_authorities(u->core, name, &mask), ERR_OK);
    return mask;
}

static void make_role(struct unit_core *u, const char *name, const char *const *authorities,
                      size_t n)
{
    struct caller who;
    struct field_errors fe = {0};
    struct role_record out;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_create(u->core, &who, name, "made by a test", authorities, n, &fe,
                                  &out),
                     ERR_OK);
}

static const char *const view_audit_only[] = {"view_audit"};

/* The role "auditor" (view_audit). */
static void make_auditor_role(struct unit_core *u)
{
    make_role(u, "auditor", view_audit_only, 1);
}

static enum err make_group(struct unit_core *u, const char *name, const char *environment,
                           const char *const *roles, size_t nroles, const char *const *members,
                           size_t nmembers, struct field_errors *fe)
{
    struct caller who;
    struct group_record out;
    struct group_input in;
    memset(&in, 0, sizeof in);
    in.name = name;
    in.environment = environment;
    in.roles = roles;
    in.role_count = nroles;
    in.set_roles = 1;
    in.members = members;
    in.member_count = nmembers;
    in.set_members = 1;
    as(&who, "root", AUTH_MANAGE_GROUPS);
    return groups_create(u->core, &who, &in, fe, &out);
}

static enum err set_members(struct unit_core *u, const char *group, const char *const *members,
                            size_t n, struct field_errors *fe)
{
    struct caller who;
    struct group_record out;
    struct group_input in;
    memset(&in, 0, sizeof in);
    in.name = group;
    in.members = members;
    in.member_count = n;
    in.set_members = 1;
    as(&who, "root", AUTH_MANAGE_GROUPS);
    return groups_update(u->core, &who, &in, fe, &out);
}

static void make_environment(struct unit_core *u, const char *name)
{
    struct caller who;
    struct field_errors fe = {0};
    struct environment_record out;
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_create(u->core, &who, name, "made by a test", &fe, &out),
                     ERR_OK);
}

static const char *const role_user[] = {"user"};
static const char *const role_admin[] = {"admin"};
static const char *const role_auditor[] = {"auditor"};
static const char *const only_alice[] = {"alice"};

/* ---- users_create ---- */

static void test_create_local_user_with_password(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out, stored;
    struct user_input in = sso_input("carol", NULL);
    in.password = GOOD_PASSWORD;
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_int_equal(fe.count, 0);
    assert_int_equal(u->store->ops->user_get(u->store, "carol", &stored), ERR_OK);
    assert_string_equal(stored.auth_source, "local");
    assert_int_equal(password_verify(stored.password_hash, GOOD_PASSWORD,
                                     strlen(GOOD_PASSWORD)),
                     1);
}

static void test_create_ldap_user_without_password(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out, stored;
    struct user_input in = sso_input("carol", "ldap");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_string_equal(out.auth_source, "ldap");
    assert_int_equal(u->store->ops->user_get(u->store, "carol", &stored), ERR_OK);
    assert_string_equal(stored.auth_source, "ldap");
    assert_string_equal(stored.password_hash, "");
}

static void test_create_saml_user_without_password(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out, stored;
    struct user_input in = sso_input("carol", "saml");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_int_equal(u->store->ops->user_get(u->store, "carol", &stored), ERR_OK);
    assert_string_equal(stored.auth_source, "saml");
    assert_string_equal(stored.password_hash, "");
}

static void test_create_sso_user_with_password_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct user_record out;
    static const char *const sources[] = {"ldap", "saml"};
    as(&who, "root", AUTH_MANAGE_USERS);
    for (size_t i = 0; i < 2; i++) {
        struct field_errors fe = {0};
        struct user_input in = sso_input("carol", sources[i]);
        in.password = GOOD_PASSWORD;
        assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
        assert_true(field_errors_has(&fe, "password"));
    }
    assert_false(user_exists(u, "carol"));
}

static void test_create_local_user_without_password_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_input in = sso_input("carol", "local");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "password"));
    assert_false(user_exists(u, "carol"));
}

static void test_create_with_unknown_auth_source_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_input in = sso_input("carol", "kerberos");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "auth_source"));
    assert_false(user_exists(u, "carol"));
}

static void test_create_with_unknown_role_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    static const char *const roles[] = {"user", "wizard"};
    struct user_input in = sso_input("carol", "ldap");
    in.roles = roles;
    in.role_count = 2;
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "roles"));
    assert_false(user_exists(u, "carol"));
}

static void test_create_with_unknown_environment_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_input in = sso_input("carol", "ldap");
    in.environment = "staging";
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "environment"));
    assert_false(user_exists(u, "carol"));
}

static void test_create_defaults_to_user_role_in_root(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_input in = sso_input("carol", "ldap");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    struct user_record got = get_user(u, "carol");
    assert_string_equal(got.roles, "user");
    assert_string_equal(got.environment, "ROOT");
    assert_int_equal(authorities_of(u, "carol"), 0);
}

static void test_create_keeps_given_roles_and_environment(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    make_environment(u, "staging");
    make_auditor_role(u);
    struct user_input in = sso_input("carol", "saml");
    in.environment = "staging";
    in.roles = role_auditor;
    in.role_count = 1;
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    struct user_record got = get_user(u, "carol");
    assert_string_equal(got.environment, "staging");
    assert_string_equal(got.roles, "auditor");
    assert_int_equal(authorities_of(u, "carol"), AUTH_VIEW_AUDIT);
}

/* ---- users_update: disabling ---- */

static void test_disable_makes_users_key_answer_disabled(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_VALID);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_DISABLED);
}

static void test_enable_restores_users_key(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(set_disabled(u, "alice", 0), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_VALID);
}

static void test_disable_does_not_touch_other_users_keys(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "bob", "ci", &k);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_VALID);
}

static void test_disabled_users_key_stays_disabled_after_reopen(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(unit_core_reopen(u), 0);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_DISABLED);
}

static void test_disable_is_stored(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(get_user(u, "alice").disabled, 1);
    assert_int_equal(set_disabled(u, "alice", 0), ERR_OK);
    assert_int_equal(get_user(u, "alice").disabled, 0);
}

static void test_disable_of_group_member_is_stored(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    assert_int_equal(make_group(u, "team", NULL, NULL, 0, only_alice, 1, &fe), ERR_OK);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(get_user(u, "alice").disabled, 1);
}

static void test_update_without_manage_users_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_patch p = no_change();
    p.disabled = 1;
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_USERS);
    assert_int_equal(update_user(u, &who, "alice", &p, &fe, &out), ERR_FORBIDDEN);
    assert_int_equal(get_user(u, "alice").disabled, 0);
}

static void test_update_of_unknown_user_is_not_found(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(set_disabled(u, "nobody", 1), ERR_NOT_FOUND);
}

static void test_update_with_unknown_role_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    static const char *const roles[] = {"wizard"};
    struct user_patch p = no_change();
    p.set_roles = 1;
    p.roles = roles;
    p.role_count = 1;
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(update_user(u, &who, "alice", &p, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "roles"));
    assert_string_equal(get_user(u, "alice").roles, "user");
}

static void test_update_with_unknown_environment_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_patch p = no_change();
    p.environment = "staging";
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(update_user(u, &who, "alice", &p, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "environment"));
    assert_string_equal(get_user(u, "alice").environment, "ROOT");
}

static void test_update_roles_replaces_own_roles(void **state)
{
    struct unit_core *u = *state;
    make_auditor_role(u);
    assert_int_equal(set_roles(u, "alice", role_auditor, 1), ERR_OK);
    assert_string_equal(get_user(u, "alice").roles, "auditor");
    assert_int_equal(authorities_of(u, "alice"), AUTH_VIEW_AUDIT);
}

static void test_update_password_of_sso_user_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    store_user(u, "carol", "user", "ROOT", "ldap", 0);
    struct user_patch p = no_change();
    p.password = GOOD_PASSWORD;
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(update_user(u, &who, "carol", &p, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "password"));
}

/* ---- users_delete ---- */

static void test_delete_makes_users_key_not_found(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(delete_user(u, "alice"), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_NOT_FOUND);
}

static void test_delete_of_disabled_user_makes_key_not_found(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_OK);
    assert_int_equal(delete_user(u, "alice"), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_NOT_FOUND);
}

static void test_delete_removes_user_and_their_keys_from_store(void **state)
{
    struct unit_core *u = *state;
    struct made_key k;
    struct key_record got;
    make_key(u, "alice", "ci", &k);
    assert_int_equal(delete_user(u, "alice"), ERR_OK);
    assert_false(user_exists(u, "alice"));
    assert_int_equal(u->store->ops->key_get(u->store, k.rec.id, &got), ERR_NOT_FOUND);
}

static int count_name(void *ctx, const char *name)
{
    (void)name;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_delete_removes_group_memberships(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    size_t n = 0;
    assert_int_equal(make_group(u, "team", NULL, NULL, 0, only_alice, 1, &fe), ERR_OK);
    assert_int_equal(delete_user(u, "alice"), ERR_OK);
    assert_int_equal(groups_members_each(u->core, "team", count_name, &n), ERR_OK);
    assert_int_equal(n, 0);
}

static void test_delete_without_manage_users_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_USERS);
    assert_int_equal(remove_user(u, &who, "alice"), ERR_FORBIDDEN);
    assert_true(user_exists(u, "alice"));
}

static void test_delete_of_unknown_user_is_not_found(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(delete_user(u, "nobody"), ERR_NOT_FOUND);
}

/* ---- the last admin ---- */

static void test_only_admin_cannot_be_demoted(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(set_roles(u, "root", role_user, 1), ERR_CONFLICT);
    assert_string_equal(get_user(u, "root").roles, "admin");
}

static void test_only_admin_cannot_be_disabled(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(set_disabled(u, "root", 1), ERR_CONFLICT);
    assert_int_equal(get_user(u, "root").disabled, 0);
}

static void test_only_admin_cannot_be_deleted(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(delete_user(u, "root"), ERR_CONFLICT);
    assert_true(user_exists(u, "root"));
}

static void test_only_admin_may_change_profile(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_patch p = no_change();
    p.full_name = "Root Admin";
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(update_user(u, &who, "root", &p, &fe, &out), ERR_OK);
    assert_string_equal(get_user(u, "root").full_name, "Root Admin");
}

static void test_second_admin_allows_demoting_the_first(void **state)
{
    struct unit_core *u = *state;
    store_user(u, "root2", "admin", "ROOT", "local", 0);
    assert_int_equal(set_roles(u, "root", role_user, 1), ERR_OK);
    assert_string_equal(get_user(u, "root").roles, "user");
}

static void test_second_admin_allows_disabling_the_first(void **state)
{
    struct unit_core *u = *state;
    store_user(u, "root2", "admin", "ROOT", "local", 0);
    assert_int_equal(set_disabled(u, "root", 1), ERR_OK);
    assert_int_equal(get_user(u, "root").disabled, 1);
}

static void test_second_admin_allows_deleting_the_first(void **state)
{
    struct unit_core *u = *state;
    store_user(u, "root2", "admin", "ROOT", "local", 0);
    assert_int_equal(delete_user(u, "root"), ERR_OK);
    assert_false(user_exists(u, "root"));
}

static void test_disabled_second_admin_does_not_count(void **state)
{
    struct unit_core *u = *state;
    store_user(u, "root2", "admin", "ROOT", "local", 1);
    assert_int_equal(set_roles(u, "root", role_user, 1), ERR_CONFLICT);
    assert_int_equal(delete_user(u, "root"), ERR_CONFLICT);
}

static void test_admin_through_group_counts_as_second_admin(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    assert_int_equal(make_group(u, "admins", NULL, role_admin, 1, only_alice, 1, &fe), ERR_OK);
    assert_int_equal(set_roles(u, "root", role_user, 1), ERR_OK);
}

static void test_last_admin_through_group_cannot_be_disabled(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    assert_int_equal(make_group(u, "admins", NULL, role_admin, 1, only_alice, 1, &fe), ERR_OK);
    assert_int_equal(set_roles(u, "root", role_user, 1), ERR_OK);
    assert_int_equal(set_disabled(u, "alice", 1), ERR_CONFLICT);
    assert_int_equal(delete_user(u, "alice"), ERR_CONFLICT);
}

static void test_disabled_admin_can_be_deleted_while_another_is_enabled(void **state)
{
    struct unit_core *u = *state;
    store_user(u, "root2", "admin", "ROOT", "local", 1);
    assert_int_equal(delete_user(u, "root2"), ERR_OK);
}

/* ---- roles through groups ---- */

static void test_group_role_grants_authorities_to_added_member(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    make_auditor_role(u);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, NULL, 0, &fe), ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), 0);
    assert_int_equal(set_members(u, "auditors", only_alice, 1, &fe), ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), AUTH_VIEW_AUDIT);
    assert_int_equal(authorities_of(u, "bob"), 0);
}

static void test_removing_member_takes_group_authorities_away(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    make_auditor_role(u);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, only_alice, 1, &fe),
                     ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), AUTH_VIEW_AUDIT);
    assert_int_equal(set_members(u, "auditors", NULL, 0, &fe), ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), 0);
}

static void test_deleting_group_takes_its_authorities_away(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    struct caller who;
    make_auditor_role(u);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, only_alice, 1, &fe),
                     ERR_OK);
    as(&who, "root", AUTH_MANAGE_GROUPS);
    assert_int_equal(groups_delete(u->core, &who, "auditors"), ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), 0);
}

static void test_authorities_are_union_of_own_and_group_roles(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    static const char *const keys_auth[] = {"manage_user_api_keys"};
    static const char *const keymgr[] = {"keymgr"};
    make_auditor_role(u);
    make_role(u, "keymgr", keys_auth, 1);
    assert_int_equal(set_roles(u, "alice", keymgr, 1), ERR_OK);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, only_alice, 1, &fe),
                     ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), AUTH_VIEW_AUDIT | AUTH_MANAGE_USER_API_KEYS);
}

static void test_admin_role_grants_every_authority(void **state)
{
    struct unit_core *u = *state;
    assert_int_equal(authorities_of(u, "root"), ALL_AUTHORITIES);
}

static void test_changing_role_changes_holders_authorities(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    struct caller who;
    struct role_record out;
    static const char *const groups_auth[] = {"manage_groups"};
    make_auditor_role(u);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, only_alice, 1, &fe),
                     ERR_OK);
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_update(u->core, &who, "auditor", NULL, groups_auth, 1, &fe, &out),
                     ERR_OK);
    assert_int_equal(authorities_of(u, "alice"), AUTH_MANAGE_GROUPS);
}

/* ---- roles ---- */

static void test_role_delete_while_held_by_user_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct role_record got;
    make_auditor_role(u);
    assert_int_equal(set_roles(u, "alice", role_auditor, 1), ERR_OK);
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "auditor"), ERR_CONFLICT);
    assert_int_equal(roles_get(u->core, "auditor", &got), ERR_OK);
}

static void test_role_delete_while_held_by_group_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record got;
    make_auditor_role(u);
    assert_int_equal(make_group(u, "auditors", NULL, role_auditor, 1, NULL, 0, &fe), ERR_OK);
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "auditor"), ERR_CONFLICT);
    assert_int_equal(roles_get(u->core, "auditor", &got), ERR_OK);
}

static void test_role_delete_of_builtin_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct role_record got;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "admin"), ERR_FORBIDDEN);
    assert_int_equal(roles_delete(u->core, &who, "user"), ERR_FORBIDDEN);
    assert_int_equal(roles_get(u->core, "admin", &got), ERR_OK);
    assert_int_equal(roles_get(u->core, "user", &got), ERR_OK);
}

static void test_role_delete_of_unused_role_removes_it(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct role_record got;
    make_auditor_role(u);
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "auditor"), ERR_OK);
    assert_int_equal(roles_get(u->core, "auditor", &got), ERR_NOT_FOUND);
}

static void test_role_delete_without_manage_roles_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct role_record got;
    make_auditor_role(u);
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "auditor"), ERR_FORBIDDEN);
    assert_int_equal(roles_get(u->core, "auditor", &got), ERR_OK);
}

static void test_role_update_of_builtin_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record out;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_update(u->core, &who, "user", NULL, view_audit_only, 1, &fe, &out),
                     ERR_FORBIDDEN);
    assert_int_equal(authorities_of(u, "alice"), 0);
}

static void test_role_create_with_unknown_authority_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record out, got;
    static const char *const bad[] = {"view_audit", "launch_missiles"};
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_create(u->core, &who, "odd", NULL, bad, 2, &fe, &out), ERR_INVALID);
    assert_true(field_errors_has(&fe, "authorities"));
    assert_int_equal(roles_get(u->core, "odd", &got), ERR_NOT_FOUND);
}

static void test_role_create_of_existing_name_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record out;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_create(u->core, &who, "admin", NULL, view_audit_only, 1, &fe, &out),
                     ERR_CONFLICT);
}

/* ---- environments and groups ---- */

static void test_environment_root_cannot_be_deleted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct environment_record got;
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_delete(u->core, &who, "ROOT"), ERR_FORBIDDEN);
    assert_int_equal(environments_get(u->core, "ROOT", &got), ERR_OK);
}

static void test_environment_with_a_user_cannot_be_deleted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct environment_record got;
    make_environment(u, "staging");
    store_user(u, "carol", "user", "staging", "local", 0);
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_delete(u->core, &who, "staging"), ERR_CONFLICT);
    assert_int_equal(environments_get(u->core, "staging", &got), ERR_OK);
}

static void test_environment_with_a_group_cannot_be_deleted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct environment_record got;
    make_environment(u, "staging");
    assert_int_equal(make_group(u, "stagers", "staging", NULL, 0, NULL, 0, &fe), ERR_OK);
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_delete(u->core, &who, "staging"), ERR_CONFLICT);
    assert_int_equal(environments_get(u->core, "staging", &got), ERR_OK);
}

static void test_empty_environment_is_deleted(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct environment_record got;
    make_environment(u, "staging");
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_delete(u->core, &who, "staging"), ERR_OK);
    assert_int_equal(environments_get(u->core, "staging", &got), ERR_NOT_FOUND);
}

static void test_environment_delete_without_authority_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    make_environment(u, "staging");
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_delete(u->core, &who, "staging"), ERR_FORBIDDEN);
}

static void test_environment_create_of_existing_name_is_conflict(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct environment_record out;
    as(&who, "root", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_create(u->core, &who, "ROOT", NULL, &fe, &out), ERR_CONFLICT);
}

static void test_group_with_member_of_another_environment_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    struct group_record got;
    make_environment(u, "staging");
    assert_int_equal(make_group(u, "stagers", "staging", NULL, 0, only_alice, 1, &fe),
                     ERR_INVALID);
    assert_true(field_errors_has(&fe, "members"));
    assert_int_equal(groups_get(u->core, "stagers", &got), ERR_NOT_FOUND);
}

static void test_group_update_with_member_of_another_environment_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    size_t n = 0;
    make_environment(u, "staging");
    assert_int_equal(make_group(u, "stagers", "staging", NULL, 0, NULL, 0, &fe), ERR_OK);
    assert_int_equal(set_members(u, "stagers", only_alice, 1, &fe), ERR_INVALID);
    assert_true(field_errors_has(&fe, "members"));
    assert_int_equal(groups_members_each(u->core, "stagers", count_name, &n), ERR_OK);
    assert_int_equal(n, 0);
}

static void test_group_accepts_members_of_its_environment(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    static const char *const carol[] = {"carol"};
    size_t n = 0;
    make_environment(u, "staging");
    store_user(u, "carol", "user", "staging", "local", 0);
    assert_int_equal(make_group(u, "stagers", "staging", NULL, 0, carol, 1, &fe), ERR_OK);
    assert_int_equal(groups_members_each(u->core, "stagers", count_name, &n), ERR_OK);
    assert_int_equal(n, 1);
}

static void test_group_with_unknown_member_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct field_errors fe = {0};
    static const char *const ghost[] = {"ghost"};
    assert_int_equal(make_group(u, "team", NULL, NULL, 0, ghost, 1, &fe), ERR_INVALID);
    assert_true(field_errors_has(&fe, "members"));
}

static void test_group_create_without_manage_groups_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct group_record out;
    struct group_input in;
    memset(&in, 0, sizeof in);
    in.name = "team";
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_GROUPS);
    assert_int_equal(groups_create(u->core, &who, &in, &fe, &out), ERR_FORBIDDEN);
}

/* ---- other people's keys ---- */

struct key_list {
    size_t n;
    char ids[8][STORE_ID_LEN + 1];
};

static int collect_key(void *ctx, const struct key_record *k)
{
    struct key_list *l = ctx;
    if (l->n < 8)
        snprintf(l->ids[l->n], sizeof l->ids[0], "%s", k->id);
    l->n++;
    return 0;
}

static void test_keys_list_of_user_without_authority_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_list l = {0};
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_list_of_user(u->core, &who, "alice", collect_key, &l), ERR_FORBIDDEN);
    assert_int_equal(l.n, 0);
}

static void test_keys_delete_of_user_without_authority_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    as(&who, "bob", ALL_AUTHORITIES & ~(uint32_t)AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_delete_of_user(u->core, &who, "alice", k.rec.id), ERR_FORBIDDEN);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_VALID);
}

static void test_keys_list_of_user_lists_their_keys(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_list l = {0};
    struct made_key k1, k2, other;
    make_key(u, "alice", "one", &k1);
    make_key(u, "alice", "two", &k2);
    make_key(u, "bob", "bobs", &other);
    as(&who, "root", AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_list_of_user(u->core, &who, "alice", collect_key, &l), ERR_OK);
    assert_int_equal(l.n, 2);
    assert_true((strcmp(l.ids[0], k1.rec.id) == 0 && strcmp(l.ids[1], k2.rec.id) == 0) ||
                (strcmp(l.ids[0], k2.rec.id) == 0 && strcmp(l.ids[1], k1.rec.id) == 0));
}

static void test_keys_list_of_unknown_user_is_not_found(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_list l = {0};
    as(&who, "root", AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_list_of_user(u->core, &who, "nobody", collect_key, &l),
                     ERR_NOT_FOUND);
}

static void test_keys_delete_of_user_refuses_key_at_once(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct key_list l = {0};
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    as(&who, "root", AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_delete_of_user(u->core, &who, "alice", k.rec.id), ERR_OK);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_NOT_FOUND);
    assert_int_equal(keys_list_of_user(u->core, &who, "alice", collect_key, &l), ERR_OK);
    assert_int_equal(l.n, 0);
}

static void test_keys_delete_of_user_names_the_owner(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct made_key k;
    make_key(u, "alice", "ci", &k);
    as(&who, "root", AUTH_MANAGE_USER_API_KEYS);
    assert_int_equal(keys_delete_of_user(u->core, &who, "bob", k.rec.id), ERR_NOT_FOUND);
    assert_int_equal(verify_code_of(u, k.secret), VERIFY_VALID);
}

/* ---- audit ---- */

#define SEEN_MAX 16

struct seen_events {
    size_t n;
    struct audit_record ev[SEEN_MAX];
};

static int collect_event(void *ctx, const struct audit_record *a)
{
    struct seen_events *s = ctx;
    if (s->n < SEEN_MAX)
        s->ev[s->n] = *a;
    s->n++;
    return 0;
}

static struct audit_filter filter(void)
{
    struct audit_filter f;
    memset(&f, 0, sizeof f);
    f.limit = 50;
    return f;
}

static struct seen_events *query(struct unit_core *u, const struct audit_filter *f)
{
    static struct seen_events s;
    struct caller who;
    memset(&s, 0, sizeof s);
    as(&who, "root", AUTH_VIEW_AUDIT);
    assert_int_equal(audit_query(u->core, &who, f, collect_event, &s), ERR_OK);
    return &s;
}

/* Three role.create events by root (r1, r2, r3, in that order) and one environment.create
 * event by alice (staging). */
static void make_some_events(struct unit_core *u)
{
    struct caller who;
    struct field_errors fe = {0};
    struct role_record r;
    struct environment_record env;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_create(u->core, &who, "r1", NULL, view_audit_only, 1, &fe, &r), 0);
    assert_int_equal(roles_create(u->core, &who, "r2", NULL, view_audit_only, 1, &fe, &r), 0);
    assert_int_equal(roles_create(u->core, &who, "r3", NULL, view_audit_only, 1, &fe, &r), 0);
    as(&who, "alice", AUTH_MANAGE_ENVIRONMENTS);
    assert_int_equal(environments_create(u->core, &who, "staging", NULL, &fe, &env), 0);
}

static void test_action_appends_an_audit_event(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record r;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_create(u->core, &who, "auditor", NULL, view_audit_only, 1, &fe, &r),
                     ERR_OK);
    struct audit_filter f = filter();
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 1);
    assert_true(s->ev[0].id > 0);
    assert_true(s->ev[0].at > 0);
    assert_string_equal(s->ev[0].actor, "root");
    assert_string_equal(s->ev[0].action, "role.create");
    assert_string_equal(s->ev[0].target_type, "role");
    assert_string_equal(s->ev[0].target, "auditor");
    assert_string_equal(s->ev[0].client, "192.0.2.7");
}

static void test_user_changes_are_audited(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record out;
    struct user_input in = sso_input("carol", "ldap");
    as(&who, "root", AUTH_MANAGE_USERS);
    assert_int_equal(users_create(u->core, &who, &in, &fe, &out), ERR_OK);
    assert_int_equal(set_disabled(u, "carol", 1), ERR_OK);
    assert_int_equal(delete_user(u, "carol"), ERR_OK);
    struct audit_filter f = filter();
    f.target = "carol";
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->ev[0].action, "user.delete");
    assert_string_equal(s->ev[1].action, "user.disable");
    assert_string_equal(s->ev[2].action, "user.create");
}

static void test_audit_is_newest_first(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 4);
    for (size_t i = 1; i < s->n; i++)
        assert_true(s->ev[i - 1].id > s->ev[i].id);
    assert_string_equal(s->ev[0].target, "staging");
    assert_string_equal(s->ev[3].target, "r1");
}

static void test_audit_filter_by_actor(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.actor = "alice";
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->ev[0].action, "environment.create");
    f.actor = "root";
    s = query(u, &f);
    assert_int_equal(s->n, 3);
    for (size_t i = 0; i < s->n; i++)
        assert_string_equal(s->ev[i].actor, "root");
}

static void test_audit_filter_by_action(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.action = "role.create";
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 3);
    for (size_t i = 0; i < s->n; i++)
        assert_string_equal(s->ev[i].action, "role.create");
    f.action = "role.delete";
    assert_int_equal(query(u, &f)->n, 0);
}

static void test_audit_filter_by_target(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.target = "r2";
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->ev[0].target, "r2");
    assert_string_equal(s->ev[0].action, "role.create");
}

static void test_audit_filters_combine(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.actor = "alice";
    f.action = "role.create";
    assert_int_equal(query(u, &f)->n, 0);
}

static void test_audit_limit_keeps_the_newest(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.limit = 2;
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->ev[0].target, "staging");
    assert_string_equal(s->ev[1].target, "r3");
}

static void test_audit_before_id_pages_through_older_events(void **state)
{
    struct unit_core *u = *state;
    make_some_events(u);
    struct audit_filter f = filter();
    f.action = "role.create";
    f.limit = 2;
    struct seen_events page1 = *query(u, &f);
    assert_int_equal(page1.n, 2);
    assert_string_equal(page1.ev[0].target, "r3");
    assert_string_equal(page1.ev[1].target, "r2");
    f.before_id = page1.ev[1].id;
    struct seen_events *page2 = query(u, &f);
    assert_int_equal(page2->n, 1);
    assert_string_equal(page2->ev[0].target, "r1");
    assert_true(page2->ev[0].id < page1.ev[1].id);
    f.before_id = page2->ev[0].id;
    assert_int_equal(query(u, &f)->n, 0);
}

static void test_audit_query_without_view_audit_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct seen_events s;
    memset(&s, 0, sizeof s);
    make_some_events(u);
    struct audit_filter f = filter();
    as(&who, "alice", ALL_AUTHORITIES & ~(uint32_t)AUTH_VIEW_AUDIT);
    assert_int_equal(audit_query(u->core, &who, &f, collect_event, &s), ERR_FORBIDDEN);
    assert_int_equal(s.n, 0);
}

static void test_audit_of_key_caller_names_the_person(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct role_record r;
    unit_key_caller(&who, "root", UINT64_MAX, INT64_MAX);
    who.authorities = AUTH_MANAGE_ROLES | AUTH_VIEW_AUDIT; /* grants what it holds */
    snprintf(who.key_id, sizeof who.key_id, "0123456789abcdef01234567");
    assert_int_equal(roles_create(u->core, &who, "auditor", NULL, view_audit_only, 1, &fe, &r),
                     ERR_OK);
    struct audit_filter f = filter();
    struct seen_events *s = query(u, &f);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->ev[0].actor, "root");
}

static void test_refused_action_is_not_audited(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    as(&who, "root", AUTH_MANAGE_ROLES);
    assert_int_equal(roles_delete(u->core, &who, "admin"), ERR_FORBIDDEN);
    struct audit_filter f = filter();
    assert_int_equal(query(u, &f)->n, 0);
}

/* ---- self-service password ---- */

static void test_change_password_with_wrong_current_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record stored;
    store_local_user_with_password(u, "carol", GOOD_PASSWORD);
    unit_session_caller(&who, "carol");
    assert_int_equal(users_change_password(u->core, &who, "not my password",
                                           "another fine passphrase", &fe, NULL),
                     ERR_INVALID);
    assert_true(field_errors_has(&fe, "current_password"));
    assert_false(field_errors_has(&fe, "new_password"));
    assert_int_equal(u->store->ops->user_get(u->store, "carol", &stored), ERR_OK);
    assert_int_equal(password_verify(stored.password_hash, GOOD_PASSWORD,
                                     strlen(GOOD_PASSWORD)),
                     1);
}

static void test_change_password_of_sso_user_is_forbidden(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    store_user(u, "carol", "user", "ROOT", "saml", 0);
    unit_session_caller(&who, "carol");
    assert_int_equal(users_change_password(u->core, &who, "", "another fine passphrase", &fe, NULL),
                     ERR_FORBIDDEN);
}

static void test_change_password_to_weak_one_is_invalid(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    store_local_user_with_password(u, "carol", GOOD_PASSWORD);
    unit_session_caller(&who, "carol");
    assert_int_equal(users_change_password(u->core, &who, GOOD_PASSWORD, "short", &fe, NULL),
                     ERR_INVALID);
    assert_true(field_errors_has(&fe, "new_password"));
    assert_false(field_errors_has(&fe, "current_password"));
}

static void test_change_password_with_right_current_replaces_it(void **state)
{
    struct unit_core *u = *state;
    struct caller who;
    struct field_errors fe = {0};
    struct user_record stored;
    const char *next = "another fine passphrase";
    store_local_user_with_password(u, "carol", GOOD_PASSWORD);
    unit_session_caller(&who, "carol");
    assert_int_equal(users_change_password(u->core, &who, GOOD_PASSWORD, next, &fe, NULL), ERR_OK);
    assert_int_equal(u->store->ops->user_get(u->store, "carol", &stored), ERR_OK);
    assert_int_equal(password_verify(stored.password_hash, next, strlen(next)), 1);
    assert_int_equal(password_verify(stored.password_hash, GOOD_PASSWORD,
                                     strlen(GOOD_PASSWORD)),
                     0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int run_identity_tests(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_local_user_with_password),
        T(test_create_ldap_user_without_password),
        T(test_create_saml_user_without_password),
        T(test_create_sso_user_with_password_is_invalid),
        T(test_create_local_user_without_password_is_invalid),
        T(test_create_with_unknown_auth_source_is_invalid),
        T(test_create_with_unknown_role_is_invalid),
        T(test_create_with_unknown_environment_is_invalid),
        T(test_create_defaults_to_user_role_in_root),
        T(test_create_keeps_given_roles_and_environment),
        T(test_disable_makes_users_key_answer_disabled),
        T(test_enable_restores_users_key),
        T(test_disable_does_not_touch_other_users_keys),
        T(test_disabled_users_key_stays_disabled_after_reopen),
        T(test_disable_is_stored),
        T(test_disable_of_group_member_is_stored),
        T(test_update_without_manage_users_is_forbidden),
        T(test_update_of_unknown_user_is_not_found),
        T(test_update_with_unknown_role_is_invalid),
        T(test_update_with_unknown_environment_is_invalid),
        T(test_update_roles_replaces_own_roles),
        T(test_update_password_of_sso_user_is_invalid),
        T(test_delete_makes_users_key_not_found),
        T(test_delete_of_disabled_user_makes_key_not_found),
        T(test_delete_removes_user_and_their_keys_from_store),
        T(test_delete_removes_group_memberships),
        T(test_delete_without_manage_users_is_forbidden),
        T(test_delete_of_unknown_user_is_not_found),
        T(test_only_admin_cannot_be_demoted),
        T(test_only_admin_cannot_be_disabled),
        T(test_only_admin_cannot_be_deleted),
        T(test_only_admin_may_change_profile),
        T(test_second_admin_allows_demoting_the_first),
        T(test_second_admin_allows_disabling_the_first),
        T(test_second_admin_allows_deleting_the_first),
        T(test_disabled_second_admin_does_not_count),
        T(test_admin_through_group_counts_as_second_admin),
        T(test_last_admin_through_group_cannot_be_disabled),
        T(test_disabled_admin_can_be_deleted_while_another_is_enabled),
        T(test_group_role_grants_authorities_to_added_member),
        T(test_removing_member_takes_group_authorities_away),
        T(test_deleting_group_takes_its_authorities_away),
        T(test_authorities_are_union_of_own_and_group_roles),
        T(test_admin_role_grants_every_authority),
        T(test_changing_role_changes_holders_authorities),
        T(test_role_delete_while_held_by_user_is_conflict),
        T(test_role_delete_while_held_by_group_is_conflict),
        T(test_role_delete_of_builtin_is_forbidden),
        T(test_role_delete_of_unused_role_removes_it),
        T(test_role_delete_without_manage_roles_is_forbidden),
        T(test_role_update_of_builtin_is_forbidden),
        T(test_role_create_with_unknown_authority_is_invalid),
        T(test_role_create_of_existing_name_is_conflict),
        T(test_environment_root_cannot_be_deleted),
        T(test_environment_with_a_user_cannot_be_deleted),
        T(test_environment_with_a_group_cannot_be_deleted),
        T(test_empty_environment_is_deleted),
        T(test_environment_delete_without_authority_is_forbidden),
        T(test_environment_create_of_existing_name_is_conflict),
        T(test_group_with_member_of_another_environment_is_invalid),
        T(test_group_update_with_member_of_another_environment_is_invalid),
        T(test_group_accepts_members_of_its_environment),
        T(test_group_with_unknown_member_is_invalid),
        T(test_group_create_without_manage_groups_is_forbidden),
        T(test_keys_list_of_user_without_authority_is_forbidden),
        T(test_keys_delete_of_user_without_authority_is_forbidden),
        T(test_keys_list_of_user_lists_their_keys),
        T(test_keys_list_of_unknown_user_is_not_found),
        T(test_keys_delete_of_user_refuses_key_at_once),
        T(test_keys_delete_of_user_names_the_owner),
        T(test_action_appends_an_audit_event),
        T(test_user_changes_are_audited),
        T(test_audit_is_newest_first),
        T(test_audit_filter_by_actor),
        T(test_audit_filter_by_action),
        T(test_audit_filter_by_target),
        T(test_audit_filters_combine),
        T(test_audit_limit_keeps_the_newest),
        T(test_audit_before_id_pages_through_older_events),
        T(test_audit_query_without_view_audit_is_forbidden),
        T(test_audit_of_key_caller_names_the_person),
        T(test_refused_action_is_not_audited),
        T(test_change_password_with_wrong_current_is_invalid),
        T(test_change_password_of_sso_user_is_forbidden),
        T(test_change_password_to_weak_one_is_invalid),
        T(test_change_password_with_right_current_replaces_it),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}

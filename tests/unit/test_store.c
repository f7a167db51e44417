/* test_store.c — the store conformance suite: every operation of src/store/store.h against
 * its documented contract. The same list of tests runs as group "store-sqlite" (a fresh
 * temporary directory per test) and, when APIKEYD_TEST_PG_URL names a PostgreSQL server
 * (postgresql://USER@HOST:PORT/DB), as group "store-postgresql" (a fresh database per test,
 * created through that URL and dropped afterwards). Both backends must pass the same tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define PG_URL_ENV "APIKEYD_TEST_PG_URL"
#define T0 ((int64_t)1700000000) /* a fixed "now" for records */
#define BIG 1000                 /* a limit no test reaches */

/* ---- fixtures: one fresh store per test ---- */

struct fixture {
    struct store *s;
    char *dir;      /* SQLite: the temporary directory */
    char db[64];    /* PostgreSQL: the database made for this test ("" for SQLite) */
    char url[1024]; /* PostgreSQL: the URL of that database */
};

static struct store *store_of(void **state)
{
    return ((struct fixture *)*state)->s;
}

static int sqlite_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->dir = unit_tempdir();
    if (store_sqlite_open(f->dir, &f->s) != ERR_OK) {
        print_error("store_sqlite_open(%s) failed\n", f->dir);
        unit_rmtree(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int sqlite_teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    if (f->s)
        f->s->ops->close(f->s);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

/* Runs one statement on a connection of its own to url; 0 on success. */
static int pg_admin(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    int ok = c && PQstatus(c) == CONNECTION_OK;
    if (!ok) {
        print_error("cannot connect to %s: %s\n", url, c ? PQerrorMessage(c) : "out of memory");
    } else {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            print_error("%s: %s\n", sql, PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* base with its database name (the last path segment, before any ?query) replaced by db. */
static int pg_db_url(const char *base, const char *db, char *out, size_t cap)
{
    const char *scheme = strstr(base, "://");
    if (!scheme)
        return -1;
    size_t host_start = (size_t)(scheme - base) + 3;
    const char *query = strchr(base + host_start, '?');
    size_t end = query ? (size_t)(query - base) : strlen(base);
    size_t slash = end;
    while (slash > host_start && base[slash - 1] != '/')
        slash--;
    int n;
    if (slash > host_start) /* keep everything up to and including the last '/' */
        n = snprintf(out, cap, "%.*s%s%s", (int)slash, base, db, query ? query : "");
    else /* no path: add one */
        n = snprintf(out, cap, "%.*s/%s%s", (int)end, base, db, query ? query : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The migrated schema every PostgreSQL test starts from: made once for the group (migrating
 * a new database for each of ~200 tests took most of the unit tests' time), then copied with
 * CREATE DATABASE ... TEMPLATE, which PostgreSQL does file by file. */
static char pg_template[40];

/* A database name not used before: apikeyd_t_ and 16 random hex digits. */
static void pg_random_name(char *out, size_t cap)
{
    uint8_t r[8];
    char hex[2 * sizeof r + 1];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    snprintf(out, cap, "apikeyd_t_%s", hex);
}

static int pg_group_setup(void **state)
{
    (void)state;
    const char *base = getenv(PG_URL_ENV);
    char url[1024], sql[128];
    pg_random_name(pg_template, sizeof pg_template);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_template);
    if (!base || pg_db_url(base, pg_template, url, sizeof url) != 0 || pg_admin(base, sql) != 0) {
        pg_template[0] = '\0';
        return -1;
    }
    struct store *s;
    if (store_pg_open(url, &s) != ERR_OK) { /* migrates it */
        print_error("store_pg_open(%s) failed\n", url);
        return -1;
    }
    s->ops->close(s); /* a template must have no connection while it is copied */
    return 0;
}

static int pg_group_teardown(void **state)
{
    (void)state;
    char sql[128];
    if (!pg_template[0])
        return 0;
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", pg_template);
    return pg_admin(getenv(PG_URL_ENV), sql);
}

static int pg_setup(void **state)
{
    const char *base = getenv(PG_URL_ENV);
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || !base || !pg_template[0])
        goto fail;
    pg_random_name(f->db, sizeof f->db);
    if (pg_db_url(base, f->db, f->url, sizeof f->url) != 0) {
        print_error("cannot make a database URL from %s\n", base);
        goto fail;
    }
    char sql[192];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", f->db, pg_template);
    if (pg_admin(base, sql) != 0) {
        f->db[0] = '\0';
        goto fail;
    }
    if (store_pg_open(f->url, &f->s) != ERR_OK) {
        print_error("store_pg_open(%s) failed\n", f->url);
        f->s = NULL;
        goto fail;
    }
    *state = f;
    return 0;
fail:
    if (f && f->db[0] && base) {
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->db);
        pg_admin(base, sql);
    }
    free(f);
    return -1;
}

static int pg_teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    if (f->s)
        f->s->ops->close(f->s);
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->db);
    int rc = pg_admin(getenv(PG_URL_ENV), sql);
    free(f);
    return rc;
}

/* Closes the store and opens it again on the same data. */
static void reopen(void **state)
{
    struct fixture *f = *state;
    f->s->ops->close(f->s);
    f->s = NULL;
    enum err e = f->db[0] ? store_pg_open(f->url, &f->s) : store_sqlite_open(f->dir, &f->s);
    if (e != ERR_OK) {
        f->s = NULL;
        fail_msg("reopening the store failed (%d)", (int)e);
    }
}

/* ---- assertions and collectors ---- */

static const char *err_name(enum err e)
{
    static const char *const names[] = {
        [ERR_OK] = "ERR_OK",
        [ERR_MALFORMED_JSON] = "ERR_MALFORMED_JSON",
        [ERR_BAD_REQUEST] = "ERR_BAD_REQUEST",
        [ERR_UNAUTHENTICATED] = "ERR_UNAUTHENTICATED",
        [ERR_LOGIN_FAILED] = "ERR_LOGIN_FAILED",
        [ERR_OTP_REQUIRED] = "ERR_OTP_REQUIRED",
        [ERR_FORBIDDEN] = "ERR_FORBIDDEN",
        [ERR_CSRF] = "ERR_CSRF",
        [ERR_NOT_FOUND] = "ERR_NOT_FOUND",
        [ERR_METHOD] = "ERR_METHOD",
        [ERR_CONFLICT] = "ERR_CONFLICT",
        [ERR_LIMIT] = "ERR_LIMIT",
        [ERR_BODY_TOO_LARGE] = "ERR_BODY_TOO_LARGE",
        [ERR_URI_TOO_LONG] = "ERR_URI_TOO_LONG",
        [ERR_MEDIA_TYPE] = "ERR_MEDIA_TYPE",
        [ERR_INVALID] = "ERR_INVALID",
        [ERR_THROTTLED] = "ERR_THROTTLED",
        [ERR_HEADERS_TOO_LARGE] = "ERR_HEADERS_TOO_LARGE",
        [ERR_INTERNAL] = "ERR_INTERNAL",
        [ERR_NOMEM] = "ERR_NOMEM",
        [ERR_STORE] = "ERR_STORE",
        [ERR_UNAVAILABLE] = "ERR_UNAVAILABLE",
        [ERR_STORAGE_FULL] = "ERR_STORAGE_FULL",
    };
    if ((unsigned)e < sizeof names / sizeof names[0] && names[e])
        return names[e];
    return "(unknown error code)";
}

static void expect_err_at(enum err got, enum err want, const char *expr, const char *file,
                          int line)
{
    if (got == want)
        return;
    print_error("%s: got %s, expected %s\n", expr, err_name(got), err_name(want));
    _assert_string_equal(err_name(got), err_name(want), file, line);
    _fail(file, line); /* two codes of one name */
}

#define assert_err(expr, want) expect_err_at((expr), (want), #expr, __FILE__, __LINE__)

#define LIST_MAX 160
#define ITEM_MAX (STORE_PRINCIPAL_MAX + STORE_ID_LEN + 32)

/* Strings (and a number each) that a walk saw, in order. */
struct list {
    size_t n;
    char v[LIST_MAX][ITEM_MAX];
    int64_t num[LIST_MAX];
    char joined[LIST_MAX * ITEM_MAX];
};

static struct list *list_new(void)
{
    struct list *l = calloc(1, sizeof *l);
    assert_non_null(l);
    return l;
}

static void list_add(struct list *l, int64_t num, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void list_add(struct list *l, int64_t num, const char *fmt, ...)
{
    if (l->n >= LIST_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->v[l->n], ITEM_MAX, fmt, ap);
    va_end(ap);
    l->num[l->n++] = num;
}

/* The items joined with ',' in the order seen. */
static const char *list_str(struct list *l)
{
    size_t o = 0;
    l->joined[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        o += (size_t)snprintf(l->joined + o, sizeof l->joined - o, "%s%s", i ? "," : "",
                              l->v[i]);
    return l->joined;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The items sorted, joined with ',' (for walks whose order is not documented). */
static const char *list_sorted(struct list *l)
{
    qsort(l->v, l->n, sizeof l->v[0], cmp_item);
    return list_str(l);
}

/* A comma-separated set in sorted order, into buf (a list whose order is not documented). */
static const char *csv_sorted(const char *csv, struct list *l)
{
    l->n = 0;
    while (*csv) {
        size_t len = strcspn(csv, ",");
        if (len)
            list_add(l, 0, "%.*s", (int)len, csv);
        csv += len;
        if (*csv == ',')
            csv++;
    }
    return list_sorted(l);
}

static int name_cb(void *ctx, const char *name)
{
    list_add(ctx, 0, "%s", name);
    return 0;
}

static int user_cb(void *ctx, const struct user_record *u)
{
    list_add(ctx, u->disabled, "%s", u->username);
    return 0;
}

static int role_cb(void *ctx, const struct role_record *r)
{
    list_add(ctx, r->builtin, "%s", r->name);
    return 0;
}

static int group_cb(void *ctx, const struct group_record *g)
{
    list_add(ctx, 0, "%s", g->name);
    return 0;
}

static int environment_cb(void *ctx, const struct environment_record *e)
{
    list_add(ctx, 0, "%s", e->name);
    return 0;
}

static int scope_cb(void *ctx, const struct scope_record *sc)
{
    list_add(ctx, sc->description[0] != '\0', "%s", sc->name);
    return 0;
}

static int key_cb(void *ctx, const struct key_record *k)
{
    list_add(ctx, k->last_used_at, "%s", k->name);
    return 0;
}

static int audit_cb(void *ctx, const struct audit_record *a)
{
    list_add(ctx, a->id, "%s", a->target);
    return 0;
}

static int project_cb(void *ctx, const struct project_record *p)
{
    list_add(ctx, 0, "%s", p->name);
    return 0;
}

static int account_cb(void *ctx, const struct account_record *a)
{
    list_add(ctx, a->disabled, "%s", a->name);
    return 0;
}

static int member_cb(void *ctx, const char *project_id, const char *principal, const char *role)
{
    list_add(ctx, 0, "%s|%s|%s", project_id, principal, role);
    return 0;
}

static int stop_after_first_user(void *ctx, const struct user_record *u)
{
    (void)u;
    ++*(int *)ctx;
    return 1;
}

/* ---- records ---- */

static struct user_record user_rec(const char *name, const char *env, const char *roles)
{
    struct user_record u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.password_hash, sizeof u.password_hash, "%s",
             "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo");
    snprintf(u.full_name, sizeof u.full_name, "Full %s", name);
    snprintf(u.email, sizeof u.email, "%s@example.com", name);
    snprintf(u.auth_source, sizeof u.auth_source, "local");
    snprintf(u.roles, sizeof u.roles, "%s", roles);
    snprintf(u.environment, sizeof u.environment, "%s", env);
    u.created_at = T0;
    return u;
}

static void add_user_in(struct store *s, const char *name, const char *env, const char *roles)
{
    struct user_record u = user_rec(name, env, roles);
    assert_err(s->ops->user_create(s, &u, BIG), ERR_OK);
}

static void add_user(struct store *s, const char *name)
{
    add_user_in(s, name, "ROOT", "user");
}

static void add_disabled_user(struct store *s, const char *name, const char *roles)
{
    struct user_record u = user_rec(name, "ROOT", roles);
    u.disabled = 1;
    assert_err(s->ops->user_create(s, &u, BIG), ERR_OK);
}

static void add_env(struct store *s, const char *name)
{
    struct environment_record e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.description, sizeof e.description, "The %s environment", name);
    assert_err(s->ops->environment_create(s, &e, BIG), ERR_OK);
}

static struct role_record role_rec(const char *name, const char *authorities)
{
    struct role_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.description, sizeof r.description, "Role %s", name);
    snprintf(r.authorities, sizeof r.authorities, "%s", authorities);
    return r;
}

static void add_role(struct store *s, const char *name)
{
    struct role_record r = role_rec(name, "view_audit");
    assert_err(s->ops->role_create(s, &r, BIG), ERR_OK);
}

static struct group_record group_rec(const char *name, const char *env, const char *roles)
{
    struct group_record g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.description, sizeof g.description, "Group %s", name);
    snprintf(g.environment, sizeof g.environment, "%s", env);
    snprintf(g.roles, sizeof g.roles, "%s", roles);
    return g;
}

static void add_group(struct store *s, const char *name, const char *roles,
                      const char *const *members, size_t n)
{
    struct group_record g = group_rec(name, "ROOT", roles);
    assert_err(s->ops->group_create(s, &g, members, n, BIG), ERR_OK);
}

/* A recognisable hash for key n (distinct for every n). */
static void key_hash(unsigned n, uint8_t hash[STORE_HASH_LEN])
{
    for (int i = 0; i < STORE_HASH_LEN; i++)
        hash[i] = (uint8_t)(0x5a ^ (i * 13));
    hash[0] = (uint8_t)(n >> 24);
    hash[1] = (uint8_t)(n >> 16);
    hash[2] = (uint8_t)(n >> 8);
    hash[3] = (uint8_t)n;
}

static struct key_record key_rec(unsigned n, const char *owner_type, const char *owner_id,
                                 const char *name, int64_t created_at)
{
    struct key_record k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "k%023u", n);
    key_hash(n, k.hash);
    snprintf(k.hint, sizeof k.hint, "ak_%04u", n % 10000);
    snprintf(k.owner_type, sizeof k.owner_type, "%s", owner_type);
    snprintf(k.owner_id, sizeof k.owner_id, "%s", owner_id);
    snprintf(k.created_by, sizeof k.created_by, "admin");
    snprintf(k.name, sizeof k.name, "%s", name);
    snprintf(k.description, sizeof k.description, "Key %s", name);
    k.has_description = 1;
    snprintf(k.scopes, sizeof k.scopes, "APIKey,Session");
    k.created_at = created_at;
    k.expires_at = created_at + 86400;
    return k;
}

static void add_key(struct store *s, unsigned n, const char *owner_id, const char *name,
                    int64_t created_at)
{
    struct key_record k = key_rec(n, "user", owner_id, name, created_at);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
}

static struct list *keys_of(struct store *s, const char *owner_type, const char *owner_id)
{
    struct list *l = list_new();
    assert_err(s->ops->key_each(s, owner_type, owner_id, key_cb, l), ERR_OK);
    return l;
}

static struct session_record session_rec(unsigned n, const char *username, int64_t created_at)
{
    struct session_record r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < STORE_HASH_LEN; i++) {
        r.token_hash[i] = (uint8_t)(i * 7);
        r.csrf_hash[i] = (uint8_t)(0xc0 + i);
    }
    r.token_hash[1] = (uint8_t)n; /* token_hash[0] stays 0 */
    r.csrf_hash[0] = (uint8_t)n;
    snprintf(r.username, sizeof r.username, "%s", username);
    r.created_at = created_at;
    r.expires_at = created_at + 3600;
    return r;
}

static int session_exists(struct store *s, const struct session_record *r)
{
    struct session_record out;
    enum err e = s->ops->session_get(s, r->token_hash, T0 + 60, &out);
    if (e != ERR_OK && e != ERR_NOT_FOUND)
        fail_msg("session_get returned %s", err_name(e));
    return e == ERR_OK;
}

static struct audit_record audit_rec(int64_t at, const char *actor, const char *action,
                                     const char *target)
{
    struct audit_record a;
    memset(&a, 0, sizeof a);
    a.at = at;
    snprintf(a.actor, sizeof a.actor, "%s", actor);
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.target_type, sizeof a.target_type, "user");
    snprintf(a.target, sizeof a.target, "%s", target);
    snprintf(a.client, sizeof a.client, "127.0.0.1");
    snprintf(a.detail, sizeof a.detail, "detail of %s", target);
    return a;
}

static void add_audit(struct store *s, int64_t at, const char *actor, const char *action,
                      const char *target)
{
    struct audit_record a = audit_rec(at, actor, action, target);
    assert_err(s->ops->audit_append(s, &a), ERR_OK);
}

static struct audit_filter all_events(int limit)
{
    struct audit_filter f;
    memset(&f, 0, sizeof f);
    f.actor = "";
    f.target = "";
    f.action = "";
    f.limit = limit;
    return f;
}

static struct list *events(struct store *s, const struct audit_filter *f)
{
    struct list *l = list_new();
    assert_err(s->ops->audit_query(s, f, audit_cb, l), ERR_OK);
    return l;
}

static struct project_record project_rec(const char *id, const char *name, const char *parent)
{
    struct project_record p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.parent, sizeof p.parent, "%s", parent);
    snprintf(p.created_by, sizeof p.created_by, "alice");
    p.created_at = T0;
    return p;
}

static void add_project(struct store *s, const char *id, const char *name, const char *parent)
{
    struct project_record p = project_rec(id, name, parent);
    assert_err(s->ops->project_create(s, &p, BIG), ERR_OK);
}

static struct list *members_of(struct store *s, const char *project_id)
{
    struct list *l = list_new();
    assert_err(s->ops->member_each(s, project_id, member_cb, l), ERR_OK);
    return l;
}

static struct account_record account_rec(const char *id, const char *name, const char *project)
{
    struct account_record a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.description, sizeof a.description, "Account %s", name);
    snprintf(a.project, sizeof a.project, "%s", project);
    snprintf(a.created_by, sizeof a.created_by, "alice");
    a.created_at = T0;
    return a;
}

static void add_account(struct store *s, const char *id, const char *name, const char *project)
{
    struct account_record a = account_rec(id, name, project);
    assert_err(s->ops->account_create(s, &a, "contributor", BIG), ERR_OK);
}

/* Project and account ids: 24 characters like the real ones. */
#define P1 "p00000000000000000000001"
#define P2 "p00000000000000000000002"
#define P3 "p00000000000000000000003"
#define P4 "p00000000000000000000004"
#define A1 "a00000000000000000000001"
#define A2 "a00000000000000000000002"
#define A3 "a00000000000000000000003"

/* ---- users ---- */

static void test_user_create_then_get_returns_every_field(void **state)
{
    struct store *s = store_of(state);
    struct user_record u = user_rec("alice", "ROOT", "user,admin");
    u.mfa_enabled = 1;
    for (size_t i = 0; i < 40; i++)
        u.mfa_secret[i] = (uint8_t)(i % 3 ? i * 11 : 0); /* zero bytes inside */
    u.mfa_secret_len = 40;
    u.mfa_last_step = 55555;
    assert_err(s->ops->user_create(s, &u, BIG), ERR_OK);

    struct user_record got;
    memset(&got, 0x55, sizeof got);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    struct list *l = list_new();
    assert_string_equal(got.username, "alice");
    assert_string_equal(got.password_hash, u.password_hash);
    assert_string_equal(got.full_name, "Full alice");
    assert_string_equal(got.email, "alice@example.com");
    assert_string_equal(got.auth_source, "local");
    assert_string_equal(csv_sorted(got.roles, l), "admin,user");
    assert_string_equal(got.environment, "ROOT");
    assert_int_equal(got.disabled, 0);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.mfa_enabled, 1);
    assert_int_equal(got.mfa_secret_len, 40);
    assert_memory_equal(got.mfa_secret, u.mfa_secret, 40);
    assert_int_equal(got.mfa_pending_len, 0);
    assert_int_equal(got.mfa_last_step, 55555);
    free(l);
}

static void test_user_mfa_secret_of_full_size_round_trips(void **state)
{
    struct store *s = store_of(state);
    struct user_record u = user_rec("alice", "ROOT", "user");
    for (size_t i = 0; i < STORE_SECRET_BYTES; i++) {
        u.mfa_secret[i] = (uint8_t)(255 - i);
        u.mfa_pending[i] = (uint8_t)i; /* starts with a zero byte */
    }
    u.mfa_secret_len = STORE_SECRET_BYTES;
    u.mfa_pending_len = STORE_SECRET_BYTES;
    assert_err(s->ops->user_create(s, &u, BIG), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_secret_len, STORE_SECRET_BYTES);
    assert_memory_equal(got.mfa_secret, u.mfa_secret, STORE_SECRET_BYTES);
    assert_int_equal(got.mfa_pending_len, STORE_SECRET_BYTES);
    assert_memory_equal(got.mfa_pending, u.mfa_pending, STORE_SECRET_BYTES);
}

static void test_user_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct user_record got;
    assert_err(s->ops->user_get(s, "nobody", &got), ERR_NOT_FOUND);
}

static void test_user_create_duplicate_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct user_record u = user_rec("alice", "ROOT", "admin");
    assert_err(s->ops->user_create(s, &u, BIG), ERR_CONFLICT);
    struct user_record got;
    struct list *l = list_new();
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(csv_sorted(got.roles, l), "user");
    free(l);
}

static void test_user_create_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct user_record a = user_rec("alice", "ROOT", "user");
    struct user_record b = user_rec("bob", "ROOT", "user");
    struct user_record c = user_rec("carol", "ROOT", "user");
    assert_err(s->ops->user_create(s, &a, 2), ERR_OK);
    assert_err(s->ops->user_create(s, &b, 2), ERR_OK);
    assert_err(s->ops->user_create(s, &c, 2), ERR_LIMIT);
    int64_t n = -1;
    assert_err(s->ops->user_count(s, &n), ERR_OK);
    assert_int_equal(n, 2);
    struct user_record got;
    assert_err(s->ops->user_get(s, "carol", &got), ERR_NOT_FOUND);
}

static void test_user_create_unknown_role_is_invalid(void **state)
{
    struct store *s = store_of(state);
    struct user_record u = user_rec("alice", "ROOT", "user,no-such-role");
    assert_err(s->ops->user_create(s, &u, BIG), ERR_INVALID);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_NOT_FOUND);
}

static void test_user_create_unknown_environment_is_invalid(void **state)
{
    struct store *s = store_of(state);
    struct user_record u = user_rec("alice", "NOWHERE", "user");
    assert_err(s->ops->user_create(s, &u, BIG), ERR_INVALID);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_NOT_FOUND);
}

static void test_user_create_in_other_environment_round_trips(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user_in(s, "sam", "STAGING", "user");
    struct user_record got;
    assert_err(s->ops->user_get(s, "sam", &got), ERR_OK);
    assert_string_equal(got.environment, "STAGING");
}

static void test_user_count_counts_users(void **state)
{
    struct store *s = store_of(state);
    int64_t n = -1;
    assert_err(s->ops->user_count(s, &n), ERR_OK);
    assert_int_equal(n, 0);
    add_user(s, "alice");
    add_user(s, "bob");
    add_disabled_user(s, "carol", "user");
    assert_err(s->ops->user_count(s, &n), ERR_OK);
    assert_int_equal(n, 3);
}

static void test_user_each_visits_every_user(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "carol");
    add_user(s, "alice");
    add_disabled_user(s, "bob", "user");
    struct list *l = list_new();
    assert_err(s->ops->user_each(s, user_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "alice,bob,carol");
    free(l);
}

static void test_user_each_stops_when_callback_returns_nonzero(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_user(s, "carol");
    int seen = 0;
    assert_err(s->ops->user_each(s, stop_after_first_user, &seen), ERR_OK);
    assert_int_equal(seen, 1);
}

/* A user with every column set, for the tests of writes that must leave the rest alone. */
static struct user_record full_user(const char *name, const char *roles)
{
    struct user_record u = user_rec(name, "ROOT", roles);
    u.mfa_enabled = 1;
    memset(u.mfa_secret, 0x5a, 40);
    u.mfa_secret_len = 40;
    memset(u.mfa_pending, 0x6b, 40);
    u.mfa_pending_len = 40;
    u.mfa_last_step = 4242;
    return u;
}

static void add_full_user(struct store *s, const char *name, const char *roles)
{
    struct user_record u = full_user(name, roles);
    assert_err(s->ops->user_create(s, &u, BIG), ERR_OK);
}

/* got equals want in every column but those named in `except` (full_name, email,
 * password_hash, environment, roles, disabled). */
static void assert_user_same_but(const struct user_record *got, const struct user_record *want,
                                 const char *except)
{
    struct list *l1 = list_new(), *l2 = list_new();
    if (!strstr(except, "full_name"))
        assert_string_equal(got->full_name, want->full_name);
    if (!strstr(except, "email"))
        assert_string_equal(got->email, want->email);
    if (!strstr(except, "password_hash"))
        assert_string_equal(got->password_hash, want->password_hash);
    if (!strstr(except, "environment"))
        assert_string_equal(got->environment, want->environment);
    if (!strstr(except, "roles"))
        assert_string_equal(csv_sorted(got->roles, l1), csv_sorted(want->roles, l2));
    if (!strstr(except, "disabled"))
        assert_int_equal(got->disabled, want->disabled);
    assert_string_equal(got->auth_source, want->auth_source);
    assert_int_equal(got->created_at, want->created_at);
    assert_int_equal(got->mfa_enabled, want->mfa_enabled);
    assert_int_equal(got->mfa_secret_len, want->mfa_secret_len);
    assert_memory_equal(got->mfa_secret, want->mfa_secret, want->mfa_secret_len);
    assert_int_equal(got->mfa_pending_len, want->mfa_pending_len);
    assert_memory_equal(got->mfa_pending, want->mfa_pending, want->mfa_pending_len);
    assert_int_equal(got->mfa_last_step, want->mfa_last_step);
    free(l1);
    free(l2);
}

static const struct user_change NO_CHANGE = {.disabled = -1};

static void test_user_admin_change_writes_only_the_members_it_sets(void **state)
{
    struct store *s = store_of(state);
    add_full_user(s, "alice", "admin,user");
    struct user_record want = full_user("alice", "admin,user"), got;
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.disabled, 1);
    assert_user_same_but(&got, &want, "disabled");
    ch = NO_CHANGE;
    ch.roles = "user";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.roles, "user");
    assert_int_equal(got.disabled, 1); /* the earlier change stays */
    assert_user_same_but(&got, &want, "roles disabled");
}

static void test_user_admin_change_writes_every_member_set(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_full_user(s, "alice", "user");
    struct user_record want = full_user("alice", "user"), got;
    struct user_change ch = {.full_name = "Alice Liddell",
                             .email = "al@example.org",
                             .password_hash = "$argon2id$new",
                             .environment = "STAGING",
                             .roles = "admin",
                             .disabled = 1};
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.full_name, "Alice Liddell");
    assert_string_equal(got.email, "al@example.org");
    assert_string_equal(got.password_hash, "$argon2id$new");
    assert_string_equal(got.environment, "STAGING");
    assert_string_equal(got.roles, "admin");
    assert_int_equal(got.disabled, 1);
    assert_user_same_but(&got, &want, "full_name email password_hash environment roles disabled");
    ch = NO_CHANGE;
    ch.disabled = 0;
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.disabled, 0);
}

static void test_user_admin_change_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "ghost", &ch), ERR_NOT_FOUND);
    ch.keep_role = "admin";
    assert_err(s->ops->user_admin_change(s, "ghost", &ch), ERR_NOT_FOUND);
    struct user_record got;
    assert_err(s->ops->user_get(s, "ghost", &got), ERR_NOT_FOUND);
}

static void test_user_admin_change_unknown_role_is_invalid_and_keeps_everything(void **state)
{
    struct store *s = store_of(state);
    add_user_in(s, "alice", "ROOT", "admin");
    struct user_change ch = NO_CHANGE;
    ch.full_name = "Changed";
    ch.disabled = 1;
    ch.roles = "user,no-such-role";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_INVALID);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.roles, "admin");
    assert_string_equal(got.full_name, "Full alice");
    assert_int_equal(got.disabled, 0);
}

static void test_user_admin_change_unknown_environment_is_invalid(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct user_change ch = NO_CHANGE;
    ch.environment = "NOWHERE";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_INVALID);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.environment, "ROOT");
}

static void test_user_admin_change_replaces_roles(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "alice", "ROOT", "admin,user");
    struct user_change ch = NO_CHANGE;
    ch.roles = "auditor";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.roles, "auditor");
}

static void test_user_admin_change_moving_environment_leaves_old_groups(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user(s, "alice");
    const char *alice[] = {"alice"};
    add_group(s, "g1", "user", alice, 1);
    struct user_change ch = NO_CHANGE;
    ch.environment = "STAGING";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    struct list *l = list_new();
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_user_admin_change_keeps_the_last_enabled_admin(void **state)
{
    struct store *s = store_of(state);
    add_user_in(s, "root", "ROOT", "admin");
    add_disabled_user(s, "off", "admin"); /* a disabled admin does not count */
    struct user_change ch = NO_CHANGE;
    ch.keep_role = "admin";
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "root", &ch), ERR_CONFLICT);
    ch.disabled = -1;
    ch.roles = "user";
    assert_err(s->ops->user_admin_change(s, "root", &ch), ERR_CONFLICT);
    ch.roles = "admin,user"; /* still an admin: fine */
    assert_err(s->ops->user_admin_change(s, "root", &ch), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "root", &got), ERR_OK);
    assert_int_equal(got.disabled, 0);
    assert_string_equal(got.roles, "admin,user");
    /* with a second enabled admin (through a group), the first may go */
    add_user(s, "second");
    const char *second[] = {"second"};
    add_group(s, "admins", "admin", second, 1);
    ch.roles = "user";
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "root", &ch), ERR_OK);
    /* and now the second is the last */
    ch.roles = NULL;
    assert_err(s->ops->user_admin_change(s, "second", &ch), ERR_CONFLICT);
    /* without keep_role the store does not judge */
    ch.keep_role = NULL;
    assert_err(s->ops->user_admin_change(s, "second", &ch), ERR_OK);
}

static void test_user_delete_with_keep_role_refuses_the_last_admin(void **state)
{
    struct store *s = store_of(state);
    add_user_in(s, "root", "ROOT", "admin");
    add_user_in(s, "other", "ROOT", "admin");
    add_user(s, "plain");
    assert_err(s->ops->user_delete(s, "other", "admin", NULL, NULL), ERR_OK);
    assert_err(s->ops->user_delete(s, "root", "admin", NULL, NULL), ERR_CONFLICT);
    assert_err(s->ops->user_delete(s, "plain", "admin", NULL, NULL), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "root", &got), ERR_OK);
}

struct demote_thread {
    struct store *s;
    const char *username;
    enum err result;
};

static void *demote(void *arg)
{
    struct demote_thread *d = arg;
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    ch.keep_role = "admin";
    d->result = d->s->ops->user_admin_change(d->s, d->username, &ch);
    return NULL;
}

/* Opens a second store on the fixture's data (another connection, as another node would). */
static struct store *open_second(void **state)
{
    struct fixture *f = *state;
    struct store *s2 = NULL;
    enum err e = f->db[0] ? store_pg_open(f->url, &s2) : store_sqlite_open(f->dir, &s2);
    if (e != ERR_OK)
        fail_msg("opening a second store failed (%d)", (int)e);
    return s2;
}

static void test_user_admin_change_two_admins_disabling_each_other_leave_one(void **state)
{
    struct store *s = store_of(state);
    struct store *s2 = open_second(state);
    for (int round = 0; round < 20; round++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "a%d", round);
        snprintf(b, sizeof b, "b%d", round);
        if (round > 0) { /* the survivor of the last round stays the only enabled admin */
            struct user_change off = NO_CHANGE;
            off.disabled = 1;
            struct list *l = list_new();
            assert_err(s->ops->user_each(s, user_cb, l), ERR_OK);
            for (size_t i = 0; i < l->n; i++)
                s->ops->user_admin_change(s, l->v[i], &off);
            free(l);
        }
        add_user_in(s, a, "ROOT", "admin");
        add_user_in(s, b, "ROOT", "admin");
        struct demote_thread d[2] = {{s, a, ERR_OK}, {s2, b, ERR_OK}};
        pthread_t th[2];
        for (int t = 0; t < 2; t++)
            assert_int_equal(pthread_create(&th[t], NULL, demote, &d[t]), 0);
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
        int ok = (d[0].result == ERR_OK) + (d[1].result == ERR_OK);
        int refused = (d[0].result == ERR_CONFLICT) + (d[1].result == ERR_CONFLICT);
        assert_int_equal(ok, 1);
        assert_int_equal(refused, 1);
        int64_t n = -1;
        assert_err(s->ops->role_holders(s, "admin", &n), ERR_OK);
        assert_int_equal(n, 1);
    }
    s2->ops->close(s2);
}

static void test_user_set_profile_writes_only_name_and_email(void **state)
{
    struct store *s = store_of(state);
    add_full_user(s, "alice", "admin");
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    struct user_record want = full_user("alice", "admin"), got;
    want.disabled = 1;
    assert_err(s->ops->user_set_profile(s, "alice", "New Name", "new@example.org"), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.full_name, "New Name");
    assert_string_equal(got.email, "new@example.org");
    assert_user_same_but(&got, &want, "full_name email");
    assert_err(s->ops->user_set_profile(s, "alice", NULL, "other@example.org"), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.full_name, "New Name");
    assert_string_equal(got.email, "other@example.org");
    assert_err(s->ops->user_set_profile(s, "alice", "", NULL), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.full_name, "");
    assert_string_equal(got.email, "other@example.org");
    assert_user_same_but(&got, &want, "full_name email");
}

static void test_user_set_profile_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->user_set_profile(s, "ghost", "x", "x@example.org"), ERR_NOT_FOUND);
}

static void test_user_set_password_writes_only_the_hash(void **state)
{
    struct store *s = store_of(state);
    add_full_user(s, "alice", "user");
    struct user_record want = full_user("alice", "user"), got;
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$one", NULL), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.password_hash, "$argon2id$one");
    assert_user_same_but(&got, &want, "password_hash");
}

static void test_user_set_password_with_expect_refuses_a_changed_hash(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct user_record before, got;
    assert_err(s->ops->user_get(s, "alice", &before), ERR_OK);
    /* an admin's reset lands between the user's check and the user's write */
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$reset", NULL), ERR_OK);
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$mine", before.password_hash),
               ERR_CONFLICT);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.password_hash, "$argon2id$reset");
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$mine", "$argon2id$reset"), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_string_equal(got.password_hash, "$argon2id$mine");
}

static void test_user_set_password_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->user_set_password(s, "ghost", "$h", NULL), ERR_NOT_FOUND);
    assert_err(s->ops->user_set_password(s, "ghost", "$h", "$old"), ERR_NOT_FOUND);
}

static void test_user_mfa_set_pending_writes_only_pending(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    uint8_t pending[40];
    memset(pending, 0x33, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_pending_len, sizeof pending);
    assert_memory_equal(got.mfa_pending, pending, sizeof pending);
    assert_int_equal(got.mfa_enabled, 0);
    assert_int_equal(got.mfa_secret_len, 0);
    assert_int_equal(got.disabled, 1);
    assert_err(s->ops->user_mfa_set_pending(s, "ghost", pending, sizeof pending), ERR_NOT_FOUND);
}

static void test_user_mfa_set_pending_while_enabled_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_full_user(s, "alice", "user");
    uint8_t pending[40];
    memset(pending, 0x33, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_CONFLICT);
    struct user_record want = full_user("alice", "user"), got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_user_same_but(&got, &want, "");
}

static void test_user_mfa_enable_turns_pending_into_secret_with_its_step(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    uint8_t pending[40];
    memset(pending, 0x44, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "alice", pending, sizeof pending, 5000), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_enabled, 1);
    assert_int_equal(got.mfa_secret_len, sizeof pending);
    assert_memory_equal(got.mfa_secret, pending, sizeof pending);
    assert_int_equal(got.mfa_pending_len, 0);
    assert_int_equal(got.mfa_last_step, 5000);
    /* the confirming code's step cannot sign in */
    assert_err(s->ops->user_mfa_advance(s, "alice", 5000), ERR_CONFLICT);
    assert_err(s->ops->user_mfa_advance(s, "alice", 5001), ERR_OK);
    /* a second confirm (replayed) changes nothing */
    assert_err(s->ops->user_mfa_enable(s, "alice", pending, sizeof pending, 6000), ERR_CONFLICT);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_last_step, 5001);
}

static void test_user_mfa_enable_keeps_a_later_stored_step(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->user_mfa_advance(s, "alice", 7000), ERR_OK);
    uint8_t pending[40];
    memset(pending, 0x45, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "alice", pending, sizeof pending, 6999), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_last_step, 7000);
}

static void test_user_mfa_enable_refuses_another_pending_secret(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    uint8_t checked[40], newer[40];
    memset(checked, 0x46, sizeof checked);
    memset(newer, 0x47, sizeof newer);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", checked, sizeof checked), ERR_OK);
    /* a second enrolment replaced the pending secret after the code was checked */
    assert_err(s->ops->user_mfa_set_pending(s, "alice", newer, sizeof newer), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "alice", checked, sizeof checked, 10), ERR_CONFLICT);
    assert_err(s->ops->user_mfa_enable(s, "alice", checked, 0, 10), ERR_CONFLICT);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_enabled, 0);
    assert_memory_equal(got.mfa_pending, newer, sizeof newer);
    assert_err(s->ops->user_mfa_enable(s, "ghost", checked, sizeof checked, 10), ERR_NOT_FOUND);
}

static void test_user_mfa_disable_clears_only_mfa(void **state)
{
    struct store *s = store_of(state);
    add_full_user(s, "alice", "user");
    struct user_record want = full_user("alice", "user"), got;
    uint8_t other[40];
    memset(other, 0x01, sizeof other);
    assert_err(s->ops->user_mfa_disable(s, "alice", other, sizeof other), ERR_CONFLICT);
    assert_err(s->ops->user_mfa_disable(s, "alice", want.mfa_secret, want.mfa_secret_len), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_enabled, 0);
    assert_int_equal(got.mfa_secret_len, 0);
    assert_int_equal(got.mfa_pending_len, 0);
    assert_int_equal(got.mfa_last_step, 4242);
    assert_string_equal(got.password_hash, want.password_hash);
    assert_string_equal(got.full_name, want.full_name);
    assert_err(s->ops->user_mfa_disable(s, "alice", want.mfa_secret, want.mfa_secret_len),
               ERR_CONFLICT);
    assert_err(s->ops->user_mfa_disable(s, "ghost", want.mfa_secret, want.mfa_secret_len),
               ERR_NOT_FOUND);
}

struct profile_loop {
    struct store *s;
    volatile int stop;
    volatile int writes;
};

static void *write_profiles(void *arg)
{
    struct profile_loop *p = arg;
    while (!p->stop) {
        char name[32];
        snprintf(name, sizeof name, "name %d", p->writes);
        if (p->s->ops->user_set_profile(p->s, "alice", name, NULL) == ERR_OK)
            p->writes++;
    }
    return NULL;
}

static void test_user_writes_of_others_survive_looping_profile_writes(void **state)
{
    struct store *s = store_of(state);
    struct store *s2 = open_second(state);
    add_user_in(s, "root", "ROOT", "admin");
    add_user_in(s, "alice", "ROOT", "admin,user");
    struct profile_loop p = {s2, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_profiles, &p), 0);
    int64_t last = 0;
    for (int64_t step = 1; step <= 50; step++)
        if (s->ops->user_mfa_advance(s, "alice", step) == ERR_OK)
            last = step;
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    ch.roles = "user";
    ch.password_hash = "$argon2id$reset";
    ch.keep_role = "admin";
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    for (int i = 0; i < 20; i++) /* the step never goes back: no code is accepted twice */
        assert_err(s->ops->user_mfa_advance(s, "alice", last - i % 3), ERR_CONFLICT);
    while (p.writes < 20)
        ;
    p.stop = 1;
    pthread_join(th, NULL);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.disabled, 1);
    assert_string_equal(got.roles, "user");
    assert_string_equal(got.password_hash, "$argon2id$reset");
    assert_int_equal(got.mfa_last_step, 50);
    s2->ops->close(s2);
}

static void test_user_delete_removes_user(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_NOT_FOUND);
    assert_err(s->ops->user_get(s, "bob", &got), ERR_OK);
    int64_t n = -1;
    assert_err(s->ops->user_count(s, &n), ERR_OK);
    assert_int_equal(n, 1);
}

static void test_user_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->user_delete(s, "ghost", NULL, NULL, NULL), ERR_NOT_FOUND);
}

/* Each key an owner's deletion removed: "name=owner_type:owner_id" (for its key.delete). */
static int deleted_key_cb(void *ctx, const struct key_record *k)
{
    list_add(ctx, 0, "%s=%s:%s", k->name, k->owner_type, k->owner_id);
    return 0;
}

static void test_user_delete_removes_their_keys(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_key(s, 1, "alice", "a1", T0);
    add_key(s, 2, "alice", "a2", T0);
    add_key(s, 3, "bob", "b1", T0);
    struct list *gone = list_new();
    assert_err(s->ops->user_delete(s, "alice", NULL, deleted_key_cb, gone), ERR_OK);
    assert_string_equal(list_sorted(gone), "a1=user:alice,a2=user:alice");
    free(gone);
    struct key_record k;
    assert_err(s->ops->key_get(s, "k00000000000000000000001", &k), ERR_NOT_FOUND);
    assert_err(s->ops->key_get(s, "k00000000000000000000002", &k), ERR_NOT_FOUND);
    assert_err(s->ops->key_get(s, "k00000000000000000000003", &k), ERR_OK);
    struct list *l = keys_of(s, NULL, NULL);
    assert_string_equal(list_str(l), "b1");
    free(l);
}

static void test_user_delete_removes_their_sessions(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct session_record a1 = session_rec(1, "alice", T0);
    struct session_record a2 = session_rec(2, "alice", T0);
    struct session_record b1 = session_rec(3, "bob", T0);
    assert_err(s->ops->session_create(s, &a1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a2, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &b1, 10, NULL), ERR_OK);
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    assert_false(session_exists(s, &a1));
    assert_false(session_exists(s, &a2));
    assert_true(session_exists(s, &b1));
}

static void test_user_delete_removes_group_memberships(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    const char *members[] = {"alice", "bob"};
    add_group(s, "ops", "user", members, 2);
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    struct list *l = list_new();
    assert_err(s->ops->group_members_each(s, "ops", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "bob");
    l->n = 0;
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_user_delete_removes_project_memberships(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_project(s, P1, "Alpha", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:bob", "reader", BIG), ERR_OK);
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    struct list *l = members_of(s, NULL);
    assert_string_equal(list_str(l), P1 "|user:bob|reader");
    free(l);
}

static void test_user_delete_then_recreate_starts_without_roles_of_groups(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user(s, "alice");
    const char *members[] = {"alice"};
    add_group(s, "ops", "auditor", members, 1);
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    add_user(s, "alice");
    struct list *l = list_new();
    assert_err(s->ops->user_roles_each(s, "alice", role_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "user");
    free(l);
}

static void test_user_mfa_advance_accepts_later_step(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->user_mfa_advance(s, "alice", 100), ERR_OK);
    assert_err(s->ops->user_mfa_advance(s, "alice", 101), ERR_OK);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_last_step, 101);
}

static void test_user_mfa_advance_refuses_same_step(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->user_mfa_advance(s, "alice", 100), ERR_OK);
    assert_err(s->ops->user_mfa_advance(s, "alice", 100), ERR_CONFLICT);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_last_step, 100);
}

static void test_user_mfa_advance_refuses_earlier_step(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->user_mfa_advance(s, "alice", 100), ERR_OK);
    assert_err(s->ops->user_mfa_advance(s, "alice", 99), ERR_CONFLICT);
    struct user_record got;
    assert_err(s->ops->user_get(s, "alice", &got), ERR_OK);
    assert_int_equal(got.mfa_last_step, 100);
}

static void test_user_roles_each_includes_group_roles_once(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_role(s, "deployer");
    add_user(s, "alice");
    add_user(s, "bob");
    const char *alice[] = {"alice"};
    const char *bob[] = {"bob"};
    add_group(s, "g1", "auditor,user", alice, 1);
    add_group(s, "g2", "auditor", alice, 1);
    add_group(s, "g3", "deployer", bob, 1);
    struct list *l = list_new();
    assert_err(s->ops->user_roles_each(s, "alice", role_cb, l), ERR_OK);
    assert_int_equal(l->n, 2);
    assert_string_equal(list_sorted(l), "auditor,user");
    free(l);
}

static void test_user_roles_each_returns_role_records(void **state)
{
    struct store *s = store_of(state);
    add_user_in(s, "alice", "ROOT", "admin");
    struct role_record seen;
    memset(&seen, 0, sizeof seen);
    struct list *l = list_new();
    assert_err(s->ops->user_roles_each(s, "alice", role_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "admin");
    assert_int_equal(l->num[0], 1); /* builtin */
    free(l);
}

static void test_user_groups_each_lists_groups_of_user(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    const char *both[] = {"alice", "bob"};
    const char *alice[] = {"alice"};
    add_group(s, "g2", "user", both, 2);
    add_group(s, "g1", "user", alice, 1);
    add_group(s, "g3", "user", NULL, 0);
    struct list *l = list_new();
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "g1,g2");
    l->n = 0;
    assert_err(s->ops->user_groups_each(s, "bob", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "g2");
    free(l);
}

static void test_role_holders_counts_direct_and_group_holders_once(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "direct", "ROOT", "auditor");
    add_user(s, "viagroup");
    add_user_in(s, "both", "ROOT", "auditor,user");
    add_user(s, "none");
    const char *members[] = {"viagroup", "both"};
    add_group(s, "g1", "auditor", members, 2);
    add_group(s, "g2", "auditor,user", members, 2);
    int64_t n = -1;
    assert_err(s->ops->role_holders(s, "auditor", &n), ERR_OK);
    assert_int_equal(n, 3);
}

static void test_role_holders_skips_disabled_users(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "enabled", "ROOT", "auditor");
    add_disabled_user(s, "off-direct", "auditor");
    add_disabled_user(s, "off-group", "user");
    const char *members[] = {"off-group"};
    add_group(s, "g1", "auditor", members, 1);
    int64_t n = -1;
    assert_err(s->ops->role_holders(s, "auditor", &n), ERR_OK);
    assert_int_equal(n, 1);
}

static void test_role_holders_each_lists_direct_group_and_disabled_holders_once(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "direct", "ROOT", "auditor");
    add_user(s, "viagroup");
    add_user_in(s, "both", "ROOT", "auditor,user");
    add_user(s, "none");
    add_disabled_user(s, "off", "auditor");
    const char *members[] = {"viagroup", "both"};
    add_group(s, "g1", "auditor", members, 2);
    add_group(s, "g2", "auditor,user", members, 2);
    struct list *l = list_new();
    assert_err(s->ops->role_holders_each(s, "auditor", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "both,direct,off,viagroup");
    l->n = 0;
    assert_err(s->ops->role_holders_each(s, "nobody-holds-this", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "");
    free(l);
}

/* ---- roles ---- */

static void test_role_builtin_admin_and_user_exist(void **state)
{
    struct store *s = store_of(state);
    struct role_record r;
    assert_err(s->ops->role_get(s, "admin", &r), ERR_OK);
    assert_string_equal(r.name, "admin");
    assert_int_equal(r.builtin, 1);
    assert_non_null(strstr(r.authorities, "manage_users"));
    assert_err(s->ops->role_get(s, "user", &r), ERR_OK);
    assert_int_equal(r.builtin, 1);
    struct list *l = list_new();
    assert_err(s->ops->role_each(s, role_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "admin,user");
    free(l);
}

static void test_role_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct role_record r;
    assert_err(s->ops->role_get(s, "nobody", &r), ERR_NOT_FOUND);
}

static void test_role_create_then_get(void **state)
{
    struct store *s = store_of(state);
    struct role_record r = role_rec("auditor", "view_audit,manage_scopes");
    r.builtin = 1; /* the store makes created roles not builtin */
    assert_err(s->ops->role_create(s, &r, BIG), ERR_OK);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
    assert_string_equal(got.name, "auditor");
    assert_string_equal(got.description, "Role auditor");
    assert_string_equal(got.authorities, "view_audit,manage_scopes");
    assert_int_equal(got.builtin, 0);
    struct list *l = list_new();
    assert_err(s->ops->role_each(s, role_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "admin,auditor,user");
    free(l);
}

static void test_role_create_duplicate_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    struct role_record r = role_rec("auditor", "");
    assert_err(s->ops->role_create(s, &r, BIG), ERR_CONFLICT);
    struct role_record admin = role_rec("admin", "");
    assert_err(s->ops->role_create(s, &admin, BIG), ERR_CONFLICT);
    struct role_record got;
    assert_err(s->ops->role_get(s, "admin", &got), ERR_OK);
    assert_int_equal(got.builtin, 1);
}

static void test_role_create_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct role_record r1 = role_rec("r1", "");
    struct role_record r2 = role_rec("r2", "");
    assert_err(s->ops->role_create(s, &r1, 3), ERR_OK); /* admin, user, r1 */
    assert_err(s->ops->role_create(s, &r2, 3), ERR_LIMIT);
    struct role_record got;
    assert_err(s->ops->role_get(s, "r2", &got), ERR_NOT_FOUND);
}

static void test_role_update_changes_description_and_authorities(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    struct role_record r = role_rec("auditor", "manage_projects");
    snprintf(r.description, sizeof r.description, "Changed");
    assert_err(s->ops->role_update(s, &r), ERR_OK);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
    assert_string_equal(got.description, "Changed");
    assert_string_equal(got.authorities, "manage_projects");
    assert_int_equal(got.builtin, 0);
}

static void test_role_update_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct role_record r = role_rec("nobody", "");
    assert_err(s->ops->role_update(s, &r), ERR_NOT_FOUND);
}

static void test_role_delete_unused_removes_it(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    assert_err(s->ops->role_delete(s, "auditor"), ERR_OK);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_NOT_FOUND);
}

static void test_role_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->role_delete(s, "nobody"), ERR_NOT_FOUND);
}

static void test_role_delete_held_by_user_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "alice", "ROOT", "auditor");
    assert_err(s->ops->role_delete(s, "auditor"), ERR_CONFLICT);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
}

static void test_role_delete_held_by_group_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_group(s, "ops", "auditor", NULL, 0);
    assert_err(s->ops->role_delete(s, "auditor"), ERR_CONFLICT);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
}

static void test_role_delete_after_holder_left_succeeds(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user_in(s, "alice", "ROOT", "auditor");
    assert_err(s->ops->user_delete(s, "alice", NULL, NULL, NULL), ERR_OK);
    assert_err(s->ops->role_delete(s, "auditor"), ERR_OK);
}

/* ---- groups ---- */

static void test_group_create_with_members_and_roles(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user(s, "alice");
    add_user(s, "bob");
    add_user(s, "carol");
    struct group_record g = group_rec("ops", "ROOT", "auditor,user");
    const char *members[] = {"bob", "alice"};
    assert_err(s->ops->group_create(s, &g, members, 2, BIG), ERR_OK);
    struct group_record got;
    struct list *l = list_new();
    assert_err(s->ops->group_get(s, "ops", &got), ERR_OK);
    assert_string_equal(got.name, "ops");
    assert_string_equal(got.description, "Group ops");
    assert_string_equal(got.environment, "ROOT");
    assert_string_equal(csv_sorted(got.roles, l), "auditor,user");
    l->n = 0;
    assert_err(s->ops->group_members_each(s, "ops", name_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "alice,bob");
    free(l);
}

static void test_group_create_in_other_environment_with_its_members(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user_in(s, "sam", "STAGING", "user");
    struct group_record g = group_rec("staff", "STAGING", "user");
    const char *members[] = {"sam"};
    assert_err(s->ops->group_create(s, &g, members, 1, BIG), ERR_OK);
    struct group_record got;
    assert_err(s->ops->group_get(s, "staff", &got), ERR_OK);
    assert_string_equal(got.environment, "STAGING");
}

static void test_group_create_member_of_other_environment_is_invalid(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user(s, "alice");
    add_user_in(s, "sam", "STAGING", "user");
    struct group_record g = group_rec("ops", "ROOT", "user");
    const char *members[] = {"alice", "sam"};
    assert_err(s->ops->group_create(s, &g, members, 2, BIG), ERR_INVALID);
    struct group_record got;
    assert_err(s->ops->group_get(s, "ops", &got), ERR_NOT_FOUND);
    struct list *l = list_new();
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_group_create_unknown_member_is_invalid(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct group_record g = group_rec("ops", "ROOT", "user");
    const char *members[] = {"alice", "ghost"};
    assert_err(s->ops->group_create(s, &g, members, 2, BIG), ERR_INVALID);
    struct group_record got;
    assert_err(s->ops->group_get(s, "ops", &got), ERR_NOT_FOUND);
}

static void test_group_create_unknown_role_is_invalid(void **state)
{
    struct store *s = store_of(state);
    struct group_record g = group_rec("ops", "ROOT", "user,no-such-role");
    assert_err(s->ops->group_create(s, &g, NULL, 0, BIG), ERR_INVALID);
    struct group_record got;
    assert_err(s->ops->group_get(s, "ops", &got), ERR_NOT_FOUND);
}

static void test_group_create_unknown_environment_is_invalid(void **state)
{
    struct store *s = store_of(state);
    struct group_record g = group_rec("ops", "NOWHERE", "user");
    assert_err(s->ops->group_create(s, &g, NULL, 0, BIG), ERR_INVALID);
    struct group_record got;
    assert_err(s->ops->group_get(s, "ops", &got), ERR_NOT_FOUND);
}

static void test_group_create_duplicate_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_group(s, "ops", "user", NULL, 0);
    struct group_record g = group_rec("ops", "ROOT", "admin");
    assert_err(s->ops->group_create(s, &g, NULL, 0, BIG), ERR_CONFLICT);
    struct group_record got;
    struct list *l = list_new();
    assert_err(s->ops->group_get(s, "ops", &got), ERR_OK);
    assert_string_equal(csv_sorted(got.roles, l), "user");
    free(l);
}

static void test_group_create_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct group_record g1 = group_rec("g1", "ROOT", "user");
    struct group_record g2 = group_rec("g2", "ROOT", "user");
    assert_err(s->ops->group_create(s, &g1, NULL, 0, 1), ERR_OK);
    assert_err(s->ops->group_create(s, &g2, NULL, 0, 1), ERR_LIMIT);
    struct group_record got;
    assert_err(s->ops->group_get(s, "g2", &got), ERR_NOT_FOUND);
}

static void test_group_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct group_record got;
    assert_err(s->ops->group_get(s, "nothing", &got), ERR_NOT_FOUND);
}

static void test_group_update_replaces_members_and_roles(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user(s, "alice");
    add_user(s, "bob");
    add_user(s, "carol");
    const char *before[] = {"alice", "bob"};
    add_group(s, "ops", "auditor,admin", before, 2);
    struct group_record g = group_rec("ops", "ROOT", "user");
    snprintf(g.description, sizeof g.description, "Changed");
    const char *after[] = {"carol"};
    assert_err(s->ops->group_update(s, &g, after, 1), ERR_OK);
    struct group_record got;
    struct list *l = list_new();
    assert_err(s->ops->group_get(s, "ops", &got), ERR_OK);
    assert_string_equal(got.description, "Changed");
    assert_string_equal(csv_sorted(got.roles, l), "user");
    l->n = 0;
    assert_err(s->ops->group_members_each(s, "ops", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "carol");
    l->n = 0;
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_group_update_refused_keeps_old_lists(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user(s, "alice");
    add_user_in(s, "sam", "STAGING", "user");
    const char *before[] = {"alice"};
    add_group(s, "ops", "admin", before, 1);
    struct group_record g = group_rec("ops", "ROOT", "user");
    const char *after[] = {"sam"};
    assert_err(s->ops->group_update(s, &g, after, 1), ERR_INVALID);
    struct group_record got;
    struct list *l = list_new();
    assert_err(s->ops->group_get(s, "ops", &got), ERR_OK);
    assert_string_equal(got.description, "Group ops");
    assert_string_equal(csv_sorted(got.roles, l), "admin");
    l->n = 0;
    assert_err(s->ops->group_members_each(s, "ops", name_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "alice");
    free(l);
}

static void test_group_update_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct group_record g = group_rec("nothing", "ROOT", "user");
    assert_err(s->ops->group_update(s, &g, NULL, 0), ERR_NOT_FOUND);
}

static void test_group_delete_removes_group_and_memberships(void **state)
{
    struct store *s = store_of(state);
    add_role(s, "auditor");
    add_user(s, "alice");
    const char *members[] = {"alice"};
    add_group(s, "ops", "auditor", members, 1);
    assert_err(s->ops->group_delete(s, "ops"), ERR_OK);
    struct group_record got;
    assert_err(s->ops->group_get(s, "ops", &got), ERR_NOT_FOUND);
    struct list *l = list_new();
    assert_err(s->ops->user_groups_each(s, "alice", name_cb, l), ERR_OK);
    assert_int_equal(l->n, 0);
    assert_err(s->ops->user_roles_each(s, "alice", role_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "user");
    struct user_record u;
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK);
    assert_err(s->ops->role_delete(s, "auditor"), ERR_OK); /* no longer held */
    free(l);
}

static void test_group_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->group_delete(s, "nothing"), ERR_NOT_FOUND);
}

static void test_group_each_lists_every_group(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_group(s, "ops", "user", NULL, 0);
    add_group(s, "dev", "admin", NULL, 0);
    struct group_record g = group_rec("qa", "STAGING", "user");
    assert_err(s->ops->group_create(s, &g, NULL, 0, BIG), ERR_OK);
    struct list *l = list_new();
    assert_err(s->ops->group_each(s, group_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "dev,ops,qa");
    free(l);
}

/* ---- environments ---- */

static void test_environment_root_exists(void **state)
{
    struct store *s = store_of(state);
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "ROOT", &e), ERR_OK);
    assert_string_equal(e.name, "ROOT");
    struct list *l = list_new();
    assert_err(s->ops->environment_each(s, environment_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "ROOT");
    free(l);
}

static void test_environment_create_then_get(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "STAGING", &e), ERR_OK);
    assert_string_equal(e.name, "STAGING");
    assert_string_equal(e.description, "The STAGING environment");
    struct list *l = list_new();
    assert_err(s->ops->environment_each(s, environment_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "ROOT,STAGING");
    free(l);
}

static void test_environment_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "NOWHERE", &e), ERR_NOT_FOUND);
}

static void test_environment_create_duplicate_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    struct environment_record e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "STAGING");
    assert_err(s->ops->environment_create(s, &e, BIG), ERR_CONFLICT);
    snprintf(e.name, sizeof e.name, "ROOT");
    assert_err(s->ops->environment_create(s, &e, BIG), ERR_CONFLICT);
}

static void test_environment_create_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct environment_record e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "A");
    assert_err(s->ops->environment_create(s, &e, 2), ERR_OK); /* ROOT, A */
    snprintf(e.name, sizeof e.name, "B");
    assert_err(s->ops->environment_create(s, &e, 2), ERR_LIMIT);
    assert_err(s->ops->environment_get(s, "B", &e), ERR_NOT_FOUND);
}

static void test_environment_delete_unused_removes_it(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    assert_err(s->ops->environment_delete(s, "STAGING"), ERR_OK);
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "STAGING", &e), ERR_NOT_FOUND);
}

static void test_environment_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->environment_delete(s, "NOWHERE"), ERR_NOT_FOUND);
}

static void test_environment_delete_with_user_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    add_user_in(s, "sam", "STAGING", "user");
    assert_err(s->ops->environment_delete(s, "STAGING"), ERR_CONFLICT);
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "STAGING", &e), ERR_OK);
}

static void test_environment_delete_with_group_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_env(s, "STAGING");
    struct group_record g = group_rec("qa", "STAGING", "user");
    assert_err(s->ops->group_create(s, &g, NULL, 0, BIG), ERR_OK);
    assert_err(s->ops->environment_delete(s, "STAGING"), ERR_CONFLICT);
    struct environment_record e;
    assert_err(s->ops->environment_get(s, "STAGING", &e), ERR_OK);
}

static void test_environment_delete_root_in_use_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->environment_delete(s, "ROOT"), ERR_CONFLICT);
}

/* ---- scopes ---- */

static void test_scope_defaults_are_nine_in_order(void **state)
{
    struct store *s = store_of(state);
    struct list *l = list_new();
    assert_err(s->ops->scope_each(s, scope_cb, l), ERR_OK);
    assert_int_equal(l->n, 9);
    assert_string_equal(list_str(l),
                        "Authentication,PublishApp,PublishAimms,Tasks,APIKey,Session,Secret,User,"
                        "Account");
    for (size_t i = 0; i < l->n; i++)
        assert_int_equal(l->num[i], 1); /* every default has a description */
    free(l);
}

static void test_scope_create_appends_in_creation_order(void **state)
{
    struct store *s = store_of(state);
    struct scope_record sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.name, sizeof sc.name, "Zeta");
    snprintf(sc.description, sizeof sc.description, "Last letter");
    assert_err(s->ops->scope_create(s, &sc, BIG), ERR_OK);
    snprintf(sc.name, sizeof sc.name, "Alpha");
    assert_err(s->ops->scope_create(s, &sc, BIG), ERR_OK);
    struct list *l = list_new();
    assert_err(s->ops->scope_each(s, scope_cb, l), ERR_OK);
    assert_string_equal(list_str(l),
                        "Authentication,PublishApp,PublishAimms,Tasks,APIKey,Session,Secret,User,"
                        "Account,Zeta,Alpha");
    free(l);
}

static void test_scope_create_duplicate_is_conflict(void **state)
{
    struct store *s = store_of(state);
    struct scope_record sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.name, sizeof sc.name, "APIKey");
    assert_err(s->ops->scope_create(s, &sc, BIG), ERR_CONFLICT);
    snprintf(sc.name, sizeof sc.name, "Zeta");
    assert_err(s->ops->scope_create(s, &sc, BIG), ERR_OK);
    assert_err(s->ops->scope_create(s, &sc, BIG), ERR_CONFLICT);
    struct list *l = list_new();
    assert_err(s->ops->scope_each(s, scope_cb, l), ERR_OK);
    assert_int_equal(l->n, 10);
    free(l);
}

static void test_scope_create_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct scope_record sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.name, sizeof sc.name, "Zeta");
    assert_err(s->ops->scope_create(s, &sc, 9), ERR_LIMIT);
    assert_err(s->ops->scope_create(s, &sc, 10), ERR_OK);
    snprintf(sc.name, sizeof sc.name, "Eta");
    assert_err(s->ops->scope_create(s, &sc, 10), ERR_LIMIT);
    struct list *l = list_new();
    assert_err(s->ops->scope_each(s, scope_cb, l), ERR_OK);
    assert_int_equal(l->n, 10);
    free(l);
}

/* ---- keys ---- */

static void assert_key_equal(const struct key_record *got, const struct key_record *want)
{
    assert_string_equal(got->id, want->id);
    assert_memory_equal(got->hash, want->hash, STORE_HASH_LEN);
    assert_string_equal(got->hint, want->hint);
    assert_string_equal(got->owner_type, want->owner_type);
    assert_string_equal(got->owner_id, want->owner_id);
    assert_string_equal(got->created_by, want->created_by);
    assert_string_equal(got->name, want->name);
    assert_int_equal(got->has_description, want->has_description);
    assert_string_equal(got->description, want->description);
    assert_string_equal(got->scopes, want->scopes);
    assert_int_equal(got->created_at, want->created_at);
    assert_int_equal(got->expires_at, want->expires_at);
    assert_int_equal(got->last_used_at, want->last_used_at);
}

static void test_key_create_then_get_round_trips(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(7, "user", "alice", "deploy — prod ✓", T0);
    snprintf(k.created_by, sizeof k.created_by, "root");
    snprintf(k.scopes, sizeof k.scopes, "Authentication,APIKey,Account");
    k.expires_at = T0 + 12345;
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record got;
    memset(&got, 0x55, sizeof got);
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_key_equal(&got, &k);
}

static void test_key_hash_with_zero_bytes_round_trips(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "zeros", T0);
    memset(k.hash, 0, STORE_HASH_LEN);
    k.hash[1] = 0x01;
    k.hash[16] = 0xff;
    k.hash[17] = 0x80; /* leading, inner and trailing zero bytes */
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_memory_equal(got.hash, k.hash, STORE_HASH_LEN);
    struct key_touch t = {0};
    memcpy(t.hash, k.hash, STORE_HASH_LEN);
    t.last_used_at = T0 + 5;
    assert_err(s->ops->key_touch(s, &t, 1), ERR_OK); /* found by that exact hash */
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_int_equal(got.last_used_at, T0 + 5);
}

static void test_key_without_description_round_trips_as_absent(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record none = key_rec(1, "user", "alice", "none", T0);
    none.has_description = 0;
    none.description[0] = '\0';
    struct key_record empty = key_rec(2, "user", "alice", "empty", T0);
    empty.description[0] = '\0';
    assert_err(s->ops->key_create(s, &none, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &empty, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, none.id, &got), ERR_OK);
    assert_int_equal(got.has_description, 0);
    assert_string_equal(got.description, "");
    assert_err(s->ops->key_get(s, empty.id, &got), ERR_OK);
    assert_int_equal(got.has_description, 1);
    assert_string_equal(got.description, "");
}

static void test_key_get_by_hash_finds_that_key_only(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record a = key_rec(1, "user", "alice", "one", T0);
    struct key_record b = key_rec(2, "user", "alice", "two", T0);
    memset(a.hash, 0, STORE_HASH_LEN); /* zero bytes inside: bound as a blob, not text */
    a.hash[5] = 0x42;
    assert_err(s->ops->key_create(s, &a, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &b, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get_by_hash(s, a.hash, &got), ERR_OK);
    assert_key_equal(&got, &a);
    assert_err(s->ops->key_get_by_hash(s, b.hash, &got), ERR_OK);
    assert_string_equal(got.id, b.id);
    uint8_t other[STORE_HASH_LEN];
    memcpy(other, a.hash, sizeof other);
    other[31] ^= 1;
    assert_err(s->ops->key_get_by_hash(s, other, &got), ERR_NOT_FOUND);
    assert_err(s->ops->key_delete(s, a.id), ERR_OK);
    assert_err(s->ops->key_get_by_hash(s, a.hash, &got), ERR_NOT_FOUND);
}

static void test_key_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct key_record got;
    assert_err(s->ops->key_get(s, "k99999999999999999999999", &got), ERR_NOT_FOUND);
}

static void test_key_create_same_name_same_owner_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "ci", T0);
    struct key_record k = key_rec(2, "user", "alice", "ci", T0 + 1);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_CONFLICT);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_NOT_FOUND);
}

static void test_key_create_same_name_other_owner_is_ok(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_key(s, 1, "alice", "ci", T0);
    add_key(s, 2, "bob", "ci", T0);
    struct list *l = keys_of(s, "user", "bob");
    assert_string_equal(list_str(l), "ci");
    free(l);
}

static void test_key_create_same_hash_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    struct key_record k = key_rec(2, "user", "alice", "two", T0);
    key_hash(1, k.hash);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_CONFLICT);
}

static void test_key_create_at_max_per_owner_is_limit(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct key_record k1 = key_rec(1, "user", "alice", "k1", T0);
    struct key_record k2 = key_rec(2, "user", "alice", "k2", T0);
    struct key_record k3 = key_rec(3, "user", "alice", "k3", T0);
    struct key_record b1 = key_rec(4, "user", "bob", "b1", T0);
    assert_err(s->ops->key_create(s, &k1, 2), ERR_OK);
    assert_err(s->ops->key_create(s, &k2, 2), ERR_OK);
    assert_err(s->ops->key_create(s, &k3, 2), ERR_LIMIT);
    assert_err(s->ops->key_create(s, &b1, 2), ERR_OK); /* the limit is per owner */
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, 2);
    free(l);
}

static void test_key_limit_counts_deletes_and_not_refusals(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k1 = key_rec(1, "user", "alice", "k1", T0);
    struct key_record k2 = key_rec(2, "user", "alice", "k2", T0);
    struct key_record k3 = key_rec(3, "user", "alice", "k3", T0);
    struct key_record k4 = key_rec(4, "user", "alice", "k4", T0);
    assert_err(s->ops->key_create(s, &k1, 2), ERR_OK);
    assert_err(s->ops->key_create(s, &k2, 2), ERR_OK);
    assert_err(s->ops->key_create(s, &k3, 2), ERR_LIMIT); /* refused: not counted */
    assert_err(s->ops->key_create(s, &k3, 2), ERR_LIMIT);
    assert_err(s->ops->key_delete(s, k1.id), ERR_OK); /* a deleted key frees its place */
    assert_err(s->ops->key_create(s, &k3, 2), ERR_OK);
    assert_err(s->ops->key_create(s, &k4, 2), ERR_LIMIT);
    assert_err(s->ops->key_create(s, &k4, 3), ERR_OK); /* a higher limit counts the same keys */
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, 3);
    free(l);
}

static void test_key_create_with_max_zero_is_limit(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "k1", T0);
    assert_err(s->ops->key_create(s, &k, 0), ERR_LIMIT); /* alice already has 0 = max keys */
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_key_longest_fields_round_trip(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "", T0);
    for (size_t i = 0; i + 4 <= STORE_KEY_NAME_BYTES; i += 4)
        memcpy(k.name + i, "\xf0\x9f\x94\x91", 4); /* 100 four-byte code points */
    k.name[STORE_KEY_NAME_BYTES] = '\0';
    for (size_t i = 0; i < STORE_DESCRIPTION_BYTES; i++)
        k.description[i] = (char)('a' + i % 26);
    k.description[STORE_DESCRIPTION_BYTES] = '\0';
    size_t o = 0;
    for (int i = 0; i < 64; i++)
        o += (size_t)snprintf(k.scopes + o, sizeof k.scopes - o, "%sScope%02d%s", i ? "," : "",
                              i, "-with-a-rather-long-name-to-fill-the-field");
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_key_equal(&got, &k);
}

static void test_key_extreme_times_round_trip(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "forever", 0);
    k.expires_at = INT64_MAX;
    k.last_used_at = -1;
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_true(got.created_at == 0);
    assert_true(got.expires_at == INT64_MAX);
    assert_true(got.last_used_at == -1);
}

static void test_key_create_after_delete_below_max_is_ok(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k1 = key_rec(1, "user", "alice", "k1", T0);
    struct key_record k2 = key_rec(2, "user", "alice", "k2", T0);
    assert_err(s->ops->key_create(s, &k1, 1), ERR_OK);
    assert_err(s->ops->key_create(s, &k2, 1), ERR_LIMIT);
    assert_err(s->ops->key_delete(s, k1.id), ERR_OK);
    assert_err(s->ops->key_create(s, &k2, 1), ERR_OK);
}

static void test_key_create_for_missing_user_is_forbidden(void **state)
{
    struct store *s = store_of(state);
    struct key_record k = key_rec(1, "user", "ghost", "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_FORBIDDEN);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_NOT_FOUND);
}

static void test_key_create_for_disabled_user_is_forbidden(void **state)
{
    struct store *s = store_of(state);
    add_disabled_user(s, "carol", "user");
    struct key_record k = key_rec(1, "user", "carol", "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_FORBIDDEN);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_NOT_FOUND);
}

static void test_key_create_for_account_round_trips(void **state)
{
    struct store *s = store_of(state);
    add_account(s, A1, "robot", "");
    struct key_record k = key_rec(1, "service-account", A1, "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_key_equal(&got, &k);
    struct list *l = keys_of(s, "service-account", A1);
    assert_string_equal(list_str(l), "ci");
    free(l);
}

static void test_key_survives_reopen(void **state)
{
    add_user(store_of(state), "alice");
    struct key_record k = key_rec(1, "user", "alice", "durable", T0);
    struct store *s = store_of(state);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    reopen(state);
    s = store_of(state);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_key_equal(&got, &k);
}

static void test_key_update_changes_name_and_description_only(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "old", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct key_record u = k;
    snprintf(u.name, sizeof u.name, "new");
    snprintf(u.description, sizeof u.description, "New description");
    snprintf(u.scopes, sizeof u.scopes, "Secret");
    u.expires_at = T0 + 1;
    u.created_at = T0 + 2;
    assert_err(s->ops->key_update(s, &u), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_string_equal(got.name, "new");
    assert_string_equal(got.description, "New description");
    assert_int_equal(got.has_description, 1);
    assert_string_equal(got.scopes, k.scopes);
    assert_int_equal(got.expires_at, k.expires_at);
    assert_int_equal(got.created_at, k.created_at);
}

static void test_key_update_can_remove_description(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    k.has_description = 0;
    k.description[0] = '\0';
    assert_err(s->ops->key_update(s, &k), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_int_equal(got.has_description, 0);
}

static void test_key_update_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct key_record k = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_update(s, &k), ERR_NOT_FOUND);
}

static void test_key_update_to_name_owner_uses_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    add_key(s, 2, "alice", "two", T0);
    struct key_record k = key_rec(2, "user", "alice", "one", T0);
    assert_err(s->ops->key_update(s, &k), ERR_CONFLICT);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    assert_string_equal(got.name, "two");
}

static void test_key_delete_removes_it(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    add_key(s, 2, "alice", "two", T0);
    assert_err(s->ops->key_delete(s, "k00000000000000000000001"), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, "k00000000000000000000001", &got), ERR_NOT_FOUND);
    struct list *l = keys_of(s, "user", "alice");
    assert_string_equal(list_str(l), "two");
    free(l);
}

static void test_key_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->key_delete(s, "k99999999999999999999999"), ERR_NOT_FOUND);
}

static void test_key_each_by_owner_newest_first(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "oldest", T0);
    add_key(s, 2, "alice", "newest", T0 + 20);
    add_key(s, 3, "alice", "middle", T0 + 10);
    struct list *l = keys_of(s, "user", "alice");
    assert_string_equal(list_str(l), "newest,middle,oldest");
    free(l);
}

static void test_key_each_by_owner_same_second_latest_insert_first(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 3, "alice", "first", T0);
    add_key(s, 1, "alice", "second", T0);
    add_key(s, 2, "alice", "third", T0);
    struct list *l = keys_of(s, "user", "alice");
    assert_string_equal(list_str(l), "third,second,first");
    free(l);
}

static void test_key_each_by_owner_skips_other_owners(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_account(s, A1, "alice", ""); /* an account whose id is not a username */
    add_key(s, 1, "alice", "a1", T0);
    add_key(s, 2, "bob", "b1", T0);
    struct key_record k = key_rec(3, "service-account", A1, "s1", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct list *l = keys_of(s, "user", "alice");
    assert_string_equal(list_str(l), "a1");
    free(l);
    l = keys_of(s, "user", "nobody");
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_key_each_all_newest_first(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_key(s, 1, "alice", "a-oldest", T0);
    add_key(s, 2, "bob", "b-middle", T0 + 1);
    add_key(s, 3, "alice", "a-newest", T0 + 2);
    struct list *l = keys_of(s, NULL, NULL);
    assert_string_equal(list_str(l), "a-newest,b-middle,a-oldest");
    free(l);
}

struct index_seen {
    int n;
    struct key_record k;
};

static int index_cb(void *ctx, const struct key_record *k)
{
    struct index_seen *seen = ctx;
    seen->n++;
    seen->k = *k;
    return 0;
}

static void test_key_each_for_index_leaves_name_and_description_empty(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "named", T0);
    snprintf(k.created_by, sizeof k.created_by, "root");
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    struct index_seen *seen = calloc(1, sizeof *seen);
    assert_non_null(seen);
    assert_err(s->ops->key_each_for_index(s, index_cb, seen), ERR_OK);
    assert_int_equal(seen->n, 1);
    assert_string_equal(seen->k.id, k.id);
    assert_memory_equal(seen->k.hash, k.hash, STORE_HASH_LEN);
    assert_string_equal(seen->k.owner_type, "user");
    assert_string_equal(seen->k.owner_id, "alice");
    assert_string_equal(seen->k.created_by, "root");
    assert_string_equal(seen->k.scopes, k.scopes);
    assert_int_equal(seen->k.expires_at, k.expires_at);
    assert_string_equal(seen->k.name, "");
    assert_string_equal(seen->k.description, "");
    free(seen);
}

static void test_key_each_for_index_visits_every_key(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    add_key(s, 1, "alice", "a1", T0);
    add_key(s, 2, "alice", "a2", T0);
    add_key(s, 3, "bob", "b1", T0);
    struct index_seen *seen = calloc(1, sizeof *seen);
    assert_non_null(seen);
    assert_err(s->ops->key_each_for_index(s, index_cb, seen), ERR_OK);
    assert_int_equal(seen->n, 3);
    free(seen);
}

static int64_t last_used(struct store *s, unsigned n)
{
    char id[STORE_ID_LEN + 1];
    snprintf(id, sizeof id, "k%023u", n);
    struct key_record got;
    assert_err(s->ops->key_get(s, id, &got), ERR_OK);
    return got.last_used_at;
}

static void test_key_touch_moves_last_used_forward(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    add_key(s, 2, "alice", "two", T0);
    assert_int_equal(last_used(s, 1), 0);
    struct key_touch t[2] = {0};
    key_hash(1, t[0].hash);
    t[0].last_used_at = T0 + 100;
    key_hash(2, t[1].hash);
    t[1].last_used_at = T0 + 200;
    assert_err(s->ops->key_touch(s, t, 2), ERR_OK);
    assert_int_equal(last_used(s, 1), T0 + 100);
    assert_int_equal(last_used(s, 2), T0 + 200);
    t[0].last_used_at = T0 + 150;
    assert_err(s->ops->key_touch(s, t, 1), ERR_OK);
    assert_int_equal(last_used(s, 1), T0 + 150);
}

static void test_key_touch_never_moves_backwards(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    struct key_touch t = {0};
    key_hash(1, t.hash);
    t.last_used_at = T0 + 100;
    assert_err(s->ops->key_touch(s, &t, 1), ERR_OK);
    t.last_used_at = T0 + 50;
    assert_err(s->ops->key_touch(s, &t, 1), ERR_OK);
    assert_int_equal(last_used(s, 1), T0 + 100);
}

static void test_key_touch_skips_unknown_hashes(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "one", T0);
    struct key_touch t[3] = {0};
    key_hash(900, t[0].hash);
    t[0].last_used_at = T0 + 10;
    key_hash(1, t[1].hash);
    t[1].last_used_at = T0 + 20;
    key_hash(901, t[2].hash);
    t[2].last_used_at = T0 + 30;
    assert_err(s->ops->key_touch(s, t, 3), ERR_OK);
    assert_int_equal(last_used(s, 1), T0 + 20);
}

static void test_key_create_audited_appends_audit_record(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record k = key_rec(1, "user", "alice", "ci", T0);
    struct audit_record a = audit_rec(T0, "alice", "key.create", "ci");
    assert_err(s->ops->key_create_audited(s, &k, BIG, &a), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, k.id, &got), ERR_OK);
    struct audit_filter f = all_events(10);
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "ci");
    free(l);
}

static void test_key_create_audited_refused_appends_nothing(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_key(s, 1, "alice", "ci", T0);
    struct key_record k = key_rec(2, "user", "alice", "ci", T0);
    struct audit_record a = audit_rec(T0, "alice", "key.create", "ci");
    assert_err(s->ops->key_create_audited(s, &k, BIG, &a), ERR_CONFLICT);
    struct key_record ghost = key_rec(3, "user", "ghost", "x", T0);
    assert_err(s->ops->key_create_audited(s, &ghost, BIG, &a), ERR_FORBIDDEN);
    struct audit_filter f = all_events(10);
    struct list *l = events(s, &f);
    assert_int_equal(l->n, 0);
    free(l);
}

/* ---- rotation (core/rotate.c's store half) ---- */

/* Key n of alice replacing old: same name, the old key's family, rotated_from old. */
static struct key_record successor(unsigned n, const struct key_record *old, int64_t at)
{
    struct key_record k = key_rec(n, old->owner_type, old->owner_id, old->name, at);
    snprintf(k.family_id, sizeof k.family_id, "%s", old->family_id[0] ? old->family_id : old->id);
    snprintf(k.rotated_from, sizeof k.rotated_from, "%s", old->id);
    return k;
}

static int family_cb(void *ctx, const struct key_record *k)
{
    list_add(ctx, 0, "%s", k->id);
    return 0;
}

static void test_key_rotate_marks_the_old_key_and_inserts_the_new_one_with_its_event(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record old = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &old, BIG), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, old.id, &got), ERR_OK);
    assert_string_equal(got.family_id, old.id); /* a created key starts its own family */
    assert_string_equal(got.superseded_by, "");
    struct key_record nk = successor(2, &old, T0 + 10);
    struct audit_record a = audit_rec(T0 + 10, "alice", "key.rotate", nk.id);
    assert_err(s->ops->key_rotate(s, old.id, T0 + 10, T0 + 70, &nk, BIG, &a), ERR_OK);
    assert_err(s->ops->key_get(s, old.id, &got), ERR_OK);
    assert_string_equal(got.superseded_by, nk.id);
    assert_int_equal(got.rotated_at, T0 + 10);
    assert_int_equal(got.expires_at, T0 + 70);
    assert_string_equal(got.name, "ci");
    assert_err(s->ops->key_get(s, nk.id, &got), ERR_OK);
    assert_key_equal(&got, &nk);
    assert_string_equal(got.family_id, old.id);
    assert_string_equal(got.rotated_from, old.id);
    assert_string_equal(got.superseded_by, "");
    struct audit_filter f = all_events(10);
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), nk.id);
    free(l);
}

static void test_key_rotate_never_lengthens_the_old_key(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record old = key_rec(1, "user", "alice", "ci", T0); /* expires T0 + 86400 */
    assert_err(s->ops->key_create(s, &old, BIG), ERR_OK);
    struct key_record nk = successor(2, &old, T0);
    struct audit_record a = audit_rec(T0, "alice", "key.rotate", nk.id);
    assert_err(s->ops->key_rotate(s, old.id, T0, T0 + 7 * 86400, &nk, BIG, &a), ERR_OK);
    struct key_record got;
    assert_err(s->ops->key_get(s, old.id, &got), ERR_OK);
    assert_int_equal(got.expires_at, T0 + 86400);
}

static void test_key_rotate_refusals_store_nothing(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct key_record old = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &old, BIG), ERR_OK);
    struct key_record first = successor(2, &old, T0);
    struct audit_record a = audit_rec(T0, "alice", "key.rotate", first.id);
    assert_err(s->ops->key_rotate(s, old.id, T0, T0 + 60, &first, BIG, &a), ERR_OK);
    /* the old key again: the loser of two rotations */
    struct key_record second = successor(3, &old, T0);
    assert_err(s->ops->key_rotate(s, old.id, T0, T0 + 60, &second, BIG, &a), ERR_CONFLICT);
    /* the current key once it has expired */
    struct key_record third = successor(4, &first, T0 + 86400);
    assert_err(s->ops->key_rotate(s, first.id, T0 + 86400, T0 + 86400, &third, BIG, &a),
               ERR_CONFLICT);
    /* a key that is not that owner's, and one that does not exist */
    struct key_record bobs = successor(5, &first, T0);
    snprintf(bobs.owner_id, sizeof bobs.owner_id, "bob");
    assert_err(s->ops->key_rotate(s, first.id, T0, T0, &bobs, BIG, &a), ERR_NOT_FOUND);
    assert_err(s->ops->key_rotate(s, "k00000000000000000000099", T0, T0, &third, BIG, &a),
               ERR_NOT_FOUND);
    /* at the owner's limit: the old key stays current */
    struct key_record full = successor(6, &first, T0);
    assert_err(s->ops->key_rotate(s, first.id, T0, T0, &full, 2, &a), ERR_LIMIT);
    struct key_record got;
    assert_err(s->ops->key_get(s, first.id, &got), ERR_OK);
    assert_string_equal(got.superseded_by, "");
    assert_int_equal(got.expires_at, T0 + 86400);
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, 2);
    free(l);
    struct audit_filter f = all_events(10);
    l = events(s, &f);
    assert_int_equal(l->n, 1);
    free(l);
}

static void test_key_name_is_unique_among_keys_not_rotated_out(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record old = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &old, BIG), ERR_OK);
    struct key_record nk = successor(2, &old, T0);
    struct audit_record a = audit_rec(T0, "alice", "key.rotate", nk.id);
    assert_err(s->ops->key_rotate(s, old.id, T0, T0 + 60, &nk, BIG, &a), ERR_OK);
    struct key_record again = key_rec(3, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &again, BIG), ERR_CONFLICT); /* the new key holds it */
    assert_err(s->ops->key_delete(s, nk.id), ERR_OK);
    assert_err(s->ops->key_create(s, &again, BIG), ERR_OK); /* the rotated-out one does not */
}

static void test_key_family_revoke_deletes_only_the_live_keys_of_the_family(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record a1 = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &a1, BIG), ERR_OK);
    add_key(s, 9, "alice", "other", T0); /* another family of the same owner */
    struct audit_record ev = audit_rec(T0, "alice", "key.rotate", "x");
    struct key_record a2 = successor(2, &a1, T0 + 10);
    assert_err(s->ops->key_rotate(s, a1.id, T0 + 10, T0 + 10, &a2, BIG, &ev), ERR_OK);
    struct key_record a3 = successor(3, &a2, T0 + 20);
    assert_err(s->ops->key_rotate(s, a2.id, T0 + 20, T0 + 600, &a3, BIG, &ev), ERR_OK);
    struct list *gone = list_new();
    assert_err(s->ops->key_family_revoke(s, a1.id, "user", "alice", T0 + 30, family_cb, gone),
               ERR_OK);
    char want[128];
    snprintf(want, sizeof want, "%s,%s", a2.id, a3.id);
    assert_string_equal(list_sorted(gone), want);
    free(gone);
    struct key_record got;
    assert_err(s->ops->key_get(s, a1.id, &got), ERR_OK); /* expired: kept for a later reuse */
    assert_err(s->ops->key_get(s, a2.id, &got), ERR_NOT_FOUND);
    assert_err(s->ops->key_get(s, a3.id, &got), ERR_NOT_FOUND);
    struct list *l = keys_of(s, "user", "alice");
    assert_string_equal(list_sorted(l), "ci,other");
    free(l);
}

/* ---- retention (core/retention.c's store half) ---- */

static int gone_name_cb(void *ctx, const struct key_record *k)
{
    list_add(ctx, 0, "%s=%s:%s:%s", k->id, k->name, k->owner_type, k->owner_id);
    return 0;
}

static void test_key_prune_rotated_out_deletes_only_rotated_out_keys_past_the_cutoff(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct audit_record ev = audit_rec(T0, "alice", "key.rotate", "x");
    struct key_record a1 = key_rec(1, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &a1, BIG), ERR_OK);
    struct key_record a2 = successor(2, &a1, T0 + 10); /* a1 rotated out, expired at T0+10 */
    assert_err(s->ops->key_rotate(s, a1.id, T0 + 10, T0 + 10, &a2, BIG, &ev), ERR_OK);
    struct key_record b1 = key_rec(3, "user", "alice", "cd", T0);
    assert_err(s->ops->key_create(s, &b1, BIG), ERR_OK);
    struct key_record b2 = successor(4, &b1, T0 + 20); /* b1 in its overlap until T0+1000 */
    assert_err(s->ops->key_rotate(s, b1.id, T0 + 20, T0 + 1000, &b2, BIG, &ev), ERR_OK);
    struct key_record old = key_rec(5, "user", "alice", "old", T0 - 200000); /* expired long
                                                                                ago, never rotated */
    assert_err(s->ops->key_create(s, &old, BIG), ERR_OK);
    struct list *gone = list_new();
    assert_err(s->ops->key_prune_rotated_out(s, T0 + 500, 10, gone_name_cb, gone), ERR_OK);
    char want[256];
    snprintf(want, sizeof want, "%s=ci:user:alice", a1.id);
    assert_string_equal(list_sorted(gone), want);
    free(gone);
    gone = list_new();
    assert_err(s->ops->key_prune_rotated_out(s, T0 + 500, 10, gone_name_cb, gone), ERR_OK);
    assert_string_equal(list_sorted(gone), ""); /* nothing more before that cutoff */
    free(gone);
    gone = list_new();
    assert_err(s->ops->key_prune_rotated_out(s, T0 + 2000, 10, gone_name_cb, gone), ERR_OK);
    snprintf(want, sizeof want, "%s=cd:user:alice", b1.id);
    assert_string_equal(list_sorted(gone), want);
    free(gone);
    struct list *l = keys_of(s, "user", "alice"); /* the current keys and the expired one stay */
    assert_string_equal(list_sorted(l), "cd,ci,old");
    free(l);
}

static void test_key_prune_rotated_out_takes_at_most_limit_oldest_first(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct audit_record ev = audit_rec(T0, "alice", "key.rotate", "x");
    struct key_record k = key_rec(10, "user", "alice", "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK);
    char ids[3][STORE_ID_LEN + 1];
    for (unsigned i = 0; i < 3; i++) { /* three rotated-out keys, expired at T0+1, +2, +3 */
        struct key_record next = successor(11 + i, &k, T0 + 1 + i);
        assert_err(s->ops->key_rotate(s, k.id, T0 + 1 + i, T0 + 1 + i, &next, BIG, &ev), ERR_OK);
        snprintf(ids[i], sizeof ids[i], "%s", k.id);
        k = next;
    }
    struct list *gone = list_new();
    assert_err(s->ops->key_prune_rotated_out(s, T0 + 100, 2, family_cb, gone), ERR_OK);
    char want[128];
    snprintf(want, sizeof want, "%s,%s", ids[0], ids[1]);
    assert_string_equal(list_sorted(gone), want);
    free(gone);
}

static void test_retention_prune_finished_notices_of_old_keys_and_old_finished_leak_mail(
    void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct key_record gone = key_rec(20, "user", "alice", "long-expired", T0 - 300000);
    struct key_record recent = key_rec(21, "user", "alice", "just-expired", T0 - 86400 - 10);
    struct key_record waiting = key_rec(22, "user", "alice", "still-trying", T0 - 300000);
    assert_err(s->ops->key_create(s, &gone, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &recent, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &waiting, BIG), ERR_OK);
    const struct key_record *keys[] = {&gone, &recent, &waiting};
    for (int i = 0; i < 3; i++)
        assert_err(s->ops->notice_claim(s, keys[i]->id, 0, T0 - 5, T0), ERR_OK);
    assert_err(s->ops->notice_update(s, gone.id, 0, "done", 0, 1, T0 - 5), ERR_OK);
    assert_err(s->ops->notice_update(s, recent.id, 0, "done", 0, 1, T0 - 5), ERR_OK);
    assert_err(s->ops->notice_mail_record(s, gone.id, 0, "alice", T0 - 5), ERR_OK);
    /* leak mail: an old sent one, an old one still pending, a recent sent one */
    assert_err(s->ops->leak_mail_add(s, "kOLD", "alice", "subj", "body", T0 - 200000), ERR_OK);
    assert_err(s->ops->leak_mail_update(s, "kOLD", "alice", "done", 0, 1, T0 - 200000), ERR_OK);
    assert_err(s->ops->leak_mail_add(s, "kPENDING", "alice", "subj", "body", T0 - 200000),
               ERR_OK);
    assert_err(s->ops->leak_mail_add(s, "kNEW", "alice", "subj", "body", T0 - 10), ERR_OK);
    assert_err(s->ops->leak_mail_update(s, "kNEW", "alice", "done", 0, 1, T0 - 10), ERR_OK);
    assert_err(s->ops->retention_prune(s, T0 - 100000, T0 - 100000), ERR_OK);
    struct notice_record n;
    assert_err(s->ops->notice_get(s, gone.id, 0, &n), ERR_NOT_FOUND);
    assert_err(s->ops->notice_mail_has(s, gone.id, 0, "alice"), ERR_NOT_FOUND);
    assert_err(s->ops->notice_get(s, recent.id, 0, &n), ERR_OK);  /* its key expired lately */
    assert_err(s->ops->notice_get(s, waiting.id, 0, &n), ERR_OK); /* still pending */
    struct leak_mail_record *m = malloc(sizeof *m);
    assert_non_null(m);
    assert_err(s->ops->leak_mail_get(s, "kOLD", "alice", m), ERR_NOT_FOUND);
    assert_err(s->ops->leak_mail_get(s, "kPENDING", "alice", m), ERR_OK);
    assert_err(s->ops->leak_mail_get(s, "kNEW", "alice", m), ERR_OK);
    free(m);
    struct key_record got; /* the keys themselves are not retention's to delete */
    assert_err(s->ops->key_get(s, gone.id, &got), ERR_OK);
}

#define THREADS 4
#define KEYS_PER_THREAD 12

struct key_thread {
    struct store *s;
    int t;
    int max;
    enum err results[KEYS_PER_THREAD];
};

static void *create_keys(void *arg)
{
    struct key_thread *kt = arg;
    for (int i = 0; i < KEYS_PER_THREAD; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d-%d", kt->t, i);
        unsigned n = (unsigned)(1000 + kt->t * 100 + i);
        struct key_record k = key_rec(n, "user", "alice", name, T0 + i);
        kt->results[i] = kt->s->ops->key_create(kt->s, &k, kt->max);
    }
    return NULL;
}

/* Creates THREADS * KEYS_PER_THREAD keys of alice from THREADS threads at once; returns how
 * many were created (ERR_OK) and how many refused with ERR_LIMIT; fails on anything else. */
static void create_keys_from_threads(struct store *s, int max, int *ok, int *limited)
{
    struct key_thread kt[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        kt[t].s = s;
        kt[t].t = t;
        kt[t].max = max;
        assert_int_equal(pthread_create(&th[t], NULL, create_keys, &kt[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    *ok = *limited = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < KEYS_PER_THREAD; i++) {
            if (kt[t].results[i] == ERR_OK)
                ++*ok;
            else if (kt[t].results[i] == ERR_LIMIT)
                ++*limited;
            else
                fail_msg("key_create from a thread returned %s", err_name(kt[t].results[i]));
        }
}

static void test_key_create_from_threads_stores_every_key(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    int ok, limited;
    create_keys_from_threads(s, BIG, &ok, &limited);
    assert_int_equal(ok, THREADS * KEYS_PER_THREAD);
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, THREADS * KEYS_PER_THREAD);
    free(l);
}

static void test_key_create_from_threads_respects_max_per_owner(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    int ok, limited;
    create_keys_from_threads(s, 15, &ok, &limited);
    assert_int_equal(ok, 15);
    assert_int_equal(limited, THREADS * KEYS_PER_THREAD - 15);
    struct list *l = keys_of(s, "user", "alice");
    assert_int_equal(l->n, 15);
    free(l);
}

/* ---- sessions ---- */

static void test_session_create_with_checked_user_needs_it_unchanged(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct user_record u, b;
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK);
    assert_err(s->ops->user_get(s, "bob", &b), ERR_OK);
    struct session_record r1 = session_rec(1, "alice", T0), r2 = session_rec(2, "alice", T0),
                          r3 = session_rec(3, "alice", T0), r4 = session_rec(4, "ghost", T0),
                          r5 = session_rec(5, "bob", T0);
    struct session_record got;
    assert_err(s->ops->session_create(s, &r1, 10, &u), ERR_OK);
    assert_err(s->ops->session_get(s, r1.token_hash, T0 + 1, &got), ERR_OK);
    /* reset between the login's check and its session: refused, nothing stored */
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$reset", NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &r2, 10, &u), ERR_CONFLICT);
    assert_err(s->ops->session_get(s, r2.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
    /* disabled: refused too */
    struct user_change ch = NO_CHANGE;
    ch.disabled = 1;
    assert_err(s->ops->user_admin_change(s, "alice", &ch), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK);
    assert_err(s->ops->session_create(s, &r3, 10, &u), ERR_CONFLICT);
    assert_err(s->ops->session_get(s, r3.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
    snprintf(u.username, sizeof u.username, "ghost");
    assert_err(s->ops->session_create(s, &r4, 10, &u), ERR_CONFLICT);
    /* MFA turned on after the login saw it off */
    uint8_t pending[40];
    memset(pending, 0x48, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "bob", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "bob", pending, sizeof pending, 1), ERR_OK);
    assert_err(s->ops->session_create(s, &r5, 10, &b), ERR_CONFLICT);
    assert_err(s->ops->session_get(s, r5.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
}

static void test_session_create_then_get(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record r = session_rec(1, "alice", T0);
    assert_err(s->ops->session_create(s, &r, 10, NULL), ERR_OK);
    struct session_record got;
    memset(&got, 0x55, sizeof got);
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 1, &got), ERR_OK);
    assert_memory_equal(got.token_hash, r.token_hash, STORE_HASH_LEN);
    assert_memory_equal(got.csrf_hash, r.csrf_hash, STORE_HASH_LEN);
    assert_string_equal(got.username, "alice");
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.expires_at, T0 + 3600);
}

static void test_session_touch_moves_last_seen_forward_only(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record r = session_rec(1, "alice", T0);
    r.expires_at = T0 + 1000;
    assert_err(s->ops->session_create(s, &r, 10, NULL), ERR_OK);
    struct session_record got;
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 1, &got), ERR_OK);
    assert_int_equal(got.last_seen_at, T0); /* created counts as used */
    assert_err(s->ops->session_touch(s, r.token_hash, T0 + 300), ERR_OK);
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 301, &got), ERR_OK);
    assert_int_equal(got.last_seen_at, T0 + 300);
    assert_err(s->ops->session_touch(s, r.token_hash, T0 + 200), ERR_OK); /* late, older */
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 301, &got), ERR_OK);
    assert_int_equal(got.last_seen_at, T0 + 300);
}

/* A login's TOTP step is spent only with the session it opens. */
static void test_session_create_claims_the_totp_step_only_with_the_session(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    uint8_t pending[40];
    memset(pending, 0x48, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "alice", pending, sizeof pending, 10), ERR_OK);
    struct user_record u, now;
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK);
    struct session_record r1 = session_rec(1, "alice", T0), r2 = session_rec(2, "alice", T0),
                          r3 = session_rec(3, "alice", T0);
    r1.mfa_step = r2.mfa_step = r3.mfa_step = 11;
    /* the password changed between the check and the session: refused, and the step unspent */
    assert_err(s->ops->user_set_password(s, "alice", "$argon2id$again", NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &r1, 10, &u), ERR_CONFLICT);
    assert_err(s->ops->user_get(s, "alice", &now), ERR_OK);
    assert_int_equal(now.mfa_last_step, 10);
    /* checked again: the session opens and the step is spent */
    assert_err(s->ops->session_create(s, &r2, 10, &now), ERR_OK);
    assert_err(s->ops->user_get(s, "alice", &now), ERR_OK);
    assert_int_equal(now.mfa_last_step, 11);
    /* the same step a second time: refused */
    assert_err(s->ops->session_create(s, &r3, 10, &now), ERR_CONFLICT);
    struct session_record got;
    assert_err(s->ops->session_get(s, r3.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
}

/* A login's recovery code is spent only with the session it opens, once; the codes go with
 * MFA and with the user. */
/* OpenID Connect's replay guard: a nonce is claimed once, on every backend; an expired one is
 * dropped when a later claim passes its expiry. */
static void test_sso_nonce_is_claimed_once_until_it_expires(void **state)
{
    struct store *s = store_of(state);
    uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    memset(a, 0x5a, sizeof a);
    memset(b, 0x5b, sizeof b);
    assert_err(s->ops->sso_nonce_claim(s, a, T0 + 60, T0), ERR_OK);
    assert_err(s->ops->sso_nonce_claim(s, a, T0 + 60, T0 + 1), ERR_CONFLICT); /* a replay */
    assert_err(s->ops->sso_nonce_claim(s, b, T0 + 300, T0 + 1), ERR_OK);      /* another one */
    /* at T0 + 100 b is still live, a is past its expiry: dropped, it can be recorded again */
    assert_err(s->ops->sso_nonce_claim(s, b, T0 + 300, T0 + 100), ERR_CONFLICT);
    assert_err(s->ops->sso_nonce_claim(s, a, T0 + 200, T0 + 100), ERR_OK);
}

/* An SSO user's provider subject: bound, read back, replaced; unknown users have none. */
static void test_sso_subject_binds_and_reads_back(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "olga");
    char subject[65];
    int64_t created = 0;
    assert_err(s->ops->sso_subject_get(s, "olga", subject, &created), ERR_NOT_FOUND);
    assert_err(s->ops->sso_subject_set(s, "olga", "subject-one", T0), ERR_OK);
    assert_err(s->ops->sso_subject_get(s, "olga", subject, &created), ERR_OK);
    assert_string_equal(subject, "subject-one");
    assert_int_equal(created, T0);
    assert_err(s->ops->sso_subject_set(s, "olga", "subject-two", T0 + 5), ERR_OK);
    assert_err(s->ops->sso_subject_get(s, "olga", subject, &created), ERR_OK);
    assert_string_equal(subject, "subject-two");
    assert_int_equal(created, T0 + 5);
}

static void test_session_create_spends_a_recovery_code_once(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    uint8_t codes[2][STORE_HASH_LEN];
    memset(codes[0], 0x11, STORE_HASH_LEN);
    memset(codes[1], 0x22, STORE_HASH_LEN);
    /* MFA off: no codes can be stored */
    assert_err(s->ops->user_recovery_replace(s, "alice", (const uint8_t(*)[STORE_HASH_LEN])codes, 2),
               ERR_CONFLICT);
    uint8_t pending[40];
    memset(pending, 0x48, sizeof pending);
    assert_err(s->ops->user_mfa_set_pending(s, "alice", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_mfa_enable(s, "alice", pending, sizeof pending, 10), ERR_OK);
    assert_err(s->ops->user_recovery_replace(s, "alice", (const uint8_t(*)[STORE_HASH_LEN])codes, 2),
               ERR_OK);
    assert_err(s->ops->user_recovery_has(s, "alice", codes[0]), ERR_OK);
    struct user_record u;
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK);
    struct session_record r1 = session_rec(1, "alice", T0), r2 = session_rec(2, "alice", T0);
    r1.recovery_used = r2.recovery_used = 1;
    memcpy(r1.recovery_hash, codes[0], STORE_HASH_LEN);
    memcpy(r2.recovery_hash, codes[0], STORE_HASH_LEN);
    assert_err(s->ops->session_create(s, &r1, 10, &u), ERR_OK);
    assert_err(s->ops->user_recovery_has(s, "alice", codes[0]), ERR_NOT_FOUND);
    assert_err(s->ops->session_create(s, &r2, 10, &u), ERR_CONFLICT); /* spent */
    struct session_record got;
    assert_err(s->ops->session_get(s, r2.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
    int64_t left = 0;
    assert_err(s->ops->user_recovery_count(s, "alice", &left), ERR_OK);
    assert_int_equal(left, 1);
    /* MFA off takes the rest with it */
    assert_err(s->ops->user_mfa_disable(s, "alice", pending, sizeof pending), ERR_OK);
    assert_err(s->ops->user_recovery_count(s, "alice", &left), ERR_OK);
    assert_int_equal(left, 0);
}

static void test_check_writable_on_a_fresh_store_changes_nothing(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    assert_err(s->ops->check_writable(s), ERR_OK);
    assert_err(s->ops->check_writable(s), ERR_OK);
    struct user_record u;
    assert_err(s->ops->user_get(s, "alice", &u), ERR_OK); /* still there, still usable */
    add_user(s, "bob");
}

static void test_session_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record r = session_rec(1, "alice", T0);
    struct session_record other = session_rec(2, "alice", T0);
    assert_err(s->ops->session_create(s, &r, 10, NULL), ERR_OK);
    struct session_record got;
    assert_err(s->ops->session_get(s, other.token_hash, T0 + 1, &got), ERR_NOT_FOUND);
}

static void test_session_get_after_expiry_is_not_found(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record r = session_rec(1, "alice", T0);
    r.expires_at = T0 + 100;
    assert_err(s->ops->session_create(s, &r, 10, NULL), ERR_OK);
    struct session_record got;
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 99, &got), ERR_OK);
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 101, &got), ERR_NOT_FOUND);
    assert_err(s->ops->session_get(s, r.token_hash, T0 + 50, &got), ERR_OK);
}

static void test_session_delete_removes_it(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record r1 = session_rec(1, "alice", T0);
    struct session_record r2 = session_rec(2, "alice", T0);
    assert_err(s->ops->session_create(s, &r1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &r2, 10, NULL), ERR_OK);
    assert_err(s->ops->session_delete(s, r1.token_hash), ERR_OK);
    assert_false(session_exists(s, &r1));
    assert_true(session_exists(s, &r2));
}

static void test_session_delete_user_keeps_one(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct session_record a1 = session_rec(1, "alice", T0);
    struct session_record a2 = session_rec(2, "alice", T0 + 1);
    struct session_record a3 = session_rec(3, "alice", T0 + 2);
    struct session_record b1 = session_rec(4, "bob", T0);
    assert_err(s->ops->session_create(s, &a1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a2, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a3, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &b1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_delete_user(s, "alice", a2.token_hash), ERR_OK);
    assert_false(session_exists(s, &a1));
    assert_true(session_exists(s, &a2));
    assert_false(session_exists(s, &a3));
    assert_true(session_exists(s, &b1));
}

static void test_session_delete_user_without_keep_ends_all(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct session_record a1 = session_rec(1, "alice", T0);
    struct session_record a2 = session_rec(2, "alice", T0 + 1);
    struct session_record b1 = session_rec(3, "bob", T0);
    assert_err(s->ops->session_create(s, &a1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a2, 10, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &b1, 10, NULL), ERR_OK);
    assert_err(s->ops->session_delete_user(s, "alice", NULL), ERR_OK);
    assert_false(session_exists(s, &a1));
    assert_false(session_exists(s, &a2));
    assert_true(session_exists(s, &b1));
}

static void test_session_create_past_max_drops_oldest(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    add_user(s, "bob");
    struct session_record b1 = session_rec(9, "bob", T0);
    struct session_record a1 = session_rec(1, "alice", T0 + 3);
    struct session_record a2 = session_rec(2, "alice", T0 + 1); /* the oldest */
    struct session_record a3 = session_rec(3, "alice", T0 + 2);
    assert_err(s->ops->session_create(s, &b1, 2, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a1, 2, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a2, 2, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a3, 2, NULL), ERR_OK);
    assert_true(session_exists(s, &a1));
    assert_false(session_exists(s, &a2));
    assert_true(session_exists(s, &a3));
    assert_true(session_exists(s, &b1)); /* other users keep theirs */
}

static void test_session_create_past_max_same_second_drops_first_created(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct session_record a1 = session_rec(1, "alice", T0);
    struct session_record a2 = session_rec(2, "alice", T0);
    struct session_record a3 = session_rec(3, "alice", T0);
    assert_err(s->ops->session_create(s, &a1, 2, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a2, 2, NULL), ERR_OK);
    assert_err(s->ops->session_create(s, &a3, 2, NULL), ERR_OK);
    assert_false(session_exists(s, &a1));
    assert_true(session_exists(s, &a2));
    assert_true(session_exists(s, &a3));
}

/* ---- audit ---- */

static void test_audit_query_returns_newest_first(void **state)
{
    struct store *s = store_of(state);
    add_audit(s, T0, "alice", "user.create", "e1");
    add_audit(s, T0, "alice", "user.create", "e2");
    add_audit(s, T0 - 5, "bob", "key.delete", "e3"); /* order is by append, not by `at` */
    struct audit_filter f = all_events(10);
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "e3,e2,e1");
    assert_true(l->num[0] > l->num[1]);
    assert_true(l->num[1] > l->num[2]);
    assert_true(l->num[2] > 0);
    free(l);
}

/* ---- audited sections: a change and its audit record in one transaction ---- */

static int count_events(struct store *s)
{
    struct audit_filter f = all_events(1000);
    struct list *l = events(s, &f);
    int n = (int)l->n;
    free(l);
    return n;
}

static void test_audited_section_commits_the_change_with_its_event(void **state)
{
    struct store *s = store_of(state);
    struct role_record r = role_rec("auditor", "view_audit");
    struct audit_record a = audit_rec(T0, "alice", "role.create", "auditor");
    assert_err(s->ops->audited_begin(s), ERR_OK);
    assert_err(s->ops->audited_end(s, s->ops->role_create(s, &r, BIG), &a), ERR_OK);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
    assert_int_equal(count_events(s), 1);
}

static void test_audited_section_with_an_error_keeps_nothing(void **state)
{
    struct store *s = store_of(state);
    add_user(s, "alice");
    struct role_record r = role_rec("auditor", "view_audit");
    struct key_record k = key_rec(1, "user", "alice", "k1", T0);
    struct audit_record a = audit_rec(T0, "alice", "role.create", "auditor");
    assert_err(s->ops->audited_begin(s), ERR_OK);
    assert_err(s->ops->role_create(s, &r, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_OK); /* a group-commit write, nested */
    assert_err(s->ops->audited_end(s, ERR_INVALID, &a), ERR_INVALID);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_NOT_FOUND);
    struct key_record kg;
    assert_err(s->ops->key_get(s, k.id, &kg), ERR_NOT_FOUND);
    assert_int_equal(count_events(s), 0);
    assert_err(s->ops->role_create(s, &r, BIG), ERR_OK); /* the store works on */
}

static void test_audited_section_survives_a_refused_operation_inside(void **state)
{
    struct store *s = store_of(state);
    struct role_record r = role_rec("auditor", "view_audit");
    struct role_record taken = role_rec("admin", "");
    struct audit_record a = audit_rec(T0, "alice", "role.create", "auditor");
    assert_err(s->ops->audited_begin(s), ERR_OK);
    /* refused inside its own savepoint: on PostgreSQL the transaction stays usable */
    assert_err(s->ops->role_create(s, &taken, BIG), ERR_CONFLICT);
    assert_err(s->ops->audited_end(s, s->ops->role_create(s, &r, BIG), &a), ERR_OK);
    struct role_record got;
    assert_err(s->ops->role_get(s, "auditor", &got), ERR_OK);
    assert_int_equal(count_events(s), 1);
}

struct audit_copy {
    int n;
    struct audit_record a;
};

static int audit_copy_cb(void *ctx, const struct audit_record *a)
{
    struct audit_copy *c = ctx;
    c->n++;
    c->a = *a;
    return 0;
}

static void test_audit_record_round_trips_every_field(void **state)
{
    struct store *s = store_of(state);
    struct audit_record a = audit_rec(T0 + 7, "alice", "group.update", "ops");
    snprintf(a.target_type, sizeof a.target_type, "group");
    snprintf(a.client, sizeof a.client, "2001:db8::1");
    snprintf(a.detail, sizeof a.detail, "members: +bob -carol ✓");
    a.id = 12345; /* set by the store, not by the caller */
    assert_err(s->ops->audit_append(s, &a), ERR_OK);
    struct audit_filter f = all_events(10);
    struct audit_copy c;
    memset(&c, 0, sizeof c);
    assert_err(s->ops->audit_query(s, &f, audit_copy_cb, &c), ERR_OK);
    assert_int_equal(c.n, 1);
    assert_true(c.a.id > 0);
    assert_int_equal(c.a.at, T0 + 7);
    assert_string_equal(c.a.actor, "alice");
    assert_string_equal(c.a.action, "group.update");
    assert_string_equal(c.a.target_type, "group");
    assert_string_equal(c.a.target, "ops");
    assert_string_equal(c.a.client, "2001:db8::1");
    assert_string_equal(c.a.detail, "members: +bob -carol ✓");
}

static void add_mixed_events(struct store *s)
{
    add_audit(s, T0 + 0, "alice", "user.create", "bob");
    add_audit(s, T0 + 10, "bob", "key.create", "ci");
    add_audit(s, T0 + 20, "alice", "key.create", "deploy");
    add_audit(s, T0 + 30, "carol", "user.delete", "bob");
    add_audit(s, T0 + 40, "alice", "user.delete", "dave");
}

static void test_audit_query_filters_by_actor(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(10);
    f.actor = "alice";
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "dave,deploy,bob");
    free(l);
}

static void test_audit_query_filters_by_target(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(10);
    f.target = "bob";
    struct list *l = events(s, &f);
    assert_int_equal(l->n, 2);
    assert_string_equal(list_str(l), "bob,bob");
    free(l);
}

static void test_audit_query_filters_by_action(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(10);
    f.action = "key.create";
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "deploy,ci");
    free(l);
}

static void test_audit_query_combines_filters(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(10);
    f.actor = "alice";
    f.action = "user.delete";
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "dave");
    free(l);
}

static void test_audit_query_since_and_until_are_inclusive(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(10);
    f.since = T0 + 10;
    f.until = T0 + 30;
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "bob,deploy,ci");
    free(l);
    f.since = T0 + 11;
    f.until = 0;
    l = events(s, &f);
    assert_string_equal(list_str(l), "dave,bob,deploy");
    free(l);
    f.since = 0;
    f.until = T0 + 10;
    l = events(s, &f);
    assert_string_equal(list_str(l), "ci,bob");
    free(l);
}

static void test_audit_query_pages_with_before_id(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(2);
    struct list *page = events(s, &f);
    assert_string_equal(list_str(page), "dave,bob");
    f.before_id = page->num[1];
    free(page);
    page = events(s, &f);
    assert_string_equal(list_str(page), "deploy,ci");
    f.before_id = page->num[1];
    free(page);
    page = events(s, &f);
    assert_string_equal(list_str(page), "bob");
    f.before_id = page->num[0];
    free(page);
    page = events(s, &f);
    assert_int_equal(page->n, 0);
    free(page);
}

static void test_audit_query_before_id_with_filter(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(1);
    f.actor = "alice";
    struct list *page = events(s, &f);
    assert_string_equal(list_str(page), "dave");
    f.before_id = page->num[0];
    free(page);
    page = events(s, &f);
    assert_string_equal(list_str(page), "deploy");
    free(page);
}

static void test_audit_query_stops_at_limit(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f = all_events(3);
    struct list *l = events(s, &f);
    assert_string_equal(list_str(l), "dave,bob,deploy");
    free(l);
}

static void test_audit_query_null_filters_match_everything(void **state)
{
    struct store *s = store_of(state);
    add_mixed_events(s);
    struct audit_filter f;
    memset(&f, 0, sizeof f); /* NULL strings */
    f.limit = 10;
    struct list *l = events(s, &f);
    assert_int_equal(l->n, 5);
    free(l);
}

/* ---- projects ---- */

static void test_project_create_top_level_then_get(void **state)
{
    struct store *s = store_of(state);
    struct project_record p = project_rec(P1, "Alpha", "");
    p.created_at = T0 + 3;
    assert_err(s->ops->project_create(s, &p, BIG), ERR_OK);
    struct project_record got;
    memset(&got, 0x55, sizeof got);
    assert_err(s->ops->project_get(s, P1, &got), ERR_OK);
    assert_string_equal(got.id, P1);
    assert_string_equal(got.name, "Alpha");
    assert_string_equal(got.parent, "");
    assert_string_equal(got.created_by, "alice");
    assert_int_equal(got.created_at, T0 + 3);
}

static void test_project_create_child_records_parent(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", P1);
    struct project_record got;
    assert_err(s->ops->project_get(s, P2, &got), ERR_OK);
    assert_string_equal(got.parent, P1);
    assert_string_equal(got.name, "Beta");
}

static void test_project_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct project_record got;
    assert_err(s->ops->project_get(s, P4, &got), ERR_NOT_FOUND);
}

static void test_project_duplicate_top_level_name_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    struct project_record p = project_rec(P2, "Alpha", "");
    assert_err(s->ops->project_create(s, &p, BIG), ERR_CONFLICT);
    struct project_record got;
    assert_err(s->ops->project_get(s, P2, &got), ERR_NOT_FOUND);
}

static void test_project_duplicate_child_name_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Child", P1);
    struct project_record p = project_rec(P3, "Child", P1);
    assert_err(s->ops->project_create(s, &p, BIG), ERR_CONFLICT);
}

static void test_project_same_name_under_different_parents_is_ok(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    add_project(s, P3, "Shared", P1);
    add_project(s, P4, "Shared", P2);
    struct project_record top = project_rec("p00000000000000000000005", "Shared", "");
    assert_err(s->ops->project_create(s, &top, BIG), ERR_OK);
}

static void test_project_create_unknown_parent_is_invalid(void **state)
{
    struct store *s = store_of(state);
    struct project_record p = project_rec(P2, "Orphan", P1);
    assert_err(s->ops->project_create(s, &p, BIG), ERR_INVALID);
    struct project_record got;
    assert_err(s->ops->project_get(s, P2, &got), ERR_NOT_FOUND);
}

static void test_project_create_past_max_of_its_creator_is_limit(void **state)
{
    struct store *s = store_of(state);
    struct project_record p1 = project_rec(P1, "Alpha", "");
    struct project_record p2 = project_rec(P2, "Beta", P1);
    struct project_record p3 = project_rec(P3, "Gamma", "");
    assert_err(s->ops->project_create(s, &p1, 2), ERR_OK);
    assert_err(s->ops->project_create(s, &p2, 2), ERR_OK);
    assert_err(s->ops->project_create(s, &p3, 2), ERR_LIMIT);
    struct project_record got;
    assert_err(s->ops->project_get(s, P3, &got), ERR_NOT_FOUND);
    snprintf(p3.created_by, sizeof p3.created_by, "bob"); /* a count per creator */
    assert_err(s->ops->project_create(s, &p3, 2), ERR_OK);
}

static void test_account_create_past_max_of_its_project_is_limit(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    struct account_record a1 = account_rec(A1, "one", P1);
    struct account_record a2 = account_rec(A2, "two", P1);
    assert_err(s->ops->account_create(s, &a1, "reader", 1), ERR_OK);
    assert_err(s->ops->account_create(s, &a2, "reader", 1), ERR_LIMIT);
    struct account_record got;
    assert_err(s->ops->account_get(s, A2, &got), ERR_NOT_FOUND);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_str(l), P1 "|service-account:" A1 "|reader");
    free(l);
    snprintf(a2.project, sizeof a2.project, "%s", P2); /* a count per project */
    assert_err(s->ops->account_create(s, &a2, "reader", 1), ERR_OK);
}

static void test_account_create_past_max_site_wide_is_limit(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    struct account_record in_project = account_rec(A1, "one", P1);
    struct account_record site1 = account_rec(A2, "two", "");
    struct account_record site2 = account_rec(A3, "three", "");
    assert_err(s->ops->account_create(s, &in_project, "reader", 1), ERR_OK);
    assert_err(s->ops->account_create(s, &site1, "reader", 1), ERR_OK);
    assert_err(s->ops->account_create(s, &site2, "reader", 1), ERR_LIMIT);
    struct account_record got;
    assert_err(s->ops->account_get(s, A3, &got), ERR_NOT_FOUND);
}

static void test_project_each_lists_every_project(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", P1);
    add_project(s, P3, "Gamma", "");
    struct list *l = list_new();
    assert_err(s->ops->project_each(s, project_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "Alpha,Beta,Gamma");
    free(l);
}

static void test_project_delete_with_children_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Child", P1);
    assert_err(s->ops->project_delete(s, P1), ERR_CONFLICT);
    struct project_record got;
    assert_err(s->ops->project_get(s, P1, &got), ERR_OK);
    assert_err(s->ops->project_delete(s, P2), ERR_OK);
    assert_err(s->ops->project_delete(s, P1), ERR_OK);
    assert_err(s->ops->project_get(s, P1, &got), ERR_NOT_FOUND);
}

static void test_project_delete_with_account_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_account(s, A1, "robot", P1);
    assert_err(s->ops->project_delete(s, P1), ERR_CONFLICT);
    struct project_record got;
    assert_err(s->ops->project_get(s, P1, &got), ERR_OK);
}

static void test_project_delete_removes_memberships(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P2, "user:alice", "reader", BIG), ERR_OK);
    assert_err(s->ops->project_delete(s, P1), ERR_OK);
    struct list *l = members_of(s, NULL);
    assert_string_equal(list_str(l), P2 "|user:alice|reader");
    free(l);
}

static void test_project_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->project_delete(s, P4), ERR_NOT_FOUND);
}

/* ---- memberships ---- */

static void test_member_put_adds_membership(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "service-account:" A1, "reader", BIG), ERR_OK);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_sorted(l),
                        P1 "|service-account:" A1 "|reader," P1 "|user:alice|owner");
    free(l);
}

static void test_member_put_changes_role(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:alice", "contributor", BIG), ERR_OK);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_str(l), P1 "|user:alice|contributor");
    free(l);
}

static void test_member_put_past_max_is_limit(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", 2), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:bob", "reader", 2), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:carol", "reader", 2), ERR_LIMIT);
    assert_err(s->ops->member_put(s, P2, "user:carol", "reader", 2), ERR_OK); /* per project */
    struct list *l = members_of(s, P1);
    assert_string_equal(list_sorted(l), P1 "|user:alice|owner," P1 "|user:bob|reader");
    free(l);
}

static void test_member_put_change_at_max_is_ok(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", 2), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:bob", "reader", 2), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:bob", "owner", 2), ERR_OK);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_sorted(l), P1 "|user:alice|owner," P1 "|user:bob|owner");
    free(l);
}

static void test_member_delete_removes_it(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P1, "user:bob", "reader", BIG), ERR_OK);
    assert_err(s->ops->member_delete(s, P1, "user:alice"), ERR_OK);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_str(l), P1 "|user:bob|reader");
    free(l);
}

static void test_member_each_all_walks_every_project(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", P1);
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P2, "user:bob", "reader", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P2, "user:alice", "contributor", BIG), ERR_OK);
    struct list *l = members_of(s, NULL);
    assert_string_equal(list_sorted(l), P1 "|user:alice|owner," P2 "|user:alice|contributor," P2
                                        "|user:bob|reader");
    free(l);
}

static void test_member_each_by_project_lists_only_it(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    assert_err(s->ops->member_put(s, P1, "user:alice", "owner", BIG), ERR_OK);
    assert_err(s->ops->member_put(s, P2, "user:bob", "reader", BIG), ERR_OK);
    struct list *l = members_of(s, P2);
    assert_string_equal(list_str(l), P2 "|user:bob|reader");
    free(l);
    l = members_of(s, P3);
    assert_int_equal(l->n, 0);
    free(l);
}

/* ---- API accounts ---- */

static void test_account_create_site_wide_then_get(void **state)
{
    struct store *s = store_of(state);
    struct account_record a = account_rec(A1, "robot", "");
    a.created_at = T0 + 4;
    a.disabled = 1; /* create stores an enabled account */
    assert_err(s->ops->account_create(s, &a, "contributor", BIG), ERR_OK);
    struct account_record got;
    memset(&got, 0x55, sizeof got);
    assert_err(s->ops->account_get(s, A1, &got), ERR_OK);
    assert_string_equal(got.id, A1);
    assert_string_equal(got.name, "robot");
    assert_string_equal(got.description, "Account robot");
    assert_string_equal(got.project, "");
    assert_string_equal(got.created_by, "alice");
    assert_int_equal(got.created_at, T0 + 4);
    assert_int_equal(got.disabled, 0);
    struct list *l = members_of(s, NULL);
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_account_get_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct account_record got;
    assert_err(s->ops->account_get(s, A2, &got), ERR_NOT_FOUND);
}

static void test_account_create_in_project_adds_membership(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    struct account_record a = account_rec(A1, "robot", P1);
    assert_err(s->ops->account_create(s, &a, "reader", BIG), ERR_OK);
    struct account_record got;
    assert_err(s->ops->account_get(s, A1, &got), ERR_OK);
    assert_string_equal(got.project, P1);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_str(l), P1 "|service-account:" A1 "|reader");
    free(l);
}

static void test_account_create_duplicate_name_in_project_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_account(s, A1, "robot", P1);
    struct account_record a = account_rec(A2, "robot", P1);
    assert_err(s->ops->account_create(s, &a, "owner", BIG), ERR_CONFLICT);
    struct account_record got;
    assert_err(s->ops->account_get(s, A2, &got), ERR_NOT_FOUND);
    struct list *l = members_of(s, P1);
    assert_string_equal(list_str(l), P1 "|service-account:" A1 "|contributor");
    free(l);
}

static void test_account_create_duplicate_site_wide_name_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_account(s, A1, "robot", "");
    struct account_record a = account_rec(A2, "robot", "");
    assert_err(s->ops->account_create(s, &a, "owner", BIG), ERR_CONFLICT);
}

static void test_account_create_same_name_in_other_project_is_ok(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    add_account(s, A1, "robot", P1);
    add_account(s, A2, "robot", P2);
    add_account(s, "a00000000000000000000003", "robot", "");
    struct list *l = list_new();
    assert_err(s->ops->account_each(s, account_cb, l), ERR_OK);
    assert_string_equal(list_str(l), "robot,robot,robot");
    free(l);
}

static void test_account_each_lists_every_account(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_account(s, A1, "robot", P1);
    add_account(s, A2, "mailer", "");
    struct list *l = list_new();
    assert_err(s->ops->account_each(s, account_cb, l), ERR_OK);
    assert_string_equal(list_sorted(l), "mailer,robot");
    free(l);
}

static void test_account_update_changes_name_description_disabled(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_account(s, A1, "robot", P1);
    struct account_record a = account_rec(A1, "android", "");
    snprintf(a.description, sizeof a.description, "Changed");
    snprintf(a.created_by, sizeof a.created_by, "mallory");
    a.created_at = T0 + 99;
    a.disabled = 1;
    assert_err(s->ops->account_update(s, &a), ERR_OK);
    struct account_record got;
    assert_err(s->ops->account_get(s, A1, &got), ERR_OK);
    assert_string_equal(got.name, "android");
    assert_string_equal(got.description, "Changed");
    assert_int_equal(got.disabled, 1);
    assert_string_equal(got.project, P1);
    assert_string_equal(got.created_by, "alice");
    assert_int_equal(got.created_at, T0);
}

static void test_account_update_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    struct account_record a = account_rec(A2, "robot", "");
    assert_err(s->ops->account_update(s, &a), ERR_NOT_FOUND);
}

static void test_account_update_to_taken_name_is_conflict(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_account(s, A1, "robot", P1);
    add_account(s, A2, "mailer", P1);
    struct account_record a = account_rec(A2, "robot", P1);
    assert_err(s->ops->account_update(s, &a), ERR_CONFLICT);
    struct account_record got;
    assert_err(s->ops->account_get(s, A2, &got), ERR_OK);
    assert_string_equal(got.name, "mailer");
}

static void test_account_delete_removes_keys_and_memberships(void **state)
{
    struct store *s = store_of(state);
    add_project(s, P1, "Alpha", "");
    add_project(s, P2, "Beta", "");
    add_account(s, A1, "robot", P1);
    add_account(s, A2, "mailer", P1);
    assert_err(s->ops->member_put(s, P2, "service-account:" A1, "reader", BIG), ERR_OK);
    struct key_record k1 = key_rec(1, "service-account", A1, "ci", T0);
    struct key_record k2 = key_rec(2, "service-account", A2, "ci", T0);
    assert_err(s->ops->key_create(s, &k1, BIG), ERR_OK);
    assert_err(s->ops->key_create(s, &k2, BIG), ERR_OK);
    struct list *gone = list_new();
    assert_err(s->ops->account_delete(s, A1, deleted_key_cb, gone), ERR_OK);
    assert_string_equal(list_sorted(gone), "ci=service-account:" A1);
    free(gone);
    struct account_record got;
    assert_err(s->ops->account_get(s, A1, &got), ERR_NOT_FOUND);
    struct key_record k;
    assert_err(s->ops->key_get(s, k1.id, &k), ERR_NOT_FOUND);
    assert_err(s->ops->key_get(s, k2.id, &k), ERR_OK);
    struct list *l = members_of(s, NULL);
    assert_string_equal(list_str(l), P1 "|service-account:" A2 "|contributor");
    free(l);
    assert_err(s->ops->project_delete(s, P2), ERR_OK);
}

static void test_account_delete_unknown_is_not_found(void **state)
{
    struct store *s = store_of(state);
    assert_err(s->ops->account_delete(s, A2, NULL, NULL), ERR_NOT_FOUND);
}

static void test_key_create_for_disabled_account_is_refused(void **state)
{
    struct store *s = store_of(state);
    add_account(s, A1, "robot", "");
    struct account_record a = account_rec(A1, "robot", "");
    a.disabled = 1;
    assert_err(s->ops->account_update(s, &a), ERR_OK);
    struct key_record k = key_rec(1, "service-account", A1, "ci", T0);
    assert_err(s->ops->key_create(s, &k, BIG), ERR_FORBIDDEN);
}

/* ---- the list, run once per backend ---- */

#define STORE_TESTS(X)                                                                             \
    X(test_user_create_then_get_returns_every_field)                                               \
    X(test_user_mfa_secret_of_full_size_round_trips)                                               \
    X(test_user_get_unknown_is_not_found)                                                          \
    X(test_user_create_duplicate_is_conflict)                                                      \
    X(test_user_create_past_max_is_limit)                                                          \
    X(test_user_create_unknown_role_is_invalid)                                                    \
    X(test_user_create_unknown_environment_is_invalid)                                             \
    X(test_user_create_in_other_environment_round_trips)                                           \
    X(test_user_count_counts_users)                                                                \
    X(test_user_each_visits_every_user)                                                            \
    X(test_user_each_stops_when_callback_returns_nonzero)                                          \
    X(test_user_admin_change_writes_only_the_members_it_sets)                                      \
    X(test_user_admin_change_writes_every_member_set)                                              \
    X(test_user_admin_change_unknown_is_not_found)                                                 \
    X(test_user_admin_change_unknown_role_is_invalid_and_keeps_everything)                         \
    X(test_user_admin_change_unknown_environment_is_invalid)                                       \
    X(test_user_admin_change_replaces_roles)                                                       \
    X(test_user_admin_change_moving_environment_leaves_old_groups)                                 \
    X(test_user_admin_change_keeps_the_last_enabled_admin)                                         \
    X(test_user_delete_with_keep_role_refuses_the_last_admin)                                      \
    X(test_user_admin_change_two_admins_disabling_each_other_leave_one)                            \
    X(test_user_set_profile_writes_only_name_and_email)                                            \
    X(test_user_set_profile_unknown_is_not_found)                                                  \
    X(test_user_set_password_writes_only_the_hash)                                                 \
    X(test_user_set_password_with_expect_refuses_a_changed_hash)                                   \
    X(test_user_set_password_unknown_is_not_found)                                                 \
    X(test_user_mfa_set_pending_writes_only_pending)                                               \
    X(test_user_mfa_set_pending_while_enabled_is_conflict)                                         \
    X(test_user_mfa_enable_turns_pending_into_secret_with_its_step)                                \
    X(test_user_mfa_enable_keeps_a_later_stored_step)                                              \
    X(test_user_mfa_enable_refuses_another_pending_secret)                                         \
    X(test_user_mfa_disable_clears_only_mfa)                                                       \
    X(test_user_writes_of_others_survive_looping_profile_writes)                                   \
    X(test_user_delete_removes_user)                                                               \
    X(test_user_delete_unknown_is_not_found)                                                       \
    X(test_user_delete_removes_their_keys)                                                         \
    X(test_user_delete_removes_their_sessions)                                                     \
    X(test_user_delete_removes_group_memberships)                                                  \
    X(test_user_delete_removes_project_memberships)                                                \
    X(test_user_delete_then_recreate_starts_without_roles_of_groups)                               \
    X(test_user_mfa_advance_accepts_later_step)                                                    \
    X(test_user_mfa_advance_refuses_same_step)                                                     \
    X(test_user_mfa_advance_refuses_earlier_step)                                                  \
    X(test_user_roles_each_includes_group_roles_once)                                              \
    X(test_user_roles_each_returns_role_records)                                                   \
    X(test_user_groups_each_lists_groups_of_user)                                                  \
    X(test_role_holders_counts_direct_and_group_holders_once)                                      \
    X(test_role_holders_skips_disabled_users)                                                      \
    X(test_role_holders_each_lists_direct_group_and_disabled_holders_once)                         \
    X(test_role_builtin_admin_and_user_exist)                                                      \
    X(test_role_get_unknown_is_not_found)                                                          \
    X(test_role_create_then_get)                                                                   \
    X(test_role_create_duplicate_is_conflict)                                                      \
    X(test_role_create_past_max_is_limit)                                                          \
    X(test_role_update_changes_description_and_authorities)                                        \
    X(test_role_update_unknown_is_not_found)                                                       \
    X(test_role_delete_unused_removes_it)                                                          \
    X(test_role_delete_unknown_is_not_found)                                                       \
    X(test_role_delete_held_by_user_is_conflict)                                                   \
    X(test_role_delete_held_by_group_is_conflict)                                                  \
    X(test_role_delete_after_holder_left_succeeds)                                                 \
    X(test_group_create_with_members_and_roles)                                                    \
    X(test_group_create_in_other_environment_with_its_members)                                     \
    X(test_group_create_member_of_other_environment_is_invalid)                                    \
    X(test_group_create_unknown_member_is_invalid)                                                 \
    X(test_group_create_unknown_role_is_invalid)                                                   \
    X(test_group_create_unknown_environment_is_invalid)                                            \
    X(test_group_create_duplicate_is_conflict)                                                     \
    X(test_group_create_past_max_is_limit)                                                         \
    X(test_group_get_unknown_is_not_found)                                                         \
    X(test_group_update_replaces_members_and_roles)                                                \
    X(test_group_update_refused_keeps_old_lists)                                                   \
    X(test_group_update_unknown_is_not_found)                                                      \
    X(test_group_delete_removes_group_and_memberships)                                             \
    X(test_group_delete_unknown_is_not_found)                                                      \
    X(test_group_each_lists_every_group)                                                           \
    X(test_environment_root_exists)                                                                \
    X(test_environment_create_then_get)                                                            \
    X(test_environment_get_unknown_is_not_found)                                                   \
    X(test_environment_create_duplicate_is_conflict)                                               \
    X(test_environment_create_past_max_is_limit)                                                   \
    X(test_environment_delete_unused_removes_it)                                                   \
    X(test_environment_delete_unknown_is_not_found)                                                \
    X(test_environment_delete_with_user_is_conflict)                                               \
    X(test_environment_delete_with_group_is_conflict)                                              \
    X(test_environment_delete_root_in_use_is_conflict)                                             \
    X(test_scope_defaults_are_nine_in_order)                                                       \
    X(test_scope_create_appends_in_creation_order)                                                 \
    X(test_scope_create_duplicate_is_conflict)                                                     \
    X(test_scope_create_past_max_is_limit)                                                         \
    X(test_key_create_then_get_round_trips)                                                        \
    X(test_key_hash_with_zero_bytes_round_trips)                                                   \
    X(test_key_without_description_round_trips_as_absent)                                          \
    X(test_key_get_by_hash_finds_that_key_only)                                                    \
    X(test_key_get_unknown_is_not_found)                                                           \
    X(test_key_create_same_name_same_owner_is_conflict)                                            \
    X(test_key_create_same_name_other_owner_is_ok)                                                 \
    X(test_key_create_same_hash_is_conflict)                                                       \
    X(test_key_create_at_max_per_owner_is_limit)                                                   \
    X(test_key_limit_counts_deletes_and_not_refusals)                                             \
    X(test_key_create_with_max_zero_is_limit)                                                      \
    X(test_key_longest_fields_round_trip)                                                          \
    X(test_key_extreme_times_round_trip)                                                           \
    X(test_key_create_after_delete_below_max_is_ok)                                                \
    X(test_key_create_for_missing_user_is_forbidden)                                               \
    X(test_key_create_for_disabled_user_is_forbidden)                                              \
    X(test_key_create_for_account_round_trips)                                                     \
    X(test_key_create_for_disabled_account_is_refused)                                             \
    X(test_key_survives_reopen)                                                                    \
    X(test_key_update_changes_name_and_description_only)                                           \
    X(test_key_update_can_remove_description)                                                      \
    X(test_key_update_unknown_is_not_found)                                                        \
    X(test_key_update_to_name_owner_uses_is_conflict)                                              \
    X(test_key_delete_removes_it)                                                                  \
    X(test_key_delete_unknown_is_not_found)                                                        \
    X(test_key_each_by_owner_newest_first)                                                         \
    X(test_key_each_by_owner_same_second_latest_insert_first)                                      \
    X(test_key_each_by_owner_skips_other_owners)                                                   \
    X(test_key_each_all_newest_first)                                                              \
    X(test_key_each_for_index_leaves_name_and_description_empty)                                   \
    X(test_key_each_for_index_visits_every_key)                                                    \
    X(test_key_touch_moves_last_used_forward)                                                      \
    X(test_key_touch_never_moves_backwards)                                                        \
    X(test_key_touch_skips_unknown_hashes)                                                         \
    X(test_key_create_audited_appends_audit_record)                                                \
    X(test_key_create_audited_refused_appends_nothing)                                             \
    X(test_key_create_from_threads_stores_every_key)                                               \
    X(test_key_create_from_threads_respects_max_per_owner)                                         \
    X(test_key_rotate_marks_the_old_key_and_inserts_the_new_one_with_its_event)                    \
    X(test_key_rotate_never_lengthens_the_old_key)                                                 \
    X(test_key_rotate_refusals_store_nothing)                                                      \
    X(test_key_name_is_unique_among_keys_not_rotated_out)                                          \
    X(test_key_family_revoke_deletes_only_the_live_keys_of_the_family)                             \
    X(test_key_prune_rotated_out_deletes_only_rotated_out_keys_past_the_cutoff)                    \
    X(test_key_prune_rotated_out_takes_at_most_limit_oldest_first)                                 \
    X(test_retention_prune_finished_notices_of_old_keys_and_old_finished_leak_mail)                \
    X(test_session_create_with_checked_user_needs_it_unchanged)                                   \
    X(test_session_create_then_get)                                                                \
    X(test_session_get_unknown_is_not_found)                                                       \
    X(test_check_writable_on_a_fresh_store_changes_nothing)                                       \
    X(test_session_touch_moves_last_seen_forward_only)                                            \
    X(test_session_create_claims_the_totp_step_only_with_the_session)                             \
    X(test_session_create_spends_a_recovery_code_once)                                           \
    X(test_sso_nonce_is_claimed_once_until_it_expires)                                           \
    X(test_sso_subject_binds_and_reads_back)                                                     \
    X(test_session_get_after_expiry_is_not_found)                                                  \
    X(test_session_delete_removes_it)                                                              \
    X(test_session_delete_user_keeps_one)                                                          \
    X(test_session_delete_user_without_keep_ends_all)                                              \
    X(test_session_create_past_max_drops_oldest)                                                   \
    X(test_session_create_past_max_same_second_drops_first_created)                                \
    X(test_audit_query_returns_newest_first)                                                       \
    X(test_audited_section_commits_the_change_with_its_event)                                      \
    X(test_audited_section_with_an_error_keeps_nothing)                                            \
    X(test_audited_section_survives_a_refused_operation_inside)                                    \
    X(test_audit_record_round_trips_every_field)                                                   \
    X(test_audit_query_filters_by_actor)                                                           \
    X(test_audit_query_filters_by_target)                                                          \
    X(test_audit_query_filters_by_action)                                                          \
    X(test_audit_query_combines_filters)                                                           \
    X(test_audit_query_since_and_until_are_inclusive)                                              \
    X(test_audit_query_pages_with_before_id)                                                       \
    X(test_audit_query_before_id_with_filter)                                                      \
    X(test_audit_query_stops_at_limit)                                                             \
    X(test_audit_query_null_filters_match_everything)                                              \
    X(test_project_create_top_level_then_get)                                                      \
    X(test_project_create_child_records_parent)                                                    \
    X(test_project_get_unknown_is_not_found)                                                       \
    X(test_project_duplicate_top_level_name_is_conflict)                                           \
    X(test_project_duplicate_child_name_is_conflict)                                               \
    X(test_project_same_name_under_different_parents_is_ok)                                        \
    X(test_project_create_unknown_parent_is_invalid)                                               \
    X(test_project_create_past_max_of_its_creator_is_limit)                                        \
    X(test_account_create_past_max_of_its_project_is_limit)                                        \
    X(test_account_create_past_max_site_wide_is_limit)                                             \
    X(test_project_each_lists_every_project)                                                       \
    X(test_project_delete_with_children_is_conflict)                                               \
    X(test_project_delete_with_account_is_conflict)                                                \
    X(test_project_delete_removes_memberships)                                                     \
    X(test_project_delete_unknown_is_not_found)                                                    \
    X(test_member_put_adds_membership)                                                             \
    X(test_member_put_changes_role)                                                                \
    X(test_member_put_past_max_is_limit)                                                           \
    X(test_member_put_change_at_max_is_ok)                                                         \
    X(test_member_delete_removes_it)                                                               \
    X(test_member_each_all_walks_every_project)                                                    \
    X(test_member_each_by_project_lists_only_it)                                                   \
    X(test_account_create_site_wide_then_get)                                                      \
    X(test_account_get_unknown_is_not_found)                                                       \
    X(test_account_create_in_project_adds_membership)                                              \
    X(test_account_create_duplicate_name_in_project_is_conflict)                                   \
    X(test_account_create_duplicate_site_wide_name_is_conflict)                                    \
    X(test_account_create_same_name_in_other_project_is_ok)                                        \
    X(test_account_each_lists_every_account)                                                       \
    X(test_account_update_changes_name_description_disabled)                                       \
    X(test_account_update_unknown_is_not_found)                                                    \
    X(test_account_update_to_taken_name_is_conflict)                                               \
    X(test_account_delete_removes_keys_and_memberships)                                            \
    X(test_account_delete_unknown_is_not_found)

#define ON_SQLITE(fn) cmocka_unit_test_setup_teardown(fn, sqlite_setup, sqlite_teardown),
#define ON_PG(fn) cmocka_unit_test_setup_teardown(fn, pg_setup, pg_teardown),

int run_store_tests(void)
{
    static const struct CMUnitTest sqlite_tests[] = {STORE_TESTS(ON_SQLITE)};
    static const struct CMUnitTest pg_tests[] = {STORE_TESTS(ON_PG)};
    /* cmocka's output does not name the group, and both groups hold the same test names */
    printf("[ GROUP    ] store-sqlite\n");
    fflush(stdout);
    int failed = cmocka_run_group_tests_name("store-sqlite", sqlite_tests, NULL, NULL);
    const char *url = getenv(PG_URL_ENV);
    if (!url || !*url) {
        printf("[  SKIPPED ] store-postgresql: %s is not set\n", PG_URL_ENV);
        fflush(stdout);
        return failed;
    }
    printf("[ GROUP    ] store-postgresql\n");
    fflush(stdout);
    return failed + cmocka_run_group_tests_name("store-postgresql", pg_tests, pg_group_setup,
                                                pg_group_teardown);
}

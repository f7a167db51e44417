/* test_openapi.c — the OpenAPI document served at /openapi.json (web/openapi.json, compiled
 * in) against the code: every route of the router table is an operation of the document and
 * every operation a route (method and path template), each with the security the table
 * gives it (public or not, the scope a key needs, which keys it admits, CSRF on writes), and
 * the problem types are exactly those of the error table (src/base/err.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../src/api/assets.h"
#include "../../src/api/router.h"
#include "../../src/base/err.h"
#include "unit.h"

static json_t *load_document(void)
{
    const struct asset *a = assets_find("/openapi.json");
    assert_non_null(a);
    assert_string_equal(a->content_type, "application/json");
    json_error_t error;
    json_t *doc = json_loadb((const char *)a->data, a->len, JSON_REJECT_DUPLICATES, &error);
    if (!doc)
        fail_msg("web/openapi.json line %d: %s", error.line, error.text);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    return doc;
}

/* The document's path template with each {name} written as the table's "{}". */
static void to_pattern(const char *path, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = path; *p && n + 3 < cap; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            assert_non_null(end);
            out[n++] = '{';
            out[n++] = '}';
            p = end;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* The operation for method and pattern ("{}" segments), or NULL. */
static json_t *find_operation(json_t *doc, const char *method, const char *pattern)
{
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        char pat[256];
        to_pattern(path, pat, sizeof pat);
        if (strcmp(pat, pattern) != 0)
            continue;
        char lower[16];
        size_t i = 0;
        for (; method[i] && i + 1 < sizeof lower; i++)
            lower[i] = (char)(method[i] | 0x20);
        lower[i] = '\0';
        return json_object_get(item, lower);
    }
    return NULL;
}

static int is_route(const char *method, const char *pattern)
{
    struct route_info r;
    for (size_t i = 0; router_route_info(i, &r) == 0; i++)
        if (strcasecmp(r.method, method) == 0 && strcmp(r.pattern, pattern) == 0)
            return 1;
    return 0;
}

/* Every route of the table is in the document. */
static void test_every_route_is_documented(void **state)
{
    (void)state;
    json_t *doc = load_document();
    struct route_info r;
    int missing = 0;
    for (size_t i = 0; router_route_info(i, &r) == 0; i++) {
        if (!find_operation(doc, r.method, r.pattern)) {
            fprintf(stderr, "web/openapi.json lacks the route %s %s (src/api/router.c)\n",
                    r.method, r.pattern);
            missing++;
        }
    }
    json_decref(doc);
    assert_int_equal(missing, 0);
}

/* Every operation of the document is a route of the table. */
static void test_every_operation_is_a_route(void **state)
{
    (void)state;
    json_t *doc = load_document();
    const char *path, *method;
    json_t *item, *op;
    int extra = 0, count = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, method, op) {
            static const char *const verbs[] = {"get", "put", "post", "delete", "options",
                                                "head", "patch", "trace", NULL};
            int verb = 0;
            for (int i = 0; verbs[i]; i++)
                verb |= strcmp(method, verbs[i]) == 0;
            if (!verb)
                continue; /* parameters, summary, ... */
            char pat[256];
            to_pattern(path, pat, sizeof pat);
            count++;
            if (!is_route(method, pat)) {
                fprintf(stderr, "web/openapi.json has %s %s, which src/api/router.c lacks\n",
                        method, path);
                extra++;
            }
        }
    }
    json_decref(doc);
    assert_int_equal(extra, 0);
    assert_int_equal((size_t)count, router_route_count());
}

/* The names of the schemes in one security requirement, sorted, joined by "+". */
static void requirement_names(json_t *req, char *out, size_t cap)
{
    const char *names[8];
    size_t n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(req, name, v) {
        if (n < 8)
            names[n++] = name;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                const char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "+" : "", names[i]);
}

/* Public routes have `security: []`; the others a key (Bearer or X-API-Key, with the table's
 * scope) or the session cookie, plus X-CSRF-Token on writes; x-key-scope and x-key-callers
 * say what the table says. */
static void test_security_matches_the_table(void **state)
{
    (void)state;
    json_t *doc = load_document();
    struct route_info r;
    for (size_t i = 0; router_route_info(i, &r) == 0; i++) {
        json_t *op = find_operation(doc, r.method, r.pattern);
        assert_non_null(op);
        json_t *sec = json_object_get(op, "security");
        if (!json_is_array(sec))
            fail_msg("%s %s: no security list", r.method, r.pattern);
        if (!r.authenticated) {
            if (json_array_size(sec) != 0)
                fail_msg("%s %s is public: security must be []", r.method, r.pattern);
            continue;
        }
        int write = strcmp(r.method, "GET") != 0;
        const char *want_session = write ? "csrfToken+session" : "session";
        int bearer = 0, header = 0, session = 0;
        size_t k;
        json_t *req;
        json_array_foreach(sec, k, req) {
            char names[128];
            requirement_names(req, names, sizeof names);
            if (strcmp(names, "bearerKey") == 0 || strcmp(names, "apiKeyHeader") == 0) {
                json_t *scopes = json_object_get(req, names);
                size_t want = r.key_scope ? 1 : 0;
                if (json_array_size(scopes) != want ||
                    (want && strcmp(json_string_value(json_array_get(scopes, 0)), r.key_scope)))
                    fail_msg("%s %s: %s must name the scope %s", r.method, r.pattern, names,
                             r.key_scope ? r.key_scope : "(none)");
                bearer |= names[0] == 'b';
                header |= names[0] == 'a';
            } else if (strcmp(names, want_session) == 0) {
                session = 1;
            } else {
                fail_msg("%s %s: unexpected security requirement %s", r.method, r.pattern,
                         names);
            }
        }
        if (!bearer || !header || !session)
            fail_msg("%s %s: needs bearerKey, apiKeyHeader and %s", r.method, r.pattern,
                     want_session);
        json_t *scope = json_object_get(op, "x-key-scope");
        if (r.key_scope ? !json_is_string(scope) || strcmp(json_string_value(scope), r.key_scope)
                        : !json_is_null(scope))
            fail_msg("%s %s: x-key-scope must be %s", r.method, r.pattern,
                     r.key_scope ? r.key_scope : "null");
        const char *callers = json_string_value(json_object_get(op, "x-key-callers"));
        if (!callers || strcmp(callers, r.key_callers) != 0)
            fail_msg("%s %s: x-key-callers must be %s", r.method, r.pattern, r.key_callers);
    }
    json_decref(doc);
}

/* ProblemType lists exactly the slugs of the error table. */
static void test_problem_types_are_the_error_table(void **state)
{
    (void)state;
    json_t *doc = load_document();
    json_t *types = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                        "ProblemType"),
        "enum");
    assert_true(json_is_array(types));
    size_t distinct = 0;
    for (int e = 1; e < ERR__COUNT; e++) {
        char want[96];
        snprintf(want, sizeof want, "urn:apikeyd:problem:%s", err_slug((enum err)e));
        int found = 0, earlier = 0;
        size_t i;
        json_t *t;
        json_array_foreach(types, i, t) found |= strcmp(json_string_value(t), want) == 0;
        for (int f = 1; f < e; f++)
            earlier |= strcmp(err_slug((enum err)f), err_slug((enum err)e)) == 0;
        if (!found)
            fail_msg("ProblemType lacks %s (src/base/err.c)", want);
        distinct += !earlier;
    }
    assert_int_equal(json_array_size(types), distinct);
    json_decref(doc);
}

int run_openapi_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_operation_is_a_route),
        cmocka_unit_test(test_security_matches_the_table),
        cmocka_unit_test(test_problem_types_are_the_error_table),
    };
    return cmocka_run_group_tests_name("openapi", tests, NULL, NULL);
}

/* test_flatjson.c — the flat string-object reader (src/base/flatjson.h): the shapes it takes,
 * the ones it leaves to jansson, and a differential check that whatever it takes, jansson
 * (as api/body.c calls it) reads the same way. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../src/base/flatjson.h"
#include "unit.h"

#define VALID_BODY "{\"key\":\"apk_3xAmPlE0kEy\",\"scope\":\"Tasks\"}"

static int parse(const char *s, struct flatjson_member *m)
{
    return flatjson_parse(s, strlen(s), m);
}

static void assert_member(const struct flatjson_member *m, const char *name, const char *value)
{
    assert_int_equal(m->name_len, strlen(name));
    assert_memory_equal(m->name, name, m->name_len);
    assert_int_equal(m->value_len, strlen(value));
    assert_memory_equal(m->value, value, m->value_len);
}

static void assert_not_handled(const char *s)
{
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    int n = parse(s, m);
    if (n != -1)
        fail_msg("expected \"%s\" not to be handled, got %d members", s, n);
}

static void test_reads_the_verify_body(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(parse(VALID_BODY, m), 2);
    assert_member(&m[0], "key", "apk_3xAmPlE0kEy");
    assert_member(&m[1], "scope", "Tasks");
    assert_ptr_equal(flatjson_find(m, 2, "scope"), &m[1]);
    assert_ptr_equal(flatjson_find(m, 2, "key"), &m[0]);
    assert_null(flatjson_find(m, 2, "role"));
    assert_null(flatjson_find(m, 2, "ke"));
}

static void test_reads_empty_object(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(parse("{}", m), 0);
    assert_int_equal(parse(" \t\r\n{ \t\r\n} \t\r\n", m), 0);
    assert_null(flatjson_find(m, 0, "key"));
}

static void test_accepts_json_white_space_around_tokens(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(parse("\n {\r\n\t\"key\" :\t\"a b\" ,\n \"scope\"\r:\"Tasks\"\n}\r\n ", m), 2);
    assert_member(&m[0], "key", "a b");
    assert_member(&m[1], "scope", "Tasks");
}

static void test_accepts_empty_names_and_values_and_all_printable_ascii(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(parse("{\"\":\"\"}", m), 1);
    assert_member(&m[0], "", "");
    const char *all = " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklm"
                      "nopqrstuvwxyz{|}~";
    char body[256];
    snprintf(body, sizeof body, "{\"x\":\"%s\"}", all);
    assert_int_equal(parse(body, m), 1);
    assert_member(&m[0], "x", all);
}

static void test_reads_up_to_the_member_limit(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    const char *eight = "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\","
                        "\"g\":\"7\",\"h\":\"8\"}";
    assert_int_equal(FLATJSON_MAX_MEMBERS, 8);
    assert_int_equal(parse(eight, m), 8);
    assert_member(&m[7], "h", "8");
    assert_not_handled("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\","
                       "\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}");
}

static void test_does_not_read_past_len(void **state)
{
    (void)state;
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    const char *s = "{\"a\":\"b\"}garbage";
    assert_int_equal(flatjson_parse(s, 9, m), 1);
    assert_int_equal(flatjson_parse(s, 8, m), -1);
}

static void test_leaves_escapes_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("{\"key\":\"\\u0061pk_x\"}");
    assert_not_handled("{\"key\":\"a\\\"b\"}");
    assert_not_handled("{\"key\":\"a\\\\b\"}");
    assert_not_handled("{\"key\":\"a\\nb\"}");
    assert_not_handled("{\"k\\u0065y\":\"x\"}");
}

static void test_leaves_non_ascii_and_controls_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("{\"key\":\"caf\xc3\xa9\"}");
    assert_not_handled("{\"n\xc3\xa4me\":\"x\"}");
    assert_not_handled("{\"key\":\"\xff\"}");
    assert_not_handled("{\"key\":\"a\tb\"}");
    assert_not_handled("{\"key\":\"a\nb\"}");
    assert_not_handled("{\"key\":\"a\x7f\"}");
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(flatjson_parse("{\"key\":\"a\0b\"}", 13, m), -1);
}

static void test_leaves_other_value_types_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("{\"key\":12345}");
    assert_not_handled("{\"key\":-1.5e3}");
    assert_not_handled("{\"key\":null}");
    assert_not_handled("{\"key\":true}");
    assert_not_handled("{\"key\":false}");
    assert_not_handled("{\"key\":{\"a\":\"b\"}}");
    assert_not_handled("{\"key\":[\"a\"]}");
    assert_not_handled("{\"key\":\"a\",\"scope\":[\"Tasks\"]}");
}

static void test_leaves_non_objects_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("");
    assert_not_handled("   ");
    assert_not_handled("\"apk_123\"");
    assert_not_handled("[]");
    assert_not_handled("null");
    assert_not_handled("key=apk_123");
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(flatjson_parse(NULL, 0, m), -1);
}

static void test_leaves_repeated_members_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("{\"key\":\"a\",\"key\":\"a\"}");
    assert_not_handled("{\"key\":\"a\",\"scope\":\"b\",\"key\":\"c\"}");
    assert_not_handled("{\"\":\"a\",\"\":\"b\"}");
}

static void test_leaves_syntax_errors_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("{");
    assert_not_handled("}");
    assert_not_handled("{\"key\"}");
    assert_not_handled("{\"key\" \"a\"}"); /* missing colon */
    assert_not_handled("{\"key\":}");
    assert_not_handled("{\"key\":\"a\" \"scope\":\"b\"}"); /* missing comma */
    assert_not_handled("{\"key\":\"a\",}");                /* trailing comma */
    assert_not_handled("{,\"key\":\"a\"}");
    assert_not_handled("{\"key\":\"a\""); /* unclosed object */
    assert_not_handled("{\"key\":\"a}");  /* unterminated string */
    assert_not_handled("{key:\"a\"}");
    assert_not_handled("{'key':'a'}");
    assert_not_handled("{\"key\":\"a\"}x"); /* trailing garbage */
    assert_not_handled("{\"key\":\"a\"}{}");
    assert_not_handled("{\"key\":\"a\"},");
    assert_not_handled("x{\"key\":\"a\"}");
    assert_not_handled("\xef\xbb\xbf{\"key\":\"a\"}"); /* byte-order mark */
}

static void test_leaves_non_json_white_space_to_jansson(void **state)
{
    (void)state;
    assert_not_handled("\f{\"key\":\"a\"}");
    assert_not_handled("{\v\"key\":\"a\"}");
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    assert_int_equal(flatjson_parse("{\"key\":\"a\"}\0", 12, m), -1);
}

/* ---- differential: whatever flatjson takes, jansson takes and reads the same way ---------- */

struct diff_stats {
    size_t inputs, taken;
};

static void differential_one(const char *buf, size_t len, struct diff_stats *st)
{
    struct flatjson_member m[FLATJSON_MAX_MEMBERS];
    int n = flatjson_parse(buf, len, m);
    st->inputs++;
    if (n < 0)
        return;
    st->taken++;
    json_error_t error;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &error);
    if (!doc)
        fail_msg("flatjson took \"%.*s\" but jansson refused it: %s", (int)len, buf, error.text);
    assert_true(json_is_object(doc));
    assert_int_equal(json_object_size(doc), (size_t)n);
    /* Same members in the same order (body_reject_unknown lists problems in jansson's order). */
    int i = 0;
    const char *name;
    json_t *value;
    json_object_foreach(doc, name, value)
    {
        assert_true(i < n);
        assert_int_equal(strlen(name), m[i].name_len);
        assert_memory_equal(name, m[i].name, m[i].name_len);
        assert_true(json_is_string(value));
        assert_int_equal(json_string_length(value), m[i].value_len);
        assert_int_equal(strlen(json_string_value(value)), m[i].value_len);
        assert_memory_equal(json_string_value(value), m[i].value, m[i].value_len);
        i++;
    }
    assert_int_equal(i, n);
    json_decref(doc);
}

static void differential_str(const char *s, struct diff_stats *st)
{
    differential_one(s, strlen(s), st);
}

static void test_differential_against_jansson(void **state)
{
    (void)state;
    static const char *const corpus[] = {
        VALID_BODY,
        "{}",
        " {} ",
        "{\"key\":\"apk_x\"}",
        "{\"key\":\"apk_x\",\"scope\":\"Tasks\",\"project\":\"acme/web\",\"role\":\"writer\"}",
        "{\"scope\":\"Tasks\",\"key\":\"apk_x\"}",
        "{\"zeta\":\"1\",\"alpha\":\"2\",\"mid\":\"3\",\"key\":\"k\"}",
        "{\"\":\"\"}",
        "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\",\"g\":\"7\","
        "\"h\":\"8\"}",
        "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\",\"g\":\"7\","
        "\"h\":\"8\",\"i\":\"9\"}",
        "\t{\n\"key\"\r:\t\"v\"\n,\"scope\" : \"s\"}\r\n",
        "{\"key\":\"{\\\"a\\\":1}\"}",
        "{\"key\":\"a,b:c{d}e[f]\"}",
        "{\"key\":\"\\u0061pk_x\"}",
        "{\"key\":\"\\/\"}",
        "{\"key\":\"caf\xc3\xa9\"}",
        "{\"key\":1}",
        "{\"key\":null}",
        "{\"key\":true}",
        "{\"key\":[]}",
        "{\"key\":{}}",
        "{\"key\":\"a\",\"key\":\"b\"}",
        "{\"key\":\"a\",}",
        "{\"key\" \"a\"}",
        "{\"key\":\"a\"}}",
        "{\"key\":\"a\"} x",
        "[\"key\",\"a\"]",
        "\"key\"",
        "",
        "{",
        "\f{}",
        "{\"key\":\"a\x7f\"}",
        "{\"key\":\"a\x01\"}",
    };
    struct diff_stats st = {0};
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
        differential_str(corpus[i], &st);

    /* Mutations of two valid bodies: every truncation, every single-byte substitution with a
     * set of syntax-relevant bytes, every single-byte deletion and duplication. */
    static const char *const bases[] = {
        VALID_BODY,
        " { \"key\" : \"apk_x\" , \"role\" : \"r\" } ",
    };
    static const char subst[] = {'"',  '\\', ',', ':', '{', '}',    '[',    ']',    ' ',    '\t',
                                 '\n', 'a',  '0', 'n', 't', '\x00', '\x1f', '\x7f', '\x80', '\xc3'};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        const char *base = bases[b];
        size_t len = strlen(base);
        char buf[128];
        assert_true(len + 1 < sizeof buf);
        for (size_t cut = 0; cut <= len; cut++) {
            memcpy(buf, base, cut);
            differential_one(buf, cut, &st);
        }
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t s = 0; s < sizeof subst; s++) {
                memcpy(buf, base, len);
                buf[pos] = subst[s];
                differential_one(buf, len, &st);
            }
            memcpy(buf, base, pos);
            memcpy(buf + pos, base + pos + 1, len - pos - 1);
            differential_one(buf, len - 1, &st);
            memcpy(buf, base, pos + 1);
            memcpy(buf + pos + 1, base + pos, len - pos);
            differential_one(buf, len + 1, &st);
        }
    }
    print_message("differential: %zu inputs, %zu taken by flatjson\n", st.inputs, st.taken);
    /* Not vacuous: a good share of the inputs took the fast path. */
    assert_true(st.inputs > 1000);
    assert_true(st.taken > 100);
}

int run_flatjson_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_the_verify_body),
        cmocka_unit_test(test_reads_empty_object),
        cmocka_unit_test(test_accepts_json_white_space_around_tokens),
        cmocka_unit_test(test_accepts_empty_names_and_values_and_all_printable_ascii),
        cmocka_unit_test(test_reads_up_to_the_member_limit),
        cmocka_unit_test(test_does_not_read_past_len),
        cmocka_unit_test(test_leaves_escapes_to_jansson),
        cmocka_unit_test(test_leaves_non_ascii_and_controls_to_jansson),
        cmocka_unit_test(test_leaves_other_value_types_to_jansson),
        cmocka_unit_test(test_leaves_non_objects_to_jansson),
        cmocka_unit_test(test_leaves_repeated_members_to_jansson),
        cmocka_unit_test(test_leaves_syntax_errors_to_jansson),
        cmocka_unit_test(test_leaves_non_json_white_space_to_jansson),
        cmocka_unit_test(test_differential_against_jansson),
    };
    return cmocka_run_group_tests_name("flatjson", tests, NULL, NULL);
}

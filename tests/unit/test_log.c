/* test_log.c — text and JSON lines, levels, escaping, the request id (src/base/log.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/base/log.h"
#include "unit.h"

/* Runs fn with stderr going to a temp file; returns what it wrote (malloc'd). */
static char *captured(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    long n = ftell(tmp) >= 0 ? lseek(fileno(tmp), 0, SEEK_END) : 0;
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(tmp), text, (size_t)n, 0), n);
    fclose(tmp);
    return text;
}

static void write_some(void)
{
    log_info("plain %s", "words");
    log_debug("left out at info");
    log_set_request("abc-1");
    struct log_field f[] = {{"user", "ma\"ria\n\x01", 0}, {"status", NULL, 401}};
    log_event(LOG_WARN, "sign-in failed", f, 2);
    log_set_request(NULL);
    char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    log_error("%s", long_text);
}

static void test_json_lines_parse_and_carry_their_fields(void **state)
{
    (void)state;
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
    char *text = captured(write_some);
    log_configure(LOG_FORMAT_TEXT, LOG_INFO);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        assert_non_null(o); /* every line parses, the over-long one too */
        assert_true(json_is_string(json_object_get(o, "time")));
        const char *level = json_string_value(json_object_get(o, "level"));
        if (lines == 1) {
            assert_string_equal(level, "warn");
            assert_string_equal(json_string_value(json_object_get(o, "user")), "ma\"ria\n\x01");
            assert_int_equal(json_integer_value(json_object_get(o, "status")), 401);
            assert_string_equal(json_string_value(json_object_get(o, "request_id")), "abc-1");
        }
        if (lines == 0)
            assert_null(json_object_get(o, "request_id"));
        json_decref(o);
    }
    assert_int_equal(lines, 3); /* debug left out */
    free(text);
}

static void test_text_lines_escape_controls_and_quote_values(void **state)
{
    (void)state;
    log_configure(LOG_FORMAT_TEXT, LOG_DEBUG);
    char *text = captured(write_some);
    log_configure(LOG_FORMAT_TEXT, LOG_INFO);
    assert_non_null(strstr(text, " INFO plain words\n"));
    assert_non_null(strstr(text, " DEBUG left out at info\n"));
    assert_non_null(strstr(text, " WARN sign-in failed user=\"ma\\\"ria\\u000a\\u0001\" "
                                 "status=401 request_id=abc-1\n"));
    int newlines = 0;
    for (char *p = text; *p; p++)
        newlines += *p == '\n';
    assert_int_equal(newlines, 4); /* a value never starts a line of its own */
    free(text);
}

static void test_levels_and_formats_parse(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("warn"), LOG_WARN);
    assert_int_equal(log_level_parse("WARN"), -1);
    assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("xml"), -1);
}

int run_log_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines_parse_and_carry_their_fields),
        cmocka_unit_test(test_text_lines_escape_controls_and_quote_values),
        cmocka_unit_test(test_levels_and_formats_parse),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}

/* test_mail.c — the mail message (core/mailer.c: mail_compose refuses header injection and
 * writes RFC 5322 + MIME), the mail settings (core/mail_settings.c) and which expiry notice
 * is due (core/notices.c: notices_due). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/mail_settings.h"
#include "../../src/core/mailer.h"
#include "../../src/core/notices.h"
#include "unit.h"

#define NOW 1796622563 /* Mon, 07 Dec 2026 05:49:23 +0000 */

static enum err compose(const char *to, const char *subject, const char *body, char **out)
{
    size_t len;
    return mail_compose("apikeyd@example.test", to, subject, body, NOW, out, &len);
}

static void test_compose_refuses_cr_or_lf_in_any_header_value(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(compose("a@example.test", "hi\r\nBcc: evil@example.test", "b", &out),
                     ERR_INVALID);
    assert_int_equal(compose("a@example.test", "hi\nBcc: evil@example.test", "b", &out),
                     ERR_INVALID);
    assert_int_equal(compose("a@example.test", "hi\rX: y", "b", &out), ERR_INVALID);
    assert_int_equal(compose("a@example.test\r\nBcc: evil@example.test", "s", "b", &out),
                     ERR_INVALID);
    assert_int_equal(compose("a@example.test\nBcc: e@x.test", "s", "b", &out), ERR_INVALID);
    size_t len;
    assert_int_equal(mail_compose("f@example.test\r\nBcc: e@x.test", "a@example.test", "s", "b",
                                  NOW, &out, &len),
                     ERR_INVALID);
    assert_null(out);
}

static void test_compose_refuses_what_is_not_one_plain_address(void **state)
{
    (void)state;
    char *out = NULL;
    const char *bad[] = {"", "nobody", "@example.test", "a@", "a@b@example.test",
                         "Name <a@example.test>", "a@example.test, b@example.test",
                         "a b@example.test", "a@example.test;b@example.test", "\"a\"@x.test"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(compose(bad[i], "s", "b", &out), ERR_INVALID);
    assert_null(out);
}

static void test_compose_refuses_invalid_utf8_and_control_characters(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(compose("a@example.test", "bad \xff", "b", &out), ERR_INVALID);
    assert_int_equal(compose("a@example.test", "s", "bad \xc3", &out), ERR_INVALID);
    assert_int_equal(compose("a@example.test", "bell \a", "b", &out), ERR_INVALID);
}

/* The header of a composed message (up to the empty line), NUL-terminated in place. */
static char *header_of(char *msg)
{
    char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    end[2] = '\0';
    return msg;
}

static void test_compose_writes_rfc5322_headers_and_encodes_the_subject(void **state)
{
    (void)state;
    char *out = NULL;
    const char *subject = "API key \"Bcc: evil@example.test =?x?= \xc3\xbcn\xc3\xaf\" expires "
                          "in 7 days, a long subject that needs more than one encoded word";
    assert_int_equal(compose("owner@example.test", subject, "Hello,\nline two\n", &out), ERR_OK);
    char *body = strstr(out, "\r\n\r\n") + 4;
    char *head = header_of(out);
    assert_non_null(strstr(head, "Date: Mon, 07 Dec 2026 05:49:23 +0000\r\n"));
    assert_non_null(strstr(head, "From: apikeyd <apikeyd@example.test>\r\n"));
    assert_non_null(strstr(head, "To: <owner@example.test>\r\n"));
    assert_non_null(strstr(head, "Message-ID: <"));
    assert_non_null(strstr(head, "@example.test>\r\n"));
    assert_non_null(strstr(head, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(head, "Content-Type: text/plain; charset=UTF-8\r\n"));
    assert_non_null(strstr(head, "Content-Transfer-Encoding: base64\r\n"));
    assert_null(strstr(head, "evil")); /* the name travels only inside encoded words */
    assert_null(strstr(head, "Bcc"));
    /* every header line is short, starts with a name or is a folded continuation */
    int lines = 0;
    for (char *line = head; *line; lines++) {
        char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        assert_true(eol - line <= 78);
        assert_true(line[0] == ' ' || strchr(line, ':') < eol);
        for (char *p = line; p < eol; p++)
            assert_true(*p != '\r' && *p != '\n');
        line = eol + 2;
    }
    assert_true(lines >= 10);
    /* the subject's encoded words decode back to it */
    char decoded[512] = "";
    size_t used = 0;
    for (char *w = strstr(head, "=?UTF-8?B?"); w; w = strstr(w, "=?UTF-8?B?")) {
        w += 10;
        char *end = strstr(w, "?=");
        size_t n;
        assert_int_equal(sodium_base642bin((unsigned char *)decoded + used,
                                           sizeof decoded - used - 1, w, (size_t)(end - w),
                                           NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        used += n;
        w = end;
    }
    decoded[used] = '\0';
    assert_string_equal(decoded, subject);
    /* the body is base64 of the text with CRLF line ends */
    unsigned char text[256];
    size_t n;
    char *b64 = strdup(body);
    char *w = b64;
    for (char *p = b64; *p; p++)
        if (*p != '\r' && *p != '\n')
            *w++ = *p;
    *w = '\0';
    assert_int_equal(sodium_base642bin(text, sizeof text - 1, b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    text[n] = '\0';
    assert_string_equal((char *)text, "Hello,\r\nline two\r\n");
    free(b64);
    free(out);
}

static void test_settings_parse_and_refuse(void **state)
{
    (void)state;
    struct mail_settings s;
    mail_settings_defaults(&s);
    assert_int_equal(s.notice_day_count, 3);
    assert_int_equal(s.notice_unit_seconds, 86400);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "14, 3,1"), 0);
    assert_int_equal(s.notice_day_count, 3);
    assert_int_equal(s.notice_days[0], 14);
    assert_int_equal(s.notice_days[2], 1);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "1,7"), -1);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "7,7"), -1);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "366"), -1);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "9,8,7,6,5,4,3,2,1"), -1);
    assert_int_equal(mail_settings_set(&s, "expiry_notice_days", "off"), 0);
    assert_int_equal(s.notice_day_count, 0);
    assert_int_equal(mail_settings_set(&s, "smtp_url", "smtp://mail.example.test:587"), 0);
    assert_int_equal(mail_settings_set(&s, "smtp_url", "smtps://mail.example.test"), 0);
    assert_int_equal(mail_settings_set(&s, "smtp_url", "http://mail.example.test"), -1);
    assert_int_equal(mail_settings_set(&s, "smtp_url", "smtp://u:p@mail.example.test"), -1);
    assert_int_equal(mail_settings_check(&s), -1); /* a URL without smtp_from */
    assert_int_equal(mail_settings_set(&s, "smtp_from", "apikeyd@example.test"), 0);
    assert_int_equal(mail_settings_check(&s), 0);
    assert_int_equal(mail_settings_set(&s, "smtp_username", "u"), 0);
    assert_int_equal(mail_settings_check(&s), -1); /* a username without its password file */
    assert_int_equal(mail_settings_set(&s, "something_else", "x"), 1);
}

static void test_due_is_the_nearest_threshold_reached_and_never_again(void **state)
{
    (void)state;
    struct mail_settings s;
    mail_settings_defaults(&s); /* 30, 7, 1 days */
    const int64_t D = 86400, created = NOW - 300 * D;
    assert_int_equal(notices_due(&s, NOW, created, NOW + 31 * D, -1), -1);
    assert_int_equal(notices_due(&s, NOW, created, NOW + 30 * D, -1), 30);
    assert_int_equal(notices_due(&s, NOW, created, NOW + 20 * D, -1), 30);
    assert_int_equal(notices_due(&s, NOW, created, NOW + 20 * D, 30), -1); /* sent already */
    assert_int_equal(notices_due(&s, NOW, created, NOW + 7 * D, 30), 7);
    /* a missed window is not made up for: 2 days left with nothing sent is the 7-day one */
    assert_int_equal(notices_due(&s, NOW, created, NOW + 2 * D, -1), 7);
    assert_int_equal(notices_due(&s, NOW, created, NOW + 2 * D, 7), -1);
    assert_int_equal(notices_due(&s, NOW, created, NOW + D / 2, 7), 1);
    assert_int_equal(notices_due(&s, NOW, created, NOW, 1), 0); /* expired */
    assert_int_equal(notices_due(&s, NOW, created, NOW - D, 1), 0);
    assert_int_equal(notices_due(&s, NOW, created, NOW - D, 0), -1);
    /* created inside a window: that threshold is skipped, the nearer ones are not */
    assert_int_equal(notices_due(&s, NOW, NOW, NOW + 5 * D, -1), -1);
    assert_int_equal(notices_due(&s, NOW, NOW - 4 * D, NOW + D, -1), 1);
    assert_int_equal(notices_due(&s, NOW, NOW, NOW + 7 * D, -1), -1);
    /* notices off */
    s.notice_day_count = 0;
    assert_int_equal(notices_due(&s, NOW, created, NOW - 1, -1), -1);
}

int run_mail_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_refuses_cr_or_lf_in_any_header_value),
        cmocka_unit_test(test_compose_refuses_what_is_not_one_plain_address),
        cmocka_unit_test(test_compose_refuses_invalid_utf8_and_control_characters),
        cmocka_unit_test(test_compose_writes_rfc5322_headers_and_encodes_the_subject),
        cmocka_unit_test(test_settings_parse_and_refuse),
        cmocka_unit_test(test_due_is_the_nearest_threshold_reached_and_never_again),
    };
    return cmocka_run_group_tests_name("mail", tests, NULL, NULL);
}

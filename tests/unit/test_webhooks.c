/* test_webhooks.c — the webhook pieces without a network: the event table, the retry
 * schedule, the refused address ranges and the Standard Webhooks signature. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/webhook_delivery.h"
#include "../../src/core/webhook_events.h"
#include "../../src/core/webhook_payload.h"
#include "../../src/core/webhook_target.h"
#include "unit.h"

static void test_every_event_maps_to_its_action_and_back(void **state)
{
    (void)state;
    size_t n = 0;
    for (; webhook_event_name(n); n++) {
        const char *action = webhook_action_of_event(webhook_event_name(n));
        assert_non_null(action);
        enum webhook_subject subject;
        assert_string_equal(webhook_event_of_action(action, &subject), webhook_event_name(n));
    }
    assert_int_equal(n, WEBHOOK_EVENT_COUNT);
    enum webhook_subject subject;
    assert_string_equal(webhook_event_of_action("user.disable", &subject), "user.disabled");
    assert_int_equal(subject, WEBHOOK_SUBJECT_USER);
    assert_string_equal(webhook_event_of_action("account.delete", &subject),
                        "service_account.deleted");
    assert_null(webhook_event_of_action("user.update", &subject));
    assert_null(webhook_action_of_event("webhook.test")); /* no one subscribes to a test */
}

static void test_retry_schedule_spans_more_than_a_day(void **state)
{
    (void)state;
    const int64_t base = 60000;
    assert_int_equal(webhook_retry_delay_ms(base, 1), 60000);
    assert_int_equal(webhook_retry_delay_ms(base, 2), 240000);
    assert_int_equal(webhook_retry_delay_ms(base, 5), 256 * 60000);
    assert_int_equal(webhook_retry_delay_ms(base, 6), 360 * 60000);
    assert_int_equal(webhook_retry_delay_ms(base, 9), 360 * 60000);
    int64_t total = 0;
    for (int n = 1; n < WEBHOOK_MAX_ATTEMPTS; n++)
        total += webhook_retry_delay_ms(base, n);
    assert_true(total >= 24LL * 3600 * 1000);
}

static int refused4(const char *a)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, a, &sa.sin_addr), 1);
    return webhook_addr_refused((struct sockaddr *)&sa);
}

static int refused6(const char *a)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, a, &sa.sin6_addr), 1);
    return webhook_addr_refused((struct sockaddr *)&sa);
}

static void test_refused_and_public_addresses(void **state)
{
    (void)state;
    static const char *const v4_refused[] = {"127.0.0.1", "10.9.8.7", "172.16.0.1",
        "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "100.127.255.254",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.7", "198.51.100.1",
        "203.0.113.9"};
    static const char *const v4_public[] = {"8.8.8.8", "93.184.216.34", "172.32.0.1",
        "100.128.0.1", "192.169.0.1", "11.0.0.1"};
    static const char *const v6_refused[] = {"::1", "::", "fe80::1", "fc00::1", "fd12::1",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2001:db8::1",
        "64:ff9b:1::8.8.8.8", "64:ff9b:1:ffff::1", "2002:7f00:1::", "2002:a9fe:a9fe::1"};
    static const char *const v6_public[] = {"2606:4700::1111", "2001:4860:4860::8888",
        "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::8.8.8.8"};
    for (size_t i = 0; i < sizeof v4_refused / sizeof *v4_refused; i++)
        assert_true(refused4(v4_refused[i]));
    for (size_t i = 0; i < sizeof v4_public / sizeof *v4_public; i++)
        assert_false(refused4(v4_public[i]));
    for (size_t i = 0; i < sizeof v6_refused / sizeof *v6_refused; i++)
        assert_true(refused6(v6_refused[i]));
    for (size_t i = 0; i < sizeof v6_public / sizeof *v6_public; i++)
        assert_false(refused6(v6_public[i]));
}

static void test_url_form(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(webhook_url_check("https://hooks.example.com/a?b=c", &why), 0);
    assert_int_equal(webhook_url_check("http://example.com:8080/", &why), 0);
    assert_int_equal(webhook_url_check("ftp://example.com/", &why), -1);
    assert_int_equal(webhook_url_check("file:///etc/passwd", &why), -1);
    assert_int_equal(webhook_url_check("https://u:p@example.com/", &why), -1);
    assert_int_equal(webhook_url_check("https://example.com/a b", &why), -1);
    assert_int_equal(webhook_url_check("/relative", &why), -1);
    assert_int_equal(webhook_url_check("", &why), -1);
    assert_string_equal(why, "must be 1 to 2000 characters");
    assert_int_equal(webhook_url_check("ftp://example.com/", &why), -1);
    assert_string_equal(why, "must be an http or https URL");
}

/* The expected value is HMAC-SHA256 computed independently (Python's hmac module). */
static void test_signature_of_id_timestamp_body(void **state)
{
    (void)state;
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    const char *body = "{\"type\":\"key.created\"}";
    char sig[WEBHOOK_SIGNATURE_MAX];
    webhook_sign(key, sizeof key, "msg_1", 1700000000, body, strlen(body), sig);
    assert_string_equal(sig, "v1,wi5xPUSliw8yTIr0DArCtbNoK7I5cLaPrpIsNWn5gcs=");
}

int run_webhooks_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_event_maps_to_its_action_and_back),
        cmocka_unit_test(test_retry_schedule_spans_more_than_a_day),
        cmocka_unit_test(test_refused_and_public_addresses),
        cmocka_unit_test(test_url_form),
        cmocka_unit_test(test_signature_of_id_timestamp_body),
    };
    return cmocka_run_group_tests_name("webhooks", tests, NULL, NULL);
}

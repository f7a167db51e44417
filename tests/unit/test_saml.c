/* test_saml.c — the parts of SAML sign-in that need no IdP: the HTTP-POST form body
 * (src/api/form.h), the saml_* settings (src/core/saml_config.h) and the store's one-time
 * take of a recorded id (store_ops.sso_nonce_take). The protocol itself is tested over HTTP
 * (tests/http/suite_saml.py) and in Chromium (tests/browser/saml.test.mjs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/api/form.h"
#include "../../src/core/saml_config.h"
#include "../../src/core/saml_xml.h"
#include <sodium.h>
#include "unit.h"

static void test_form_value_decodes_percent_and_plus(void **state)
{
    (void)state;
    const char body[] = "RelayState=%2Fkeys%3Fa%3Db&SAMLResponse=PD94+bWw%2B";
    char *v = NULL;
    assert_int_equal(form_value(body, strlen(body), "SAMLResponse", &v), 0);
    assert_string_equal(v, "PD94 bWw+");
    free(v);
    assert_int_equal(form_value(body, strlen(body), "RelayState", &v), 0);
    assert_string_equal(v, "/keys?a=b");
    free(v);
}

static void test_form_value_absent_field_is_null_not_a_prefix_match(void **state)
{
    (void)state;
    const char body[] = "SAMLResponseX=1&XSAMLResponse=2";
    char *v = (char *)"unchanged";
    assert_int_equal(form_value(body, strlen(body), "SAMLResponse", &v), 0);
    assert_null(v);
}

static void test_form_value_refuses_bad_escapes_and_nul(void **state)
{
    (void)state;
    const char *bad[] = {"a=%zz", "a=%2", "a=%", "a=x%00y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *v = NULL;
        assert_int_equal(form_value(bad[i], strlen(bad[i]), "a", &v), -1);
        assert_null(v);
    }
}

static void test_form_media_type(void **state)
{
    (void)state;
    assert_true(form_media_type_ok("application/x-www-form-urlencoded"));
    assert_true(form_media_type_ok("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
    assert_false(form_media_type_ok("application/json"));
    assert_false(form_media_type_ok("application/x-www-form-urlencodedX"));
    assert_false(form_media_type_ok(NULL));
}

static void test_saml_config_defaults_entity_id_from_public_url(void **state)
{
    (void)state;
    struct saml_config s;
    saml_config_defaults(&s);
    assert_string_equal(s.button_label, "Sign in with SAML");
    assert_int_equal(saml_config_check(&s, ""), 0); /* off: nothing required */
    assert_int_equal(saml_config_set(&s, "saml_idp_metadata_file", "/etc/idp.xml"), 0);
    assert_int_equal(saml_config_set(&s, "saml_sp_key_file", "/etc/sp.key"), 0);
    assert_int_equal(saml_config_set(&s, "saml_sp_cert_file", "/etc/sp.crt"), 0);
    assert_int_equal(saml_config_check(&s, "https://apikeyd.example.com"), 0);
    assert_string_equal(s.sp_entity_id, "https://apikeyd.example.com/v1/sso/saml/metadata");
}

static void test_saml_config_refuses_what_does_not_hold_together(void **state)
{
    (void)state;
    struct saml_config s;
    saml_config_defaults(&s);
    assert_int_equal(saml_config_set(&s, "saml_idp_metadata_file", "/etc/idp.xml"), 0);
    assert_int_equal(saml_config_check(&s, "https://apikeyd.example.com"), -1); /* no key */
    assert_int_equal(saml_config_set(&s, "saml_allow_idp_initiated", "yes"), -1);
    assert_int_equal(saml_config_set(&s, "saml_allow_idp_initiated", "true"), 0);
    assert_int_equal(s.allow_idp_initiated, 1);
    assert_int_equal(saml_config_set(&s, "saml_role_map", "admins"), -1);
    assert_int_equal(saml_config_set(&s, "saml_role_map", "a=admin, b=user"), 0);
    assert_int_equal((int)s.role_map_count, 2);
    assert_int_equal(saml_config_set(&s, "saml_groups_attribute", "a b"), -1);
    assert_int_equal(saml_config_set(&s, "not_a_saml_setting", "x"), 1);
}

static void test_store_takes_a_recorded_id_once_and_not_after_expiry(void **state)
{
    (void)state;
    struct unit_core u;
    assert_int_equal(unit_core_open(&u, NULL), 0);
    struct store *st = u.store;
    uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    memset(a, 0xa1, sizeof a);
    memset(b, 0xb2, sizeof b);
    assert_int_equal(st->ops->sso_nonce_claim(st, a, 1000, 100), ERR_OK);
    assert_int_equal(st->ops->sso_nonce_claim(st, b, 1000, 100), ERR_OK);
    assert_int_equal(st->ops->sso_nonce_take(st, a, 500), ERR_OK);
    assert_int_equal(st->ops->sso_nonce_take(st, a, 500), ERR_NOT_FOUND); /* once */
    assert_int_equal(st->ops->sso_nonce_take(st, b, 1001), ERR_NOT_FOUND); /* expired */
    uint8_t never[STORE_HASH_LEN] = {0};
    assert_int_equal(st->ops->sso_nonce_take(st, never, 500), ERR_NOT_FOUND);
    unit_core_destroy(&u);
}

/* xml as the base64 a SAMLResponse is, checked by saml_xml_plain; why gets the reason. */
static int plain(const char *xml, char *why, size_t cap)
{
    char b64[1024];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)xml, strlen(xml),
                      sodium_base64_VARIANT_ORIGINAL);
    why[0] = '\0';
    return saml_xml_plain(b64, why, cap);
}

static void test_saml_xml_takes_elements_attributes_and_text_only(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(plain("<?xml version=\"1.0\"?>\n<a x=\"1\"><b>admin.evil &amp; co</b></a>",
                           why, sizeof why), 0);
    static const struct {
        const char *xml, *reason;
    } bad[] = {
        {"<a><b>admin<!---->.evil</b></a>", "a comment"},
        {"<a><b>admin<![CDATA[.evil]]></b></a>", "a CDATA section"},
        {"<a><?pi x?><b>admin</b></a>", "a processing instruction"},
        {"<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>", "a DOCTYPE"},
        {"<!-- before --><a/>", "a comment"},
        {"<a><b>unclosed</a>", "not well-formed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(plain(bad[i].xml, why, sizeof why), -1);
        assert_non_null(strstr(why, bad[i].reason));
    }
    assert_int_equal(saml_xml_plain("not base64 at all!", why, sizeof why), -1);
    assert_non_null(strstr(why, "not base64"));
}

int run_saml_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_value_decodes_percent_and_plus),
        cmocka_unit_test(test_form_value_absent_field_is_null_not_a_prefix_match),
        cmocka_unit_test(test_form_value_refuses_bad_escapes_and_nul),
        cmocka_unit_test(test_form_media_type),
        cmocka_unit_test(test_saml_config_defaults_entity_id_from_public_url),
        cmocka_unit_test(test_saml_config_refuses_what_does_not_hold_together),
        cmocka_unit_test(test_store_takes_a_recorded_id_once_and_not_after_expiry),
        cmocka_unit_test(test_saml_xml_takes_elements_attributes_and_text_only),
    };
    return cmocka_run_group_tests_name("saml", tests, NULL, NULL);
}

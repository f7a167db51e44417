/* main.c — runs every unit test group; exits nonzero when any test failed. */
#include <sodium.h>
#include <stdio.h>

#include "unit.h"

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 2;
    }
    int (*const groups[])(void) = {
        run_base62_tests, run_time_tests,      run_text_tests,     run_err_tests,
        run_keyfmt_tests, run_password_tests,  run_throttle_tests, run_keyindex_tests,
        run_scopes_tests, run_keys_tests,      run_users_tests,    run_authority_tests,
        run_policy_tests, run_secretkey_tests, run_identity_tests, run_mfa_tests,
        run_store_tests,  run_flatjson_tests,  run_workers_tests,  run_netaddr_tests, run_peercount_tests,
        run_ldap_tests,   run_saml_tests,     run_mail_tests,     run_webhooks_tests,
        run_openapi_tests, run_metrics_tests, run_log_tests,
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        failed += groups[i]() != 0;
    if (failed)
        fprintf(stderr, "unit tests: %d group(s) with failures\n", failed);
    return failed ? 1 : 0;
}

/* unit.h — the cmocka unit tests of apikeyd: one run_<area>_tests per area file (each runs one
 * cmocka group and returns its number of failures), plus small fixtures shared by the areas. */
#ifndef APIKEYD_UNIT_H
#define APIKEYD_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "../../src/core/core.h"
#include "../../src/store/store.h"

int run_base62_tests(void);
int run_time_tests(void);
int run_text_tests(void);
int run_flatjson_tests(void);
int run_workers_tests(void);
int run_err_tests(void);
int run_keyfmt_tests(void);
int run_password_tests(void);
int run_throttle_tests(void);
int run_netaddr_tests(void);
int run_peercount_tests(void);
int run_keyindex_tests(void);
int run_scopes_tests(void);
int run_keys_tests(void);
int run_users_tests(void);
int run_authority_tests(void);
int run_policy_tests(void);
int run_secretkey_tests(void);
int run_identity_tests(void);
int run_mfa_tests(void);
int run_store_tests(void);
int run_ldap_tests(void);
int run_metrics_tests(void);
int run_log_tests(void);
int run_saml_tests(void);
int run_mail_tests(void);
int run_webhooks_tests(void);
int run_openapi_tests(void);

/* A fresh directory under $TMPDIR (or /tmp); malloc'd path. Fails the test when it cannot. */
char *unit_tempdir(void);
/* Removes dir and everything under it, then frees the path. NULL is a no-op. */
void unit_rmtree(char *dir);

/* A core on a SQLite store in a temporary directory. */
struct unit_core {
    char *dir;
    struct core_config cfg;
    struct store *store;
    struct core *core;
};

/* Makes the directory, opens the store and the core (cfg NULL = core_config_defaults).
 * Returns 0, or -1 (having cleaned up) when anything failed. */
int unit_core_open(struct unit_core *u, const struct core_config *cfg);
/* Closes core and store but keeps the directory (for a reopen). */
void unit_core_close(struct unit_core *u);
/* Opens store and core again on the same directory with the same configuration. */
int unit_core_reopen(struct unit_core *u);
/* Closes everything and removes the directory. */
void unit_core_destroy(struct unit_core *u);

/* A portal-session caller acting for user name (owner "user"/name). */
/* Adds the users alice and bob (keys can only be made for users that exist). */
void unit_core_add_people(struct unit_core *u);

void unit_session_caller(struct caller *who, const char *name);
/* An API-key caller of user name holding the scopes in mask and expiring at expires_at. */
void unit_key_caller(struct caller *who, const char *name, uint64_t scopes, int64_t expires_at);

#endif

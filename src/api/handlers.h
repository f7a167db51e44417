/* handlers.h — one function per route. Each fills the reply and returns ERR_OK, or returns
 * an error for the router to render as a problem document. */
#ifndef APIKEYD_HANDLERS_H
#define APIKEYD_HANDLERS_H

#include "http.h"

enum err h_healthz(struct request *req, struct reply *rep);
enum err h_readyz(struct request *req, struct reply *rep); /* 503 when this node should get no traffic */
enum err h_static(struct request *req, struct reply *rep);

enum err h_login(struct request *req, struct reply *rep);
enum err h_logout(struct request *req, struct reply *rep);

/* h_sso.c: single sign-on */
enum err h_sso(struct request *req, struct reply *rep);
enum err h_sso_oidc_start(struct request *req, struct reply *rep);
enum err h_sso_oidc_callback(struct request *req, struct reply *rep);
enum err h_sso_saml_metadata(struct request *req, struct reply *rep);
enum err h_sso_saml_start(struct request *req, struct reply *rep);
enum err h_sso_saml_acs(struct request *req, struct reply *rep);

/* h_leaks.c: leaked keys, public routes (GitHub's signed reports; revocation by holders) */
enum err h_leaks_github(struct request *req, struct reply *rep);
enum err h_keys_revoke(struct request *req, struct reply *rep);

enum err h_me(struct request *req, struct reply *rep);
enum err h_me_update(struct request *req, struct reply *rep);
enum err h_me_password(struct request *req, struct reply *rep);
enum err h_me_mfa_begin(struct request *req, struct reply *rep);
enum err h_me_mfa_confirm(struct request *req, struct reply *rep);
enum err h_me_mfa_disable(struct request *req, struct reply *rep);
enum err h_me_mfa_recovery_codes(struct request *req, struct reply *rep);

enum err h_scopes_list(struct request *req, struct reply *rep);
enum err h_scopes_create(struct request *req, struct reply *rep);

enum err h_keys_list(struct request *req, struct reply *rep);
enum err h_keys_create(struct request *req, struct reply *rep);
enum err h_keys_get(struct request *req, struct reply *rep);
enum err h_keys_update(struct request *req, struct reply *rep);
enum err h_keys_delete(struct request *req, struct reply *rep);
enum err h_keys_rotate(struct request *req, struct reply *rep);

enum err h_verify(struct request *req, struct reply *rep);

/* h_webhooks.c */
enum err h_webhooks_list(struct request *req, struct reply *rep);
enum err h_webhooks_create(struct request *req, struct reply *rep);
enum err h_webhooks_get(struct request *req, struct reply *rep);
enum err h_webhooks_update(struct request *req, struct reply *rep);
enum err h_webhooks_delete(struct request *req, struct reply *rep);
enum err h_webhooks_test(struct request *req, struct reply *rep);
enum err h_webhooks_deliveries(struct request *req, struct reply *rep);
enum err h_auth(struct request *req, struct reply *rep);

enum err h_users_list(struct request *req, struct reply *rep);
enum err h_users_create(struct request *req, struct reply *rep);
enum err h_users_get(struct request *req, struct reply *rep);
enum err h_users_update(struct request *req, struct reply *rep);
enum err h_users_delete(struct request *req, struct reply *rep);
enum err h_users_mfa_reset(struct request *req, struct reply *rep);
enum err h_user_keys_list(struct request *req, struct reply *rep);
enum err h_user_keys_create(struct request *req, struct reply *rep);
enum err h_user_keys_delete(struct request *req, struct reply *rep);

enum err h_authorities(struct request *req, struct reply *rep);
enum err h_roles_list(struct request *req, struct reply *rep);
enum err h_roles_create(struct request *req, struct reply *rep);
enum err h_roles_get(struct request *req, struct reply *rep);
enum err h_roles_update(struct request *req, struct reply *rep);
enum err h_roles_delete(struct request *req, struct reply *rep);

enum err h_groups_list(struct request *req, struct reply *rep);
enum err h_groups_create(struct request *req, struct reply *rep);
enum err h_groups_get(struct request *req, struct reply *rep);
enum err h_groups_update(struct request *req, struct reply *rep);
enum err h_groups_delete(struct request *req, struct reply *rep);
enum err h_environments_list(struct request *req, struct reply *rep);
enum err h_environments_create(struct request *req, struct reply *rep);
enum err h_environments_get(struct request *req, struct reply *rep);
enum err h_environments_delete(struct request *req, struct reply *rep);

enum err h_audit(struct request *req, struct reply *rep);

enum err h_projects_list(struct request *req, struct reply *rep);
enum err h_projects_create(struct request *req, struct reply *rep);
enum err h_projects_get(struct request *req, struct reply *rep);
enum err h_projects_delete(struct request *req, struct reply *rep);
enum err h_project_members_list(struct request *req, struct reply *rep);
enum err h_project_member_get(struct request *req, struct reply *rep);
enum err h_project_member_put(struct request *req, struct reply *rep);
enum err h_project_member_delete(struct request *req, struct reply *rep);
enum err h_project_candidates(struct request *req, struct reply *rep);

enum err h_accounts_list(struct request *req, struct reply *rep);
enum err h_accounts_create(struct request *req, struct reply *rep);
enum err h_accounts_get(struct request *req, struct reply *rep);
enum err h_accounts_update(struct request *req, struct reply *rep);
enum err h_accounts_delete(struct request *req, struct reply *rep);
enum err h_account_keys_list(struct request *req, struct reply *rep);
enum err h_account_keys_create(struct request *req, struct reply *rep);
enum err h_account_key_get(struct request *req, struct reply *rep);
enum err h_account_keys_delete(struct request *req, struct reply *rep);
enum err h_account_keys_rotate(struct request *req, struct reply *rep);

/* Reads the API key a request presents in "Authorization: Bearer" or "X-API-Key".
 * Returns 1 and sets *key and *len when one of the headers is present (even if malformed: then
 * *len is 0), 0 when neither is. */
int request_api_key(const struct request *req, const char **key, size_t *len);

#endif

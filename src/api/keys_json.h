/* keys_json.h — the create-a-key request and its show-once answer, shared by /v1/keys and
 * /v1/service-accounts/{id}/keys. */
#ifndef APIKEYD_KEYS_JSON_H
#define APIKEYD_KEYS_JSON_H

#include "http.h"

/* Parses {name, description?, scopes, expires_at?}, creates the key for the caller (or, with
 * account_id, for that API account) and answers 201 with the secret, or a problem. */
enum err keys_json_create(struct request *req, struct reply *rep, const char *account_id);

#endif

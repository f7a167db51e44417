/* keys_json.h — the create-a-key and rotate-a-key requests and their show-once answers, shared
 * by /v1/keys and /v1/service-accounts/{id}/keys. */
#ifndef APIKEYD_KEYS_JSON_H
#define APIKEYD_KEYS_JSON_H

#include "http.h"

/* Parses {overlap_seconds?, expires_at?}, rotates key key_id of the caller (or, with
 * account_id, of that API account) and answers 201 with the new key and its secret (shown
 * this once, the body wiped after sending), or a problem. */
enum err keys_json_rotate(struct request *req, struct reply *rep, const char *account_id,
                          const char *key_id);

/* Parses {name, description?, scopes, expires_at?}, creates the key for the caller (or, with
 * account_id, for that API account) and answers 201 with the secret, or a problem. */
enum err keys_json_create(struct request *req, struct reply *rep, const char *account_id);

#endif

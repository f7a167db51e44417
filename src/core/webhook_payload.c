/* webhook_payload.c — see webhook_payload.h. */
#include "webhook_payload.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../base/timeutil.h"
#include "webhook_events.h"

/* A text member, or null when empty (a key whose row was gone before it could be read). */
static json_t *text_or_null(const char *s)
{
    return *s ? json_string(s) : json_null();
}

static json_t *subject_json(const struct webhook_message *m, enum webhook_subject subject)
{
    switch (subject) {
    case WEBHOOK_SUBJECT_KEY: {
        json_t *owner = json_null();
        if (m->owner_type[0])
            owner = json_pack("{s:s, s:s}", "type",
                              strcmp(m->owner_type, "service-account") == 0 ? "service_account"
                                                                             : m->owner_type,
                              "id", m->owner_id);
        return json_pack("{s:s, s:o, s:o}", "id", m->target, "name",
                         text_or_null(m->subject_name), "owner", owner);
    }
    case WEBHOOK_SUBJECT_USER:
        return json_pack("{s:s}", "username", m->target);
    case WEBHOOK_SUBJECT_ACCOUNT:
        return json_pack("{s:s}", "id", m->target);
    case WEBHOOK_SUBJECT_WEBHOOK:
        return json_pack("{s:s}", "id", m->webhook_id);
    }
    return NULL;
}

char *webhook_payload(const struct webhook_message *m)
{
    enum webhook_subject subject;
    const char *type = webhook_event_of_action(m->action, &subject);
    if (!type)
        return NULL;
    static const char *const member[] = {"key", "user", "service_account", "webhook"};
    char when[TIME_RFC3339_LEN];
    time_format_rfc3339(m->at, when);
    json_t *data = json_pack("{s:o, s:s, s:s}", member[subject], subject_json(m, subject),
                             "actor", m->actor, "detail", m->detail);
    json_t *doc = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", when, "data", data);
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return body;
}

void webhook_sign(const uint8_t *key, size_t key_len, const char *msg_id, int64_t timestamp,
                  const char *body, size_t body_len, char out[WEBHOOK_SIGNATURE_MAX])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_MAX - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(&st, sizeof st);
}

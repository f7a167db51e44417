/* webhook_payload.h — a delivery's body and signature per the Standard Webhooks specification:
 * {"type", "timestamp" (RFC 3339), "data"} built from an outbox message (never a secret or
 * hash), and "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the signing secret. */
#ifndef APIKEYD_WEBHOOK_PAYLOAD_H
#define APIKEYD_WEBHOOK_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define WEBHOOK_SIGNATURE_MAX 64 /* "v1," + base64 of 32 bytes (44) + NUL fits */

/* The JSON body of message m (malloc'd; the caller frees), or NULL when out of memory or when
 * m's action is no event. */
char *webhook_payload(const struct webhook_message *m);

/* Writes the signature of "msg_id.timestamp.body" with key (the decoded secret). */
void webhook_sign(const uint8_t *key, size_t key_len, const char *msg_id, int64_t timestamp,
                  const char *body, size_t body_len, char out[WEBHOOK_SIGNATURE_MAX]);

#endif

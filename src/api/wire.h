/* wire.h — the bytes of an HTTP/1.1 response head: status line with its reason phrase, Date,
 * the reply's headers, Content-Length and Connection. */
#ifndef APIKEYD_WIRE_H
#define APIKEYD_WIRE_H

#include <stddef.h>

#include "http.h"

#define WIRE_HEAD_MAX (REPLY_HEADER_BYTES + 1024 + 128) /* + X-Request-Id */

/* 0 for the statuses that never carry a body (1xx, 204, 304). */
int wire_status_has_body(int status);

/* Writes rep's response head into out (cap >= WIRE_HEAD_MAX) for a body of body_len bytes;
 * close adds "Connection: close", and keep_alive_1_0 "Connection: keep-alive" (an HTTP/1.0
 * client that asked to keep the connection); tls adds Strict-Transport-Security (the reply
 * goes over apikeyd's own TLS). Returns the length. */
size_t wire_head(char *out, size_t cap, const struct reply *rep, size_t body_len, int close,
                 int keep_alive_1_0, int tls);

#endif

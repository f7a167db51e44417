/* request_id.h — the id each request is known by (X-Request-Id, problems' `instance`, logs):
 * a proxy's when it is sane and the proxy trusted, else one made here. */
#ifndef APIKEYD_REQUEST_ID_H
#define APIKEYD_REQUEST_ID_H

#include <stddef.h>

#define REQUEST_ID_MAX 64 /* an incoming id longer than this is replaced */

/* 1 when s is an id apikeyd keeps: 1-REQUEST_ID_MAX of A-Z a-z 0-9 and "-_.:@". */
int request_id_acceptable(const char *s);

/* Writes a new id into out (REQUEST_ID_MAX + 1 bytes): a random 64-bit prefix drawn once per
 * thread and a per-thread counter, in hex ("8f2c…-1a"): unique without a lock or a syscall. */
void request_id_make(char out[REQUEST_ID_MAX + 1]);

/* The id for a request: incoming (X-Request-Id as sent, or NULL) when the peer is trusted and
 * the id acceptable, else a new one. */
void request_id_choose(const char *incoming, int trusted, char out[REQUEST_ID_MAX + 1]);

#endif

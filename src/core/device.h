/* device.h — OWASP's device cookie: a browser that signed in successfully before carries a
 * token sealed with the server key (so every node reads it) naming the account and a random
 * device id. Its logins are counted on their own, so an attacker who exhausts the account's
 * allowance from unknown clients does not lock its owner's known browser out. */
#ifndef APIKEYD_DEVICE_H
#define APIKEYD_DEVICE_H

#include <stdint.h>

#include "../base/err.h"

struct core;

#define DEVICE_TOKEN_MAX 256       /* room for a token as text, NUL included */
#define DEVICE_ID_TEXT 33          /* the device id as hex, NUL included */
#define DEVICE_TTL_SECONDS (365 * 86400)

/* A fresh token for username's browser into out. ERR_UNAVAILABLE without a server key. */
enum err device_issue(struct core *c, const char *username, char out[DEVICE_TOKEN_MAX]);

/* 1 when token is an unexpired token this server sealed for username (without regard to
 * case); the device's id (hex) into id. 0 for anything else. */
int device_check(struct core *c, const char *token, const char *username,
                 char id[DEVICE_ID_TEXT]);

#endif

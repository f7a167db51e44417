/* device.c — see device.h. The token is sealed (XChaCha20-Poly1305 under the server key,
 * secretkey.h), then base64url: version, expiry, device id, username. */
#include "device.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "../base/timeutil.h"
#include "core_internal.h"

#define DEVICE_VERSION 1
#define DEVICE_ID_BYTES 16

struct device_plain {
    uint8_t version;
    uint8_t expires_at[8]; /* big-endian seconds */
    uint8_t id[DEVICE_ID_BYTES];
    char username[STORE_NAME_MAX + 1];
};

#define DEVICE_SEALED_MAX (sizeof(struct device_plain) + SECRETKEY_OVERHEAD)

enum err device_issue(struct core *c, const char *username, char out[DEVICE_TOKEN_MAX])
{
    out[0] = '\0';
    if (!c->secret_key || strlen(username) > STORE_NAME_MAX)
        return ERR_UNAVAILABLE;
    struct device_plain p;
    memset(&p, 0, sizeof p);
    p.version = DEVICE_VERSION;
    uint64_t exp = (uint64_t)(time_now() + DEVICE_TTL_SECONDS);
    for (int i = 0; i < 8; i++)
        p.expires_at[i] = (uint8_t)(exp >> (56 - 8 * i));
    randombytes_buf(p.id, sizeof p.id);
    memcpy(p.username, username, strlen(username));
    uint8_t sealed[DEVICE_SEALED_MAX];
    secretkey_seal(c->secret_key, (const uint8_t *)&p, sizeof p, sealed);
    sodium_bin2base64(out, DEVICE_TOKEN_MAX, sealed, sizeof sealed,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(&p, sizeof p);
    return ERR_OK;
}

int device_check(struct core *c, const char *token, const char *username,
                 char id[DEVICE_ID_TEXT])
{
    id[0] = '\0';
    if (!c->secret_key || !token || strlen(token) >= DEVICE_TOKEN_MAX)
        return 0;
    uint8_t sealed[DEVICE_SEALED_MAX];
    size_t len = 0;
    if (sodium_base642bin(sealed, sizeof sealed, token, strlen(token), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof sealed)
        return 0;
    struct device_plain p;
    int ok = secretkey_open(c->secret_key, sealed, len, (uint8_t *)&p) == 0 &&
             p.version == DEVICE_VERSION && p.username[STORE_NAME_MAX] == '\0' &&
             strcasecmp(p.username, username) == 0;
    if (ok) {
        uint64_t exp = 0;
        for (int i = 0; i < 8; i++)
            exp = (exp << 8) | p.expires_at[i];
        ok = (int64_t)exp > time_now();
    }
    if (ok)
        sodium_bin2hex(id, DEVICE_ID_TEXT, p.id, sizeof p.id);
    sodium_memzero(&p, sizeof p);
    return ok;
}

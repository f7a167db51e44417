/* attempts.c — see attempts.h. */
#include "attempts.h"

#include <stdio.h>
#include <string.h>

#include "../base/timeutil.h"
#include "core_internal.h"
#include "device.h"

/* Usernames are unique without regard to ASCII case, so "Alice" and "alice" share a count. */
static void account_name(const char *username, char *out, size_t cap)
{
    size_t n = snprintf(out, cap, "u:%.*s", STORE_NAME_MAX, username);
    for (size_t i = 2; i < n && i < cap; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
}

static int client_max(const struct core *c)
{
    return c->cfg.login_max_failures * 4;
}

enum err attempt_begin(struct core *c, const char *username, const char *client,
                       const char *device, struct attempt *a, int64_t *retry_after_s)
{
    memset(a, 0, sizeof *a);
    account_name(username ? username : "", a->account, sizeof a->account);
    int64_t now_ms = time_monotonic_ms();
    int max = c->cfg.login_max_failures;
    int64_t wait = 0;
    char id[DEVICE_ID_TEXT];
    if (device && username && device_check(c, device, username, id)) {
        /* a browser that signed in to this account before: counted on its own */
        snprintf(a->device, sizeof a->device, "d:%s", id);
        wait = throttle_reserve(c->login_throttle, a->device, max, now_ms);
    } else {
        struct netaddr addr;
        if (client && netaddr_parse(client, &addr)) {
            char name[NETADDR_TEXT_MAX];
            netaddr_throttle_name(&addr, name);
            snprintf(a->client, sizeof a->client, "c:%s", name);
        }
        wait = throttle_reserve(c->login_throttle, a->account, max, now_ms);
        if (!wait && a->client[0]) {
            wait = throttle_reserve(c->login_throttle, a->client, client_max(c), now_ms);
            if (wait)
                throttle_release(c->login_throttle, a->account, THROTTLE_NEUTRAL, max, now_ms);
        }
    }
    if (wait) {
        if (retry_after_s)
            *retry_after_s = (wait + 999) / 1000;
        return ERR_THROTTLED;
    }
    return ERR_OK;
}

void attempt_end(struct core *c, const struct attempt *a, enum attempt_outcome outcome)
{
    int64_t now_ms = time_monotonic_ms();
    int max = c->cfg.login_max_failures;
    enum throttle_outcome own = outcome == ATTEMPT_FAILED      ? THROTTLE_FAILED
                                : outcome == ATTEMPT_SUCCEEDED ? THROTTLE_SUCCEEDED
                                                               : THROTTLE_NEUTRAL;
    if (a->device[0]) {
        throttle_release(c->login_throttle, a->device, own, max, now_ms);
        if (outcome == ATTEMPT_SUCCEEDED) /* the owner proved the password */
            throttle_clear(c->login_throttle, a->account);
        return;
    }
    if (a->account[0]) /* "" for attempt_begin_client */
        throttle_release(c->login_throttle, a->account, own, max, now_ms);
    if (a->client[0])
        throttle_release(c->login_throttle, a->client,
                         outcome == ATTEMPT_FAILED ? THROTTLE_FAILED : THROTTLE_NEUTRAL,
                         client_max(c), now_ms);
}

enum err attempt_begin_client(struct core *c, const char *client, struct attempt *a,
                              int64_t *retry_after_s)
{
    memset(a, 0, sizeof *a);
    struct netaddr addr;
    if (!client || !netaddr_parse(client, &addr))
        return ERR_OK; /* no address to count under (not over TCP): nothing reserved */
    char name[NETADDR_TEXT_MAX];
    netaddr_throttle_name(&addr, name);
    snprintf(a->client, sizeof a->client, "c:%s", name);
    int64_t wait = throttle_reserve(c->login_throttle, a->client, client_max(c), time_monotonic_ms());
    if (wait) {
        a->client[0] = '\0';
        if (retry_after_s)
            *retry_after_s = (wait + 999) / 1000;
        return ERR_THROTTLED;
    }
    return ERR_OK;
}

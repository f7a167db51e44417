/* attempts.c — see attempts.h. */
#include "attempts.h"

#include <stdio.h>
#include <string.h>

#include "../base/timeutil.h"
#include "core_internal.h"

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
                       struct attempt *a, int64_t *retry_after_s)
{
    memset(a, 0, sizeof *a);
    account_name(username ? username : "", a->account, sizeof a->account);
    struct netaddr addr;
    if (client && netaddr_parse(client, &addr)) {
        char name[NETADDR_TEXT_MAX];
        netaddr_throttle_name(&addr, name);
        snprintf(a->client, sizeof a->client, "c:%s", name);
    }
    int64_t now_ms = time_monotonic_ms();
    int64_t wait = throttle_reserve(c->login_throttle, a->account, c->cfg.login_max_failures,
                                    now_ms);
    if (!wait && a->client[0]) {
        wait = throttle_reserve(c->login_throttle, a->client, client_max(c), now_ms);
        if (wait)
            throttle_release(c->login_throttle, a->account, THROTTLE_NEUTRAL,
                             c->cfg.login_max_failures, now_ms);
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
    enum throttle_outcome account = outcome == ATTEMPT_FAILED      ? THROTTLE_FAILED
                                    : outcome == ATTEMPT_SUCCEEDED ? THROTTLE_SUCCEEDED
                                                                   : THROTTLE_NEUTRAL;
    throttle_release(c->login_throttle, a->account, account, c->cfg.login_max_failures, now_ms);
    if (a->client[0])
        throttle_release(c->login_throttle, a->client,
                         outcome == ATTEMPT_FAILED ? THROTTLE_FAILED : THROTTLE_NEUTRAL,
                         client_max(c), now_ms);
}

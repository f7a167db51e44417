/* verify.c — see verify.h. */
#include "verify.h"

#include <stdio.h>
#include <string.h>

#include "../base/netaddr.h"
#include "../base/timeutil.h"
#include "access.h"
#include "core_internal.h"
#include "sync.h"
#include "telemetry.h"
#include "../base/metrics.h"

static const char *const code_names[] = {
    [VERIFY_VALID] = "VALID",
    [VERIFY_NOT_FOUND] = "NOT_FOUND",
    [VERIFY_EXPIRED] = "EXPIRED",
    [VERIFY_DISABLED] = "DISABLED",
    [VERIFY_INSUFFICIENT_SCOPE] = "INSUFFICIENT_SCOPE",
    [VERIFY_INSUFFICIENT_ROLE] = "INSUFFICIENT_ROLE",
    [VERIFY_RATE_LIMITED] = "RATE_LIMITED",
    [VERIFY_UNAVAILABLE] = "UNAVAILABLE",
};

const char *verify_code_name(enum verify_code code)
{
    return (unsigned)code < sizeof code_names / sizeof code_names[0] ? code_names[code]
                                                                      : "UNAVAILABLE";
}

/* Shape and checksum first, so invented keys cost no hashing; then the index, which records
 * the use (from: the client address, or NULL). */
static int find_key(struct core *c, const char *key, size_t len, int64_t now, const char *from,
                    struct keyindex_view *out)
{
    if (!keyfmt_check(key, len))
        return 0;
    uint8_t hash[KEYFMT_HASH_LEN];
    keyfmt_hash(key, len, hash);
    struct netaddr addr;
    int known = from && netaddr_parse(from, &addr);
    return keyindex_lookup(c->index, hash, now, known ? &addr : NULL, out);
}

/* The decision of verify_key, untimed. */
static void decide(struct core *c, const char *key, size_t len, const char *scope,
                   const char *client, struct verify_result *out, int64_t *retry_after_s)
{
    verify_key_from(c, key, len, scope, client, client, out, retry_after_s);
}

void verify_key_from(struct core *c, const char *key, size_t len, const char *scope,
                     const char *client, const char *from, struct verify_result *out,
                     int64_t *retry_after_s)
{
    memset(out, 0, sizeof *out);
    if (sync_view_stale(c)) { /* never VALID from a view that may have missed a revocation */
        out->code = VERIFY_UNAVAILABLE;
        return;
    }
    out->code = VERIFY_NOT_FOUND;
    int64_t now = time_now();
    /* the key first: a key that exists answers by its own state, whatever the caller's
     * address sent before, so nobody's junk can make someone else's key RATE_LIMITED */
    if (!find_key(c, key, len, now, from, &out->view)) {
        char name[NETADDR_TEXT_MAX];
        struct netaddr addr;
        if (!client || !netaddr_parse(client, &addr))
            return;
        netaddr_throttle_name(&addr, name);
        int64_t now_ms = time_monotonic_ms();
        int64_t wait_ms = throttle_blocked_ms(c->verify_throttle, name, now_ms);
        if (wait_ms > 0) {
            out->code = VERIFY_RATE_LIMITED;
            telemetry_throttled(THROTTLED_VERIFY, client);
            if (retry_after_s)
                *retry_after_s = (wait_ms + 999) / 1000;
            return;
        }
        throttle_fail(c->verify_throttle, name, c->cfg.verify_max_failures, now_ms);
        return;
    }
    out->found = 1;
    if (out->view.expires_at <= now) {
        out->code = VERIFY_EXPIRED;
        return;
    }
    if (out->view.disabled) {
        out->code = VERIFY_DISABLED;
        return;
    }
    if (scope) {
        int bit = scopes_bit(c->scopes, scope);
        if (bit < 0 || !(out->view.scopes & (UINT64_C(1) << bit))) {
            out->code = VERIFY_INSUFFICIENT_SCOPE;
            return;
        }
    }
    out->code = VERIFY_VALID;
}

void verify_key(struct core *c, const char *key, size_t len, const char *scope,
                const char *client, struct verify_result *out, int64_t *retry_after_s)
{
    uint64_t t0 = metrics_now_ns();
    decide(c, key, len, scope, client, out, retry_after_s);
    telemetry_verification(out->code, metrics_now_ns() - t0);
}

void verify_scopes_text(struct core *c, uint64_t mask, const char *sep, char *out, size_t cap)
{
    scopes_mask_to_text(c->scopes, mask, sep, out, cap);
}

void verify_key_in_project(struct core *c, const char *key, size_t len, const char *scope,
                           const char *project, const char *role, const char *client,
                           const char *from, struct verify_result *out, int64_t *retry_after_s)
{
    uint64_t t0 = metrics_now_ns();
    verify_key_from(c, key, len, scope, client, from, out, retry_after_s);
    if (out->code == VERIFY_VALID && project) {
        enum project_role need = project_role_parse(role ? role : "reader");
        char principal[STORE_PRINCIPAL_MAX + 1];
        snprintf(principal, sizeof principal, "%s:%s", out->view.owner_type,
                 out->view.owner_id);
        if (need == ROLE_NONE || access_role(c->access, project, principal, NULL) < need)
            out->code = VERIFY_INSUFFICIENT_ROLE;
    }
    telemetry_verification(out->code, metrics_now_ns() - t0);
}

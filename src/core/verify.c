/* verify.c — see verify.h. */
#include "verify.h"

#include <string.h>

#include "../base/timeutil.h"
#include "core_internal.h"

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

void verify_key(struct core *c, const char *key, size_t len, const char *scope,
                struct verify_result *out)
{
    memset(out, 0, sizeof *out);
    out->code = VERIFY_NOT_FOUND;
    if (!keyfmt_check(key, len))
        return;
    uint8_t hash[KEYFMT_HASH_LEN];
    keyfmt_hash(key, len, hash);
    int64_t now = time_now();
    if (!keyindex_lookup(c->index, hash, now, &out->view))
        return;
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

void verify_scopes_text(struct core *c, uint64_t mask, const char *sep, char *out, size_t cap)
{
    scopes_mask_to_text(c->scopes, mask, sep, out, cap);
}

/* telemetry.c — see telemetry.h. */
#include "telemetry.h"

#include <math.h>
#include <stdatomic.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/timeutil.h"
#include "core_internal.h"
#include "keyindex.h"
#include "sync.h"
#include "users.h"

static const char *const code_labels[] = {
    [VERIFY_VALID] = "code=\"VALID\"",
    [VERIFY_NOT_FOUND] = "code=\"NOT_FOUND\"",
    [VERIFY_EXPIRED] = "code=\"EXPIRED\"",
    [VERIFY_DISABLED] = "code=\"DISABLED\"",
    [VERIFY_INSUFFICIENT_SCOPE] = "code=\"INSUFFICIENT_SCOPE\"",
    [VERIFY_INSUFFICIENT_ROLE] = "code=\"INSUFFICIENT_ROLE\"",
    [VERIFY_RATE_LIMITED] = "code=\"RATE_LIMITED\"",
    [VERIFY_UNAVAILABLE] = "code=\"UNAVAILABLE\"",
};
#define CODES (sizeof code_labels / sizeof code_labels[0])

static const char *const method_names[] = {"password", "ldap", "oidc", "saml"};
static const char *const login_labels[] = {
    "method=\"password\",result=\"success\"", "method=\"password\",result=\"failure\"",
    "method=\"password\",result=\"throttled\"", "method=\"ldap\",result=\"success\"",
    "method=\"ldap\",result=\"failure\"",       "method=\"ldap\",result=\"throttled\"",
    "method=\"oidc\",result=\"success\"",       "method=\"oidc\",result=\"failure\"",
    "method=\"oidc\",result=\"throttled\"",     "method=\"saml\",result=\"success\"",
    "method=\"saml\",result=\"failure\"",       "method=\"saml\",result=\"throttled\"",
};
static const char *const what_names[] = {"login", "verify", "password", "mfa", "connections"};
static const char *const what_labels[] = {"what=\"login\"", "what=\"verify\"",
                                          "what=\"password\"", "what=\"mfa\"",
                                          "what=\"connections\""};

/* 10 µs to 1 s: verification is memory only */
static const uint64_t verify_bounds[] = {10000,   25000,   50000,    100000,   250000,  500000,
                                         1000000, 5000000, 10000000, 100000000, 1000000000};

static unsigned verifications_cell, logins_cell, throttled_cell;
static struct metrics_hist verify_hist;

static double keys_gauge(void *ctx, unsigned i)
{
    (void)i;
    return (double)keyindex_count(((struct core *)ctx)->index);
}

static double view_age(void *ctx, unsigned i)
{
    (void)i;
    struct core *c = ctx;
    int64_t alive = atomic_load(&c->feed_alive_ms);
    if (alive == 0) /* the feed has not been heard yet */
        return NAN;
    return (double)(time_monotonic_ms() - alive) / 1000.0;
}

static const char *const feed_labels[] = {"state=\"loading\"", "state=\"in_step\"",
                                          "state=\"stale\""};

/* A state set: 1 for the feed's state now (loading: no full load yet; stale: silent longer
 * than stale_after_ms, verification answers UNAVAILABLE; in_step: otherwise). */
static double feed_state(void *ctx, unsigned i)
{
    struct core *c = ctx;
    unsigned now = !atomic_load(&c->view_loaded) ? 0 : sync_view_stale(c) ? 2 : 1;
    return now == i ? 1.0 : 0.0;
}

void telemetry_open(struct core *c)
{
    verifications_cell = metrics_counter("apikeyd_verifications_total",
                                         "Key verifications by the code answered.", code_labels,
                                         CODES);
    metrics_histogram("apikeyd_verification_duration_seconds",
                      "Time to decide a verification (in the core, without HTTP).", NULL, 1,
                      verify_bounds, sizeof verify_bounds / sizeof verify_bounds[0], 1e-9,
                      &verify_hist);
    logins_cell = metrics_counter("apikeyd_logins_total", "Sign-ins by method and result.",
                                  login_labels, sizeof login_labels / sizeof login_labels[0]);
    throttled_cell = metrics_counter("apikeyd_throttled_total",
                                     "Requests refused for going too fast, by what was limited.",
                                     what_labels, sizeof what_labels / sizeof what_labels[0]);
    metrics_gauge("apikeyd_keys", "API keys in this node's index.", "gauge", NULL, 1, keys_gauge,
                  c);
    if (c->feed_required) {
        metrics_gauge("apikeyd_view_age_seconds",
                      "Seconds since the change feed last proved the view current (PostgreSQL).",
                      "gauge", NULL, 1, view_age, c);
        metrics_gauge("apikeyd_change_feed_state",
                      "The change feed's state (PostgreSQL): 1 for the current one.", "gauge",
                      feed_labels, 3, feed_state, c);
    }
}

void telemetry_close(struct core *c)
{
    metrics_gauge_forget(c);
}

void telemetry_verification(enum verify_code code, uint64_t ns)
{
    if ((unsigned)code < CODES)
        metrics_add(verifications_cell + (unsigned)code, 1);
    metrics_observe(&verify_hist, 0, ns);
}

void telemetry_login(enum login_method method, enum login_outcome result, const char *username,
                     const char *client)
{
    metrics_add(logins_cell + (unsigned)method * 3 + (unsigned)result, 1);
    if (result == LOGIN_SUCCESS)
        return;
    if (result == LOGIN_THROTTLED)
        metrics_add(throttled_cell + THROTTLED_LOGIN, 1);
    struct log_field f[] = {
        {"event", result == LOGIN_FAILURE ? "login_failed" : "login_throttled", 0},
        {"method", method_names[method], 0},
        {"user", username && users_name_valid(username) ? username : "(invalid)", 0},
        {"client", client && *client ? client : "-", 0},
    };
    log_event(LOG_WARN, result == LOGIN_FAILURE ? "sign-in failed" : "sign-in throttled", f,
              sizeof f / sizeof f[0]);
}

void telemetry_throttled(enum throttled_what what, const char *client)
{
    metrics_add(throttled_cell + (unsigned)what, 1);
    /* a flood must not become a flood of lines: per thread and kind, one a second, with the
     * number left out since the last */
    static __thread int64_t last_s[5];
    static __thread long long skipped[5];
    int64_t now = time_monotonic_ms() / 1000;
    if (last_s[what] == now) {
        skipped[what]++;
        return;
    }
    last_s[what] = now;
    struct log_field f[] = {
        {"event", "throttled", 0},
        {"what", what_names[what], 0},
        {"client", client && *client ? client : "-", 0},
        {"not_logged_before", NULL, skipped[what]},
    };
    skipped[what] = 0;
    log_event(LOG_WARN, "request throttled", f, sizeof f / sizeof f[0]);
}

void telemetry_security(const char *event, const char *who, const char *client,
                        const char *reason)
{
    struct log_field f[] = {
        {"event", event, 0},
        {"actor", who && *who ? who : "-", 0},
        {"client", client && *client ? client : "-", 0},
        {"reason", reason ? reason : "-", 0},
    };
    log_event(LOG_WARN, "security event", f, sizeof f / sizeof f[0]);
}

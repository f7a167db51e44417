/* core.h — the rules of apikeyd, with no HTTP and no SQL: configuration, start-up and
 * shut-down of the core, and the caller that every operation is done on behalf of.
 * The operations themselves are in auth.h, keys.h, verify.h, users.h, catalog.h, roles.h,
 * groups.h, mfa.h and audit.h. */
#ifndef APIKEYD_CORE_H
#define APIKEYD_CORE_H

#include <stdint.h>

#include "../base/err.h"
#include "../store/store.h"
#include "keyfmt.h"
#include "oidc_config.h"
#include "saml_config.h"
#include "ldap_settings.h"
#include "mail_settings.h"

struct core_config {
    char key_prefix[KEYFMT_PREFIX_MAX + 1]; /* default "apk" */
    int login_max_failures;                 /* per account; per client it is 4x */
    int login_backoff_seconds;
    int verify_max_failures; /* failed verifications per client before RATE_LIMITED */
    int session_ttl_seconds;
    int session_idle_seconds; /* a session unused this long ends (besides its lifetime) */
    int max_keys_per_owner;
    int max_projects_per_user;     /* projects (top-level and sub) one person creates */
    int max_accounts_per_project;  /* API accounts in one project */
    int max_site_wide_accounts;    /* API accounts without a project */
    int max_sessions_per_user;
    int usage_flush_ms; /* how often last_used times are written */
    char secret_key_file[1024]; /* server key that encrypts MFA secrets ("" = none) */
    struct ldap_settings ldap;  /* directory sign-in (ldap_settings.h); off without a URL */
    int stale_after_ms; /* with a shared store: feed silent this long -> UNAVAILABLE */
    struct oidc_config oidc; /* OpenID Connect sign-in (oidc_config.h); off by default */
    struct saml_config saml; /* SAML 2.0 sign-in (saml_config.h); off by default */
    char github_scanning_keys_file[1024]; /* GitHub's secret scanning keys ("" = endpoint off) */
    int revoke_max_requests; /* POST /v1/keys/revoke per client before a block (throttle.h),
                                and refused POST /v1/leaks/github reports likewise */
    struct mail_settings mail; /* SMTP and expiry notices (mail_settings.h); mail off */
    /* webhooks (webhooks.h, webhook_delivery.c) */
    int webhook_allow_private; /* 1: targets in loopback/private ranges allowed (tests) */
    int webhook_retry_base_ms; /* the first retry's delay; each next one 4x, capped at 360x */
    int webhook_poll_ms;       /* how often the delivery thread looks for due messages */
    int webhook_timeout_ms;    /* one delivery's time limit */
    /* retention (retention.h) */
    int retention_days;         /* rotated-out keys, finished notices and leak mail: kept this long */
    int retention_unit_seconds; /* the length of a retention "day" (tests set 1) */
};

/* Fills the defaults documented in docs/API.md. */
void core_config_defaults(struct core_config *cfg);

struct core;

/* Who is asking: a portal session or an API key, and what it may do. */
enum caller_kind { CALLER_SESSION = 1, CALLER_KEY = 2 };

struct caller {
    enum caller_kind kind;
    char username[STORE_NAME_MAX + 1]; /* the person acting */
    char owner_type[24];               /* the principal whose keys are "own" */
    char owner_id[STORE_NAME_MAX + 1];
    uint32_t authorities; /* enum authority bits of the person, through roles and groups */
    int holds_admin;      /* the person holds the built-in admin role (directly or by group) */
    char client[64];      /* the client's address, for throttling and the audit trail */
    uint64_t scopes;    /* CALLER_KEY: the scopes the key holds */
    int64_t expires_at; /* CALLER_KEY: when the key expires */
    char key_id[STORE_ID_LEN + 1];
    uint8_t session_hash[STORE_HASH_LEN]; /* CALLER_SESSION */
    uint8_t csrf_hash[STORE_HASH_LEN];    /* CALLER_SESSION */
};

/* Opens the core on an opened store (which it does not own): loads the server key and the
 * scope catalogue, builds the key index from the store (disabled users' keys marked), starts
 * the last-used writer. Sets *out. */
enum err core_open(const struct core_config *cfg, struct store *st, struct core **out);

/* Whether this node should get traffic: ERR_OK, or ERR_UNAVAILABLE with *why saying what is
 * wrong (its view of the keys may be stale, or the store cannot take writes). */
enum err core_ready(struct core *c, const char **why);

/* Stops the writer after a final flush of last-used times, and frees the core. */
void core_close(struct core *c);

/* Writes queued last-used times now (also done every usage_flush_ms). */
void core_flush_usage(struct core *c);

/* Number of keys in the verification index. */
size_t core_key_count(struct core *c);

#endif

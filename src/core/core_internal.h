/* core_internal.h — the struct core shared by the files of src/core; not for other layers. */
#ifndef APIKEYD_CORE_INTERNAL_H
#define APIKEYD_CORE_INTERNAL_H

#include <pthread.h>

#include "core.h"
#include "access.h"
#include "keyindex.h"
#include "scopes.h"
#include "secretkey.h"
#include "throttle.h"

struct core {
    struct core_config cfg;
    struct store *store;
    struct scopes *scopes;
    struct keyindex *index;
    struct access *access; /* project roles, for verification by project */
    struct throttle *login_throttle;
    struct secretkey *secret_key; /* NULL when none is configured: MFA unavailable */
    struct throttle *verify_throttle; /* failed verifications per client */
    struct oidc_provider *oidc; /* NULL when OpenID Connect is off (oidc_provider.h) */
    struct saml_sp *saml;       /* NULL when SAML is off (saml_sp.h) */
    struct directory *directory; /* LDAP sign-in (directory.h); NULL when off */
    struct ldap_sync *ldap_sync;  /* its sync thread (ldap_sync.h); NULL when not running */
    struct scanning_keys *scanning_keys; /* GitHub's keys (scanning_keys.h); NULL: off */
    struct revoker *revoker;             /* POST /v1/keys/revoke's queue (revoker.h) */
    struct throttle *revoke_throttle;    /* POST /v1/keys/revoke requests per client */
    struct throttle *github_throttle;    /* unsigned POST /v1/leaks/github reports per client */
    struct mailer *mailer;        /* outgoing mail (mailer.h); NULL when smtp_url is not set */
    struct notices *notices;      /* the expiry notice thread (notices.h); NULL when off */
    struct webhook_delivery *webhooks; /* the delivery thread (webhook_delivery.h) */

    pthread_t usage_thread;
    pthread_mutex_t usage_lock;
    pthread_cond_t usage_wake;
    int usage_stop;
    int usage_started;
    int oath_started;

    /* sync.c: the view's freshness when several nodes share the store */
    int feed_required, feed_started;
    _Atomic int view_loaded;
    _Atomic int64_t feed_alive_ms;
};

/* Index view of a stored key (scopes resolved to bits of the catalogue). */
void core_view_of_record(struct core *c, const struct key_record *k, struct keyindex_view *out);

#endif

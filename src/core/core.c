/* core.c — start-up (catalogue, key index), the last-used writer thread (which also runs
 * retention.c's rounds), shut-down. */
#include "core_internal.h"
#include "telemetry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>

#include "../base/fetch.h"
#include "../base/log.h"
#include "accounts.h"
#include "oidc_provider.h"
#include "saml_sp.h"
#include "directory.h"
#include "ldap_sync.h"
#include "leaks.h"
#include "retention.h"
#include "revoker.h"
#include "scanning_keys.h"
#include "mailer.h"
#include "notices.h"
#include "sync.h"
#include "webhook_delivery.h"


void core_config_defaults(struct core_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->key_prefix, sizeof cfg->key_prefix, "apk");
    cfg->login_max_failures = 5;
    cfg->login_backoff_seconds = 30;
    cfg->verify_max_failures = 100;
    cfg->session_ttl_seconds = 8 * 3600;
    cfg->session_idle_seconds = 1800;
    cfg->max_keys_per_owner = 1000;
    cfg->max_projects_per_user = 100;
    cfg->max_accounts_per_project = 100;
    cfg->max_site_wide_accounts = ACCOUNTS_MAX;
    cfg->max_sessions_per_user = 50;
    cfg->usage_flush_ms = 1000;
    cfg->stale_after_ms = 5000;
    cfg->revoke_max_requests = 10;
    cfg->webhook_retry_base_ms = 60000;
    cfg->webhook_poll_ms = 1000;
    cfg->webhook_timeout_ms = 10000;
    cfg->retention_days = 90;
    cfg->retention_unit_seconds = 86400;
    oidc_config_defaults(&cfg->oidc);
    saml_config_defaults(&cfg->saml);
    ldap_settings_defaults(&cfg->ldap);
    mail_settings_defaults(&cfg->mail);
}

void core_view_of_record(struct core *c, const struct key_record *k, struct keyindex_view *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, k->id, sizeof out->id);
    memcpy(out->owner_type, k->owner_type, sizeof out->owner_type);
    memcpy(out->owner_id, k->owner_id, sizeof out->owner_id);
    memcpy(out->created_by, k->created_by, sizeof out->created_by);
    out->scopes = scopes_mask_from_csv(c->scopes, k->scopes);
    out->expires_at = k->expires_at;
}

void core_flush_usage(struct core *c)
{
    struct key_touch batch[256];
    size_t n;
    while ((n = keyindex_drain_touches(c->index, batch, sizeof batch / sizeof batch[0])) > 0) {
        if (c->store->ops->key_touch(c->store, batch, n) != ERR_OK)
            log_warn("usage: could not record last use of %zu keys", n);
    }
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The last-used writer; also runs retention's rounds (retention.h), the first one a
 * retention "day" after start. */
static void *usage_main(void *arg)
{
    struct core *c = arg;
    int64_t pruned_at = monotonic_ms(), every = retention_every_ms(&c->cfg);
    pthread_mutex_lock(&c->usage_lock);
    while (!c->usage_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)c->cfg.usage_flush_ms * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&c->usage_wake, &c->usage_lock, &until);
        pthread_mutex_unlock(&c->usage_lock);
        core_flush_usage(c);
        if (monotonic_ms() - pruned_at >= every) {
            pruned_at = monotonic_ms();
            retention_round(c);
        }
        pthread_mutex_lock(&c->usage_lock);
    }
    pthread_mutex_unlock(&c->usage_lock);
    return NULL;
}

/* OpenID Connect needs the server key (its flow cookie is sealed with it) and the client
 * secret; the provider itself is asked only when someone signs in. */
static enum err core_open_oidc(struct core *c)
{
    if (!c->secret_key) {
        log_error("oidc_issuer is set but there is no server key (secret_key_file)");
        return ERR_INVALID;
    }
    fetch_global_init();
    return oidc_provider_open(&c->cfg.oidc, &c->oidc);
}

enum err core_open(const struct core_config *cfg, struct store *st, struct core **out)
{
    struct core *c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->cfg = *cfg;
    c->store = st;
    pthread_mutex_init(&c->usage_lock, NULL);
    pthread_cond_init(&c->usage_wake, NULL);
    enum err e = ERR_OK;
    if (cfg->secret_key_file[0] && (e = secretkey_load(cfg->secret_key_file, &c->secret_key)))
        goto fail;
    if (cfg->oidc.issuer[0] && (e = core_open_oidc(c)))
        goto fail;
    if (cfg->saml.idp_metadata_file[0] &&
        (e = saml_sp_open(&cfg->saml, cfg->oidc.public_url, &c->saml)))
        goto fail;
    if (oath_init() != OATH_OK) {
        e = ERR_INTERNAL;
        goto fail;
    }
    c->oath_started = 1;
    if ((e = scopes_load(st, &c->scopes)))
        goto fail;
    c->index = keyindex_new();
    c->login_throttle = throttle_new(16384, (int64_t)cfg->login_backoff_seconds * 1000);
    c->verify_throttle = throttle_new(65536, (int64_t)cfg->login_backoff_seconds * 1000);
    c->revoke_throttle = throttle_new(16384, (int64_t)cfg->login_backoff_seconds * 1000);
    c->github_throttle = throttle_new(16384, (int64_t)cfg->login_backoff_seconds * 1000);
    if (!c->index || !c->login_throttle || !c->verify_throttle || !c->revoke_throttle ||
        !c->github_throttle) {
        e = ERR_NOMEM;
        goto fail;
    }
    if ((e = access_load(st, &c->access)) || (e = sync_start(c, 10000)))
        goto fail;
    if ((e = directory_open(&cfg->ldap, &c->directory)) || (e = ldap_sync_start(c)))
        goto fail;
    if ((e = leaks_open(c)) || (e = revoker_start(c, &c->revoker)))
        goto fail;
    if (pthread_create(&c->usage_thread, NULL, usage_main, c) != 0) {
        e = ERR_INTERNAL;
        goto fail;
    }
    c->usage_started = 1;
    telemetry_open(c);
    if ((e = mailer_open(&cfg->mail, &c->mailer)) || (e = notices_start(c)) ||
        (e = webhook_delivery_start(c)))
        goto fail;
    log_info("core: %zu keys indexed", keyindex_count(c->index));
    *out = c;
    return ERR_OK;
fail:
    core_close(c);
    return e;
}

void core_close(struct core *c)
{
    if (!c)
        return;
    webhook_delivery_stop(c);
    revoker_stop(c->revoker); /* the queued revocations are made first */
    notices_stop(c);
    mailer_free(c->mailer);
    telemetry_close(c);
    ldap_sync_stop(c);
    directory_close(c->directory);
    sync_stop(c);
    if (c->usage_started) {
        pthread_mutex_lock(&c->usage_lock);
        c->usage_stop = 1;
        pthread_cond_signal(&c->usage_wake);
        pthread_mutex_unlock(&c->usage_lock);
        pthread_join(c->usage_thread, NULL);
    }
    if (c->index)
        core_flush_usage(c);
    keyindex_free(c->index);
    access_free(c->access);
    throttle_free(c->login_throttle);
    throttle_free(c->verify_throttle);
    throttle_free(c->revoke_throttle);
    throttle_free(c->github_throttle);
    scanning_keys_free(c->scanning_keys);
    scopes_free(c->scopes);
    secretkey_free(c->secret_key);
    oidc_provider_free(c->oidc);
    saml_sp_free(c->saml);
    if (c->oath_started)
        oath_done();
    pthread_cond_destroy(&c->usage_wake);
    pthread_mutex_destroy(&c->usage_lock);
    free(c);
}

size_t core_key_count(struct core *c)
{
    return keyindex_count(c->index);
}

enum err core_ready(struct core *c, const char **why)
{
    if (sync_view_stale(c)) {
        *why = "this node cannot be sure its view of the keys is current";
        return ERR_UNAVAILABLE;
    }
    if (c->store->ops->check_writable(c->store) != ERR_OK) {
        *why = "the store cannot take writes now";
        return ERR_UNAVAILABLE;
    }
    return ERR_OK;
}

/* webhook_delivery.c — see webhook_delivery.h. */
#include "webhook_delivery.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/fetch.h"
#include "../base/log.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "webhook_payload.h"
#include "webhook_target.h"
#include "webhooks.h"

#define PRUNE_EVERY_MS (10 * 60 * 1000)
#define KEEP_MS (7LL * 86400 * 1000) /* attempts and finished messages are kept a week */

struct webhook_delivery {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stop;
    int64_t pruned_at;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t webhook_retry_delay_ms(int64_t base_ms, int n)
{
    int64_t d = base_ms;
    for (int i = 1; i < n && d < base_ms * 360; i++)
        d *= 4;
    return d < base_ms * 360 ? d : base_ms * 360;
}

static int address_ok(const struct sockaddr *sa, void *ctx)
{
    struct core *c = ctx;
    return c->cfg.webhook_allow_private || !webhook_addr_refused(sa);
}

/* 410 Gone: the receiver says the endpoint is no more; it is disabled, audited. */
static void disable_gone(struct core *c, const char *id)
{
    struct webhook_record *w = malloc(sizeof *w);
    if (!w)
        return;
    enum err e = c->store->ops->webhook_get(c->store, id, w);
    webhooks_wipe(w);
    if (!e && w->enabled) {
        w->enabled = 0;
        if (!(e = audit_begin(c)))
            e = audit_end_as(c, c->store->ops->webhook_update(c->store, w), SYSTEM_ACTOR, "",
                             "webhook.disable", "webhook", id, "the endpoint answered 410 Gone");
        if (e)
            log_warn("webhooks: could not disable %s after 410 Gone: %s", id, err_title(e));
        else
            log_info("webhooks: %s disabled: the endpoint answered 410 Gone", id);
    }
    free(w);
}

/* Sends m once; fills a (status or error, duration). Returns the HTTP status (0: none). */
static long send_once(struct core *c, const struct webhook_record *w,
                      const struct webhook_message *m, struct webhook_attempt *a)
{
    uint8_t key[WEBHOOK_SECRET_RAW];
    if (w->secret_len != sizeof key + SECRETKEY_OVERHEAD || !c->secret_key ||
        secretkey_open(c->secret_key, w->secret, w->secret_len, key) != 0) {
        snprintf(a->error, sizeof a->error, "the signing secret cannot be opened with this"
                                            " node's server key");
        return 0;
    }
    char *body = webhook_payload(m);
    if (!body) {
        sodium_memzero(key, sizeof key);
        snprintf(a->error, sizeof a->error, "out of memory");
        return 0;
    }
    const char *why = "";
    struct webhook_target t;
    enum err e = webhook_target_resolve(w->url, c->cfg.webhook_allow_private, &t, &why);
    long status = 0;
    if (e) {
        snprintf(a->error, sizeof a->error, "the URL %s", why);
    } else {
        char msg_id[32], hid[64], hts[64], hsig[32 + WEBHOOK_SIGNATURE_MAX];
        char sig[WEBHOOK_SIGNATURE_MAX];
        int64_t ts = time_now();
        snprintf(msg_id, sizeof msg_id, "msg_%lld", (long long)m->id);
        webhook_sign(key, sizeof key, msg_id, ts, body, strlen(body), sig);
        snprintf(hid, sizeof hid, "webhook-id: %s", msg_id);
        snprintf(hts, sizeof hts, "webhook-timestamp: %lld", (long long)ts);
        snprintf(hsig, sizeof hsig, "webhook-signature: %s", sig);
        const char *headers[] = {"Content-Type: application/json", hid, hts, hsig, "Expect:",
                                 NULL};
        struct fetch_post p = {.url = w->url,
                               .pin = t.pin[0] ? t.pin : NULL,
                               .headers = headers,
                               .body = body,
                               .len = strlen(body),
                               .timeout_ms = c->cfg.webhook_timeout_ms,
                               .address_ok = address_ok,
                               .ctx = c};
        if (fetch_post(&p, &status, a->error, sizeof a->error) != ERR_OK)
            status = 0;
    }
    sodium_memzero(key, sizeof key);
    free(body);
    return status;
}

int webhook_delivery_round(struct core *c)
{
    struct webhook_message *m = calloc(1, sizeof *m);
    struct webhook_record *w = calloc(1, sizeof *w);
    if (!m || !w) {
        free(m);
        free(w);
        return 0;
    }
    uint8_t token[16];
    char claim[33];
    randombytes_buf(token, sizeof token);
    sodium_bin2hex(claim, sizeof claim, token, sizeof token);
    int64_t lease = (int64_t)c->cfg.webhook_timeout_ms + 30000;
    enum err e = c->store->ops->webhook_claim(c->store, wall_ms(), lease, claim, m);
    int done = 0;
    if (!e && c->store->ops->webhook_get(c->store, m->webhook_id, w) == ERR_OK) {
        struct webhook_attempt a = {.message_id = m->id};
        snprintf(a.action, sizeof a.action, "%s", m->action);
        a.at_ms = wall_ms();
        int64_t started = time_monotonic_ms();
        long status = send_once(c, w, m, &a);
        a.duration_ms = time_monotonic_ms() - started;
        a.status = (int)status;
        if (status >= 200 && status < 300) {
            snprintf(a.state, sizeof a.state, "delivered");
        } else if (status == 410 || m->attempts + 1 >= WEBHOOK_MAX_ATTEMPTS) {
            snprintf(a.state, sizeof a.state, "failed");
        } else {
            snprintf(a.state, sizeof a.state, "pending");
            a.next_at_ms = wall_ms() + webhook_retry_delay_ms(c->cfg.webhook_retry_base_ms,
                                                              m->attempts + 1);
        }
        if (c->store->ops->webhook_attempt_record(c->store, m, &a) != ERR_OK)
            log_warn("webhooks: could not record an attempt of message %lld",
                     (long long)m->id);
        if (status == 410)
            disable_gone(c, m->webhook_id);
        done = 1;
    }
    if (w)
        webhooks_wipe(w);
    free(w);
    free(m);
    return done;
}

static void *delivery_main(void *arg)
{
    struct core *c = arg;
    struct webhook_delivery *d = c->webhooks;
    d->pruned_at = wall_ms(); /* the first prune a while after start, not with it */
    while (!atomic_load(&d->stop)) {
        if (webhook_delivery_round(c))
            continue; /* more may be due */
        int64_t now = wall_ms();
        if (now - d->pruned_at > PRUNE_EVERY_MS) {
            d->pruned_at = now;
            c->store->ops->webhook_prune(c->store, now - KEEP_MS);
        }
        pthread_mutex_lock(&d->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)c->cfg.webhook_poll_ms * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        if (!atomic_load(&d->stop))
            pthread_cond_timedwait(&d->wake, &d->lock, &until);
        pthread_mutex_unlock(&d->lock);
    }
    return NULL;
}

enum err webhook_delivery_start(struct core *c)
{
    struct webhook_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return ERR_NOMEM;
    fetch_global_init();
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    c->webhooks = d;
    if (pthread_create(&d->thread, NULL, delivery_main, c) != 0) {
        c->webhooks = NULL;
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->lock);
        free(d);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

void webhook_delivery_stop(struct core *c)
{
    struct webhook_delivery *d = c->webhooks;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    atomic_store(&d->stop, 1);
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
    c->webhooks = NULL;
}

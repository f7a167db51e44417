/* notices.c — see notices.h. */
#include "notices.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "audit.h"
#include "core_internal.h"
#include "leak_mail.h"
#include "mailer.h"
#include "notify.h"

#define ROUND_MAX 256             /* notices claimed or retried per round; the rest next round */
#define GIVE_UP_SECONDS 86400     /* a notice unsent a day after its claim is given up */
#define RETRY_MAX_SECONDS 3600

struct notices {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic int stop;
    int kick; /* a round is wanted now (notices_wake), under lock */
};

int notices_due(const struct mail_settings *s, int64_t now, int64_t created_at,
                int64_t expires_at, int notified)
{
    int64_t left = expires_at - now, unit = s->notice_unit_seconds;
    int t = -1;
    if (s->notice_day_count == 0)
        return -1;
    if (left <= 0) {
        t = 0;
    } else {
        for (size_t i = s->notice_day_count; i-- > 0;)
            if (left <= (int64_t)s->notice_days[i] * unit) {
                t = s->notice_days[i];
                break;
            }
        if (t < 0 || expires_at - created_at <= (int64_t)t * unit)
            return -1; /* not near yet, or created inside this window */
    }
    return notified >= 0 && notified <= t ? -1 : t;
}

/* A notice to claim or retry, with what its mail needs. */
struct item {
    char key_id[STORE_ID_LEN + 1];
    int threshold;
    int attempts;
    int64_t claimed_at, next_try_at;
};

struct items {
    struct core *c;
    int64_t now;
    struct item list[ROUND_MAX];
    size_t count;
};

static int due_key(void *ctx, const struct key_record *k, int notified)
{
    struct items *it = ctx;
    int t = notices_due(&it->c->cfg.mail, it->now, k->created_at, k->expires_at, notified);
    if (t < 0)
        return 0;
    struct item *i = &it->list[it->count++];
    memset(i, 0, sizeof *i);
    snprintf(i->key_id, sizeof i->key_id, "%s", k->id);
    i->threshold = t;
    return it->count == ROUND_MAX;
}

static int pending(void *ctx, const struct notice_record *n)
{
    struct items *it = ctx;
    struct item *i = &it->list[it->count++];
    snprintf(i->key_id, sizeof i->key_id, "%s", n->key_id);
    i->threshold = n->threshold;
    i->attempts = n->attempts;
    i->claimed_at = n->claimed_at;
    i->next_try_at = n->next_try_at;
    return it->count == ROUND_MAX;
}

int64_t notices_lease_until(const struct core *c, int64_t now)
{
    return now + 10 * (int64_t)c->cfg.mail.smtp_timeout_seconds + 60;
}

int64_t notices_retry_at(const struct core *c, int attempts, int64_t first_at, int64_t now)
{
    if (now - first_at >= GIVE_UP_SECONDS)
        return -1;
    int64_t wait = c->cfg.mail.notice_retry_seconds;
    for (int i = 1; i < attempts && wait < RETRY_MAX_SECONDS; i++)
        wait *= 2;
    if (wait > RETRY_MAX_SECONDS)
        wait = RETRY_MAX_SECONDS;
    return now + wait;
}

int notices_stopping(const struct core *c)
{
    return c->notices && atomic_load(&c->notices->stop);
}

void notices_wake(struct core *c)
{
    struct notices *n = c->notices;
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    n->kick = 1;
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
}

static void when_text(int threshold, char *out, size_t cap)
{
    if (threshold == 0)
        snprintf(out, cap, "expired");
    else
        snprintf(out, cap, "%d day%s", threshold, threshold == 1 ? "" : "s");
}

/* The mail of one notice to one person. */
struct mail_job {
    struct core *c;
    const struct key_record *k;
    const char *account_name; /* "" for a person's key */
    const struct item *item;
    int64_t now;
    int failed; /* a send failed for a reason worth a retry */
};

static int mail_one(void *ctx, const struct notify_person *p)
{
    struct mail_job *j = ctx;
    struct core *c = j->c;
    if (c->notices && atomic_load(&c->notices->stop)) {
        j->failed = 1;
        return 1;
    }
    enum err e = c->store->ops->notice_mail_has(c->store, j->k->id, j->item->threshold,
                                                p->username);
    if (e == ERR_OK)
        return 0; /* mailed on an earlier attempt */
    if (e != ERR_NOT_FOUND) {
        j->failed = 1;
        return 1;
    }
    char when[32], expires[TIME_RFC3339_LEN], subject[MAIL_SUBJECT_MAX + 1];
    char *body = malloc(8192);
    if (!body) {
        j->failed = 1;
        return 1;
    }
    when_text(j->item->threshold, when, sizeof when);
    time_format_rfc3339(j->k->expires_at, expires);
    char whose[STORE_KEY_NAME_BYTES + 64];
    if (j->account_name[0])
        snprintf(whose, sizeof whose, " of the API account \"%s\"", j->account_name);
    else
        whose[0] = '\0';
    if (j->item->threshold)
        snprintf(subject, sizeof subject, "API key \"%s\"%s expires in %s", j->k->name, whose,
                 when);
    else
        snprintf(subject, sizeof subject, "API key \"%s\"%s has expired", j->k->name, whose);
    snprintf(body, 8192,
             "Hello %s,\n\n"
             "the API key \"%s\"%s (hint %s, id %s) %s %s%s%s.\n\n"
             "%s\n\n"
             "-- \n"
             "apikeyd: an automatic notice to the owners of this key.\n",
             p->full_name[0] ? p->full_name : p->username, j->k->name, whose, j->k->hint,
             j->k->id, j->item->threshold ? "expires on" : "expired on", expires,
             j->item->threshold ? ", in " : "", j->item->threshold ? when : "",
             j->item->threshold
                 ? "After that it is refused. Create a new key and switch to it before then,\n"
                   "or delete this key if it is no longer needed."
                 : "It is refused from now on. Create a new key if it is still needed.");
    e = notify_send(c, p, subject, body);
    free(body);
    if (e == ERR_OK) {
        if (c->store->ops->notice_mail_record(c->store, j->k->id, j->item->threshold,
                                              p->username, j->now) != ERR_OK)
            log_warn("notice: key %s: could not record that %s was mailed (a retry may mail "
                     "them again)", j->k->id, p->username);
        log_info("notice: mailed %s about key %s (%s)", p->username, j->k->id, when);
    } else if (e == ERR_INVALID) {
        log_warn("notice: %s's address or the key's name cannot be mailed (key %s); skipped",
                 p->username, j->k->id);
    } else {
        j->failed = 1;
        return 1;
    }
    return 0;
}

/* Mails a claimed (or taken) notice and records the outcome. */
static void deliver(struct core *c, const struct item *item, int64_t now)
{
    struct key_record *k = malloc(sizeof *k);
    struct account_record *a = malloc(sizeof *a);
    if (!k || !a) {
        free(k);
        free(a);
        return;
    }
    enum err e = c->store->ops->key_get(c->store, item->key_id, k);
    if (e) { /* deleted meanwhile (its notices went with it), or the store is down */
        free(k);
        free(a);
        return;
    }
    a->name[0] = '\0';
    if (strcmp(k->owner_type, "service-account") == 0 &&
        c->store->ops->account_get(c->store, k->owner_id, a) != ERR_OK)
        snprintf(a->name, sizeof a->name, "%s", k->owner_id);
    struct mail_job j = {.c = c, .k = k, .account_name = a->name, .item = item, .now = now};
    if (!c->mailer) {
        log_info("notice: key %s: no mail sent (smtp_url is not set)", k->id);
    } else if (notify_key_people(c, k, mail_one, &j) != ERR_OK) {
        j.failed = 1;
    }
    int attempts = item->attempts + 1;
    int64_t next = notices_retry_at(c, attempts, item->claimed_at, now);
    if (!j.failed) {
        e = c->store->ops->notice_update(c->store, k->id, item->threshold, "done", 0, attempts,
                                         now);
    } else if (next < 0) {
        log_warn("notice: key %s: given up after %d attempts", k->id, attempts);
        e = c->store->ops->notice_update(c->store, k->id, item->threshold, "failed", 0, attempts,
                                         now);
    } else {
        e = c->store->ops->notice_update(c->store, k->id, item->threshold, "pending", next,
                                         attempts, now);
        log_info("notice: key %s: mail not sent, next try in %lld s", k->id,
                 (long long)(next - now));
    }
    if (e && e != ERR_NOT_FOUND) /* NOT_FOUND: superseded or its key deleted meanwhile */
        log_warn("notice: key %s: could not record the outcome: %s", k->id, err_title(e));
    free(k);
    free(a);
}

int notices_round(struct core *c)
{
    struct items *it = calloc(1, sizeof *it);
    if (!it)
        return 0;
    int claimed = 0;
    const struct mail_settings *s = &c->cfg.mail;
    if (s->notice_day_count == 0) { /* expiry notices off (the thread sends leak mail) */
        free(it);
        return 0;
    }
    it->c = c;
    it->now = time_now();
    int64_t unit = s->notice_unit_seconds;
    int64_t horizon = s->notice_day_count ? (int64_t)s->notice_days[0] * unit : 0;
    if (c->store->ops->notice_keys_each(c->store, it->now + horizon, it->now - 7 * unit, due_key,
                                        it) != ERR_OK)
        it->count = 0;
    for (size_t i = 0; i < it->count; i++) {
        if (c->notices && atomic_load(&c->notices->stop))
            break;
        struct item *item = &it->list[i];
        char detail[32];
        when_text(item->threshold, detail, sizeof detail);
        int64_t now = time_now();
        enum err e = audit_begin(c);
        if (!e)
            e = audit_end_as(c,
                             c->store->ops->notice_claim(c->store, item->key_id, item->threshold,
                                                         now, notices_lease_until(c, now)),
                             SYSTEM_ACTOR, "", item->threshold ? "key.expiring" : "key.expired",
                             "key", item->key_id, detail);
        if (e == ERR_CONFLICT)
            continue; /* another node claimed it, or the key is gone */
        if (e) {
            log_warn("notice: key %s: could not claim the %s notice: %s", item->key_id, detail,
                     err_title(e));
            continue;
        }
        claimed++;
        item->claimed_at = now;
        deliver(c, item, now);
    }
    /* retries of notices whose mail did not go out */
    it->count = 0;
    it->now = time_now();
    if (c->store->ops->notice_pending_each(c->store, it->now, pending, it) != ERR_OK)
        it->count = 0;
    for (size_t i = 0; i < it->count; i++) {
        if (c->notices && atomic_load(&c->notices->stop))
            break;
        struct item *item = &it->list[i];
        int64_t now = time_now();
        if (c->store->ops->notice_take(c->store, item->key_id, item->threshold,
                                       item->next_try_at, notices_lease_until(c, now)) == ERR_OK)
            deliver(c, item, now);
    }
    free(it);
    return claimed;
}

static void *notices_main(void *arg)
{
    struct core *c = arg;
    struct notices *n = c->notices;
    int every = c->cfg.mail.notice_scan_ms;
    pthread_mutex_lock(&n->lock);
    while (!atomic_load(&n->stop)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)every * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!atomic_load(&n->stop) && !n->kick &&
               pthread_cond_timedwait(&n->wake, &n->lock, &until) == 0)
            ;
        if (atomic_load(&n->stop))
            break;
        n->kick = 0;
        pthread_mutex_unlock(&n->lock);
        notices_round(c);
        leak_mail_round(c);
        pthread_mutex_lock(&n->lock);
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

enum err notices_start(struct core *c)
{
    if (c->cfg.mail.notice_day_count == 0 && !c->mailer)
        return ERR_OK; /* nothing to send: no expiry notices, no mail */
    struct notices *n = calloc(1, sizeof *n);
    if (!n)
        return ERR_NOMEM;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->wake, NULL);
    c->notices = n;
    if (pthread_create(&n->thread, NULL, notices_main, c) != 0) {
        c->notices = NULL;
        pthread_cond_destroy(&n->wake);
        pthread_mutex_destroy(&n->lock);
        free(n);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

void notices_stop(struct core *c)
{
    struct notices *n = c->notices;
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    atomic_store(&n->stop, 1);
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    mailer_cancel(c->mailer);
    pthread_join(n->thread, NULL);
    pthread_cond_destroy(&n->wake);
    pthread_mutex_destroy(&n->lock);
    free(n);
    c->notices = NULL;
}

/* leak_mail.c — see leak_mail.h. */
#include "leak_mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "core_internal.h"
#include "notices.h"
#include "notify.h"

#define ROUND_MAX 256 /* mails taken per round; the rest next round */

/* What every person's message about one revoked key says. */
struct queue_job {
    struct core *c;
    const struct key_record *k;
    const struct leak_report *by;
    const char *account_name; /* "" for a person's key */
    int64_t now;
    char *subject, *body;
    size_t queued;
};

static void compose(const struct queue_job *j, const struct notify_person *p)
{
    const struct key_record *k = j->k;
    const struct leak_report *by = j->by;
    char when[TIME_RFC3339_LEN], whose[STORE_KEY_NAME_BYTES + 64], where[LEAKS_URL_MAX + 512];
    time_format_rfc3339(j->now, when);
    if (j->account_name[0]) {
        snprintf(whose, sizeof whose, " of the API account \"%s\"", j->account_name);
        snprintf(j->subject, STORE_LEAK_MAIL_SUBJECT_BYTES + 1,
                 "apikeyd: API key \"%s\"%s was revoked because it was found leaked", k->name,
                 whose);
    } else {
        whose[0] = '\0';
        snprintf(j->subject, STORE_LEAK_MAIL_SUBJECT_BYTES + 1,
                 "apikeyd: your API key \"%s\" was revoked because it was found leaked",
                 k->name);
    }
    if (by->url || by->source)
        snprintf(where, sizeof where,
                 "GitHub secret scanning found it where others can read it:\n"
                 "  source: %s\n"
                 "  url:    %s\n",
                 by->source ? by->source : "unknown", by->url ? by->url : "unknown");
    else
        snprintf(where, sizeof where,
                 "It was reported through POST /v1/keys/revoke from %s: whoever sent it\n"
                 "there held the key's secret.\n",
                 by->client && by->client[0] ? by->client : "an unknown address");
    snprintf(j->body, STORE_LEAK_MAIL_BODY_BYTES + 1,
             "Hello %s,\n\n"
             "the API key \"%s\"%s (hint %s, id %s) was revoked on %s\n"
             "because it was found leaked. It no longer works: every request with it is\n"
             "refused.\n\n"
             "%s\n"
             "What to do now:\n"
             "- Create a new key with the scopes you need and use it where the old one was\n"
             "  used.\n"
             "- Check where the old key was stored or shared (source code, CI settings, chat,\n"
             "  logs) and remove it there, and look through your services' logs for requests\n"
             "  made with it that were not yours.\n\n"
             "-- \n"
             "apikeyd: an automatic notice to the owners of this key.\n",
             p->full_name[0] ? p->full_name : p->username, k->name, whose, k->hint, k->id, when,
             where);
}

static int queue_one(void *ctx, const struct notify_person *p)
{
    struct queue_job *j = ctx;
    compose(j, p);
    enum err e = j->c->store->ops->leak_mail_add(j->c->store, j->k->id, p->username, j->subject,
                                                 j->body, j->now);
    if (e)
        log_warn("leak: key %s: the mail to %s could not be queued: %s", j->k->id, p->username,
                 err_title(e));
    else
        j->queued++;
    return 0;
}

void leak_mail_queue(struct core *c, const struct key_record *k, const struct leak_report *by)
{
    if (!c->mailer) {
        log_info("leak: key %s: no mail sent (smtp_url is not set)", k->id);
        return;
    }
    struct account_record *a = malloc(sizeof *a);
    char *subject = malloc(STORE_LEAK_MAIL_SUBJECT_BYTES + 1);
    char *body = malloc(STORE_LEAK_MAIL_BODY_BYTES + 1);
    if (!a || !subject || !body) {
        log_warn("leak: key %s: no memory to queue its mail", k->id);
        free(a);
        free(subject);
        free(body);
        return;
    }
    a->name[0] = '\0';
    if (strcmp(k->owner_type, "service-account") == 0 &&
        c->store->ops->account_get(c->store, k->owner_id, a) != ERR_OK)
        snprintf(a->name, sizeof a->name, "%s", k->owner_id);
    struct queue_job j = {.c = c, .k = k, .by = by, .account_name = a->name,
                          .now = time_now(), .subject = subject, .body = body};
    enum err e = notify_key_people(c, k, queue_one, &j);
    if (e)
        log_warn("leak: key %s: its people could not all be found: %s", k->id, err_title(e));
    if (j.queued)
        notices_wake(c);
    free(a);
    free(subject);
    free(body);
}

/* A queued mail to try now. */
struct due {
    char key_id[STORE_ID_LEN + 1];
    char username[STORE_NAME_MAX + 1];
    int64_t next_try_at;
};

struct due_list {
    struct due list[ROUND_MAX];
    size_t count;
};

static int collect(void *ctx, const struct leak_mail_record *m)
{
    struct due_list *l = ctx;
    struct due *d = &l->list[l->count++];
    snprintf(d->key_id, sizeof d->key_id, "%s", m->key_id);
    snprintf(d->username, sizeof d->username, "%s", m->username);
    d->next_try_at = m->next_try_at;
    return l->count == ROUND_MAX;
}

/* One attempt at a taken mail; records the outcome. Returns 1 when it was sent. */
static int send_one(struct core *c, struct leak_mail_record *m, int64_t now)
{
    enum err e = notify_person(c, m->username, m->subject, m->body);
    int attempts = m->attempts + 1;
    const char *status = "done";
    int64_t next = 0;
    if (e == ERR_OK) {
        log_info("leak: mailed %s about revoked key %s", m->username, m->key_id);
    } else if (e == ERR_NOT_FOUND || e == ERR_INVALID) {
        log_warn("leak: key %s: %s cannot be mailed (%s); skipped", m->key_id, m->username,
                 e == ERR_NOT_FOUND ? "no such enabled person with an address"
                                    : "the mailer refuses the address or message");
        status = "failed";
    } else if ((next = notices_retry_at(c, attempts, m->created_at, now)) < 0) {
        log_warn("leak: key %s: mail to %s given up after %d attempts", m->key_id, m->username,
                 attempts);
        status = "failed", next = 0;
    } else {
        status = "pending";
        log_info("leak: key %s: mail to %s not sent, next try in %lld s", m->key_id,
                 m->username, (long long)(next - now));
    }
    enum err u = c->store->ops->leak_mail_update(c->store, m->key_id, m->username, status, next,
                                                 attempts, now);
    if (u)
        log_warn("leak: key %s: could not record the mail to %s: %s", m->key_id, m->username,
                 err_title(u));
    return e == ERR_OK;
}

int leak_mail_round(struct core *c)
{
    struct due_list *l = calloc(1, sizeof *l);
    struct leak_mail_record *m = malloc(sizeof *m);
    int sent = 0;
    if (!l || !m) {
        free(l);
        free(m);
        return 0;
    }
    if (c->store->ops->leak_mail_pending_each(c->store, time_now(), collect, l) != ERR_OK)
        l->count = 0;
    for (size_t i = 0; i < l->count && !notices_stopping(c); i++) {
        struct due *d = &l->list[i];
        int64_t now = time_now();
        if (c->store->ops->leak_mail_take(c->store, d->key_id, d->username, d->next_try_at,
                                          notices_lease_until(c, now)) != ERR_OK ||
            c->store->ops->leak_mail_get(c->store, d->key_id, d->username, m) != ERR_OK)
            continue; /* another node took it (or the store is down: its lease runs out) */
        sent += send_one(c, m, now);
    }
    free(l);
    free(m);
    return sent;
}

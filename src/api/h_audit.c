/* h_audit.c — GET /v1/audit: the audit trail, filtered and paged by query parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "../base/timeutil.h"
#include "../core/audit.h"
#include "handlers.h"
#include "render.h"

#define AUDIT_LIMIT_MAX 200
#define AUDIT_LIMIT_DEFAULT 50

struct audit_page {
    json_t *events;
    int64_t last_id; /* of the last event on the page */
    int count;       /* events seen: one more than the page holds means there is a next page */
    int limit;
    int failed;      /* out of memory: the answer is an error, never a short page */
};

/* A stored text as a JSON string: invalid UTF-8 (written by an older release, or by hand)
 * is rendered with U+FFFD for each bad byte, so no row stops the listing. */
static json_t *text_value(const char *s)
{
    if (text_utf8_valid(s))
        return json_string(s);
    size_t cap = 3 * strlen(s) + 1;
    char *fixed = malloc(cap);
    if (!fixed)
        return NULL;
    text_utf8_repair(fixed, cap, s);
    json_t *v = json_string(fixed);
    free(fixed);
    return v;
}

static int event_one(void *ctx, const struct audit_record *a)
{
    struct audit_page *p = ctx;
    char id[24]; /* ids are opaque strings (docs/API.md); today the event's sequence number */
    if (++p->count > p->limit)
        return 1; /* the probe for a next page: not shown */
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    p->last_id = a->id; /* the cursor moves past every row read, shown or not */
    json_t *ev = json_pack("{s:s, s:o, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*}", "id", id, "at",
                           render_time(a->at), "actor", text_value(a->actor), "action",
                           text_value(a->action), "target_type", text_value(a->target_type),
                           "target", text_value(a->target), "client", text_value(a->client),
                           "detail", text_value(a->detail));
    if (!ev || json_object_size(ev) != 8 || json_array_append_new(p->events, ev) != 0) {
        json_decref(ev);
        p->failed = 1;
        return 1;
    }
    return 0;
}

/* Parses a whole number query value into *out within [min, max]. */
static int parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum err h_audit(struct request *req, struct reply *rep)
{
    struct audit_filter f = {0};
    int64_t limit = AUDIT_LIMIT_DEFAULT;
    const char *v;
    f.actor = request_query(req, "actor");
    f.target = request_query(req, "target");
    f.action = request_query(req, "action");
    if ((f.actor && strlen(f.actor) > 128) || (f.target && strlen(f.target) > 128) ||
        (f.action && strlen(f.action) > 32))
        return reply_error(rep, ERR_BAD_REQUEST, "a filter value is too long", NULL);
    /* no stored event holds anything else; PostgreSQL refuses non-UTF-8 text (a 500 once) */
    if ((f.actor && !text_utf8_valid(f.actor)) || (f.target && !text_utf8_valid(f.target)) ||
        (f.action && !text_utf8_valid(f.action)))
        return reply_error(rep, ERR_BAD_REQUEST, "a filter value is not UTF-8 text", NULL);
    if ((v = request_query(req, "since")) && time_parse_rfc3339(v, &f.since))
        return reply_error(rep, ERR_BAD_REQUEST, "since must be an RFC 3339 date-time", NULL);
    if ((v = request_query(req, "until")) && time_parse_rfc3339(v, &f.until))
        return reply_error(rep, ERR_BAD_REQUEST, "until must be an RFC 3339 date-time", NULL);
    if (v && f.until == 0)
        f.until = -1; /* the store reads 0 as "no bound": the epoch itself holds no event */
    if ((v = request_query(req, "limit")) && parse_int(v, 1, AUDIT_LIMIT_MAX, &limit))
        return reply_error(rep, ERR_BAD_REQUEST, "limit must be a whole number from 1 to 200",
                           NULL);
    if ((v = request_query(req, "before")) && parse_int(v, 1, INT64_MAX, &f.before_id))
        return reply_error(rep, ERR_BAD_REQUEST, "before must be an event id", NULL);
    f.limit = (int)limit + 1; /* one more, to know whether a next page exists */
    struct audit_page page = {json_array(), 0, 0, (int)limit, 0};
    if (!page.events)
        return ERR_NOMEM;
    enum err e = audit_query(req->core, &req->caller, &f, event_one, &page);
    if (!e && page.failed)
        e = ERR_NOMEM;
    if (e) {
        json_decref(page.events);
        if (e == ERR_FORBIDDEN)
            return reply_error(rep, e, "reading the audit trail needs view_audit", NULL);
        return e;
    }
    char last[24];
    snprintf(last, sizeof last, "%lld", (long long)page.last_id);
    json_t *next = page.count > page.limit ? json_string(last) : json_null();
    return reply_json(rep, 200, json_pack("{s:o, s:o}", "events", page.events, "next_before",
                                          next));
}

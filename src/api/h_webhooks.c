/* h_webhooks.c — /v1/webhooks: register (the signing secret shown once), list, read, change,
 * delete, test-send, and an endpoint's delivery attempts. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/webhook_events.h"
#include "../core/webhooks.h"
#include "body.h"
#include "handlers.h"
#include "render.h"

static void add_event(void *ctx, const char *event)
{
    json_array_append_new((json_t *)ctx, json_string(event));
}

/* {id, url, events, description, enabled, created_by, created_at}: never the secret. */
static json_t *webhook_json(const struct webhook_record *w)
{
    json_t *events = json_array();
    if (events)
        webhooks_each_event(w, add_event, events);
    return json_pack("{s:s, s:s, s:o, s:s, s:b, s:s, s:o}", "id", w->id, "url", w->url, "events",
                     events, "description", w->description, "enabled", w->enabled,
                     "created_by", w->created_by, "created_at", render_time(w->created_at));
}

/* The body of a create or change: known fields, typed. */
static enum err read_input(struct request *req, int create, json_t **doc,
                           struct webhook_input *in, const char **events, struct field_errors *fe,
                           const char **detail)
{
    static const char *const fields[] = {"url", "events", "description", "enabled", NULL};
    enum err e = body_object(req, doc, detail);
    if (e)
        return e;
    body_reject_unknown(*doc, fields, fe);
    memset(in, 0, sizeof *in);
    in->url = body_string(*doc, "url", create, fe);
    in->description = body_string(*doc, "description", 0, fe);
    in->events = events;
    in->event_count = body_string_list(*doc, "events", events, WEBHOOK_EVENT_COUNT, &in->events_present,
                                       fe);
    if (create && !in->events_present && !field_errors_has(fe, "events"))
        field_errors_add(fe, "events", "is required (a list of event names)");
    in->enabled = body_bool(*doc, "enabled", fe);
    return ERR_OK;
}

static enum err answer(struct reply *rep, enum err e, struct field_errors *fe)
{
    if (e == ERR_FORBIDDEN)
        return reply_error(rep, e,
                           "needs manage_webhooks; choosing an endpoint's url or events also"
                           " needs view_audit (its deliveries carry audit records)",
                           NULL);
    if (e == ERR_LIMIT)
        return reply_error(rep, e, "apikeyd holds at most 50 webhook endpoints", NULL);
    if (e == ERR_INVALID)
        return reply_error(rep, e, NULL, fe);
    return e;
}

/* The create answer: the endpoint with the secret spliced in, so it never sits in a jansson
 * string; the body is wiped once sent. */
static enum err reply_created(struct reply *rep, const struct webhook_record *w,
                              const char *secret)
{
    char location[64];
    snprintf(location, sizeof location, "/v1/webhooks/%s", w->id);
    return reply_created_secret(rep, webhook_json(w), JSON_COMPACT | JSON_PRESERVE_ORDER,
                                "secret", secret, location);
}

enum err h_webhooks_create(struct request *req, struct reply *rep)
{
    json_t *doc = NULL;
    const char *detail = NULL, *events[WEBHOOK_EVENT_COUNT];
    struct field_errors fe = {0};
    struct webhook_input in;
    enum err e = read_input(req, 1, &doc, &in, events, &fe, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    if (in.enabled == 0)
        field_errors_add(&fe, "enabled", "a new endpoint is enabled; disable it afterwards");
    struct webhook_record *w = malloc(sizeof *w);
    char secret[WEBHOOK_SECRET_TEXT_MAX];
    if (!w)
        e = ERR_NOMEM;
    else if (fe.count)
        e = ERR_INVALID;
    else
        e = webhooks_create(req->core, &req->caller, &in, &fe, w, secret);
    json_decref(doc);
    if (!e) {
        e = reply_created(rep, w, secret);
        sodium_memzero(secret, sizeof secret);
    }
    free(w);
    return e ? answer(rep, e, &fe) : ERR_OK;
}

static int list_one(void *ctx, const struct webhook_record *w)
{
    return json_array_append_new((json_t *)ctx, webhook_json(w)) != 0;
}

enum err h_webhooks_list(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = webhooks_list(req->core, &req->caller, list_one, list);
    if (e) {
        json_decref(list);
        return answer(rep, e, NULL);
    }
    return reply_json(rep, 200, json_pack("{s:o}", "webhooks", list));
}

enum err h_webhooks_get(struct request *req, struct reply *rep)
{
    struct webhook_record *w = malloc(sizeof *w);
    if (!w)
        return ERR_NOMEM;
    enum err e = webhooks_get(req->core, &req->caller, req->params[0], w);
    if (!e)
        e = reply_json(rep, 200, webhook_json(w));
    free(w);
    return answer(rep, e, NULL);
}

enum err h_webhooks_update(struct request *req, struct reply *rep)
{
    json_t *doc = NULL;
    const char *detail = NULL, *events[WEBHOOK_EVENT_COUNT];
    struct field_errors fe = {0};
    struct webhook_input in;
    enum err e = read_input(req, 0, &doc, &in, events, &fe, &detail);
    if (e)
        return reply_error(rep, e, detail, NULL);
    struct webhook_record *w = malloc(sizeof *w);
    if (!w)
        e = ERR_NOMEM;
    else if (fe.count)
        e = ERR_INVALID;
    else
        e = webhooks_update(req->core, &req->caller, req->params[0], &in, &fe, w);
    json_decref(doc);
    if (!e)
        e = reply_json(rep, 200, webhook_json(w));
    free(w);
    return answer(rep, e, &fe);
}

enum err h_webhooks_delete(struct request *req, struct reply *rep)
{
    enum err e = webhooks_delete(req->core, &req->caller, req->params[0]);
    if (e)
        return answer(rep, e, NULL);
    reply_empty(rep, 204);
    return ERR_OK;
}

enum err h_webhooks_test(struct request *req, struct reply *rep)
{
    enum err e = webhooks_test(req->core, &req->caller, req->params[0]);
    if (e == ERR_CONFLICT)
        return reply_error(rep, e, "the endpoint is disabled", NULL);
    if (e)
        return answer(rep, e, NULL);
    return reply_json(rep, 202, json_pack("{s:s}", "status", "queued"));
}

static json_t *ms_time(int64_t ms)
{
    return ms ? render_time(ms / 1000) : json_null();
}

static int attempt_one(void *ctx, const struct webhook_attempt *a)
{
    enum webhook_subject subject;
    const char *event = webhook_event_of_action(a->action, &subject);
    char msg_id[32];
    snprintf(msg_id, sizeof msg_id, "msg_%lld", (long long)a->message_id);
    json_t *o = json_pack("{s:I, s:s, s:s?, s:o, s:o, s:o, s:I, s:o, s:s}", "id",
                          (json_int_t)a->id, "message_id", msg_id, "event", event, "attempted_at",
                          ms_time(a->at_ms), "status_code",
                          a->status ? json_integer(a->status) : json_null(), "error",
                          a->error[0] ? json_string(a->error) : json_null(), "duration_ms",
                          (json_int_t)a->duration_ms, "next_attempt_at", ms_time(a->next_at_ms),
                          "state", a->state);
    return json_array_append_new((json_t *)ctx, o) != 0;
}

enum err h_webhooks_deliveries(struct request *req, struct reply *rep)
{
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    enum err e = webhooks_attempts(req->core, &req->caller, req->params[0], attempt_one, list);
    if (e) {
        json_decref(list);
        return answer(rep, e, NULL);
    }
    return reply_json(rep, 200, json_pack("{s:o}", "deliveries", list));
}

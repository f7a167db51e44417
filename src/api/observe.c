/* observe.c — see observe.h. */
#include "observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../core/telemetry.h"
#include "router.h"

#define CLASSES 5 /* 1xx … 5xx */

static int access_log_on;
static unsigned requests_cell;
static struct metrics_hist duration_hist;
static int *series_of_route; /* route index → series (its template's); the last: no route */
static unsigned series_count;

/* 500 µs to 10 s */
static const uint64_t duration_bounds[] = {500000,    1000000,   2500000,   5000000,
                                           10000000,  25000000,  50000000,  100000000,
                                           250000000, 500000000, 1000000000, 2500000000,
                                           10000000000};

void observe_init(int access_log)
{
    access_log_on = access_log;
    if (series_of_route)
        return; /* the families are registered once per process */
    size_t routes = router_route_count();
    series_of_route = calloc(routes + 1, sizeof *series_of_route);
    const char **templates = calloc(routes + 1, sizeof *templates);
    char **route_labels = calloc(routes + 1, sizeof *route_labels);
    char **request_labels = calloc((routes + 1) * CLASSES, sizeof *request_labels);
    if (!series_of_route || !templates || !route_labels || !request_labels) {
        free(series_of_route);
        series_of_route = NULL;
        free(templates);
        free(route_labels);
        free(request_labels);
        return;
    }
    for (size_t i = 0; i <= routes; i++) {
        const char *t = i < routes ? router_route_pattern(i) : "unmatched";
        unsigned s = 0;
        while (s < series_count && strcmp(templates[s], t) != 0)
            s++;
        if (s == series_count)
            templates[series_count++] = t;
        series_of_route[i] = (int)s;
    }
    for (unsigned s = 0; s < series_count; s++) {
        size_t n = strlen(templates[s]) + 32;
        route_labels[s] = malloc(n);
        if (route_labels[s])
            snprintf(route_labels[s], n, "route=\"%s\"", templates[s]);
        for (unsigned k = 0; k < CLASSES; k++) {
            char **l = &request_labels[s * CLASSES + k];
            if ((*l = malloc(n + 24)) != NULL)
                snprintf(*l, n + 24, "route=\"%s\",status_class=\"%uxx\"", templates[s], k + 1);
        }
    }
    free(templates); /* the templates themselves are the router's, static */
    /* the label texts live as long as the process: the registry points at them */
    requests_cell = metrics_counter("apikeyd_http_requests_total",
                                    "HTTP requests answered, by route template and status class.",
                                    (const char *const *)request_labels, series_count * CLASSES);
    metrics_histogram("apikeyd_http_request_duration_seconds",
                      "Time from a complete request to its answer, by route template.",
                      (const char *const *)route_labels, series_count, duration_bounds,
                      sizeof duration_bounds / sizeof duration_bounds[0], 1e-9, &duration_hist);
}

void observe_request(const struct observed *o, const struct reply *rep)
{
    uint64_t ns = metrics_now_ns() - o->t0_ns;
    if (series_of_route) {
        size_t routes = router_route_count();
        unsigned s = (unsigned)series_of_route[o->route >= 0 && (size_t)o->route < routes
                                                   ? (size_t)o->route
                                                   : routes];
        int k = rep->status / 100 - 1;
        if (k >= 0 && k < CLASSES)
            metrics_add(requests_cell + s * CLASSES + (unsigned)k, 1);
        metrics_observe(&duration_hist, s, ns);
    }
    const char *route = o->route >= 0 ? router_route_pattern((size_t)o->route) : "-";
    if (rep->problem == ERR_NOT_HELD || rep->problem == ERR_OWN_GRANTS)
        telemetry_security(rep->problem == ERR_NOT_HELD ? "escalation_refused_not_held"
                                                        : "escalation_refused_own_grants",
                           o->actor, o->client, route);
    if (!access_log_on)
        return;
    struct log_field f[] = {
        {"method", o->method, 0},
        {"route", route, 0},
        {"status", NULL, rep->status},
        {"duration_us", NULL, (long long)(ns / 1000)},
        {"client", o->client && *o->client ? o->client : "-", 0},
    };
    log_event(LOG_INFO, "request", f, sizeof f / sizeof f[0]);
}
